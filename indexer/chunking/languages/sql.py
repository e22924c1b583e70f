SPEC = {
    "name": "sql",
    "grammar": "tree_sitter_sql:language",
    "extensions": [".sql", ".ddl", ".pgsql", ".psql"],
    "comments": ["comment", "marginalia"],
    "wrappers": ["statement"],
    "definitions": {
        "create_table": {
            "kind": "table",
            "name": "#object_reference",
            "body": "#column_definitions",
        },
        "create_view": {"kind": "view", "name": "#object_reference"},
        "create_materialized_view": {"kind": "view", "name": "#object_reference"},
        "create_function": {
            "kind": "function",
            "name": "#object_reference",
            "params": "#function_arguments",
        },
        "create_index": {"kind": "index", "name": ["column", "#identifier"]},
        "create_type": {"kind": "type", "name": "#object_reference"},
        "create_schema": {"kind": "namespace", "name": "#identifier"},
    },
}
