from .typescript import SPEC as _TS

SPEC = {
    **_TS,
    "name": "tsx",
    "grammar": "tree_sitter_typescript:language_tsx",
    "extensions": [".tsx"],
    "shebangs": [],
}
