"""Syntax-aware chunking and symbol extraction (tree-sitter; per-language rules as data).

Public API::

    chunk_file(path, data, *, min_tokens=40, max_tokens=1500, language=None) -> list[Chunk]
    symbols_for_file(path, data, *, language=None) -> list[Symbol]
    analyze_file(path, data, ...) -> FileAnalysis          # chunks + symbols from one parse
    detect_language(path, data=b"") -> str | None
    language_names() -> list[str]
"""

from .core import FileAnalysis, analyze_file, chunk_file, symbols_for_file
from .lines import is_blank
from .model import LSP_SYMBOL_KIND, Chunk, Symbol, lsp_symbol_kind
from .spec import LanguageSpec, SpecError, detect_language, get_spec, language_names

__all__ = [
    "LSP_SYMBOL_KIND",
    "Chunk",
    "FileAnalysis",
    "LanguageSpec",
    "SpecError",
    "Symbol",
    "analyze_file",
    "chunk_file",
    "detect_language",
    "get_spec",
    "is_blank",
    "language_names",
    "lsp_symbol_kind",
    "symbols_for_file",
]
