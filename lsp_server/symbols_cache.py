"""Symbols of a snapshot, for `workspace/symbol` and `codeloupe/symbols`.

Computed here, per file, from the snapshot's stored bytes with the engine's syntax-tree
chunker, until the index stores symbols itself: `snapshot_symbols` is the one function to
replace by an engine call then. Results are cached per (path, blob): a blob's symbols are
computed once and shared by every snapshot holding it, so a re-index after an edit only
parses the edited files.

Columns are converted to the session's position encoding here, once, with the file's bytes
at hand (the engine reports byte columns).
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from indexer.chunking import symbols_for_file
from indexer.store.content import BlobKind
from indexer.symbols import SymbolMatcher
from indexer.workspace import Snapshot, Workspace
from lsp_server.positions import column

# (line, character, end line, end character), 0-based, in the session's encoding
Range = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class SymbolEntry:
    name: str
    kind: int  # LSP SymbolKind
    container_name: str
    qualified_name: str
    path: str  # relative to the repository root
    name_range: Range
    full_range: Range
    signature: str


class _Lines:
    """Byte offset -> (0-based line, column in the encoding) for one file."""

    def __init__(self, data: bytes, encoding: str) -> None:
        self.data = data
        self.encoding = encoding
        starts = [0]
        pos = data.find(b"\n")
        while pos >= 0:
            starts.append(pos + 1)
            pos = data.find(b"\n", pos + 1)
        self.starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.data)))
        line = bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        return line, column(self.data[start:offset], offset - start, self.encoding)

    def line_column(self, line_1: int, byte_column: int) -> tuple[int, int]:
        """A (1-based line, byte column) pair from the chunker, converted."""
        line = max(0, min(line_1 - 1, len(self.starts) - 1))
        start = self.starts[line]
        text = self.data[start:start + byte_column]
        return line, column(text, byte_column, self.encoding)


def file_symbols(path: str, data: bytes, encoding: str) -> list[SymbolEntry]:
    """The definitions of one file, with ranges in `encoding` units."""
    try:
        symbols = symbols_for_file(path, data)
    except Exception:  # a chunker failure on one odd file must not lose the others
        return []
    if not symbols:
        return []
    lines = _Lines(data, encoding)
    entries = []
    for s in symbols:
        name_start = lines.line_column(s.name_start_line, s.name_start_column)
        name_end = lines.line_column(s.name_end_line, s.name_end_column)
        full_start = lines.position(s.start_byte)
        full_end = lines.position(s.end_byte)
        entries.append(SymbolEntry(
            s.name, int(s.kind), s.container_name or "", s.qualified_name or s.name, path,
            (*name_start, *name_end), (*full_start, *full_end), s.signature or ""))
    return entries


BlobSymbols = dict[tuple[str, int], list[SymbolEntry]]

# tree-sitter parsers are per thread, but two big builds at once only fight over two cores
_BUILD_LOCK = threading.Lock()


def snapshot_symbols(ws: Workspace, snap: Snapshot, encoding: str, cache: BlobSymbols,
                     cancelled: Callable[[], bool] = lambda: False
                     ) -> tuple[list[SymbolEntry], BlobSymbols]:
    """Every symbol of `snap`, and the cache to keep for the next call (entries of this
    snapshot only). Raises InterruptedError when `cancelled()` turns true."""
    manifest = snap.manifest
    searchable = {int(k) for k in BlobKind if k.searchable}
    kept: BlobSymbols = {}
    entries: list[SymbolEntry] = []
    with _BUILD_LOCK:
        for i, path in enumerate(manifest.paths):
            if manifest.kinds[i] not in searchable:
                continue
            key = (path, manifest.blob_nos[i])
            found = cache.get(key)
            if found is None:
                if cancelled():
                    raise InterruptedError("symbol indexing cancelled")
                data = ws.store.packs.read(manifest.packs[i], manifest.offsets[i],
                                           manifest.lengths[i])
                found = file_symbols(path, bytes(data), encoding)
            kept[key] = found
            entries.extend(found)
    return entries, kept


class SymbolIndex:
    """The symbols of one snapshot, with a fuzzy matcher (and filtered ones: kinds, paths)."""

    def __init__(self, entries: list[SymbolEntry]) -> None:
        self.entries = entries
        self.matcher = SymbolMatcher(entries)
        self._filtered: dict[tuple[frozenset[int] | None, tuple[str, ...]], SymbolMatcher] = {}
        self._lock = threading.Lock()

    def search(self, query: str, limit: int, kinds: frozenset[int] | None = None,
               scopes: tuple[str, ...] = ("",)) -> list[tuple[int, SymbolEntry]]:
        """Best `limit` symbols for `query`, of `kinds` (any if None), under one of the path
        prefixes `scopes` ('' is everything)."""
        everywhere = not scopes or "" in scopes
        if not kinds and everywhere:
            return self.matcher.search(query, limit)
        key = (kinds or None, () if everywhere else tuple(sorted(scopes)))
        with self._lock:
            matcher = self._filtered.get(key)
            if matcher is None:
                if len(self._filtered) >= 8:
                    self._filtered.clear()
                matcher = SymbolMatcher([e for e in self.entries if _keep(e, kinds, key[1])])
                self._filtered[key] = matcher
        return matcher.search(query, limit)


def _keep(entry: SymbolEntry, kinds: frozenset[int] | None, scopes: tuple[str, ...]) -> bool:
    if kinds and entry.kind not in kinds:
        return False
    if not scopes:
        return True
    path = entry.path
    return any(path == s or path.startswith(s + "/") for s in scopes)
