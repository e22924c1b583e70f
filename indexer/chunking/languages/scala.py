SPEC = {
    "name": "scala",
    "grammar": "tree_sitter_scala:language",
    "extensions": [".scala", ".sc"],
    "shebangs": ["scala"],
    "comments": ["comment", "block_comment"],
    "leading": ["annotation"],
    "definitions": {
        "class_definition": {"kind": "class", "params": "class_parameters", "body": "body"},
        "object_definition": {"kind": "object", "body": "body"},
        "trait_definition": {"kind": "trait", "body": "body"},
        "enum_definition": {"kind": "enum", "body": "body"},
        "function_definition": {
            "kind": "function",
            "nested_kind": "method",
            "params": "parameters",
            "body": "body",
        },
        "function_declaration": {
            "kind": "function",
            "nested_kind": "method",
            "params": "parameters",
        },
    },
}
