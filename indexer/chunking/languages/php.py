SPEC = {
    "name": "php",
    "grammar": "tree_sitter_php:language_php",
    "extensions": [".php", ".phtml", ".php4", ".php5", ".php7", ".phps"],
    "shebangs": ["php"],
    "sniff": [r"\A\s*<\?php\b"],
    "comments": ["comment"],
    "leading": ["attribute_list"],
    "definitions": {
        "class_declaration": {"kind": "class", "body": "body"},
        "interface_declaration": {"kind": "interface", "body": "body"},
        "trait_declaration": {"kind": "trait", "body": "body"},
        "enum_declaration": {"kind": "enum", "body": "body"},
        "method_declaration": {"kind": "method", "params": "parameters", "body": "body"},
        "function_definition": {"kind": "function", "params": "parameters", "body": "body"},
        "namespace_definition": {
            "kind": "namespace",
            "body": "body",
            "require": ["body"],
            "split": "always",
        },
    },
}
