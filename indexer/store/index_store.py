"""One repository's index directory: catalog, packs, trigram index and manifests.

Layout (outside the working tree, so file watching never sees index writes):

    <index dir>/catalog.sqlite   blobs and snapshots (SQLite, WAL)
    <index dir>/packs/           searchable bytes of every blob (append-only, memory-mapped)
    <index dir>/trigram/         tantivy trigram index, one document per blob
    <index dir>/manifests/       one immutable file per snapshot version
    <index dir>/write.lock       one writer at a time (flock; released if the process dies)
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path

from indexer.errors import IndexBusyError
from indexer.paths import default_index_root
from indexer.store.catalog import Catalog, SnapshotRecord
from indexer.store.chunk_store import ChunkStore
from indexer.store.manifest import Manifest
from indexer.store.packs import PackReader
from indexer.store.trigram_index import TrigramIndex

FORMAT_VERSION = "1"


def index_dir_for(repo_root: Path, index_root: Path | None = None) -> Path:
    root = index_root or default_index_root()
    digest = hashlib.sha1(str(repo_root).encode()).hexdigest()[:12]
    return root / f"{repo_root.name}-{digest}"


class IndexStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "manifests").mkdir(exist_ok=True)
        version_file = directory / "FORMAT"
        if not version_file.exists():
            version_file.write_text(FORMAT_VERSION)
        self.catalog = Catalog(directory / "catalog.sqlite")
        self.packs = PackReader(directory / "packs")
        self._trigrams: TrigramIndex | None = None
        self._chunks: ChunkStore | None = None

    @property
    def trigrams(self) -> TrigramIndex:
        if self._trigrams is None:
            self._trigrams = TrigramIndex(self.directory / "trigram")
        return self._trigrams

    @property
    def chunks(self) -> ChunkStore:
        if self._chunks is None:
            self._chunks = ChunkStore(self.catalog.db, self.directory / "lexical")
        return self._chunks

    @property
    def pack_dir(self) -> Path:
        return self.directory / "packs"

    def manifest_path(self, name: str) -> Path:
        return self.directory / "manifests" / name

    def load_manifest(self, record: SnapshotRecord) -> Manifest:
        return Manifest.read(self.manifest_path(record.manifest))

    def size_bytes(self) -> int:
        total = 0
        for root, _, files in os.walk(self.directory):
            for name in files:
                with suppress(OSError):
                    total += os.path.getsize(os.path.join(root, name))
        return total

    @contextmanager
    def write_lock(self, wait: bool = True, timeout: float = 600.0,
                   on_wait: Callable[[str], None] | None = None):
        """Hold the one-writer lock. A second writer waits (telling `on_wait` once) or fails."""
        path = self.directory / "write.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                    if not wait or time.monotonic() > deadline:
                        raise IndexBusyError(
                            f"another codeloupe process (pid {holder}) is writing the index "
                            f"at {self.directory}; try again when it finishes") from None
                    if not told and on_wait is not None:
                        on_wait(f"waiting for another codeloupe process (pid {holder}) "
                                "to finish writing the index…")
                        told = True
                    time.sleep(0.1)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def close(self) -> None:
        self.packs.close()
        self.catalog.close()
