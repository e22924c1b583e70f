SPEC = {
    "name": "markdown",
    "grammar": "tree_sitter_markdown:language",
    "extensions": [".md", ".markdown", ".mdown", ".mkd", ".mdx"],
    "filenames": ["README", "CHANGELOG", "CONTRIBUTING"],
    "atomic": ["fenced_code_block", "pipe_table", "html_block"],
    "references": False,
    "definitions": {
        "section": {
            "kind": "section",
            "name": "#atx_heading|setext_heading/heading_content",
            "split": "always",
            "preamble": True,
        },
    },
}
