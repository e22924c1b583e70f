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
import stat as stat_mod
import threading
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from indexer.errors import CodeloupeError
from indexer.overlay import Overlay, under, worktree_changes
from indexer.repo import (
    MODE_SUBMODULE,
    MODE_SYMLINK,
    WORKTREE,
    GitRepo,
    TreeEntry,
    decode_path,
    git_blob_id,
)
from indexer.safe_paths import lstat_beneath
from indexer.store.catalog import BlobRecord
from indexer.store.content import DEFAULT_MAX_FILESIZE, BlobKind, prepare_content
from indexer.store.index_store import IndexStore
from indexer.store.manifest import Manifest
from indexer.store.packs import PackWriter

BATCH_BYTES = 64 << 20  # commit stored blobs every this many bytes
PARENT_SHORTCUT = 1000  # changed paths: an indexed parent this near is taken without looking on
OVERLAY_PREFIX = "ov"  # manifest names of working-tree snapshots forked from HEAD's


class Cancelled(CodeloupeError):
    """Indexing was cancelled; the previous snapshot is still the visible one."""


class TimeLimitExceeded(Cancelled):
    """Work stopped by its time limit (not by whoever asked for it)."""


class ForegroundGate:
    """Foreground work (a request someone waits for) marks itself active here; background
    work whose CancelToken yields to the gate pauses at its next check while a young one is
    active. In one Python process both share the GIL: without this, a request answered
    during an index build runs at half speed or less. Only young requests count, so one that
    waits on the background work itself (a first index, a symbol build) stops holding it up."""

    MAX_PAUSE_S = 0.05  # per check
    YOUNG_S = 0.25

    def __init__(self) -> None:
        self.running: dict[object, tuple[float, int]] = {}  # request -> (start, thread)
        self._idle = threading.Condition()

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        key = object()
        with self._idle:
            self.running[key] = (time.monotonic(), threading.get_ident())
        try:
            yield
        finally:
            with self._idle:
                del self.running[key]
                self._idle.notify_all()

    def _young_active(self) -> bool:
        now = time.monotonic()
        return any(now - started < self.YOUNG_S for started, _ in self.running.values())

    def pause_while_active(self) -> None:
        if self.running:  # unlocked read: the common case costs one attribute load
            with self._idle:
                self._idle.wait_for(lambda: not self._young_active(),
                                    timeout=self.MAX_PAUSE_S)


class CancelToken:
    """Cancels long work at its next `check()`; a token given a ForegroundGate also pauses
    there while foreground work is active."""

    def __init__(self, yield_to: ForegroundGate | None = None,
                 time_limit_s: float | None = None) -> None:
        self._event = threading.Event()
        self._gate = yield_to
        self.time_limit_s = time_limit_s
        # a server-side time limit: the work itself stops at its next check after this
        self.deadline = None if time_limit_s is None else time.monotonic() + time_limit_s

    def cancel(self) -> None:
        self._event.set()

    def restart_clock(self) -> None:
        """The time limit counts from now (after work that is not the request's own, such as
        bringing the index up to date first)."""
        if self.time_limit_s is not None:
            self.deadline = time.monotonic() + self.time_limit_s

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("indexing cancelled; the previous index is unchanged")
        if self.deadline is not None and time.monotonic() > self.deadline:
            self._event.set()
            raise TimeLimitExceeded(f"stopped after the time limit of {self.time_limit_s:g} s")
        if self._gate is not None:
            self._gate.pause_while_active()


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
    # Until the new snapshot was visible to readers; `seconds` also counts the wait for
    # tantivy's segment merges, which run after it (a commit may start one).
    visible_seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter, repr=False)


@dataclass(slots=True)
class _Pending:
    """A file whose blob is not stored yet, with its bytes when already read."""

    entry: TreeEntry
    data: bytes | None = None
    # A blob stored as too large under a smaller cap, stored again under its number
    again: BlobRecord | None = None


def tree_signature(entries: list[tuple[str, str]], max_filesize: int) -> str:
    h = hashlib.sha1(f"max_filesize={max_filesize}\n".encode())
    for path, oid in entries:
        h.update(path.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
        h.update(oid.encode())
        h.update(b"\n")
    return h.hexdigest()


class WorktreeScan:
    """The working tree's files, reading only files git or our stat cache cannot vouch for.

    With a HEAD commit the working tree is an overlay on HEAD's snapshot: `overlay` maps each
    path that differs from HEAD (`git status`) to its entry, or None when it is gone. Given
    `paths` (from file events), only those paths are asked about and the rest of the overlay
    comes from the last snapshot, if that was taken on the same HEAD. Without a commit yet,
    `entries` lists every file.
    """

    def __init__(self, repo: GitRepo, store: IndexStore,
                 paths: Iterable[str] | None = None) -> None:
        self.repo = repo
        self.head = repo.head_commit()
        self.submodules: list[str] = []
        self.entries: list[TreeEntry] = []
        self.overlay: Overlay | None = None
        self.read: dict[str, bytes] = {}  # oid -> bytes read while hashing
        self.dirty_stat: list[tuple[str, int, int, int, str]] = []
        self.vanished = 0
        self.partial = False  # only `paths` were asked about
        cache = store.catalog.dirty_files()
        if self.head is None:
            entries, self.submodules = repo.worktree()
            for entry in entries:
                oid = entry.oid or self._hash(entry.path, cache)
                if oid is not None:
                    self.entries.append(TreeEntry(entry.path, oid, entry.mode))
            return
        overlay = self._previous_overlay(store, cache, paths) if paths is not None else None
        if overlay is None:
            changes = worktree_changes(repo)
            overlay = {}
        else:
            self.partial = True
            changes = worktree_changes(repo, sorted(set(paths or ())))
        for path, entry in changes.items():
            if entry is not None and entry.oid is None:
                oid = self._hash(path, cache)
                entry = None if oid is None else TreeEntry(path, oid, entry.mode)
            overlay[path] = entry
        self.overlay = overlay

    def _previous_overlay(self, store: IndexStore, cache: dict, paths: Iterable[str]
                          ) -> Overlay | None:
        """The last snapshot's overlay minus `paths` (and what is under them), or None when
        that snapshot cannot serve as a base (none, another HEAD, or a full listing)."""
        record = store.catalog.snapshot(WORKTREE)
        if record is None or record.commit_id != self.head or \
                not record.manifest.startswith(OVERLAY_PREFIX):
            return None
        prefixes = set(paths)
        self.dirty_stat = [(path, *row) for path, row in cache.items()
                           if not under(path, prefixes)]
        return {path: None if oid is None else TreeEntry(path, oid, "100644")
                for path, oid in store.catalog.worktree_overlay().items()
                if not under(path, prefixes)}

    def _hash(self, path: str, cache: dict) -> str | None:
        """The blob id of a working-tree file (the stat cache vouching, or read and hashed);
        None if it vanished or is not a regular file."""
        stat = self.repo.stat_worktree_file(path)
        cached = cache.get(path)
        if stat is not None and cached is not None and cached[:3] == (
                stat.size, stat.mtime_ns, stat.inode):
            oid = cached[3]
        else:
            data = self.repo.read_worktree_file(path)
            if data is None:
                st = lstat_beneath(self.repo.root, path)
                if st is None or not stat_mod.S_ISLNK(st.st_mode):
                    self.vanished += 1
                return None
            oid = git_blob_id(data)
            self.read[oid] = data
        if stat is not None:
            self.dirty_stat.append((path, stat.size, stat.mtime_ns, stat.inode, oid))
        return oid


def overlay_signature(head: str, overlay: Overlay, max_filesize: int) -> str:
    """Names the working tree's state: HEAD plus every differing path with its blob id."""
    h = hashlib.sha1(f"overlay\nmax_filesize={max_filesize}\nhead={head}\n".encode())
    for path in sorted(overlay):
        entry = overlay[path]
        h.update(path.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
        h.update((entry.oid or "-").encode() if entry is not None else b"-")
        h.update(b"\n")
    return OVERLAY_PREFIX + h.hexdigest()


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
        return record is not None and record.manifest.startswith(self._scan_signature(scan))

    def _scan_signature(self, scan: WorktreeScan) -> str:
        if scan.overlay is None or scan.head is None:
            return self._signature(scan.entries)
        return overlay_signature(scan.head, scan.overlay, self.max_filesize)

    def index_worktree(self, scan: WorktreeScan | None = None,
                       paths: Iterable[str] | None = None) -> IndexSummary:
        """The working tree's snapshot: HEAD's snapshot (indexed first if missing) patched with
        the files that differ from HEAD; only those are read. `paths` (from file events)
        limits the question to those paths when the last snapshot is on the same HEAD."""
        start = time.perf_counter()
        scan = scan or WorktreeScan(self.repo, self.store, paths)
        summary = IndexSummary(WORKTREE, scan.head, submodules=len(scan.submodules),
                               started=start)
        if scan.vanished:
            summary.skipped["vanished"] = scan.vanished
        if self.worktree_is_fresh(scan):
            return self._fresh_summary(WORKTREE, summary, start)
        try:
            self._index_worktree(scan, summary)
        finally:
            self.store.finish_writes()
        summary.seconds = time.perf_counter() - start
        return summary

    def _index_worktree(self, scan: WorktreeScan, summary: IndexSummary) -> None:
        if scan.overlay is None or scan.head is None:
            self._build(WORKTREE, scan.head, scan.entries, summary, preread=scan.read,
                        from_worktree=True, dirty_stat=scan.dirty_stat)
        else:
            base = self.store.catalog.snapshot(scan.head)
            if base is None:
                head = self.index_commit(scan.head)
                summary.new_blobs, summary.read_bytes = head.new_blobs, head.read_bytes
                base = self.store.catalog.snapshot(scan.head)
                assert base is not None
            self._fork(WORKTREE, scan.head, base, list(scan.overlay.items()), summary,
                       from_worktree=True, preread=scan.read, dirty_stat=scan.dirty_stat,
                       overlay=[(p, e.oid if e is not None else None)
                                for p, e in scan.overlay.items()],
                       manifest_prefix=self._scan_signature(scan))

    def index_commit(self, commit: str) -> IndexSummary:
        """A commit's snapshot: forked from the indexed commit nearest to it (patched with the
        `git diff` between the two), or listed whole when none is near."""
        start = time.perf_counter()
        summary = IndexSummary(commit, commit, started=start)
        existing = self.store.catalog.snapshot(commit)
        if existing is not None:
            if not self._too_large_for_base(self.store.load_manifest(existing, cached=True)):
                return self._fresh_summary(commit, summary, start)
            try:  # indexed under a smaller cap: store the files it skipped that this one wants
                self._fork(commit, commit, existing, [], summary)
            finally:
                self.store.finish_writes()
            summary.seconds = time.perf_counter() - start
            return summary
        try:
            base = self._nearest_indexed(commit)
            if base is not None:
                record, changes = base
                self._fork(commit, commit, record, changes, summary)
            else:
                entries = self.repo.commit_tree(commit)
                self._build(commit, commit, entries, summary, preread={}, from_worktree=False)
        finally:
            self.store.finish_writes()
        summary.seconds = time.perf_counter() - start
        return summary

    def _nearest_indexed(self, commit: str, candidates: int = 8):  # noqa: ANN202
        """(record, changes) of the indexed commit whose tree differs least from `commit`."""
        catalog = self.store.catalog
        # An indexed parent is nearly always nearest: try it alone first (one small diff,
        # where diffing every candidate costs in proportion to how far each one is).
        parents = self.repo.git("rev-list", "--parents", "-n1", commit, "--",
                                check=False).stdout.decode().split()[1:]
        indexed = [r for p in parents if (r := catalog.snapshot(p)) is not None]
        if indexed:
            diffs = _diff_from_each(self.repo, [r.name for r in indexed], commit)
            if diffs is not None:
                size, i = min((len(d), i) for i, d in enumerate(diffs))
                if size <= PARENT_SHORTCUT:
                    return indexed[i], diffs[i]
        records = [r for r in catalog.snapshots() if r.name != WORKTREE]
        records = records[:candidates]  # most recently updated first
        if not records:
            return None
        diffs: list[list | None] | None = _diff_from_each(self.repo, [r.name for r in records],
                                                          commit)
        if diffs is None:  # one of them is gone from the repository: ask one by one
            diffs = []
            for record in records:
                try:
                    diffs.append(self.repo.diff_trees(record.name, commit))
                except CodeloupeError:
                    diffs.append(None)
        best = None
        for record, changes in zip(records, diffs, strict=True):
            if changes is not None and (best is None or len(changes) < len(best[1])):
                best = (record, changes)
        if best is not None and len(best[1]) > 5000:
            return None  # listing the tree is as cheap as patching that much
        return best

    def _fork(self, name: str, commit: str | None, base,  # noqa: ANN001 - a SnapshotRecord
              changes: list[tuple[str, TreeEntry | None]], summary: IndexSummary, *,
              from_worktree: bool = False, preread: dict[str, bytes] | None = None,
              dirty_stat: list[tuple[str, int, int, int, str]] | None = None,
              overlay: list[tuple[str, str | None]] | None = None,
              manifest_prefix: str | None = None) -> None:
        """The base manifest with `changes` applied: (path, new entry, or None if gone). Only
        blobs not stored yet are read; unchanged runs of entries are copied in slices."""
        catalog = self.store.catalog
        base_manifest = self.store.load_manifest(base, cached=True)
        by_path = dict(changes)  # a path listed twice: the last word wins
        # Files the base skipped as too large that this cap lets in: stored again.
        for path, entry in self._too_large_for_base(base_manifest):
            by_path.setdefault(path, entry)
        added = [e for e in by_path.values() if e is not None and e.oid]
        known = catalog.find_blobs(sorted({e.oid for e in added if e.oid}))
        missing: dict[str, _Pending] = {}
        for entry in added:
            if entry.oid not in missing and self._needs_storing(known.get(entry.oid or "")):
                missing[entry.oid] = _Pending(entry, (preread or {}).get(entry.oid or ""),
                                              known.pop(entry.oid or "", None))
        if missing:
            known.update(self._store_blobs(list(missing.values()), from_worktree, summary))
        manifest = _patched(base_manifest, sorted(by_path.items()), known, summary)
        _tally(manifest, summary)
        self.cancel.check()
        prefix = manifest_prefix or f"fork-{name}"
        manifest_name = f"{prefix}-{os.getpid()}-{int(time.time() * 1000)}.mf"
        # The working tree's manifest is rewritten on every save and there is one: skip zlib.
        manifest.write(self.store.manifest_path(manifest_name), compress=name != WORKTREE)
        if name != WORKTREE:
            self.store.remember_manifest(manifest_name, manifest)  # the next fork's base
        previous = catalog.snapshot(name)
        catalog.put_snapshot(name, commit, manifest_name, summary.files, summary.bytes,
                             summary.skipped, dirty_stat,
                             parent=base.parent if base.name == name else base.name,
                             overlay=overlay)
        summary.visible_seconds = time.perf_counter() - summary.started
        if previous is not None and previous.manifest != manifest_name:
            self._retire_manifest(previous.manifest)

    # --- files over one cap and under another ---
    # Blobs are shared by every snapshot and cap: a blob is stored with its true size, and
    # searches leave out files over their own cap (`SnapshotSearcher`). A blob skipped as too
    # large under a smaller cap is read and stored again, under its number, when a snapshot
    # with a larger cap holds it. Both ways, a search sees what `rg --max-filesize` would.
    def _needs_storing(self, record: BlobRecord | None) -> bool:
        return record is None or (record.kind == BlobKind.TOO_LARGE
                                  and record.size <= self.max_filesize)

    def _too_large_for_base(self, manifest: Manifest) -> list[tuple[str, TreeEntry]]:
        """(path, entry) of the files `manifest` skipped as too large that this cap lets in."""
        kinds = manifest.kinds
        if kinds.tobytes().find(bytes([BlobKind.TOO_LARGE])) < 0:  # the usual case: none
            return []
        at = [i for i, k in enumerate(kinds)
              if k == BlobKind.TOO_LARGE and manifest.sizes[i] <= self.max_filesize]
        if not at:
            return []
        oids = self.store.catalog.oids_of(sorted({manifest.blob_nos[i] for i in at}))
        return [(manifest.paths[i], TreeEntry(manifest.paths[i], oids[manifest.blob_nos[i]],
                                              "100644"))
                for i in at if manifest.blob_nos[i] in oids]

    def commit_is_fresh(self, commit: str) -> bool:
        """Indexed, with no file skipped as too large that this cap lets in."""
        record = self.store.catalog.snapshot(commit)
        return record is not None and not self._too_large_for_base(
            self.store.load_manifest(record, cached=True))

    # --- internals ---
    def _signature(self, entries: list[TreeEntry]) -> str:
        return tree_signature([(e.path, e.oid or "") for e in entries], self.max_filesize)

    def _fresh_summary(self, name: str, summary: IndexSummary, start: float) -> IndexSummary:
        record = self.store.catalog.snapshot(name)
        assert record is not None
        summary.files, summary.bytes = record.files, record.bytes
        summary.skipped.update(record.skipped)
        summary.up_to_date = True
        summary.seconds = summary.visible_seconds = time.perf_counter() - start
        return summary

    def _build(self, name: str, commit: str | None, entries: list[TreeEntry],
               summary: IndexSummary, *, preread: dict[str, bytes], from_worktree: bool,
               dirty_stat: list[tuple[str, int, int, int, str]] | None = None) -> None:
        catalog = self.store.catalog
        oids = sorted({e.oid for e in entries if e.oid})
        known = catalog.find_blobs(oids)
        missing: dict[str, _Pending] = {}
        for entry in entries:
            if entry.oid not in missing and self._needs_storing(known.get(entry.oid or "")):
                missing[entry.oid] = _Pending(entry, preread.get(entry.oid),
                                              known.pop(entry.oid or "", None))
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
        summary.visible_seconds = time.perf_counter() - summary.started
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
        trigrams.writer(expected_docs=total)
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
                again = item.again if item.again is not None and item.again.oid == oid else None
                blob_no = again.blob_no if again is not None else first_no + i
                if content.kind.searchable:
                    trigrams.add(blob_no, content.data.decode("utf-8", "replace"))
                record = BlobRecord(blob_no, oid, len(data), int(content.kind), pack,
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
        # Every batch is committed; the writer is closed (waiting for any segment merge a
        # commit started) by the entry point once the snapshot is visible.
        self.store.trigrams.index.reload()
        return stored

    def _commit_batch(self, writer: PackWriter, batch: list[BlobRecord]) -> None:
        if not batch:
            return
        writer.sync()  # bytes on disk before anything points at them
        self.store.trigrams.commit()  # trigram docs before the catalog names the blobs
        self.store.catalog.add_blobs(batch)


def _diff_from_each(repo: GitRepo, bases: list[str], commit: str
                    ) -> list[list[tuple[str, TreeEntry | None]]] | None:
    """`repo.diff_trees(base, commit)` for every base, from one `git diff-tree --stdin`
    process (a process costs more than a small diff); None if git refuses one of them."""
    request = "".join(f"{commit} {base}\n" for base in bases).encode()
    proc = repo.git("diff-tree", "--stdin", "--always", "-r", "--raw", "-z", "--no-renames",
                    "--no-abbrev", check=False, input=request)
    if proc.returncode != 0:
        return None
    diffs: list[list[tuple[str, TreeEntry | None]]] = []
    fields = proc.stdout.split(b"\0")
    i = 0
    while i < len(fields):
        field = fields[i]
        i += 1
        if not field:
            continue
        if not field.startswith(b":"):  # "<commit>": the next pair's diff begins (--always)
            diffs.append([])
            continue
        if not diffs or i >= len(fields):
            return None
        _, new_mode, _, new_oid, status = field[1:].decode().split(" ")
        path = decode_path(fields[i])
        i += 1
        gone = status.startswith("D") or new_mode in (MODE_SYMLINK, MODE_SUBMODULE)
        diffs[-1].append((path, None if gone else TreeEntry(path, new_oid, new_mode)))
    return diffs if len(diffs) == len(bases) else None


def _patched(base: Manifest, changes: list[tuple[str, TreeEntry | None]],
             known: dict[str, BlobRecord], summary: IndexSummary) -> Manifest:
    """`base` with each (path, entry or None) of `changes` (sorted by path) applied. Runs of
    unchanged entries between two changed paths are copied as array slices, so a fork costs
    memory copies plus work per changed path, not Python work per file."""
    out = Manifest()
    columns_in, columns_out = base.columns(), out.columns()
    paths = base.paths
    pos = 0

    def copy_to(end: int) -> None:
        if end > pos:
            out.paths.extend(paths[pos:end])
            for column_out, column_in in zip(columns_out, columns_in, strict=True):
                column_out.extend(column_in[pos:end])

    for path, entry in changes:
        at = bisect_left(paths, path, pos)
        copy_to(at)
        pos = at + 1 if at < len(paths) and paths[at] == path else at
        if entry is None:
            continue
        record = known.get(entry.oid or "")
        if record is None:  # vanished while indexing
            summary.skipped["vanished"] = summary.skipped.get("vanished", 0) + 1
            continue
        out.append(path, record.blob_no, record.pack, record.offset, record.length,
                   record.size, record.kind)
    copy_to(len(paths))
    return out


def _tally(manifest: Manifest, summary: IndexSummary) -> None:
    """Add a manifest's searchable files and bytes, and its skipped files by reason. Counted
    by kind code, not per entry: a fork of a 100k-file manifest must not pay Python per file
    (entries that are not searchable have length 0, so all lengths add up to the bytes)."""
    for kind_code, count in Counter(manifest.kinds).items():
        kind = BlobKind(kind_code)
        if kind.searchable:
            summary.files += count
        if kind != BlobKind.TEXT:
            summary.skipped[kind.label] = summary.skipped.get(kind.label, 0) + count
    summary.bytes += sum(manifest.lengths)
