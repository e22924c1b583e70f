"""Workspace folders, the repositories behind them, and their indexing.

One `Repo` per repository root (two workspace folders inside one repository share it), each
wrapping one engine `Workspace`. All indexing of a repository runs in worker threads, one
job at a time (`Repo.index_lock`: the engine has one index writer per store), while searches
go on against the last good snapshot.

The working tree's pipeline, after opening and after every change: the trigram index
(`index_repo`; searches see the new snapshot at once), then the engine's second stage
(`enrich_repo`: chunks and symbols of the new blobs), then the symbol index
(`update_symbols`: the engine's `SymbolIndex`, layered over the previous one). Until a stage
catches up, files changed on disk since the last index run (`Repo.dirty`) are read from disk
by the requests that need them.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from indexer.enrich import EnrichSummary, enrich_snapshot, snapshot_blobs
from indexer.errors import CodeloupeError, IndexBusyError
from indexer.gc_pause import gc_paused
from indexer.ingest import Cancelled, CancelToken, IndexSummary
from indexer.repo import WORKTREE
from indexer.retrieval.symbol_search import SymbolIndex
from indexer.safe_paths import OutsideRoot, lstat_beneath, open_regular
from indexer.workspace import Snapshot, Workspace
from lsp_server.positions import file_uri
from lsp_server.progress import Host, WorkDoneProgress

logger = logging.getLogger(__name__)

MAX_COMMIT_SNAPSHOTS = 8  # loaded commit snapshots kept per repository
MAX_SYMBOL_INDEXES = 4
BUSY_RETRY_SECONDS = 0.25
BUSY_GIVE_UP_SECONDS = 600.0
MAX_DIRTY_READ = 200  # changed files read from disk per request; more: wait for the index
T = TypeVar("T")


class IndexHost(Host, Protocol):
    encoding: str
    closing: threading.Event

    def index_changed(self, repo: Repo, name: str, snap: Snapshot, reason: str) -> None: ...

    def new_cancel_token(self, background: bool = False) -> CancelToken: ...

    def embed_backlog(self, repo: Repo) -> None: ...


@dataclass(eq=False)
class Folder:
    """A workspace folder of the client."""

    uri: str
    name: str
    path: Path
    repo: Repo | None = None
    prefix: str = ""  # the folder's path inside its repository ('' at the root)
    error: str | None = None
    opened: threading.Event = field(default_factory=threading.Event)

    @functools.cached_property
    def quoted_uri(self) -> str:
        """The folder's URI as a JSON string literal (it goes into every file result)."""
        return json.dumps(self.uri)

    def contains(self, rel: str) -> bool:
        return not self.prefix or rel == self.prefix or rel.startswith(self.prefix + "/")

    def file_path(self, rel: str) -> Path:
        """The path of a repository-relative file as the client sees it: under the folder's
        own path, which may differ from the repository root by symlinks."""
        if self.repo is None:
            raise ValueError("folder not opened")
        if not self.prefix:
            return self.path / rel
        if rel == self.prefix or rel.startswith(self.prefix + "/"):
            return self.path / rel[len(self.prefix) + 1:]
        return self.repo.root / rel

    def file_uri(self, rel: str) -> str:
        """path_to_uri(self.file_path(rel)), without pathlib."""
        if self.repo is None:
            raise ValueError("folder not opened")
        if not self.prefix:
            return file_uri(self.path, rel)
        if rel == self.prefix or rel.startswith(self.prefix + "/"):
            return file_uri(self.path, rel[len(self.prefix) + 1:])
        return file_uri(self.repo.root, rel)


class Repo:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.root = ws.root
        self.index_lock = threading.Lock()
        self.state_lock = threading.Lock()
        self.ready = threading.Event()  # a working-tree snapshot is loaded, or failed to be
        # our indexing waits for another process writing the index (it may take minutes)
        self.writer_elsewhere = threading.Event()
        self.error: str | None = None
        self.job: dict[str, Any] | None = None  # the indexing under way
        self.worktree: Snapshot | None = None
        self.commits: OrderedDict[str, Snapshot] = OrderedDict()
        self.reindex_running = False
        self.reindex_pending = False
        self.debounce_handle: Any = None
        self.debounce_first: float | None = None
        self.changed_paths: set[str] = set()  # working-tree events since the last re-index
        self.force_reindex = False  # a save, a ref change, or too many events to list
        self.watch_posted = False  # the loop has been told of events it has not handled yet
        self.watcher: Any = None
        # symbols: one engine SymbolIndex per snapshot name, the working tree's kept current
        self.symbols_lock = threading.Lock()  # one build at a time
        self.symbol_indexes: OrderedDict[str, SymbolIndex] = OrderedDict()
        self.symbols_ready = threading.Event()  # the working tree's symbols are complete
        # files changed on disk since the last working-tree index run began: path -> event no.
        self.dirty: dict[str, int] = {}
        self.dirty_seq = 0
        self._ignored: dict[str, bool] = {}  # git check-ignore answers until the next run
        self._paths: tuple[Snapshot | None, frozenset[str]] = (None, frozenset())

    # --- snapshots ---
    def snapshot_named(self, name: str) -> Snapshot | None:
        with self.state_lock:
            if name == WORKTREE:
                return self.worktree
            snap = self.commits.get(name)
            if snap is not None:
                self.commits.move_to_end(name)
            return snap

    def set_snapshot(self, snap: Snapshot) -> None:
        with self.state_lock:
            if snap.name == WORKTREE:
                self.worktree = snap
                return
            self.commits[snap.name] = snap
            self.commits.move_to_end(snap.name)
            while len(self.commits) > MAX_COMMIT_SNAPSHOTS:
                self.commits.popitem(last=False)

    def wait_ready(self, cancel: CancelToken) -> Snapshot:
        while not self.ready.wait(0.1):
            cancel.check()
        snap = self.worktree
        if snap is None:
            reason = self.error or "indexing did not finish"
            raise CodeloupeError(f"{self.root} is not indexed ({reason}); "
                                 "send codeloupe/reindex to try again")
        return self.revalidated(snap)

    def revalidated(self, snap: Snapshot) -> Snapshot:
        """`snap`, reloaded if `codeloupe gc` or `doctor --repair` (another process) replaced
        it since: its blobs may have moved to other packs. Raises RepositoryError when the
        snapshot is gone from the index altogether."""
        fresh = self.ws.current(snap)
        if fresh is not snap:
            logger.info("snapshot %s of %s changed under us (gc?); reloaded", snap.name[:12],
                        self.root)
            with self.state_lock:
                if snap.name == WORKTREE:
                    if self.worktree is snap:  # not if indexing replaced it meanwhile
                        self.worktree = fresh
                elif self.commits.get(snap.name) is snap:
                    self.commits[snap.name] = fresh
        return fresh

    # --- symbols ---
    def cached_symbols(self, name: str) -> SymbolIndex | None:
        with self.state_lock:
            index = self.symbol_indexes.get(name)
            if index is not None:
                self.symbol_indexes.move_to_end(name)
            return index

    def symbol_index(self, snap: Snapshot, cancel: CancelToken) -> SymbolIndex:
        """The symbol index of `snap`'s snapshot. The working tree's is the last one built
        (the pipeline keeps it current; callers overlay what it lags behind); another
        snapshot's is built on first use, layered over the working tree's when they differ
        little. The snapshot must be enriched already."""
        if snap.name == WORKTREE:
            _wait(self.symbols_ready, cancel)
        index = self.cached_symbols(snap.name)
        if index is not None and (index.snapshot is snap or snap.name == WORKTREE):
            return index
        with _held(self.symbols_lock, cancel):
            index = self.cached_symbols(snap.name)
            if index is not None and (index.snapshot is snap or snap.name == WORKTREE):
                return index
            return self._build_symbols(snap, cancel)

    def _build_symbols(self, snap: Snapshot, cancel: CancelToken) -> SymbolIndex:
        """(holding symbols_lock)"""
        previous = self.cached_symbols(snap.name) or self.cached_symbols(WORKTREE)
        with gc_paused():  # see indexer/gc_pause.py
            index = SymbolIndex(self.ws, snap, previous=previous, cancel=cancel)
            gc.freeze()  # before collections resume: the first would walk the whole build
        with self.state_lock:
            self.symbol_indexes[snap.name] = index
            self.symbol_indexes.move_to_end(snap.name)
            while len(self.symbol_indexes) > MAX_SYMBOL_INDEXES:
                oldest = next(iter(self.symbol_indexes))
                if oldest == WORKTREE:
                    self.symbol_indexes.move_to_end(WORKTREE)
                    continue
                self.symbol_indexes.popitem(last=False)
        # A symbol index is millions of long-lived references: left to the cyclic GC, every
        # full collection walks them all with the GIL held (100-400 ms pauses of every
        # request, measured during re-indexing). Frozen, they are skipped; reference counting
        # still frees them when the index is replaced (they hold no cycles).
        gc.freeze()
        return index

    # --- files changed on disk, not indexed yet ---
    def mark_dirty(self, rel: str) -> None:
        with self.state_lock:
            self.dirty_seq += 1
            self.dirty[rel] = self.dirty_seq

    def dirty_mark(self) -> int:
        with self.state_lock:
            return self.dirty_seq

    def clear_dirty(self, upto: int) -> None:
        """A working-tree index run that began at event `upto` has finished."""
        with self.state_lock:
            self.dirty = {p: n for p, n in self.dirty.items() if n > upto}
            self._ignored = {}

    def indexed_paths(self, snap: Snapshot) -> frozenset[str]:
        held, paths = self._paths
        if held is not snap:
            paths = frozenset(snap.manifest.paths)
            self._paths = (snap, paths)
        return paths

    def disk_texts(self, snap: Snapshot, limit: int = MAX_DIRTY_READ
                   ) -> dict[str, bytes | None] | None:
        """The files changed on disk since the last index run began (None: deleted, too big
        or unreadable), read now; None when there are more than `limit` (then the index run
        under way catches up soon). New files git ignores are left out, as the index does."""
        with self.state_lock:
            if len(self.dirty) > limit:
                return None
            paths = sorted(self.dirty)
        if not paths:
            return {}
        known = self.indexed_paths(snap)
        unknown = [p for p in paths if p not in known]
        ignored = self._check_ignored(unknown) if unknown else set()
        out: dict[str, bytes | None] = {}
        for rel in paths:
            if rel in ignored:
                continue
            # Walked component by component without following symlinks: a tracked directory
            # replaced by a symlink to an outside folder is never read through.
            try:
                opened = open_regular(self.root, rel)
            except OutsideRoot:
                continue
            if opened is None:
                info = lstat_beneath(self.root, rel)
                if info is None and rel in known:
                    out[rel] = None  # deleted, or now behind a symlinked directory
                continue  # a directory, a symlink: the index run decides
            fd, info = opened
            try:
                if info.st_size > self.ws.max_filesize:
                    out[rel] = None
                    continue
                with os.fdopen(fd, "rb", closefd=False) as f:
                    out[rel] = f.read()
            except OSError:
                out[rel] = None
            finally:
                os.close(fd)
        return out

    def _check_ignored(self, rels: list[str]) -> set[str]:
        with self.state_lock:
            todo = [r for r in rels if r not in self._ignored]
        if todo:
            data = b"\0".join(r.encode("utf-8", "surrogateescape") for r in todo) + b"\0"
            proc = self.ws.repo.git("check-ignore", "--stdin", "-z", check=False, input=data)
            found = {p.decode("utf-8", "surrogateescape") for p in proc.stdout.split(b"\0")
                     if p} if proc.returncode in (0, 1) else set(todo)
            with self.state_lock:
                self._ignored.update((r, r in found) for r in todo)
        with self.state_lock:
            return {r for r in rels if self._ignored.get(r, True)}

    def status_job(self) -> dict[str, Any] | None:
        job = self.job
        return dict(job) if job is not None else None


def _acquire(lock: threading.Lock, cancel: CancelToken) -> None:
    while not lock.acquire(timeout=0.1):
        cancel.check()


class _held:
    """`with _held(lock, cancel):` a lock acquired cancellably."""

    def __init__(self, lock: threading.Lock, cancel: CancelToken) -> None:
        self.lock = lock
        self.cancel = cancel

    def __enter__(self) -> None:
        _acquire(self.lock, self.cancel)

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def _wait(event: threading.Event, cancel: CancelToken) -> None:
    while not event.wait(0.1):
        cancel.check()


@contextmanager
def _index_job(host: IndexHost, repo: Repo, title: str, lazy_progress: bool,
               cancel: CancelToken, cancelled: str) -> Iterator[WorkDoneProgress]:
    """One indexing stage: the repository's index lock held, its progress shown and
    `repo.job` cleared at the end; a cancel or a failure ends the progress saying so."""
    _acquire(repo.index_lock, cancel)
    progress = WorkDoneProgress(host, title, cancel, lazy=lazy_progress)
    try:
        yield progress
    except Cancelled:
        progress.end(cancelled)
        raise
    except BaseException as exc:
        progress.end(f"failed: {exc}")
        raise
    finally:
        repo.job = None
        repo.index_lock.release()


def index_repo(host: IndexHost, repo: Repo, rev: str | None, *, title: str,
               lazy_progress: bool = False, cancel: CancelToken | None = None,
               reason: str = "indexed") -> IndexSummary:
    """Bring the snapshot of `rev` (None: the working tree) up to date, load it, and tell the
    client (`codeloupe/indexChanged`) when it changed. Runs in a worker thread."""
    cancel = cancel or host.new_cancel_token(background=True)
    ws = repo.ws
    with _index_job(host, repo, title, lazy_progress, cancel,
                    "cancelled; the previous index is unchanged") as progress:
        mark = repo.dirty_mark()  # changes seen before the scan are in this run
        repo.job = {"rev": rev or WORKTREE, "done": 0, "total": 0, "message": "starting"}
        if not lazy_progress:
            progress.begin("scanning files")

        def on_progress(done: int, total: int, message: str) -> None:
            repo.job = {"rev": rev or WORKTREE, "done": done, "total": total,
                        "message": message}
            progress.report(done, total, f"{done}/{total} new files · {message}")

        summary = _when_free(lambda wait: ws.index(rev, on_progress=on_progress, cancel=cancel,
                                                   wait=wait),
                             lambda message: progress.report(0, 0, message), cancel,
                             repo.writer_elsewhere)
        name = summary.name
        changed = None
        if repo.snapshot_named(name) is None or not summary.up_to_date:
            changed = ws.snapshot(None if name == WORKTREE else name, refresh=False)
            repo.set_snapshot(changed)
        if name == WORKTREE:
            repo.clear_dirty(mark)
        progress.end(f"{summary.files} files, {summary.new_blobs} new"
                     if not summary.up_to_date else "up to date")
        if changed is not None:  # after the progress ends: "done", then "changed"
            host.index_changed(repo, name, changed, reason)
        return summary


def enrich_repo(host: IndexHost, repo: Repo, snap: Snapshot, *, title: str,
                lazy_progress: bool = False, cancel: CancelToken | None = None,
                wait_for_others: bool = True) -> EnrichSummary | None:
    """The engine's second stage (chunks, symbols, BM25) for the blobs of `snap` not done
    yet, with progress; None when there were none. Runs in a worker thread. Without
    `wait_for_others`, IndexBusyError at once when another process writes the index."""
    cancel = cancel or host.new_cancel_token(background=True)
    store = repo.ws.store
    with _index_job(host, repo, title, lazy_progress, cancel, "cancelled") as progress:
        if not store.chunks.unchunked(sorted(snapshot_blobs(snap.manifest))):
            return None
        repo.job = {"rev": snap.name, "done": 0, "total": 0, "message": "symbols"}
        if not lazy_progress:
            progress.begin("chunks and symbols")

        def on_progress(done: int, total: int, message: str) -> None:
            repo.job = {"rev": snap.name, "done": done, "total": total, "message": message}
            progress.report(done, total, f"{done}/{total} files · {message}")

        def run(wait: bool) -> EnrichSummary:
            with store.write_lock(wait=wait):
                return enrich_snapshot(store, snap.manifest, on_progress=on_progress,
                                       cancel=cancel)

        summary = _when_free(run, lambda message: progress.report(0, 0, message), cancel,
                             repo.writer_elsewhere) if wait_for_others else run(False)
        progress.end(f"{summary.blobs} files, {summary.symbols} symbols")
        return summary


def update_symbols(host: IndexHost, repo: Repo, cancel: CancelToken | None = None) -> None:
    """Enrich the working tree's snapshot and bring its symbol index up to date (worker)."""
    cancel = cancel or host.new_cancel_token(background=True)
    snap = repo.worktree
    if snap is None:
        repo.symbols_ready.set()
        return
    try:
        enrich_repo(host, repo, snap, title=f"Symbols of {repo.root.name}", lazy_progress=True,
                    cancel=cancel)
        with _held(repo.symbols_lock, cancel):
            index = repo.cached_symbols(WORKTREE)
            if index is None or index.snapshot is not snap:
                repo._build_symbols(snap, cancel)
    finally:
        repo.symbols_ready.set()  # answered from whatever there is, even after a failure


def warm_symbols(host: IndexHost, repo: Repo) -> None:
    """(worker) At opening: the symbol index of the existing snapshot, if it was enriched,
    while the pipeline brings the working tree up to date."""
    snap = repo.worktree
    cancel = host.new_cancel_token(background=True)
    try:
        with _held(repo.symbols_lock, cancel):
            if snap is None or repo.cached_symbols(WORKTREE) is not None:
                return
            index = repo._build_symbols(snap, cancel)
        if index.complete:
            repo.symbols_ready.set()
    except (Cancelled, InterruptedError):
        pass
    except Exception:
        logger.exception("loading the symbols of %s failed", repo.root)


def _when_free(run: Callable[[bool], T], on_wait: Callable[[str], None],
               cancel: CancelToken, busy: threading.Event | None = None) -> T:
    """run(wait=False), retried (cancellably) while another process holds the index's write
    lock; `busy` is set meanwhile (requests then answer from what is indexed, not wait)."""
    told = False
    deadline = time.monotonic() + BUSY_GIVE_UP_SECONDS
    try:
        while True:
            try:
                return run(False)
            except IndexBusyError as exc:
                if time.monotonic() > deadline:
                    raise
                if busy is not None:
                    busy.set()
                if not told:
                    on_wait(str(exc))
                    told = True
            end = time.monotonic() + BUSY_RETRY_SECONDS
            while time.monotonic() < end:
                cancel.check()
                time.sleep(0.05)
    finally:
        if busy is not None:
            busy.clear()


def open_folder(host: IndexHost, folder: Folder, repos: dict[Path, Repo],
                repos_lock: threading.Lock) -> Repo | None:
    """Open the folder's repository and its existing index; returns the Repo if it is new
    (the caller then starts watching and indexing it). Runs in a worker thread."""
    try:
        ws = Workspace.open(folder.path)
    except CodeloupeError as exc:
        folder.error = str(exc)
        folder.opened.set()
        raise
    with repos_lock:
        repo = repos.get(ws.root)
        new = repo is None
        if new:
            repo = repos[ws.root] = Repo(ws)
    if not new:
        ws.close()
    assert repo is not None
    folder.repo = repo
    try:
        rel = Path(os.path.realpath(folder.path)).relative_to(repo.root).as_posix()
    except ValueError:
        rel = ""
    folder.prefix = "" if rel == "." else rel
    folder.opened.set()
    if not new:
        return None
    ws = repo.ws
    _ = ws.store.trigrams  # open the trigram index before threads share the store
    if ws.store.catalog.snapshot(WORKTREE) is not None:
        try:
            snap = ws.snapshot(None, refresh=False)
        except CodeloupeError as exc:
            logger.warning("cannot load the existing index of %s: %s", repo.root, exc)
        else:
            repo.set_snapshot(snap)
            repo.ready.set()
            host.index_changed(repo, WORKTREE, snap, "opened")
    return repo


def initial_index(host: IndexHost, repo: Repo) -> None:
    """Index the working tree of a newly opened repository, then its symbols (worker)."""
    try:
        index_repo(host, repo, None, title=f"Indexing {repo.root.name}", reason="indexed")
        repo.error = None
    except Cancelled:
        logger.info("indexing of %s cancelled", repo.root)
        if repo.worktree is None:
            repo.error = "indexing was cancelled"
    except CodeloupeError as exc:
        repo.error = str(exc)
        raise
    finally:
        repo.ready.set()
        _symbols_after_index(host, repo)


def _symbols_after_index(host: IndexHost, repo: Repo) -> None:
    try:
        update_symbols(host, repo)
        if not host.closing.is_set():
            host.embed_backlog(repo)  # then the embeddings, in a low-priority process
    except (Cancelled, InterruptedError):
        pass
    except CodeloupeError as exc:
        logger.warning("the symbols of %s could not be updated: %s", repo.root, exc)
    except Exception:
        logger.exception("updating the symbols of %s crashed", repo.root)


def request_reindex(host: IndexHost, repo: Repo, pool: Any) -> None:
    """Re-index the working tree soon; coalesces requests made while one runs."""
    with repo.state_lock:
        if repo.reindex_running:
            repo.reindex_pending = True
            return
        repo.reindex_running = True
        repo.reindex_pending = False
    try:
        pool.submit(_reindex_loop, host, repo)
    except RuntimeError:  # the pool is shut down: the server is closing
        with repo.state_lock:
            repo.reindex_running = False


MAX_CHANGED_PATHS = 2000


def all_ignored(repo: Repo, paths: set[str]) -> bool:
    """Whether git ignores every one of `paths` (build outputs, virtualenvs…): then a burst of
    events changes nothing we index. One `git check-ignore` for the whole burst."""
    if not paths:
        return False
    rels = []
    for path in paths:
        try:
            rels.append(Path(path).relative_to(repo.root).as_posix())
        except ValueError:
            return False
    data = b"\0".join(p.encode("utf-8", "surrogateescape") for p in rels) + b"\0"
    proc = repo.ws.repo.git("check-ignore", "--stdin", "-z", check=False, input=data)
    if proc.returncode not in (0, 1):
        return False
    ignored = {p.decode("utf-8", "surrogateescape") for p in proc.stdout.split(b"\0") if p}
    return all(rel in ignored for rel in rels)


def reindex_after_events(host: IndexHost, repo: Repo, paths: set[str], force: bool,
                         pool: Any) -> None:
    """(worker) Re-index unless every changed path is ignored by git."""
    try:
        if not force and all_ignored(repo, paths):
            logger.debug("ignored changes only in %s: no re-index", repo.root)
            return
    except Exception:
        logger.exception("git check-ignore failed in %s", repo.root)
    request_reindex(host, repo, pool)


def _reindex_loop(host: IndexHost, repo: Repo) -> None:
    try:
        while True:
            with repo.state_lock:
                repo.reindex_pending = False
            try:
                index_repo(host, repo, None, title=f"Re-indexing {repo.root.name}",
                           lazy_progress=True)
                repo.error = None
            except Cancelled:
                pass
            except CodeloupeError as exc:
                logger.warning("re-indexing %s failed: %s", repo.root, exc)
            except Exception:
                logger.exception("re-indexing %s crashed", repo.root)
            finally:
                repo.ready.set()
            _symbols_after_index(host, repo)
            with repo.state_lock:
                if not repo.reindex_pending or host.closing.is_set():
                    repo.reindex_running = False
                    return
    except BaseException:
        with repo.state_lock:
            repo.reindex_running = False
        raise
