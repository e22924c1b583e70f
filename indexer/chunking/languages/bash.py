SPEC = {
    "name": "bash",
    "grammar": "tree_sitter_bash:language",
    "extensions": [".sh", ".bash", ".zsh", ".ksh"],
    "filenames": [".bashrc", ".bash_profile", ".zshrc", ".profile"],
    "shebangs": ["sh", "bash", "zsh", "ksh", "dash"],
    "comments": ["comment"],
    "definitions": {
        "function_definition": {"kind": "function", "body": "body"},
    },
}
