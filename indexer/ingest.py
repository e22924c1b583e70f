"""Build a snapshot's index: list its files, store every blob not stored yet, write its manifest.

Content addressing by git blob id means only new blob ids are read: re-indexing after an edit,
or indexing another commit, costs work in proportion to what changed. Blobs are committed in
batches (pack fsync → tantivy commit → catalog), and the snapshot becomes visible in one
catalog transaction at the very end, so an interruption at any moment leaves the previous
snapshot readable and keeps the blobs already stored for the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from indexer.errors import CodeloupeError
from indexer.repo import WORKTREE, GitRepo, TreeEntry, git_blob_id
from indexer.store.catalog import BlobRecord
from indexer.store.content import DEFAULT_MAX_FILESIZE, BlobKind, prepare_content
from indexer.store.index_store import IndexStore
from indexer.store.manifest import Manifest
from indexer.store.packs import PackWriter

BATCH_BYTES = 64 << 20  # commit stored blobs every this many bytes


class Cancelled(CodeloupeError):
    """Indexing was cancelled; the previous snapshot is still the visible one."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("indexing cancelled; the previous index is unchanged")


# on_progress(done_bytes, total_bytes, message)
ProgressCallback = Callable[[int, int, str], None]


@dataclass
class IndexSummary:
    name: str  # 'worktree' or a commit id
    commit: str | None
    files: int = 0  # searchable files
    bytes: int = 0  # searchable bytes
    skipped: dict[str, int] = field(default_factory=dict)
    new_blobs: int = 0
    read_bytes: int = 0
    seconds: float = 0.0
    up_to_date: bool = False
    submodules: int = 0


@dataclass(slots=True)
class _Pending:
    """A file whose blob is not stored yet, with its bytes when already read."""

    entry: TreeEntry
    data: bytes | None = None


def tree_signature(entries: list[tuple[str, str]], max_filesize: int) -> str:
    h = hashlib.sha1(f"max_filesize={max_filesize}\n".encode())
    for path, oid in entries:
        h.update(path.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
        h.update(oid.encode())
        h.update(b"\n")
    return h.hexdigest()


class WorktreeScan:
    """The working tree's files with a blob id each, reading only files git or our stat cache
    cannot vouch for."""

    def __init__(self, repo: GitRepo, store: IndexStore) -> None:
        self.repo = repo
        self.head = repo.head_commit()
        entries, submodules = repo.worktree()
        self.submodules = submodules
        cache = store.catalog.dirty_files()
        self.entries: list[TreeEntry] = []
        self.read: dict[str, bytes] = {}  # oid -> bytes read while hashing
        self.dirty_stat: list[tuple[str, int, int, int, str]] = []
        self.vanished = 0
        for entry in entries:
            if entry.oid is not None:
                self.entries.append(entry)
                continue
            stat = repo.stat_worktree_file(entry.path)
            cached = cache.get(entry.path)
            if stat is not None and cached is not None and cached[:3] == (
                    stat.size, stat.mtime_ns, stat.inode):
                oid = cached[3]
            else:
                data = repo.read_worktree_file(entry.path)
                if data is None:
                    self.vanished += 1
                    continue
                oid = git_blob_id(data)
                self.read[oid] = data
            if stat is not None:
                self.dirty_stat.append((entry.path, stat.size, stat.mtime_ns, stat.inode, oid))
            self.entries.append(TreeEntry(entry.path, oid, entry.mode))


class SnapshotBuilder:
    def __init__(self, store: IndexStore, repo: GitRepo, *,
                 max_filesize: int = DEFAULT_MAX_FILESIZE,
                 on_progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> None:
        self.store = store
        self.repo = repo
        self.max_filesize = max_filesize
        self.on_progress = on_progress or (lambda done, total, message: None)
        self.cancel = cancel or CancelToken()

    # --- entry points ---
    def worktree_is_fresh(self, scan: WorktreeScan) -> bool:
        record = self.store.catalog.snapshot(WORKTREE)
        return record is not None and record.manifest.startswith(self._signature(scan.entries))

    def index_worktree(self, scan: WorktreeScan | None = None) -> IndexSummary:
        start = time.perf_counter()
        scan = scan or WorktreeScan(self.repo, self.store)
        summary = IndexSummary(WORKTREE, scan.head, submodules=len(scan.submodules))
        if scan.vanished:
            summary.skipped["vanished"] = scan.vanished
        if self.worktree_is_fresh(scan):
            return self._fresh_summary(WORKTREE, summary, start)
        self._build(WORKTREE, scan.head, scan.entries, summary, preread=scan.read,
                    from_worktree=True, dirty_stat=scan.dirty_stat)
        summary.seconds = time.perf_counter() - start
        return summary

    def index_commit(self, commit: str) -> IndexSummary:
        """A commit's snapshot: forked from the indexed commit nearest to it (patched with the
        `git diff` between the two), or listed whole when none is near."""
        start = time.perf_counter()
        summary = IndexSummary(commit, commit)
        if self.store.catalog.snapshot(commit) is not None:
            return self._fresh_summary(commit, summary, start)
        base = self._nearest_indexed(commit)
        if base is not None:
            record, changes = base
            self._fork(commit, record, changes, summary)
        else:
            entries = self.repo.commit_tree(commit)
            self._build(commit, commit, entries, summary, preread={}, from_worktree=False)
        summary.seconds = time.perf_counter() - start
        return summary

    def _nearest_indexed(self, commit: str, candidates: int = 8):  # noqa: ANN202
        """(record, changes) of the indexed commit whose tree differs least from `commit`."""
        best = None
        records = [r for r in self.store.catalog.snapshots() if r.name != WORKTREE]
        for record in records[:candidates]:  # most recently updated first
            try:
                changes = self.repo.diff_trees(record.name, commit)
            except CodeloupeError:
                continue  # e.g. a commit gone from the repository
            if best is None or len(changes) < len(best[1]):
                best = (record, changes)
        if best is not None and len(best[1]) > 5000:
            return None  # listing the tree is as cheap as patching that much
        return best

    def _fork(self, name: str, base, changes: list[tuple[str, TreeEntry | None]],  # noqa: ANN001
              summary: IndexSummary) -> None:
        """Copy the base manifest, minus changed paths, plus their new blobs."""
        catalog = self.store.catalog
        base_manifest = self.store.load_manifest(base)
        changed = {path for path, _ in changes}
        added = sorted((e for _, e in changes if e is not None), key=lambda e: e.path)
        oids = sorted({e.oid for e in added if e.oid})
        known = catalog.find_blobs(oids)
        missing = {e.oid: _Pending(e) for e in added if e.oid not in known}
        if missing:
            known.update(self._store_blobs(list(missing.values()), False, summary))
        manifest = Manifest()
        base_paths = base_manifest.paths
        columns = base_manifest.columns()
        k = 0
        for i, path in enumerate(base_paths):
            while k < len(added) and added[k].path < path:
                self._append_entry(manifest, added[k], known)
                k += 1
            if path not in changed:
                manifest.append(path, *(column[i] for column in columns))
        for entry in added[k:]:
            self._append_entry(manifest, entry, known)
        _tally(manifest, summary)
        self.cancel.check()
        manifest_name = f"fork-{name}-{os.getpid()}-{int(time.time() * 1000)}.mf"
        manifest.write(self.store.manifest_path(manifest_name))
        catalog.put_snapshot(name, name, manifest_name, summary.files, summary.bytes,
                             summary.skipped, parent=base.name)

    @staticmethod
    def _append_entry(manifest: Manifest, entry: TreeEntry, known: dict) -> None:
        record = known.get(entry.oid)
        if record is not None:
            manifest.append(entry.path, record.blob_no, record.pack, record.offset,
                            record.length, record.size, record.kind)

    # --- internals ---
    def _signature(self, entries: list[TreeEntry]) -> str:
        return tree_signature([(e.path, e.oid or "") for e in entries], self.max_filesize)

    def _fresh_summary(self, name: str, summary: IndexSummary, start: float) -> IndexSummary:
        record = self.store.catalog.snapshot(name)
        assert record is not None
        summary.files, summary.bytes = record.files, record.bytes
        summary.skipped.update(record.skipped)
        summary.up_to_date = True
        summary.seconds = time.perf_counter() - start
        return summary

    def _build(self, name: str, commit: str | None, entries: list[TreeEntry],
               summary: IndexSummary, *, preread: dict[str, bytes], from_worktree: bool,
               dirty_stat: list[tuple[str, int, int, int, str]] | None = None) -> None:
        catalog = self.store.catalog
        oids = sorted({e.oid for e in entries if e.oid})
        known = catalog.find_blobs(oids)
        missing: dict[str, _Pending] = {}
        for entry in entries:
            if entry.oid not in known and entry.oid not in missing:
                missing[entry.oid] = _Pending(entry, preread.get(entry.oid))
        if missing:
            known.update(self._store_blobs(list(missing.values()), from_worktree, summary))
        manifest = Manifest()
        for entry in sorted(entries, key=lambda e: e.path):  # manifests are in path order
            record = known.get(entry.oid)
            if record is None:  # vanished while indexing
                summary.skipped["vanished"] = summary.skipped.get("vanished", 0) + 1
                continue
            manifest.append(entry.path, record.blob_no, record.pack, record.offset,
                            record.length, record.size, record.kind)
        _tally(manifest, summary)
        self.cancel.check()
        signature = self._signature(entries)
        manifest_name = f"{signature}-{os.getpid()}-{int(time.time() * 1000)}.mf"
        manifest.write(self.store.manifest_path(manifest_name))
        previous = catalog.snapshot(name)
        catalog.put_snapshot(name, commit, manifest_name, summary.files, summary.bytes,
                             summary.skipped, dirty_stat)
        if previous is not None and previous.manifest != manifest_name:
            self._retire_manifest(previous.manifest)

    def _retire_manifest(self, manifest_name: str) -> None:
        # Readers that loaded the old catalog row may still be opening this file: they retry
        # on FileNotFoundError, so removing it at once is safe.
        with contextlib.suppress(FileNotFoundError):
            self.store.manifest_path(manifest_name).unlink()

    def _contents(self, pending: list[_Pending], from_worktree: bool
                  ) -> Iterator[tuple[_Pending, bytes | None, str]]:
        """Yield (pending, bytes or None if vanished, the bytes' blob id)."""
        if not from_worktree:
            with self.repo.blob_reader() as reader:
                by_oid = {p.entry.oid: p for p in pending}
                for oid, data in reader.read_many(list(by_oid)):
                    yield by_oid[oid], data, oid
            return
        for p in pending:
            assert p.entry.oid is not None
            if p.data is not None:
                yield p, p.data, p.entry.oid
                continue
            data = self.repo.read_worktree_file(p.entry.path)
            # The bytes on disk are what ripgrep searches: if they differ from git's blob (a
            # change since git's stat check, or a clean/smudge filter), key them by their own id.
            yield p, data, p.entry.oid if data is None else git_blob_id(data)

    def _store_blobs(self, pending: list[_Pending], from_worktree: bool,
                     summary: IndexSummary) -> dict[str, BlobRecord]:
        catalog = self.store.catalog
        trigrams = self.store.trigrams
        total = len(pending)
        first_no = catalog.reserve_blob_numbers(total)
        stored: dict[str, BlobRecord] = {}
        batch: list[BlobRecord] = []
        batch_bytes = 0
        writer = PackWriter(self.store.pack_dir)
        done = 0
        try:
            for i, (item, data, oid) in enumerate(self._contents(pending, from_worktree)):
                self.cancel.check()
                if data is None:
                    continue
                content = prepare_content(data, self.max_filesize)
                pack, offset, length = 0, 0, 0
                if content.kind.searchable:
                    pack, offset = writer.append(content.data)
                    length = len(content.data)
                    trigrams.add(first_no + i, content.data.decode("utf-8", "replace"))
                record = BlobRecord(first_no + i, oid, len(data), int(content.kind), pack,
                                    offset, length)
                batch.append(record)
                stored[item.entry.oid or oid] = record
                summary.new_blobs += 1
                summary.read_bytes += len(data)
                batch_bytes += len(data)
                done += 1
                if batch_bytes >= BATCH_BYTES:
                    self._commit_batch(writer, batch)
                    batch, batch_bytes = [], 0
                self.on_progress(done, total, item.entry.path)
            self._commit_batch(writer, batch)
        except BaseException:
            # Keep what is complete and durable; drop the half-written batch.
            trigrams.rollback()
            raise
        finally:
            writer.close()
        trigrams.close_writer()
        self.store.trigrams.index.reload()
        return stored

    def _commit_batch(self, writer: PackWriter, batch: list[BlobRecord]) -> None:
        if not batch:
            return
        writer.sync()  # bytes on disk before anything points at them
        self.store.trigrams.commit()  # trigram docs before the catalog names the blobs
        self.store.catalog.add_blobs(batch)


def _tally(manifest: Manifest, summary: IndexSummary) -> None:
    """Add a manifest's searchable files and bytes, and its skipped files by reason."""
    for kind_code, length in zip(manifest.kinds, manifest.lengths, strict=True):
        kind = BlobKind(kind_code)
        if kind.searchable:
            summary.files += 1
            summary.bytes += length
        if kind != BlobKind.TEXT:
            summary.skipped[kind.label] = summary.skipped.get(kind.label, 0) + 1
