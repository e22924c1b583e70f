SPEC = {
    "name": "swift",
    "grammar": "tree_sitter_swift:language",
    "extensions": [".swift"],
    "shebangs": ["swift"],
    "comments": ["comment", "multiline_comment"],
    "definitions": {
        "class_declaration": {
            "kind": "class",
            "kind_map": {
                "struct": "struct",
                "enum": "enum",
                "extension": "extension",
                "actor": "class",
            },
            "body": "body",
        },
        "protocol_declaration": {"kind": "protocol", "body": "body"},
        "function_declaration": {"kind": "function", "nested_kind": "method", "body": "body"},
        "init_declaration": {"kind": "constructor", "body": "body"},
        "protocol_function_declaration": {"kind": "method"},
        "typealias_declaration": {"kind": "type"},
    },
}
