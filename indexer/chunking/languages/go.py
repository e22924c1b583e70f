SPEC = {
    "name": "go",
    "grammar": "tree_sitter_go:language",
    "extensions": [".go"],
    "comments": ["comment"],
    "wrappers": ["type_declaration"],
    "definitions": {
        "function_declaration": {"kind": "function", "params": "parameters", "body": "body"},
        "method_declaration": {
            "kind": "method",
            "receiver": "receiver",
            "params": "parameters",
            "body": "body",
        },
        "type_spec": {
            "kind": "type",
            "kind_map": {"struct_type": "struct", "interface_type": "interface"},
        },
    },
}
