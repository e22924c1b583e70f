SPEC = {
    "name": "c",
    "grammar": "tree_sitter_c:language",
    "extensions": [".c", ".h"],
    "comments": ["comment"],
    "definitions": {
        "function_definition": {
            "kind": "function",
            "name": "declarator",
            "descend": ["declarator"],
            "params": "declarator/parameters",
            "body": "body",
        },
        "struct_specifier": {"kind": "struct", "body": "body", "require": ["body"]},
        "union_specifier": {"kind": "struct", "body": "body", "require": ["body"]},
        "enum_specifier": {"kind": "enum", "body": "body", "require": ["body"]},
        "type_definition": {
            "kind": "type",
            "name": "declarator",
            "descend": ["declarator"],
            "kind_map": {
                "struct_specifier": "struct",
                "enum_specifier": "enum",
                "union_specifier": "struct",
            },
            "body": "type/body",
        },
        "preproc_function_def": {"kind": "macro", "params": "parameters"},
    },
}
