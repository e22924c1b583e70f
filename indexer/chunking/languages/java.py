SPEC = {
    "name": "java",
    "grammar": "tree_sitter_java:language",
    "extensions": [".java"],
    "comments": ["line_comment", "block_comment"],
    "definitions": {
        "class_declaration": {"kind": "class", "body": "body"},
        "interface_declaration": {"kind": "interface", "body": "body"},
        "enum_declaration": {"kind": "enum", "body": "body"},
        "record_declaration": {"kind": "record", "params": "parameters", "body": "body"},
        "annotation_type_declaration": {"kind": "interface", "body": "body"},
        "method_declaration": {"kind": "method", "params": "parameters", "body": "body"},
        "constructor_declaration": {
            "kind": "constructor",
            "params": "parameters",
            "body": "body",
        },
    },
}
