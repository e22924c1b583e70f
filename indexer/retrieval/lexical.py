"""BM25 ranking of chunks for a free-text query, within one snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.enrich import snapshot_blobs
from indexer.repo import path_fields
from indexer.store.chunk_store import ChunkRecord
from indexer.workspace import Snapshot, Workspace


@dataclass(frozen=True, slots=True)
class ChunkHit:
    path: str
    chunk: ChunkRecord
    score: float
    rank: int

    def to_dict(self) -> dict:
        return {**path_fields(self.path), "start_line": self.chunk.start_line,
                "end_line": self.chunk.end_line, "name": self.chunk.qualified_name,
                "kind": self.chunk.kind, "title": self.chunk.title, "score": self.score,
                "scores": {"lexical": self.score}}


def lexical_search(ws: Workspace, snapshot: Snapshot, query: str, k: int = 10) -> list[ChunkHit]:
    """The k best chunks of `snapshot` for `query` (BM25 over name, title, docstring, path,
    body). The lexical index spans every snapshot, so we over-fetch and keep this one's."""
    first = snapshot_blobs(snapshot.manifest)
    chunks = ws.store.chunks
    hits: list[ChunkHit] = []
    fetch = max(50, k * 10)
    while True:
        found = chunks.lexical_search(query, fetch)
        hits = []
        for score, blob, ordinal in found:
            if blob not in first:
                continue
            record = chunks.chunk(blob, ordinal)
            if record is not None:
                hits.append(ChunkHit(snapshot.manifest.paths[first[blob]], record, score,
                                     len(hits) + 1))
                if len(hits) == k:
                    return hits
        if len(found) < fetch or fetch >= 100_000:
            return hits
        fetch *= 4
