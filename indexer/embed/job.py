"""Embed a snapshot's chunks that have no cached vector yet, in batches, cancellable.

Search never waits for this: dense recall uses whatever share is embedded so far, and the
response says how much that is. Each chunk text is embedded once per (model, content hash,
view), whichever snapshot asked first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from indexer.embed.model import Embedder
from indexer.embed.texts import chunk_sources, code_view_text
from indexer.embed.vector_cache import VectorCache
from indexer.ingest import CancelToken, ProgressCallback
from indexer.retrieval.chunk_table import ChunkTable
from indexer.store.index_store import IndexStore
from indexer.store.manifest import Manifest

# chunks per encode call and per commit: the encoder sorts a call's texts by length (a wider
# window pads less) and spreads its batches over the cores; progress and cancellation come
# between calls (~4 s at 130 chunks/s)
BATCH = 512

ViewText = Callable[[int, object, str], str]  # (table row, ChunkRecord, source) -> text


@dataclass
class EmbedReport:
    view: str
    total: int = 0  # distinct chunk texts in the snapshot
    cached: int = 0  # already embedded before this run
    embedded: int = 0  # embedded by this run
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds else 0.0


def pending_rows(table: ChunkTable, cache: VectorCache, view: str,
                 keys: list[str] | None = None) -> tuple[list[int], int]:
    """One row per distinct key (default: content hash) still missing from the cache; and the
    distinct total."""
    have = cache.rows_for(view)
    seen: set[str] = set()
    todo: list[int] = []
    for row, digest in enumerate(keys or table.content_hashes):
        if digest in seen:
            continue
        seen.add(digest)
        if digest not in have:
            todo.append(row)
    return todo, len(seen)


def embed_view(store: IndexStore, manifest: Manifest, table: ChunkTable, embedder: Embedder,
               cache: VectorCache, view: str, *, text_of: ViewText | None = None,
               keys: list[str] | None = None,
               limit: int | None = None, cancel: CancelToken | None = None,
               on_progress: ProgressCallback | None = None,
               order: Callable[[list[int]], list[int]] | None = None) -> EmbedReport:
    """Embed the rows of `view` missing from the cache, in `order` (default: path order)."""
    started = time.perf_counter()
    report = EmbedReport(view)
    cancel = cancel or CancelToken()
    progress = on_progress or (lambda done, total, message: None)
    todo, report.total = pending_rows(table, cache, view, keys)
    report.cached = report.total - len(todo)
    if order is not None:
        todo = order(todo)
    if limit is not None:
        todo = todo[:limit]
    for start in range(0, len(todo), BATCH):
        cancel.check()
        batch = sorted(todo[start:start + BATCH])  # read each blob once per batch
        hashes: list[str] = []
        texts: list[str] = []
        for row, record, source in chunk_sources(store, manifest, table, batch):
            hashes.append((keys or table.content_hashes)[row])
            texts.append(text_of(row, record, source) if text_of
                         else code_view_text(record, source))
        vectors = embedder.encode(texts)
        # The writer lock per batch, not per run: a background embedder must not hold up
        # `index --wait` or a request embedding a few chunks for minutes.
        with cache.writing():
            cache.add(view, hashes, vectors)
        report.embedded += len(batch)
        report.seconds = time.perf_counter() - started
        progress(report.embedded, len(todo), f"embedding {view} ({table.paths[batch[-1]]})")
    report.seconds = time.perf_counter() - started
    return report
