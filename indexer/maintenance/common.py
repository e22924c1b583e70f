"""Pieces gc and doctor share: blob tables, tantivy document sweeps and rebuilds, file sweeps.

Both run under the index's write lock, so nothing they inspect changes underneath them; only
readers run concurrently, and every step leaves what readers can see intact.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import time
from collections.abc import Iterable
from pathlib import Path

import tantivy

from indexer.store.index_store import IndexStore
from indexer.store.packs import pack_numbers, pack_path
from indexer.store.trigram_index import TrigramIndex

KILL_ENV = "CODELOUPE_KILL_AT"  # crash tests: SIGKILL this process at the named step
TANTIVY_DIR = re.compile(r"^(trigram|lexical)(-\d+)?$")
REBUILD_BATCH_BYTES = 64 << 20


def checkpoint(step: str) -> None:
    """A named step boundary. With CODELOUPE_KILL_AT=<step> the process dies here by SIGKILL,
    so tests can check that every boundary leaves a readable index (real kills, exact
    moments)."""
    if os.environ.get(KILL_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def blob_tables(store: IndexStore) -> list[str]:
    """Catalog tables keyed by blob number (blobs, chunks, symbols, ... and any added later):
    a blob that is gone takes its rows in all of them."""
    db = store.catalog.db
    store.chunks  # noqa: B018 - make sure the chunk tables exist before listing them
    names = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    return [name for name in names
            if any(col[1] == "blob_no" for col in db.execute(f'PRAGMA table_info("{name}")'))]


def delete_blob_rows(store: IndexStore, blob_nos: Iterable[int]) -> int:
    """Delete the catalog rows of `blob_nos` from every blob table, in one transaction."""
    wanted = list(blob_nos)
    if not wanted:
        return 0
    tables = blob_tables(store)
    db = store.catalog.db
    with store.catalog.transaction():
        db.execute("CREATE TEMP TABLE IF NOT EXISTS gone_blobs(blob_no INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM gone_blobs")
        db.executemany("INSERT OR IGNORE INTO gone_blobs VALUES(?)", ((b,) for b in wanted))
        for table in tables:
            db.execute(f'DELETE FROM "{table}" WHERE blob_no IN (SELECT blob_no FROM gone_blobs)')
        db.execute("DELETE FROM gone_blobs")
    return len(wanted)


def doc_blob_nos(index: tantivy.Index) -> list[int]:
    """The blob number of every live document of a tantivy index (blob_no is a fast field)."""
    index.reload()
    searcher = index.searcher()
    if searcher.num_docs == 0:
        return []
    result = searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs, count=False)
    addresses = [address for _, address in result.hits]
    return [int(b) for b in searcher.fast_field_values("blob_no", addresses)]


def delete_docs(index: tantivy.Index, schema: tantivy.Schema, blob_nos: Iterable[int]) -> int:
    """Delete every document of `blob_nos` (by query: a term delete on a u64 field deletes
    nothing in tantivy 0.27); one commit."""
    wanted = sorted(set(blob_nos))
    if not wanted:
        return 0
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    try:
        for start in range(0, len(wanted), 10_000):
            writer.delete_documents_by_query(
                tantivy.Query.term_set_query(schema, "blob_no", wanted[start:start + 10_000]))
        writer.commit()
        writer.wait_merging_threads()
    except BaseException:
        writer.rollback()
        raise
    index.reload()
    return len(wanted)


def searchable_rows(store: IndexStore) -> list[tuple[int, int, int, int]]:
    """(blob_no, pack, offset, length) of every blob with bytes in a pack, in pack order."""
    return store.catalog.db.execute(
        "SELECT blob_no, pack, offset, length FROM blobs WHERE pack > 0 "
        "ORDER BY pack, offset").fetchall()


def rebuild_trigrams(store: IndexStore, rows: list[tuple[int, int, int, int]] | None = None
                     ) -> Path:
    """A new trigram index holding exactly the catalog's searchable blobs, built from the pack
    bytes (what a trigram document is made of) in a new directory, then swapped in."""
    rows = searchable_rows(store) if rows is None else rows
    new_dir = store.directory / f"trigram-{time.time_ns() // 1_000_000}"
    index = TrigramIndex(new_dir)
    index.writer(expected_docs=len(rows))
    pending = 0
    try:
        for blob_no, pack, offset, length in rows:
            data = store.packs.read(pack, offset, length)
            index.add(blob_no, data.decode("utf-8", "replace"))
            pending += length
            if pending >= REBUILD_BATCH_BYTES:
                index.commit()
                pending = 0
        index.close_writer()
    except BaseException:
        index.rollback()
        shutil.rmtree(new_dir, ignore_errors=True)
        raise
    swap_tantivy_dir(store, "trigram", new_dir)
    return new_dir


def empty_lexical(store: IndexStore) -> Path:
    """Swap in a new, empty lexical index (its documents are then re-made by chunking)."""
    new_dir = store.directory / f"lexical-{time.time_ns() // 1_000_000}"
    new_dir.mkdir()
    swap_tantivy_dir(store, "lexical", new_dir)
    return new_dir


def swap_tantivy_dir(store: IndexStore, name: str, new_dir: Path) -> None:
    """Point `<name>.current` at `new_dir` (write, fsync, rename: readers see one or the
    other), then remove the directory it replaced."""
    old_dir = store.tantivy_dir(name)
    pointer = store.directory / f"{name}.current"
    tmp = pointer.with_name(pointer.name + f".tmp{os.getpid()}")
    with open(tmp, "w") as f:
        f.write(new_dir.name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, pointer)
    _fsync_dir(store.directory)
    store.reopen_tantivy()
    store.bump_generation()  # readers in other processes reopen before the old one goes
    checkpoint(f"{name}-swapped")
    if old_dir != new_dir:
        shutil.rmtree(old_dir, ignore_errors=True)


def sweep_files(store: IndexStore) -> tuple[int, int]:
    """Remove files no catalog row names: manifests (and temporary ones), packs with no blob
    (never the newest: pack numbers must not be reused), tantivy directories not live.
    Returns (files, bytes) removed."""
    removed = removed_bytes = 0
    named = {row[0] for row in store.catalog.db.execute("SELECT manifest FROM snapshots")}
    for path in (store.directory / "manifests").iterdir():
        if path.name not in named:
            removed_bytes += _unlink(path)
            removed += 1
    used = {row[0] for row in store.catalog.db.execute("SELECT DISTINCT pack FROM blobs")}
    numbers = pack_numbers(store.pack_dir) if store.pack_dir.exists() else []
    for number in numbers[:-1]:
        if number not in used:
            removed_bytes += _unlink(pack_path(store.pack_dir, number))
            removed += 1
    live = {store.tantivy_dir("trigram").name, store.tantivy_dir("lexical").name}
    for path in store.directory.iterdir():
        if path.is_dir() and TANTIVY_DIR.match(path.name) and path.name not in live:
            removed_bytes += dir_size(path)
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    for path in store.directory.glob("*.current.tmp*"):
        removed_bytes += _unlink(path)
        removed += 1
    if removed:
        store.packs.close()
    return removed, removed_bytes


def dir_size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def _unlink(path: Path) -> int:
    try:
        size = path.stat().st_size
        path.unlink()
        return size
    except FileNotFoundError:
        return 0


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
