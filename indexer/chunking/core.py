"""Entry points: ``chunk_file``, ``symbols_for_file`` and ``analyze_file`` (both at once)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .engine import (
    ChunkOptions,
    Segment,
    _Chunker,
    build_chunks,
    collect_defs,
    normalize,
    symbols_from_defs,
)
from .fallback import window_lines
from .lines import LineIndex
from .model import Chunk, Symbol
from .spec import SpecError, detect_language, get_spec

#: Files larger than this are not parsed; they get line windows.
MAX_PARSE_BYTES = 4 * 1024 * 1024
#: Minified-looking files (long average line) above this size are not parsed.
MINIFIED_MIN_BYTES = 32 * 1024
MINIFIED_AVG_LINE = 400
#: A single line longer than this sends the whole file to the fallback chunker.
MAX_LINE_BYTES = 128 * 1024
#: When top-level ERROR nodes cover more than this share of the file, the grammar "failed".
MAX_ERROR_SHARE = 0.5
#: The fallback language name for files no spec recognises.
PLAIN_TEXT = "text"


@dataclass(slots=True)
class FileAnalysis:
    path: str
    language: str
    chunks: list[Chunk] = field(default_factory=list)
    symbols: list[Symbol] = field(default_factory=list)
    parsed: bool = False  # False: the fallback chunker was used
    reason: str = ""  # why the fallback chunker was used


def _looks_minified(data: bytes, li: LineIndex) -> bool:
    # Indentation does not count: deeply nested code is not minified.
    if li.content_bytes >= MINIFIED_MIN_BYTES and li.content_bytes / li.count > MINIFIED_AVG_LINE:
        return True
    if len(data) > MAX_LINE_BYTES:
        starts = li.starts
        return any(b - a > MAX_LINE_BYTES for a, b in zip(starts, starts[1:], strict=False))
    return False


def _fallback(path: str, language: str, data: bytes, li: LineIndex, opts: ChunkOptions,
              reason: str) -> FileAnalysis:
    segments = [Segment(s, e, None) for s, e in window_lines(li, 1, li.count, opts.max_tokens)]
    segments = normalize(segments, li)
    chunks = build_chunks(None, segments, [], data, li, opts)
    for c in chunks:
        c.kind = "block"
    return FileAnalysis(path, language, chunks, [], parsed=False, reason=reason)


def analyze_file(path: str, data: bytes, *, language: str | None = None, min_tokens: int = 40,
                 max_tokens: int = 1500, with_chunks: bool = True) -> FileAnalysis:
    """Chunks and symbols of one file from one parse. Pure: no I/O.

    ``language`` overrides detection (a spec name such as ``"python"``).
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    min_tokens = max(0, min(min_tokens, max_tokens))
    lang = language or detect_language(path, data)
    spec = get_spec(lang) if lang else None
    lang_name = spec.name if spec is not None else PLAIN_TEXT
    li = LineIndex(data)
    opts = ChunkOptions(path, lang_name, min_tokens, max_tokens, max_chunk_bytes=max_tokens * 8)
    if not li.nonblank:
        return FileAnalysis(path, lang_name, [], [], parsed=spec is not None)
    if spec is None or not spec.has_grammar:
        return _fallback(path, lang_name, data, li, opts, "no grammar")
    if len(data) > MAX_PARSE_BYTES:
        return _fallback(path, lang_name, data, li, opts, "too large to parse")
    if _looks_minified(data, li):
        return _fallback(path, lang_name, data, li, opts, "minified")
    try:
        tree = spec.runtime().parser().parse(data)
    except SpecError:
        raise  # a broken spec is a bug to surface, not a file to work around
    except Exception as exc:  # a grammar that cannot load or parse: never lose the file
        return _fallback(path, lang_name, data, li, opts, f"parse failed: {exc}")
    root = tree.root_node
    if root.has_error:
        errors = sum(c.end_byte - c.start_byte for c in root.children if c.type == "ERROR")
        if root.type == "ERROR" or errors > MAX_ERROR_SHARE * len(data):
            return _fallback(path, lang_name, data, li, opts, "syntax errors")
    defs = collect_defs(spec, root, data, li)
    symbols = symbols_from_defs(defs, path, lang_name, data, li)
    if not with_chunks:
        return FileAnalysis(path, lang_name, [], symbols, parsed=True)
    chunker = _Chunker(spec, data, li, defs, min_tokens, max_tokens)
    segments = normalize(chunker.run(root), li)
    chunks = build_chunks(spec, segments, defs, data, li, opts, root, chunker.split_defs)
    return FileAnalysis(path, lang_name, chunks, symbols, parsed=True)


def chunk_file(path: str, data: bytes, *, min_tokens: int = 40, max_tokens: int = 1500,
               language: str | None = None) -> list[Chunk]:
    """Split one file into chunks along its syntax tree (or line windows). Pure: no I/O.

    Every non-blank line of ``data`` lies in exactly one chunk; an empty or blank file gives
    no chunks.
    """
    return analyze_file(path, data, language=language, min_tokens=min_tokens,
                        max_tokens=max_tokens).chunks


def symbols_for_file(path: str, data: bytes, *, language: str | None = None) -> list[Symbol]:
    """Every definition of one file as a ``Symbol`` (nested ones included)."""
    return analyze_file(path, data, language=language, with_chunks=False).symbols
