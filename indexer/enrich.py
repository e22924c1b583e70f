"""Second ingest stage: chunks, symbols and the lexical index for a snapshot's new blobs.

Runs after the trigram stage (regex search never waits for it), once per blob: a blob already
chunked for any snapshot is skipped. Parsing is CPU-bound Python, so large batches go to a
process pool; small ones stay in-process (a pool costs more to start than it saves).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import suppress
from dataclasses import dataclass

from indexer.child_processes import exit_when_orphaned, harden_child_pythons
from indexer.chunking import analyze_file
from indexer.gloss.cache import ensure_schema as ensure_gloss_schema
from indexer.gloss.cache import stage_heuristic_glosses
from indexer.gloss.heuristic import heuristic_gloss
from indexer.ingest import CancelToken, ProgressCallback
from indexer.repo import printable_path
from indexer.store.chunk_store import lexical_fields
from indexer.store.content import BlobKind
from indexer.store.index_store import IndexStore
from indexer.store.manifest import Manifest

POOL_THRESHOLD = 200  # blobs; below this, chunk in-process
COMMIT_EVERY = 2000  # blobs per transaction
BATCH = 16  # blobs per task sent to a worker process
IN_FLIGHT = 4 * (os.cpu_count() or 1)  # tasks submitted ahead of the results read
WORKER_NICENESS = 10


@dataclass
class EnrichSummary:
    blobs: int = 0
    chunks: int = 0
    symbols: int = 0
    seconds: float = 0.0


def _analyze(job: tuple[int, str, bytes]):  # noqa: ANN202 - runs in a worker process
    """Parse, chunk, and tokenize for BM25 — everything CPU-bound, in the worker."""
    blob_no, path, data = job
    # what is stored from a chunk (titles, BM25 fields) is UTF-8 text; a file name that is
    # not UTF-8 (git allows any bytes) is shown with U+FFFD there, and kept exact elsewhere
    analysis = analyze_file(printable_path(path), data)
    glosses = [heuristic_gloss(chunk) for chunk in analysis.chunks]
    docs = [lexical_fields(analysis.path, chunk, gloss)
            for chunk, gloss in zip(analysis.chunks, glosses, strict=True)]
    for chunk in analysis.chunks:
        chunk.text = ""  # the text lives in the pack; don't ship it back
    return blob_no, path, analysis, docs, glosses


def _analyze_batch(jobs: list[tuple[int, str, bytes]]) -> list:  # noqa: ANN202 - a worker
    return [_analyze(job) for job in jobs]


def _background(parent: int) -> None:
    """Worker processes run at a lower priority: a language server's requests (and the
    user's other programs) come first on a busy machine. They exit with their parent."""
    with suppress(OSError):
        os.nice(WORKER_NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent alone answers Ctrl-C
    exit_when_orphaned(parent)


def _submit(pool: ProcessPoolExecutor, batch: list[tuple[int, str, bytes]]) -> Future:
    """pool.submit, with SIGINT blocked while a worker may be spawned: the worker inherits
    the blocked mask through exec, so Ctrl-C, which reaches the whole foreground process
    group, never interrupts it (no traceback from every worker); only this process acts on
    it (roll back, keep the last good index). Blocked, not ignored: a Ctrl-C that comes
    meanwhile stays pending here and is delivered as soon as the mask is restored."""
    if threading.current_thread() is not threading.main_thread():
        return pool.submit(_analyze_batch, batch)  # only the main thread gets SIGINT anyway
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return pool.submit(_analyze_batch, batch)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _bounded_map(pool: ProcessPoolExecutor, jobs: Iterator[tuple[int, str, bytes]],
                 cancel: CancelToken) -> Iterator:
    """`pool.map(_analyze, jobs)` in order, with at most IN_FLIGHT batches submitted: the
    blobs are read as they are needed (Executor.map would read them all first), and a
    cancellation leaves little queued work behind."""
    pending: deque[Future] = deque()
    batch: list[tuple[int, str, bytes]] = []
    for job in jobs:
        batch.append(job)
        if len(batch) == BATCH:
            pending.append(_submit(pool, batch))
            batch = []
            while len(pending) >= IN_FLIGHT:
                cancel.check()
                yield from pending.popleft().result()
    if batch:
        pending.append(_submit(pool, batch))
    while pending:
        cancel.check()
        yield from pending.popleft().result()


def snapshot_blobs(manifest: Manifest) -> dict[int, int]:
    """blob number -> the first manifest index holding it, for searchable entries."""
    searchable = {int(k) for k in BlobKind if k.searchable}
    first: dict[int, int] = {}
    for i in range(len(manifest)):
        if manifest.kinds[i] in searchable:
            first.setdefault(manifest.blob_nos[i], i)
    return first


def enrich_snapshot(store: IndexStore, manifest: Manifest, *,
                    on_progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None) -> EnrichSummary:
    """Chunk every searchable blob of `manifest` not chunked yet. Caller holds the write lock."""
    started = time.perf_counter()
    summary = EnrichSummary()
    chunks = store.chunks
    chunks.ensure_lexical_version()
    first = snapshot_blobs(manifest)
    todo = chunks.unchunked(sorted(first))
    if not todo:
        return summary
    cancel = cancel or CancelToken()
    report = on_progress or (lambda done, total, message: None)

    def jobs() -> Iterator[tuple[int, str, bytes]]:
        for blob in todo:
            i = first[blob]
            yield blob, manifest.paths[i], store.packs.read(
                manifest.packs[i], manifest.offsets[i], manifest.lengths[i])

    pool = None
    if len(todo) >= POOL_THRESHOLD and (os.cpu_count() or 1) > 1:
        harden_child_pythons()  # the workers must not import from the searched repository
        pool = ProcessPoolExecutor(max_workers=os.cpu_count(), initializer=_background,
                                   initargs=(os.getpid(),),
                                   mp_context=multiprocessing.get_context("spawn"))
        results = _bounded_map(pool, jobs(), cancel)
    else:
        results = map(_analyze, jobs())
    ensure_gloss_schema(store.catalog.db)
    chunks.begin()
    try:
        for n, (blob, path, analysis, docs, glosses) in enumerate(results, start=1):
            cancel.check()
            chunks.add(blob, analysis.language, analysis.parsed, analysis.chunks,
                       analysis.symbols, docs)
            # heuristic glosses with their chunks: retrieval never computes one at query time
            stage_heuristic_glosses(store.catalog.db, zip(
                (c.content_hash for c in analysis.chunks), glosses, strict=True))
            summary.blobs += 1
            summary.chunks += len(analysis.chunks)
            summary.symbols += len(analysis.symbols)
            if n % COMMIT_EVERY == 0:
                chunks.commit()
                chunks.begin()
            if n % 32 == 0 or n == len(todo):
                report(n, len(todo), f"chunking {path}")
        chunks.commit()
    except BaseException:
        chunks.rollback()
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        chunks.close_writer()
    summary.seconds = time.perf_counter() - started
    return summary
