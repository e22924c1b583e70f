"""One repository's index directory: catalog, packs, trigram index and manifests.

Layout (outside the working tree, so file watching never sees index writes):

    <index dir>/catalog.sqlite   blobs and snapshots (SQLite, WAL)
    <index dir>/packs/           searchable bytes of every blob (append-only, memory-mapped)
    <index dir>/trigram/         tantivy trigram index, one document per blob
    <index dir>/manifests/       one immutable file per snapshot version
    <index dir>/write.lock       one writer at a time (flock; released if the process dies)
    <index dir>/trigram.current  (after a rebuild by gc or doctor) names the live trigram
                                 directory; `lexical.current` likewise
"""

from __future__ import annotations

import contextlib
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
GENERATION_FILE = "generation"  # see IndexStore.generation


def index_dir_for(repo_root: Path, index_root: Path | None = None) -> Path:
    root = index_root or default_index_root()
    digest = hashlib.sha1(str(repo_root).encode()).hexdigest()[:12]
    return root / f"{repo_root.name}-{digest}"


class IndexStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # pack files hold the full text of every indexed file: other local users must not
        # read them (the folder 0700; processes that write indexes also run with umask 077)
        directory.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.mkdir(exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):  # an index made before, or a folder not ours
            directory.chmod(0o700)
        (directory / "manifests").mkdir(exist_ok=True)
        version_file = directory / "FORMAT"
        if not version_file.exists():
            version_file.write_text(FORMAT_VERSION)
        self.catalog = Catalog(directory / "catalog.sqlite")
        self.packs = PackReader(directory / "packs")
        self._trigrams: TrigramIndex | None = None
        self._chunks: ChunkStore | None = None
        self._manifests: dict[str, Manifest] = {}  # name -> manifest (see load_manifest)

    @property
    def trigrams(self) -> TrigramIndex:
        if self._trigrams is None:
            self._trigrams = TrigramIndex(self.tantivy_dir("trigram"))
        return self._trigrams

    @property
    def chunks(self) -> ChunkStore:
        if self._chunks is None:
            self._chunks = ChunkStore(self.catalog.db, self.tantivy_dir("lexical"))
        return self._chunks

    def tantivy_dir(self, name: str) -> Path:
        """The live directory of the tantivy index `name` ('trigram' or 'lexical'). A rebuilt
        index is written to a new directory and swapped in by replacing the one-line file
        `<name>.current` (an atomic rename), so readers see the old index or the new one."""
        try:
            return self.directory / (self.directory / f"{name}.current").read_text().strip()
        except FileNotFoundError:
            return self.directory / name

    def generation(self) -> tuple[int, int]:
        """A token that changes whenever `gc` or `doctor --repair` (any process) has changed
        snapshots or indexes under readers' feet: a stat, so that a server can check it on
        every request without touching SQLite (whose connection an index run keeps busy)."""
        try:
            info = os.stat(self.directory / GENERATION_FILE)
        except FileNotFoundError:
            return (0, 0)
        return (info.st_ino, info.st_mtime_ns)

    def bump_generation(self) -> None:
        """(gc, doctor) Tell readers to check their snapshots again: after committing a
        change to snapshot rows or a swapped index, before unlinking what they replaced."""
        target = self.directory / GENERATION_FILE
        partial = target.with_name(f"{GENERATION_FILE}.{os.getpid()}.tmp")
        partial.write_text(str(time.time_ns()))
        os.replace(partial, target)  # a new inode: a new token even within one clock tick

    def finish_writes(self) -> None:
        """Close the trigram writer, if open: commit what is left and wait for the segment
        merges its commits started (after a snapshot is visible, not before)."""
        if self._trigrams is not None:
            self._trigrams.close_writer()

    def refresh_readers(self) -> None:
        """Make opened tantivy readers see every commit made so far, by any process. Writers
        commit tantivy before the catalog names a blob, so a reader that has just read a
        snapshot row and then refreshes sees every document that snapshot needs (tantivy's
        own reload after another process's commit comes with a delay). An index that gc or
        doctor rebuilt and swapped in (a new directory) is opened anew instead."""
        if self._trigrams is not None:
            if self._trigrams.path != self.tantivy_dir("trigram"):
                self._trigrams = None  # swapped: reopened on next use
            else:
                self._trigrams.index.reload()
        if self._chunks is not None:
            if self._chunks.lexical_dir != self.tantivy_dir("lexical"):
                self._chunks = None
            elif self._chunks._lexical is not None:
                self._chunks._lexical.reload()

    def reopen_tantivy(self) -> None:
        """Forget opened tantivy indexes (after a swap, or to drop a writer's state)."""
        self._trigrams = None
        self._chunks = None

    @property
    def pack_dir(self) -> Path:
        return self.directory / "packs"

    def manifest_path(self, name: str) -> Path:
        return self.directory / "manifests" / name

    def load_manifest(self, record: SnapshotRecord, cached: bool = False) -> Manifest:
        """A snapshot's manifest. `cached`: from (and into) a small in-memory cache keyed by
        file name (manifests are immutable and names never reused); for callers that only
        read it, such as a fork's base: a watcher forks HEAD's manifest on every save."""
        if cached and record.manifest in self._manifests:
            return self._manifests[record.manifest]
        manifest = Manifest.read(self.manifest_path(record.manifest))
        if cached:
            self.remember_manifest(record.manifest, manifest)
        return manifest

    def remember_manifest(self, name: str, manifest: Manifest) -> None:
        """Keep a manifest just written (never to be changed again) for the next fork."""
        self._manifests[name] = manifest
        while len(self._manifests) > 2:
            self._manifests.pop(next(iter(self._manifests)))

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
