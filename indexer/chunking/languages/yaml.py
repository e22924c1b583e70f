SPEC = {
    "name": "yaml",
    "grammar": "tree_sitter_yaml:language",
    "extensions": [".yaml", ".yml"],
    "filenames": [".clang-format", ".yamllint"],
    "sniff": [r"\A%YAML\b", r"\A---\s*$"],
    "comments": ["comment"],
    "transparent": [
        "document",
        "block_node",
        "block_mapping",
        "block_sequence",
        "block_sequence_item",
    ],
    "definitions": {
        "block_mapping_pair": {
            "kind": "key",
            "name": "key",
            "strip": "\"'",
            "body": "value",
            "max_depth": 4,
        },
        "flow_pair": {
            "kind": "key",
            "name": "key",
            "strip": "\"'",
            "body": "value",
            "max_depth": 4,
        },
    },
}
