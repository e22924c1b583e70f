"""`workspace/symbol`-style search over the symbols of one snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.enrich import snapshot_blobs
from indexer.store.chunk_store import SymbolRecord
from indexer.symbols import SymbolMatcher
from indexer.workspace import Snapshot, Workspace


@dataclass(frozen=True, slots=True)
class SnapshotSymbol:
    """A symbol at a path (the same blob may sit at several paths)."""

    path: str
    record: SymbolRecord

    @property
    def name(self) -> str:
        return self.record.name

    def to_dict(self) -> dict:
        r = self.record
        return {"name": r.name, "kind": r.kind, "definition_kind": r.definition_kind,
                "container": r.container_name, "qualified_name": r.qualified_name,
                "path": self.path, "line": r.name_line, "column": r.name_column,
                "start_line": r.start_line, "end_line": r.end_line, "signature": r.signature}


class SymbolIndex:
    """All symbols of a snapshot with a fuzzy matcher; build once, query many times."""

    def __init__(self, ws: Workspace, snapshot: Snapshot) -> None:
        manifest = snapshot.manifest
        paths_by_blob: dict[int, list[str]] = {}
        for blob in snapshot_blobs(manifest):
            paths_by_blob[blob] = []
        for i, blob in enumerate(manifest.blob_nos):
            if blob in paths_by_blob:
                paths_by_blob[blob].append(manifest.paths[i])
        self.symbols = [SnapshotSymbol(path, record)
                        for record in ws.store.chunks.symbols_of(paths_by_blob)
                        for path in paths_by_blob[record.blob_no]]
        self.matcher = SymbolMatcher(self.symbols)

    def search(self, query: str, limit: int = 100, kind: int | None = None
               ) -> list[tuple[int, SnapshotSymbol]]:
        if kind is None:
            return self.matcher.search(query, limit)
        hits = self.matcher.search(query, limit * 20)
        return [(score, s) for score, s in hits if s.record.kind == kind][:limit]
