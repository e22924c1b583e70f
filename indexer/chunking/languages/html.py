SPEC = {
    "name": "html",
    "grammar": "tree_sitter_html:language",
    "extensions": [".html", ".htm", ".xhtml"],
    "sniff": [r"\A\s*(?:<!--.*?-->\s*)*<(?:!DOCTYPE\s+html|html)\b"],
    "comments": ["comment"],
    "glue": ["end_tag"],
    "definitions": {
        "element": [
            {
                "kind": "element",
                "name": "#start_tag/#tag_name",
                "name_in": ["html", "body"],
                "split": "always",
                "preamble": True,
                "symbol": False,
            },
            {"kind": "element", "name": "#start_tag/#tag_name", "symbol": False},
        ],
        "script_element": {"kind": "script", "name": "#start_tag/#tag_name", "symbol": False},
        "style_element": {"kind": "style", "name": "#start_tag/#tag_name", "symbol": False},
    },
}
