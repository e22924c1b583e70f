"""`workspace/symbol` and `codeloupe/symbols`: the engine's symbol index, shaped for LSP.

The symbols are the engine's (`indexer.retrieval.symbol_search.SymbolIndex`): computed once
per blob by the index's enrich stage. On the working tree, what that index has not absorbed
yet is laid over it as a `SymbolOverlay`, which the engine parses with its own chunker:
unsaved buffers, files changed on disk since the last index run, and files the trigram
stage has indexed but the enrich stage not yet. This module picks those texts, converts the
engine's byte columns to the session's position encoding, and builds the JSON.

Ranges: `location.range` is the name; `fullRange` spans the definition's whole lines, from
the start of its first line to the start of the line after its last (the engine keeps
lines, not columns, for definitions).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any, NamedTuple

import numpy as np

from indexer.retrieval.symbol_search import SnapshotSymbol, SymbolIndex, SymbolOverlay
from indexer.workspace import Snapshot
from lsp_server.overlay import Buffer
from lsp_server.positions import UTF8, column
from lsp_server.repos import Repo
from lsp_server.search import Target, file_json

MAX_OVERLAY_FILES = 50  # changed files parsed per request; more: the symbol index catches up
MAX_MEMO = 200_000  # blobs known to be ASCII, and converted name ranges
MAX_LINE_MEMO = 1024  # blobs with non-ASCII text whose line offsets are kept

Range = tuple[int, int, int, int]  # line, character, end line, end character (0-based)
_quote = json.encoder.encode_basestring_ascii  # C: a JSON string literal, as json.dumps


class SymbolHit(NamedTuple):  # a tuple: 500 are built per keystroke in the editor
    score: int
    symbol: SnapshotSymbol
    target: Target
    snapshot: Snapshot
    name_range: Range
    full_range: Range


def overlay_files(repo: Repo, index: SymbolIndex, snap: Snapshot, buffers: list[Buffer]
                  ) -> dict[str, bytes | None]:
    """The texts to lay over the working tree's symbol index: what the trigram stage indexed
    since it was built, then files changed on disk since, then the editor's buffers (each
    wins over the one before)."""
    files: dict[str, bytes | None] = {}
    pending = index.changes_in(snap, MAX_OVERLAY_FILES)
    if pending:
        files.update(pending)
    disk = repo.disk_texts(snap, MAX_OVERLAY_FILES)
    if disk:
        files.update(disk)
    for buf in buffers:
        if buf.path in index.blob_of or buf.dirty:  # an unedited file the index skips: no
            files[buf.path] = buf.data
    return files


class Positions:
    """Engine byte columns -> columns in the session's encoding, reading only what it must:
    a blob that is all ASCII (most code) needs no conversion, and is remembered as such."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._ascii: dict[int, bool] = {}
        self._lines: OrderedDict[int, np.ndarray] = OrderedDict()
        self._converted: dict[tuple[int, Range], Range] = {}  # (blob, byte range) -> range
        self._lock = threading.Lock()

    def ranges(self, index: SymbolIndex, symbol: SnapshotSymbol,
               overlay: SymbolOverlay | None) -> tuple[Range, Range]:
        r = symbol.record
        full = (max(r.start_line - 1, 0), 0, max(r.end_line, r.start_line), 0)
        name = (r.name_line - 1, r.name_column, r.name_end_line - 1, r.name_end_column)
        if self.encoding == UTF8:
            return name, full
        blob = r.blob_no
        if blob >= 0:
            if self._ascii.get(blob):
                return name, full
            converted = self._converted.get((blob, name))
            if converted is not None:  # a non-ASCII blob seen before: no need to read it
                return converted, full
        text = index.source(symbol, overlay)
        if text is None:
            return name, full
        if text.isascii():
            if blob >= 0:
                with self._lock:
                    if len(self._ascii) > MAX_MEMO:
                        self._ascii.clear()
                    self._ascii[blob] = True
            return name, full
        starts = self._starts(blob, text)
        converted = (*self._convert(text, starts, r.name_line, r.name_column),
                     *self._convert(text, starts, r.name_end_line, r.name_end_column))
        if blob >= 0:
            with self._lock:
                if len(self._converted) > MAX_MEMO:
                    self._converted.clear()
                self._converted[(blob, name)] = converted
        return converted, full

    def _starts(self, blob: int, text: bytes) -> np.ndarray:
        """Offsets of the lines of `text` (found at C speed; remembered per blob)."""
        if blob >= 0:
            with self._lock:
                found = self._lines.get(blob)
                if found is not None:
                    self._lines.move_to_end(blob)
                    return found
        newlines = np.flatnonzero(np.frombuffer(text, np.uint8) == 10).astype(np.int32)
        starts = np.concatenate((np.zeros(1, np.int32), newlines + 1))
        if blob >= 0:
            with self._lock:
                self._lines[blob] = starts
                while len(self._lines) > MAX_LINE_MEMO:
                    self._lines.popitem(last=False)
        return starts

    def _convert(self, text: bytes, starts: np.ndarray, line_1: int, byte_column: int
                 ) -> tuple[int, int]:
        line = max(0, min(line_1 - 1, len(starts) - 1))
        start = int(starts[line])
        return line, column(text[start:start + byte_column], byte_column, self.encoding)


def range_json(r: Range) -> dict[str, Any]:
    return {"start": {"line": r[0], "character": r[1]},
            "end": {"line": r[2], "character": r[3]}}


def file_uri(target: Target, path: str) -> str:
    return file_json(target, path).uri


def workspace_symbol_text(hit: SymbolHit) -> str:
    """A `WorkspaceSymbol` as JSON text, written directly around the constant parts of its
    file (500 symbols per answer: ~0.9 µs each)."""
    r = hit.symbol.record
    _, _, location, data = file_json(hit.target, hit.symbol.path)
    container = f',"containerName":{_quote(r.container_name)}' if r.container_name else ""
    a, b, c, d = hit.name_range
    first, _, last, _ = hit.full_range
    return (f'{{"name":{_quote(r.name)},"kind":{_kind(r.kind)}{location}{a},"character":{b}}},'
            f'"end":{{"line":{c},"character":{d}}}}}}}{container}{data}{first},'
            f'"character":0}},"end":{{"line":{last},"character":0}}}}}}}}')


def symbol_json(hit: SymbolHit) -> dict[str, Any]:
    r = hit.symbol.record
    target = hit.target
    return {"name": r.name, "kind": _kind(r.kind), "containerName": r.container_name,
            "qualifiedName": r.qualified_name or r.name, "signature": r.signature,
            "folder": target.folder.uri, "path": hit.symbol.path,
            "location": {"uri": file_uri(target, hit.symbol.path),
                         "range": range_json(hit.name_range)},
            "fullRange": range_json(hit.full_range), "score": hit.score,
            "commit": hit.snapshot.commit}


def _kind(kind: int) -> int:
    return kind if 1 <= kind <= 26 else 13  # LSP SymbolKind; Variable for anything else
