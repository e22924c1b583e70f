SPEC = {
    "name": "ruby",
    "grammar": "tree_sitter_ruby:language",
    "extensions": [".rb", ".rake", ".gemspec", ".ru"],
    "filenames": ["Rakefile", "Gemfile", "Guardfile", "Vagrantfile"],
    "shebangs": ["ruby", "jruby"],
    "comments": ["comment"],
    "definitions": {
        "class": {"kind": "class", "params": "superclass", "body": "body"},
        "module": {"kind": "module", "body": "body", "split": "always"},
        "singleton_class": {"kind": "class", "name": "value", "body": "body"},
        "method": {
            "kind": "function",
            "nested_kind": "method",
            "params": "parameters",
            "body": "body",
        },
        "singleton_method": {
            "kind": "function",
            "nested_kind": "method",
            "params": "parameters",
            "body": "body",
        },
    },
}
