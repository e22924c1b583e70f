SPEC = {
    "name": "csharp",
    "grammar": "tree_sitter_c_sharp:language",
    "extensions": [".cs", ".csx"],
    "comments": ["comment"],
    "leading": ["attribute_list"],
    "definitions": {
        "namespace_declaration": {"kind": "namespace", "body": "body", "split": "always"},
        "file_scoped_namespace_declaration": {"kind": "namespace"},
        "class_declaration": {"kind": "class", "body": "body"},
        "struct_declaration": {"kind": "struct", "body": "body"},
        "interface_declaration": {"kind": "interface", "body": "body"},
        "enum_declaration": {"kind": "enum", "body": "body"},
        "record_declaration": {"kind": "record", "params": "parameters", "body": "body"},
        "method_declaration": {"kind": "method", "params": "parameters", "body": "body"},
        "constructor_declaration": {
            "kind": "constructor",
            "params": "parameters",
            "body": "body",
        },
        "property_declaration": {"kind": "property"},
        "event_field_declaration": {
            "kind": "event",
            "name": "#variable_declaration/#variable_declarator/name",
        },
        "local_function_statement": {"kind": "function", "params": "parameters", "body": "body"},
    },
}
