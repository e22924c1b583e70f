"""Vector search over one snapshot's chunks, for one view (code or gloss).

Exact search (one matrix product) is the default: at 50k chunks it takes a few milliseconds
and never misses. Above `ANN_THRESHOLD` rows an HNSW index (usearch) is built once per
snapshot view and over-fetched when a filter is on; benchmarks/bench_semantic.py compares them.
"""

from __future__ import annotations

import numpy as np

from indexer.embed.vector_cache import VectorCache
from indexer.retrieval.chunk_table import ChunkTable

ANN_THRESHOLD = 300_000


class DenseIndex:
    def __init__(self, table: ChunkTable, cache: VectorCache, view: str,
                 keys: list[str] | None = None) -> None:
        """`keys`: each row's cache key for this view (default: the chunk's content hash)."""
        have = cache.rows_for(view)
        rows, cache_rows = [], []
        for row, digest in enumerate(keys or table.content_hashes):
            found = have.get(digest)
            if found is not None:
                rows.append(row)
                cache_rows.append(found)
        self.view = view
        self.rows = np.asarray(rows, dtype=np.int64)  # table rows that have a vector
        self.matrix = cache.vectors(cache_rows)  # (len(rows), dims) float32, unit length
        self.cached_count = len(have)  # to tell when the cache has grown
        self.coverage = len(rows) / len(table) if len(table) else 1.0
        self._ann = None
        if len(self.rows) >= ANN_THRESHOLD:
            self._ann = self._build_ann()

    def _build_ann(self):  # noqa: ANN202
        from usearch.index import Index

        ann = Index(ndim=self.matrix.shape[1], metric="cos", dtype="f16")
        ann.add(np.arange(len(self.rows), dtype=np.uint64), self.matrix)
        return ann

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(table rows, cosine scores) of the k nearest chunks passing `mask`, best first."""
        if len(self.rows) == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self._ann is not None:
            return self._search_ann(query, k, mask)
        scores = self.matrix @ query
        if mask is not None:
            scores = np.where(mask[self.rows], scores, -np.inf)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        # ties broken by row (path order), so rankings are reproducible
        top = top[np.lexsort((self.rows[top], -scores[top]))]
        top = top[np.isfinite(scores[top])]
        return self.rows[top], scores[top]

    def _search_ann(self, query: np.ndarray, k: int, mask: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray]:
        fetch = k if mask is None else k * 8
        while True:
            matches = self._ann.search(query, min(fetch, len(self.rows)))
            keys = np.asarray(matches.keys, dtype=np.int64)
            scores = 1.0 - np.asarray(matches.distances, dtype=np.float32)
            rows = self.rows[keys]
            if mask is not None:
                keep = mask[rows]
                rows, scores = rows[keep], scores[keep]
            if len(rows) >= k or fetch >= len(self.rows):
                return rows[:k], scores[:k]
            fetch *= 4

    def scores_for(self, query: np.ndarray, rows: np.ndarray) -> dict[int, float]:
        """Cosine of the query with each given table row that has a vector."""
        position = np.searchsorted(self.rows, rows)
        out: dict[int, float] = {}
        for row, pos in zip(rows.tolist(), position.tolist(), strict=True):
            if pos < len(self.rows) and self.rows[pos] == row:
                out[row] = float(self.matrix[pos] @ query)
        return out
