_DEFINITIONS = {
    "class_declaration": {"kind": "class", "params": "type_parameters", "body": "body"},
    "abstract_class_declaration": {"kind": "class", "params": "type_parameters", "body": "body"},
    "interface_declaration": {"kind": "interface", "body": "body"},
    "enum_declaration": {"kind": "enum", "body": "body"},
    "type_alias_declaration": {"kind": "type"},
    "internal_module": {"kind": "namespace", "body": "body", "split": "always"},
    "module": {"kind": "module", "body": "body", "split": "always"},
    "function_declaration": {"kind": "function", "params": "parameters", "body": "body"},
    "generator_function_declaration": {"kind": "function", "params": "parameters", "body": "body"},
    "function_signature": {"kind": "function", "params": "parameters"},
    "method_definition": {"kind": "method", "params": "parameters", "body": "body"},
    "abstract_method_signature": {"kind": "method", "params": "parameters"},
    "public_field_definition": {
        "kind": "method",
        "when": {"value": ["arrow_function", "function_expression"]},
        "params": "value/parameters",
        "body": "value/body",
    },
    "variable_declarator": {
        "kind": "function",
        "nested_kind": "method",
        "when": {"value": ["arrow_function", "function_expression", "class"]},
        "params": "value/parameters",
        "body": "value/body",
    },
}

SPEC = {
    "name": "typescript",
    "grammar": "tree_sitter_typescript:language_typescript",
    "extensions": [".ts", ".mts", ".cts"],
    "shebangs": ["ts-node", "tsx"],
    "comments": ["comment"],
    "leading": ["decorator"],
    "wrappers": [
        "export_statement",
        "lexical_declaration",
        "variable_declaration",
        "expression_statement",
        "ambient_declaration",
    ],
    "definitions": _DEFINITIONS,
}
