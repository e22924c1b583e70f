"""`workspace/symbol`-style search over the symbols of one snapshot, with unsaved texts on top.

The symbols come from the chunk store (computed once per blob by the enrich stage). A
`SymbolIndex` holds them as columns (name, path, kind, positions) behind one fuzzy matcher;
the rest of a record (qualified name, signature) is read back for the hits only.

Incremental: `SymbolIndex(ws, snapshot, previous=index)` keeps `index`'s matcher when few paths
differ (a re-index after an edit): those paths are masked in the old layer and served by a
small new one. Texts the index does not hold (an editor's unsaved buffers) become a
`SymbolOverlay`, parsed with the engine's chunker and layered on top the same way.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from indexer.chunking import symbols_for_file
from indexer.enrich import snapshot_blobs
from indexer.ingest import CancelToken
from indexer.repo import path_fields
from indexer.store.chunk_store import SymbolRecord
from indexer.store.content import DEFAULT_MAX_FILESIZE, prepare_content
from indexer.symbols import SLICE, SymbolMatcher, rank_key
from indexer.workspace import Snapshot, Workspace

# Rebuild the whole index, rather than layer the changes over the previous one, when the
# changed paths hold more than this share of the symbols.
MAX_DELTA_SHARE = 0.2
MAX_FILTERED = 8  # matchers kept per layer for kind / path filters
_BATCH = 900  # SQLite host parameters per query
_COLUMNS = ("rowid, blob_no, name, kind, container_name, name_line, name_column, "
            "name_end_line, name_end_column, start_line, end_line")
_RECORD = ("rowid, blob_no, name, kind, definition_kind, container_name, qualified_name, "
           "name_line, name_column, name_end_line, name_end_column, start_line, end_line, "
           "signature")  # rowid, then SymbolRecord's fields in order


@dataclass(frozen=True, slots=True)
class SnapshotSymbol:
    """A symbol at a path (the same blob may sit at several paths). Lines are 1-based,
    columns 0-based bytes of the text `SymbolIndex.source` returns."""

    path: str
    record: SymbolRecord

    @property
    def name(self) -> str:
        return self.record.name

    def to_dict(self) -> dict:
        r = self.record
        return {"name": r.name, "kind": r.kind, "definition_kind": r.definition_kind,
                "container": r.container_name, "qualified_name": r.qualified_name,
                **path_fields(self.path), "line": r.name_line, "column": r.name_column,
                "start_line": r.start_line, "end_line": r.end_line, "signature": r.signature}


class _Columns:
    """Symbols as parallel columns: a name and a few machine ints each."""

    def __init__(self, paths: list[str], rows: list[tuple]) -> None:
        """`rows` as `_COLUMNS` selects them; `paths[i]` is row i's path."""
        self.paths = paths
        # a comprehension per column, not zip(*rows): one C call holding the GIL for ~70 ms
        # at 200k rows, while the server answers requests from other threads
        cols = [[row[k] for row in rows] for k in range(11)]
        strings: dict[str, str] = {}  # one object per distinct name or container
        share = strings.setdefault
        self.names: list[str] = [share(x, x) for x in cols[2]]
        self.containers: list[str] = [share(x or "", x or "") for x in cols[4]]
        self.rowids = array("q", cols[0])  # in the symbols table; -1 for overlay symbols
        self.blobs = array("q", cols[1])
        self.kinds = array("h", [k or 0 for k in cols[3]])
        # name line, name column, name end line, name end column, start line, end line
        self.positions = [array("i", c) for c in cols[5:11]]

    def __len__(self) -> int:
        return len(self.paths)

    def position(self, i: int) -> tuple[int, ...]:
        p = self.positions
        return p[0][i], p[1][i], p[2][i], p[3][i], p[4][i], p[5][i]


class _Layer:
    """One matcher over some columns, with filtered matchers made on demand."""

    def __init__(self, columns: _Columns, pace: Callable[[], None] | None = None) -> None:
        self.columns = columns
        self.matcher = SymbolMatcher.from_names(columns.names, columns.paths, pace)
        self.path_counts = Counter(columns.paths)
        self._filtered: dict[tuple, tuple[SymbolMatcher, list[int]]] = {}
        self._lock = threading.Lock()

    def search(self, query: str, limit: int, kinds: frozenset[int] | None,
               scopes: tuple[str, ...] | None) -> list[tuple[int, int]]:
        """(score, column index), best first."""
        if kinds is None and scopes is None:
            return self.matcher.search_indices(query, limit)
        key = (kinds, scopes)
        with self._lock:  # two threads asking for the same filter build it once
            found = self._filtered.get(key)
            if found is None:
                cols = self.columns
                keep = [i for i in range(len(cols))
                        if (kinds is None or cols.kinds[i] in kinds)
                        and (scopes is None or _under(cols.paths[i], scopes))]
                found = (SymbolMatcher.from_names([cols.names[i] for i in keep],
                                                  [cols.paths[i] for i in keep]), keep)
                if len(self._filtered) >= MAX_FILTERED:
                    self._filtered.pop(next(iter(self._filtered)))
                self._filtered[key] = found
        matcher, keep = found
        return [(score, keep[i]) for score, i in matcher.search_indices(query, limit)]


def _release(items: list) -> None:
    """Empty a big list a slice at a time: freeing 200k row tuples in one go holds the GIL
    for ~30 ms (see indexer.symbols.SLICE)."""
    while items:
        del items[-SLICE:]


def _under(path: str, scopes: tuple[str, ...]) -> bool:
    return any(path == s or path.startswith(s + "/") for s in scopes)


@lru_cache(maxsize=128)
def _parsed(path: str, data: bytes) -> tuple:
    """The chunker's symbols of one text (cached: buffers are re-sent unchanged)."""
    try:
        return tuple(symbols_for_file(path, data))
    except Exception:  # a chunker failure on one odd text must not fail the search
        return ()


class SymbolOverlay:
    """Texts standing in for the snapshot's files at their paths (an editor's unsaved
    buffers), their symbols found by the engine's chunker. A text of None: the file is gone."""

    def __init__(self, files: Mapping[str, bytes | None],
                 max_filesize: int = DEFAULT_MAX_FILESIZE) -> None:
        self.paths = frozenset(files)
        self.texts: dict[str, bytes | None] = {}
        paths: list[str] = []
        rows: list[tuple] = []
        self.records: list[SymbolRecord] = []
        for path in sorted(files):
            raw = files[path]
            data = None
            if raw is not None:
                content = prepare_content(raw, max_filesize)  # as the index would keep it
                data = content.data if content.kind.searchable else None
            self.texts[path] = data
            for s in _parsed(path, data) if data is not None else ():
                row = (-1, -1, s.name, int(s.kind), s.container_name or "",
                       s.name_start_line, s.name_start_column, s.name_end_line,
                       s.name_end_column, s.start_line, s.end_line)
                paths.append(path)
                rows.append(row)
                self.records.append(SymbolRecord(
                    -1, s.name, int(s.kind), s.definition_kind, s.container_name or "",
                    s.qualified_name or s.name, *row[5:], s.signature or ""))
        self.layer = _Layer(_Columns(paths, rows)) if rows else None


class SymbolIndex:
    """All symbols of a snapshot with a fuzzy matcher; build once, query many times."""

    def __init__(self, ws: Workspace, snapshot: Snapshot, *,
                 previous: SymbolIndex | None = None, cancel: CancelToken | None = None
                 ) -> None:
        self.ws = ws
        self.snapshot = snapshot
        manifest = snapshot.manifest
        first = snapshot_blobs(manifest)  # blob -> its first manifest entry
        self._first = first
        self.blob_of: dict[str, int] = {manifest.paths[i]: blob
                                        for i, blob in enumerate(manifest.blob_nos)
                                        if blob in first}
        cancel = cancel or CancelToken()
        # the last snapshot `changes_in` compared with: (it, changed paths, their entries)
        self._newer: tuple[Snapshot | None, set[str], dict[str, int | None]] = (
            None, set(), {})
        self._db: sqlite3.Connection | None = None
        self._db_lock = threading.Lock()
        base = previous._base if previous is not None and previous.ws.store is ws.store \
            else None
        if base is not None and base[2]:  # a complete base: layer the changes over it
            changed = _changed_paths(base[1], self.blob_of)
            delta, chunked = self._columns_of(
                {p: self.blob_of[p] for p in changed if p in self.blob_of}, cancel)
            masked = sum(base[0].path_counts.get(p, 0) for p in changed)
            if len(delta) + masked <= MAX_DELTA_SHARE * max(1, len(base[0].columns)):
                self._base = base
                self._masked = frozenset(changed)
                self._delta = _Layer(delta, cancel.check) if len(delta) else None
                self.complete = chunked
                return
        columns, chunked = self._columns_of(self.blob_of, cancel)
        self._base = (_Layer(columns, cancel.check), self.blob_of, chunked)
        self._masked = frozenset()
        self._delta = None
        self.complete = chunked  # every blob had been through the enrich stage

    def __len__(self) -> int:
        base = len(self._base[0].columns) - sum(
            self._base[0].path_counts.get(p, 0) for p in self._masked)
        return base + (len(self._delta.columns) if self._delta else 0)

    @property
    def layered(self) -> bool:
        """Whether changes are layered over an older index (False: built from scratch)."""
        return self._delta is not None or bool(self._masked)

    # --- building ---
    def _connect(self) -> sqlite3.Connection:
        """A read-only connection of our own: the writer's shared one may be mid-transaction."""
        path = self.ws.store.catalog.path
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60,
                               check_same_thread=False)

    def _reader(self) -> sqlite3.Connection:
        """The connection queries use (kept: opening one costs more than a query); callers
        hold `_db_lock`."""
        if self._db is None:
            self._db = self._connect()
        return self._db

    def close(self) -> None:
        with self._db_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _columns_of(self, blob_of: Mapping[str, int], cancel: CancelToken
                    ) -> tuple[_Columns, bool]:
        """The symbols of these paths, and whether each blob had been through the enrich
        stage (False: some symbols are missing yet)."""
        paths_of: dict[int, list[str]] = {}
        for path, blob in blob_of.items():
            paths_of.setdefault(blob, []).append(path)
        blobs = sorted(paths_of)
        rows: list[tuple] = []
        chunked = 0
        if blobs:
            db = self._connect()
            try:
                for start in range(0, len(blobs), _BATCH):
                    cancel.check()
                    batch = blobs[start:start + _BATCH]
                    marks = ",".join("?" * len(batch))
                    rows.extend(db.execute(f"SELECT {_COLUMNS} FROM symbols "
                                           f"WHERE blob_no IN ({marks}) ORDER BY rowid", batch))
                    chunked += db.execute(f"SELECT count(*) FROM chunked "
                                          f"WHERE blob_no IN ({marks})", batch).fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):  # a store never enriched: no symbols yet
                    raise
            finally:
                db.close()
        complete = chunked == len(blobs)
        if all(len(p) == 1 for p in paths_of.values()):
            columns = _Columns([paths_of[row[1]][0] for row in rows], rows)
        else:
            pairs = [(path, row) for row in rows for path in paths_of[row[1]]]
            columns = _Columns([path for path, _ in pairs], [row for _, row in pairs])
            _release(pairs)
        _release(rows)
        return columns, complete

    # --- queries ---
    def overlay(self, files: Mapping[str, bytes | None]) -> SymbolOverlay | None:
        """A `SymbolOverlay` of the texts in `files` that differ from this snapshot's (None
        if none does): pass it to `search` to see them instead of the indexed files."""
        differ: dict[str, bytes | None] = {}
        for path, raw in files.items():
            if raw is None:
                if path in self.blob_of:
                    differ[path] = None
                continue
            content = prepare_content(raw, self.ws.max_filesize)
            data = content.data if content.kind.searchable else None
            if data != self._indexed(path):
                differ[path] = raw
        return SymbolOverlay(differ, self.ws.max_filesize) if differ else None

    def changes_in(self, snapshot: Snapshot, limit: int) -> dict[str, bytes | None] | None:
        """The texts of the paths where `snapshot` (a later version of this index's snapshot)
        differs from it, read from the store (None: gone), for an overlay; None when more
        than `limit` paths differ (then build a new index)."""
        if snapshot is self.snapshot:
            return {}
        held, changed, entries = self._newer
        if held is not snapshot:  # once per snapshot: a dict of every path
            manifest = snapshot.manifest
            first = snapshot_blobs(manifest)
            blob_of = {manifest.paths[i]: blob for i, blob in enumerate(manifest.blob_nos)
                       if blob in first}
            changed = _changed_paths(self.blob_of, blob_of)
            entries = {p: first.get(blob_of.get(p, -1)) for p in changed}
            self._newer = (snapshot, changed, entries)
        if len(changed) > limit:
            return None
        m = snapshot.manifest
        return {path: None if (i := entries[path]) is None else
                bytes(self.ws.store.packs.read(m.packs[i], m.offsets[i], m.lengths[i]))
                for path in sorted(changed)}

    def search(self, query: str, limit: int = 100, kind: int | None = None, *,
               kinds: Iterable[int] | None = None, scopes: Iterable[str] | None = None,
               overlay: SymbolOverlay | None = None) -> list[tuple[int, SnapshotSymbol]]:
        """The best `limit` symbols for `query`, best first: of `kinds` (LSP SymbolKinds; any
        if none), under one of the path prefixes `scopes` ('' or None: everywhere), with the
        texts of `overlay` in place of the indexed files."""
        wanted = frozenset(kinds or ()) | ({kind} if kind is not None else frozenset())
        kind_set = wanted or None
        scope_set = tuple(sorted(set(scopes))) if scopes is not None else None
        if scope_set is not None and "" in scope_set:
            scope_set = None
        hidden = overlay.paths if overlay is not None else frozenset()
        base = self._base[0]
        layers: list[tuple[_Layer, frozenset[str] | set[str], int]] = [
            (base, self._masked | hidden, 0)]
        if self._delta is not None:
            layers.append((self._delta, hidden, 1))
        if overlay is not None and overlay.layer is not None:
            layers.append((overlay.layer, frozenset(), 2))
        found: list[tuple[int, _Layer, int, int]] = []  # (score, layer, index, layer number)
        for layer, masked, number in layers:
            extra = sum(layer.path_counts.get(p, 0) for p in masked)
            paths = layer.columns.paths
            for score, i in layer.search(query, limit + extra, kind_set, scope_set):
                if not masked or paths[i] not in masked:
                    found.append((score, layer, i, number))
        if len(layers) > 1:
            def order(hit: tuple[int, _Layer, int, int]) -> tuple:
                score, layer, i, number = hit
                cols = layer.columns
                return -score, rank_key(cols.names[i], cols.paths[i]), number, i

            found.sort(key=order)
        found = found[:limit]
        records = self._records([(layer, i) for _, layer, i, number in found if number < 2])
        out = []
        for score, layer, i, number in found:
            path = layer.columns.paths[i]
            if number == 2:
                assert overlay is not None
                out.append((score, SnapshotSymbol(path, overlay.records[i])))
            else:
                out.append((score, SnapshotSymbol(path, records[(id(layer), i)])))
        return out

    def source(self, symbol: SnapshotSymbol, overlay: SymbolOverlay | None = None
               ) -> bytes | None:
        """The text whose lines and byte columns `symbol`'s positions count."""
        if symbol.record.blob_no < 0:
            return overlay.texts.get(symbol.path) if overlay is not None else None
        return self._blob_bytes(symbol.record.blob_no)

    # --- helpers ---
    def _blob_bytes(self, blob: int) -> bytes | None:
        i = self._first.get(blob)
        if i is None:
            return None
        m = self.snapshot.manifest
        return bytes(self.ws.store.packs.read(m.packs[i], m.offsets[i], m.lengths[i]))

    def _indexed(self, path: str) -> bytes | None:
        blob = self.blob_of.get(path)
        return None if blob is None else self._blob_bytes(blob)

    def _records(self, hits: list[tuple[_Layer, int]]) -> dict[tuple[int, int], SymbolRecord]:
        """Whole records for the hits, read by rowid (checked: a rewritten table falls back to
        a lookup by blob and position)."""
        out: dict[tuple[int, int], SymbolRecord] = {}
        if not hits:
            return out
        by_rowid = {layer.columns.rowids[i]: (layer, i) for layer, i in hits}
        with self._db_lock:
            db = self._reader()
            rowids = list(by_rowid)
            rows: dict[int, tuple] = {}
            for start in range(0, len(rowids), _BATCH):
                batch = rowids[start:start + _BATCH]
                marks = ",".join("?" * len(batch))
                # One row holding them all, as JSON: a step per row would hand the GIL back
                # and forth per row, and under an index build each hand-back waits its turn.
                (found,) = db.execute(f"SELECT json_group_array(json_array({_RECORD})) "
                                      f"FROM symbols WHERE rowid IN ({marks})", batch).fetchone()
                for row in json.loads(found):
                    rows[row[0]] = tuple(row)
            for rowid, (layer, i) in by_rowid.items():
                cols = layer.columns
                row = rows.get(rowid)
                if row is not None and row[1] == cols.blobs[i] and row[2] == cols.names[i] and \
                        row[7] == cols.positions[0][i] and row[8] == cols.positions[1][i]:
                    out[(id(layer), i)] = SymbolRecord(*row[1:])
                    continue
                want = (cols.blobs[i], cols.names[i], cols.positions[0][i], cols.positions[1][i])
                found = db.execute("SELECT * FROM symbols WHERE blob_no=? AND name=? AND "
                                   "name_line=? AND name_column=?", want).fetchone()
                if found is not None:
                    out[(id(layer), i)] = SymbolRecord(*found)
                else:  # vanished since the index was built: what the columns know
                    out[(id(layer), i)] = SymbolRecord(
                        cols.blobs[i], cols.names[i], cols.kinds[i], "", cols.containers[i],
                        cols.names[i], *cols.position(i), "")
        # every hit maps to a record, even one shared by two paths of the same blob
        for layer, i in hits:
            key = (id(layer), i)
            if key not in out:
                rowid = layer.columns.rowids[i]
                other = by_rowid[rowid]
                out[key] = out[(id(other[0]), other[1])]
        return out

def _changed_paths(old: Mapping[str, int], new: Mapping[str, int]) -> set[str]:
    """Paths added, removed or holding another blob."""
    changed = {p for p, blob in new.items() if old.get(p) != blob}
    changed.update(p for p in old if p not in new)
    return changed
