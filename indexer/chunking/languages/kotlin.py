SPEC = {
    "name": "kotlin",
    "grammar": "tree_sitter_kotlin:language",
    "extensions": [".kt", ".kts"],
    "shebangs": ["kotlin"],
    "comments": ["line_comment", "block_comment"],
    "leading": ["annotation"],
    "definitions": {
        "class_declaration": {
            "kind": "class",
            "kind_map": {"interface": "interface", "enum_class_body": "enum"},
            "params": "#primary_constructor",
            "body": "#class_body|enum_class_body",
        },
        "object_declaration": {"kind": "object", "body": "#class_body"},
        "function_declaration": {
            "kind": "function",
            "nested_kind": "method",
            "params": "#function_value_parameters",
            "body": "#function_body",
        },
    },
}
