SPEC = {
    "name": "json",
    "grammar": "tree_sitter_json:language",
    "extensions": [".json", ".jsonc", ".json5", ".geojson", ".webmanifest"],
    "filenames": [".eslintrc", ".babelrc", ".prettierrc"],
    "sniff": [r"\A\s*\{\s*\"[^\"\n]*\"\s*:"],
    "comments": ["comment"],
    "transparent": ["object", "array"],
    "definitions": {
        "pair": {
            "kind": "key",
            "name": "key",
            "strip": "\"'",
            "body": "value",
            "max_depth": 3,
        },
    },
}
