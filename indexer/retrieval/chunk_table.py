"""Every chunk of one snapshot as columns, the common numbering the retrieval signals share.

BM25 hits arrive as (blob, ordinal), vectors by content hash; both map to a row here, and the
fused ranking is over rows. Built once per loaded snapshot (a few hundred ms per 100k chunks)
and cached by the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from indexer.enrich import snapshot_blobs
from indexer.store.chunk_store import ChunkRecord, ChunkStore
from indexer.store.manifest import Manifest


@dataclass
class ChunkTable:
    blob_nos: np.ndarray  # int64 per row
    ordinals: np.ndarray  # int32 per row
    paths: list[str]
    content_hashes: list[str]
    languages: list[str]
    kinds: list[str]
    names: list[str]  # qualified names
    lines: np.ndarray  # (rows, 2) start and end line, 1-based inclusive
    entry_of_blob: dict[int, int] = field(default_factory=dict)  # blob -> manifest index
    by_key: dict[tuple[int, int], int] = field(default_factory=dict)
    by_path: dict[str, list[int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.paths)

    @classmethod
    def build(cls, chunks: ChunkStore, manifest: Manifest) -> ChunkTable:
        first = snapshot_blobs(manifest)
        blob_list = sorted(first)
        rows: list[tuple] = []
        for start in range(0, len(blob_list), 900):
            batch = blob_list[start:start + 900]
            marks = ",".join("?" * len(batch))
            rows.extend(chunks.db.execute(
                "SELECT blob_no, ordinal, content_hash, language, kind, qualified_name, "
                f"start_line, end_line FROM chunks WHERE blob_no IN ({marks}) "
                "ORDER BY blob_no, ordinal", batch))
        # Rows in path order, so ties elsewhere break the same way on every run.
        rows.sort(key=lambda r: (manifest.paths[first[r[0]]], r[1]))
        table = cls(
            blob_nos=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
            ordinals=np.fromiter((r[1] for r in rows), dtype=np.int32, count=len(rows)),
            paths=[manifest.paths[first[r[0]]] for r in rows],
            content_hashes=[r[2] for r in rows],
            languages=[r[3] or "" for r in rows],
            kinds=[r[4] or "" for r in rows],
            names=[r[5] or "" for r in rows],
            lines=np.array([(r[6], r[7]) for r in rows], dtype=np.int32).reshape(-1, 2),
        )
        table.entry_of_blob = first
        table.by_key = {(r[0], r[1]): i for i, r in enumerate(rows)}
        for i, path in enumerate(table.paths):
            table.by_path.setdefault(path, []).append(i)
        return table

    def record(self, chunks: ChunkStore, row: int) -> ChunkRecord:
        found = chunks.chunk(int(self.blob_nos[row]), int(self.ordinals[row]))
        assert found is not None, "a chunk row vanished from the catalog"
        return found
