SPEC = {
    "name": "css",
    "grammar": "tree_sitter_css:language",
    "extensions": [".css"],
    "comments": ["comment"],
    "definitions": {
        "rule_set": {"kind": "rule", "name": "#selectors", "body": "#block"},
        "media_statement": {"kind": "rule", "name": "#feature_query", "body": "#block"},
        "supports_statement": {"kind": "rule", "name": "#feature_query", "body": "#block"},
        "keyframes_statement": {
            "kind": "rule",
            "name": "#keyframes_name",
            "body": "#keyframe_block_list",
        },
    },
}
