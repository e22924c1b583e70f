SPEC = {
    "name": "python",
    "grammar": "tree_sitter_python:language",
    "extensions": [".py", ".pyi", ".pyw"],
    "filenames": ["SConstruct", "SConscript"],
    "shebangs": ["python", "python3", "python2", "pypy", "pypy3"],
    "comments": ["comment"],
    "wrappers": ["decorated_definition"],
    "docstring": "body_string",
    "not_keywords": ["print", "exec", "type", "match", "case"],
    "definitions": {
        "class_definition": {
            "kind": "class",
            "params": "superclasses",
            "body": "body",
        },
        "function_definition": {
            "kind": "function",
            "nested_kind": "method",
            "params": "parameters",
            "body": "body",
        },
    },
}
