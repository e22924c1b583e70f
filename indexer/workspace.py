"""The engine's front door: one git repository, its index, and searches on any revision.

The CLI and the language server both go through `Workspace`; nothing here knows about either.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import RepositoryError
from indexer.ingest import (
    CancelToken,
    IndexSummary,
    ProgressCallback,
    SnapshotBuilder,
    WorktreeScan,
)
from indexer.repo import WORKTREE, GitRepo
from indexer.safe_paths import is_beneath
from indexer.search import FileMatches, SearchOptions, SearchStats, SnapshotSearcher
from indexer.store.content import DEFAULT_MAX_FILESIZE
from indexer.store.index_store import IndexStore, index_dir_for
from indexer.store.manifest import Manifest


@dataclass
class Snapshot:
    """A loaded, searchable snapshot: the working tree or one commit."""

    name: str  # 'worktree' or a commit id
    rev: str  # what the user asked for
    commit: str | None
    manifest: Manifest
    searcher: SnapshotSearcher
    manifest_name: str = ""  # the manifest file it was loaded from (see Workspace.is_current)


MAX_VERIFIED = 4096  # manifest names remembered as current (each re-index makes one)


class Workspace:
    def __init__(self, repo: GitRepo, store: IndexStore,
                 max_filesize: int = DEFAULT_MAX_FILESIZE) -> None:
        self.repo = repo
        self.store = store
        self.max_filesize = max_filesize
        self._settings = None
        self._semantic: dict[tuple[str, str], object] = {}  # (snapshot, manifest) -> searcher
        # manifest name -> the index generation it was last found current in (see current)
        self._verified: dict[str, tuple[int, int]] = {}
        self._seen_generation = store.generation()

    @classmethod
    def open(cls, path: str | Path | None = None, *, index_dir: Path | None = None,
             index_root: Path | None = None,
             max_filesize: int = DEFAULT_MAX_FILESIZE) -> Workspace:
        repo = GitRepo.discover(path)
        directory = index_dir or index_dir_for(repo.root, index_root)
        return cls(repo, IndexStore(directory), max_filesize)

    def close(self) -> None:
        self.store.close()

    @property
    def root(self) -> Path:
        return self.repo.root

    # --- paths ---
    def relative_path(self, path: str | Path) -> str:
        """A path inside the repository, relative to its root; anything outside is refused."""
        full = Path(path)
        if not full.is_absolute():
            full = self.root / full
        resolved = Path(os.path.normpath(full))
        try:
            relative = resolved.relative_to(self.root)
        except ValueError:
            raise RepositoryError(
                f"path {path} is outside the repository {self.root}; refused") from None
        rel = relative.as_posix()
        if rel != "." and not is_beneath(self.root, self.root / rel):
            # a symlink on the way (a file, or a parent directory) leads out of the root
            raise RepositoryError(
                f"path {path} leads outside the repository {self.root} through a symlink; "
                "refused")
        return rel

    # --- revisions and indexing ---
    def resolve(self, rev: str | None) -> tuple[str, str | None]:
        """(snapshot name, commit) for a revision; None or 'worktree' is the working tree."""
        if rev is None or rev == WORKTREE:
            return WORKTREE, None
        commit = self.repo.resolve(rev)
        return commit, commit

    def _builder(self, on_progress: ProgressCallback | None,
                 cancel: CancelToken | None) -> SnapshotBuilder:
        return SnapshotBuilder(self.store, self.repo, max_filesize=self.max_filesize,
                               on_progress=on_progress, cancel=cancel)

    def is_fresh(self, rev: str | None = None) -> bool:
        name, _ = self.resolve(rev)
        if name != WORKTREE:
            return self._builder(None, None).commit_is_fresh(name)
        builder = self._builder(None, None)
        return builder.worktree_is_fresh(WorktreeScan(self.repo, self.store))

    def index(self, rev: str | None = None, *, on_progress: ProgressCallback | None = None,
              cancel: CancelToken | None = None, wait: bool = True,
              on_wait=None) -> IndexSummary:  # noqa: ANN001
        """Bring the snapshot of `rev` up to date (only new blobs are read)."""
        name, commit = self.resolve(rev)
        builder = self._builder(on_progress, cancel)
        if name == WORKTREE:
            before = self.store.catalog.snapshot(WORKTREE)
            scan = WorktreeScan(self.repo, self.store)
            if builder.worktree_is_fresh(scan):
                return builder.index_worktree(scan)
            with self.store.write_lock(wait=wait, on_wait=on_wait):
                # Another writer may have stored a newer state since our scan: then rescan
                # (never write an older state over it); otherwise the scan stands (a
                # `git status` costs ~0.25 s at 100k files).
                after = self.store.catalog.snapshot(WORKTREE)
                unchanged = (before.manifest if before else None) == (
                    after.manifest if after else None)
                return builder.index_worktree(scan if unchanged else None)
        if builder.commit_is_fresh(name):
            return builder.index_commit(name)
        with self.store.write_lock(wait=wait, on_wait=on_wait):
            assert commit is not None
            return builder.index_commit(commit)

    def is_current(self, snapshot: Snapshot) -> bool:
        """Whether a loaded snapshot is still the one the index holds under its name. `gc`
        removes snapshots and moves blobs between packs, `doctor --repair` rebuilds them:
        whoever keeps a Snapshot for long (a server) checks this before reusing it."""
        return self.store.catalog.manifest_of(snapshot.name) == snapshot.manifest_name

    def current(self, snapshot: Snapshot) -> Snapshot:
        """`snapshot`, or the one the index holds under its name now when `gc` or `doctor
        --repair` (in any process) replaced it: a held snapshot may name packs gc unlinked.
        Long-lived holders call it per request: a stat of the index's generation file,
        and one indexed lookup after gc or doctor changed it."""
        token = self.store.generation()
        if self._verified.get(snapshot.manifest_name) == token:
            return snapshot  # checked since gc or doctor last ran: the common case, a stat
        if token != self._seen_generation:
            self.store.refresh_readers()  # an index gc or doctor swapped, for every snapshot
            self._seen_generation = token
        fresh = snapshot
        if not self.is_current(snapshot):
            rev = None if snapshot.name == WORKTREE else snapshot.name
            loaded = self.snapshot(rev, refresh=False)
            fresh = Snapshot(loaded.name, snapshot.rev, loaded.commit, loaded.manifest,
                             loaded.searcher, loaded.manifest_name)
        if len(self._verified) > MAX_VERIFIED:
            self._verified.clear()
        self._verified[fresh.manifest_name] = token
        return fresh

    def index_paths(self, paths: Iterable[str], *, wait: bool = True,
                    on_wait=None) -> IndexSummary:  # noqa: ANN001
        """The working tree's snapshot after changes at `paths` (files or directories, e.g.
        from file events): only they are asked about and read; the rest of the tree keeps its
        state. Paths outside the repository are refused. Falls back to a whole refresh when
        the last snapshot was taken on another HEAD."""
        relative = sorted({self.relative_path(p) for p in paths})
        builder = self._builder(None, None)
        with self.store.write_lock(wait=wait, on_wait=on_wait):
            if not relative:
                return builder.index_worktree()
            return builder.index_worktree(paths=None if "." in relative else relative)

    def enrich(self, rev: str | None = None, *, on_progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None, on_wait=None):  # noqa: ANN001, ANN201
        """Chunks, symbols and the lexical index for a snapshot (indexed first if needed)."""
        from indexer.enrich import enrich_snapshot

        snapshot = self.snapshot(rev, on_wait=on_wait)
        with self.store.write_lock(on_wait=on_wait):
            return enrich_snapshot(self.store, snapshot.manifest, on_progress=on_progress,
                                   cancel=cancel)

    def snapshot(self, rev: str | None = None, *, refresh: bool = True,
                 on_progress: ProgressCallback | None = None, on_wait=None,  # noqa: ANN001
                 ) -> Snapshot:
        """Load a searchable snapshot, indexing it first when missing or stale (if `refresh`)."""
        name, commit = self.resolve(rev)
        if refresh:
            self.index(rev, on_progress=on_progress, on_wait=on_wait)
        for _ in range(5):
            record = self.store.catalog.snapshot(name)
            if record is None:
                raise RepositoryError(
                    f"revision {rev or WORKTREE} is not indexed; run `codeloupe index"
                    f"{'' if rev is None else ' --rev ' + rev}`")
            try:
                manifest = self.store.load_manifest(record)
            except FileNotFoundError:
                continue  # replaced by a concurrent update between the two reads: reload
            self.store.refresh_readers()  # documents another process committed for it
            return Snapshot(name, rev or WORKTREE, record.commit_id or commit, manifest,
                            SnapshotSearcher(self.store, manifest, self.max_filesize),
                            record.manifest)
        raise RepositoryError(f"the index of {rev or WORKTREE} keeps changing; try again")

    # --- semantic layer ---
    @property
    def settings(self):  # noqa: ANN201 - indexer.config.Settings
        if self._settings is None:
            from indexer.config import load_settings

            self._settings = load_settings(self.root)
        return self._settings

    def semantic(self, rev: str | None = None, *, refresh: bool = True,
                 on_wait=None):  # noqa: ANN001, ANN201
        """The SemanticSearcher of a snapshot (chunked first if needed), cached while its
        manifest stays the same. `on_wait(message)` hears of a wait for another writer."""
        from indexer.retrieval.semantic import SemanticSearcher

        snapshot = self.snapshot(rev, refresh=refresh, on_wait=on_wait)
        record = self.store.catalog.snapshot(snapshot.name)
        key = (snapshot.name, record.manifest if record else "")
        searcher = self._semantic.get(key)
        if searcher is None:
            if refresh:
                self.enrich(rev, on_wait=on_wait)
            for old in [k for k in self._semantic if k[0] == snapshot.name]:
                del self._semantic[old]
            searcher = self._semantic[key] = SemanticSearcher(self, snapshot, self.settings)
        return searcher

    def semantic_now(self, rev: str | None = None, on_wait=None  # noqa: ANN001
                     ):  # noqa: ANN201 - (SemanticSearcher, notes)
        """`semantic(rev)` that never waits behind another process writing the index: the
        snapshot is brought up to date (and chunked) only when the write lock is free;
        otherwise the last complete snapshot answers and a note says so. Only when there is
        no snapshot at all yet does it wait, telling `on_wait` what for."""
        from indexer.enrich import enrich_snapshot, snapshot_blobs
        from indexer.errors import IndexBusyError

        notes: list[str] = []
        name, _ = self.resolve(rev)
        try:
            self.index(rev, wait=False)
            snapshot = self.snapshot(rev, refresh=False)
            if self.store.chunks.unchunked(sorted(snapshot_blobs(snapshot.manifest))):
                with self.store.write_lock(wait=False):
                    enrich_snapshot(self.store, snapshot.manifest)
        except IndexBusyError as exc:
            busy = exc.args[0].split(";")[0]  # "another codeloupe process (pid N) is writing…"
            if self.store.catalog.snapshot(name) is None:
                if on_wait is not None:
                    on_wait(f"no index of {rev or WORKTREE} yet: waiting for it ({busy})")
                return self.semantic(rev), notes
            snapshot = self.snapshot(rev, refresh=False)
            blobs = sorted(snapshot_blobs(snapshot.manifest))
            unchunked = self.store.chunks.unchunked(blobs)
            if unchunked and len(unchunked) == len(blobs):  # nothing to answer from yet
                if on_wait is not None:
                    on_wait(f"waiting for the chunks of {len(blobs)} files ({busy})")
                with self.store.write_lock(on_wait=None):
                    enrich_snapshot(self.store, snapshot.manifest)
            else:
                notes.append(f"{busy}: answering from the last complete index, which may miss "
                             "the newest changes" + (f" ({len(unchunked)} of {len(blobs)} "
                                                     "files not chunked yet)" if unchunked
                                                     else ""))
        return self.semantic(rev, refresh=False), notes

    def search(self, options: SearchOptions, rev: str | None = None,
               stats: SearchStats | None = None, refresh: bool = True) -> Iterator[FileMatches]:
        snapshot = self.snapshot(rev, refresh=refresh)
        return snapshot.searcher.search(options, stats=stats)
