SPEC = {
    "name": "javascript",
    "grammar": "tree_sitter_javascript:language",
    "extensions": [".js", ".mjs", ".cjs", ".jsx"],
    "shebangs": ["node", "nodejs", "deno", "bun"],
    "comments": ["comment"],
    "leading": ["decorator"],
    "wrappers": ["export_statement", "lexical_declaration", "variable_declaration"],
    "definitions": {
        "class_declaration": {"kind": "class", "body": "body"},
        "function_declaration": {"kind": "function", "params": "parameters", "body": "body"},
        "generator_function_declaration": {
            "kind": "function",
            "params": "parameters",
            "body": "body",
        },
        "method_definition": {"kind": "method", "params": "parameters", "body": "body"},
        "field_definition": {
            "kind": "method",
            "name": "property",
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
    },
}
