SPEC = {
    "name": "toml",
    "grammar": "tree_sitter_toml:language",
    "extensions": [".toml"],
    "filenames": ["Cargo.lock", "Pipfile", "poetry.lock"],
    "comments": ["comment"],
    "definitions": {
        "table": {"kind": "table", "name": "#bare_key|dotted_key|quoted_key"},
        "table_array_element": {"kind": "table", "name": "#bare_key|dotted_key|quoted_key"},
        "pair": {"kind": "key", "name": "#bare_key|dotted_key|quoted_key", "strip": "\"'"},
    },
}
