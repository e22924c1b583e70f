"""Workspace folders, the repositories behind them, and their indexing.

One `Repo` per repository root (two workspace folders inside one repository share it), each
wrapping one engine `Workspace`. All indexing of a repository runs in worker threads, one
job at a time (`Repo.index_lock`: the engine has one index writer per store), while searches
go on against the last good snapshot.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from indexer.errors import CodeloupeError, IndexBusyError
from indexer.ingest import Cancelled, CancelToken, IndexSummary
from indexer.repo import WORKTREE
from indexer.workspace import Snapshot, Workspace
from lsp_server.progress import Host, WorkDoneProgress
from lsp_server.symbols_cache import BlobSymbols, SymbolIndex, snapshot_symbols

logger = logging.getLogger(__name__)

MAX_COMMIT_SNAPSHOTS = 8  # loaded commit snapshots kept per repository
MAX_SYMBOL_INDEXES = 4
BUSY_RETRY_SECONDS = 0.25
BUSY_GIVE_UP_SECONDS = 600.0


class IndexHost(Host, Protocol):
    encoding: str
    closing: threading.Event

    def index_changed(self, repo: Repo, name: str, snap: Snapshot, reason: str) -> None: ...

    def warm_symbols(self, repo: Repo) -> None: ...

    def new_cancel_token(self) -> CancelToken: ...


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


class Repo:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.root = ws.root
        self.index_lock = threading.Lock()
        self.state_lock = threading.Lock()
        self.ready = threading.Event()  # a working-tree snapshot is loaded, or failed to be
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
        self.watcher: Any = None
        self.symbols_lock = threading.Lock()
        self.symbol_indexes: OrderedDict[str, tuple[Snapshot, SymbolIndex, BlobSymbols]] = \
            OrderedDict()

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
        return snap

    # --- symbols ---
    def symbol_index(self, snap: Snapshot, encoding: str, cancel: CancelToken) -> SymbolIndex:
        with self.symbols_lock:
            cached = self.symbol_indexes.get(snap.name)
            if cached is not None and cached[0] is snap:
                self.symbol_indexes.move_to_end(snap.name)
                return cached[1]
            cache: BlobSymbols = {}
            for _, _, kept in self.symbol_indexes.values():
                cache.update(kept)
            entries, kept = snapshot_symbols(self.ws, snap, encoding, cache,
                                             lambda: cancel.cancelled)
            index = SymbolIndex(entries)
            self.symbol_indexes[snap.name] = (snap, index, kept)
            self.symbol_indexes.move_to_end(snap.name)
            while len(self.symbol_indexes) > MAX_SYMBOL_INDEXES:
                oldest = next(iter(self.symbol_indexes))
                if oldest == WORKTREE and len(self.symbol_indexes) > 1:
                    self.symbol_indexes.move_to_end(WORKTREE)
                    continue
                self.symbol_indexes.popitem(last=False)
            return index

    def status_job(self) -> dict[str, Any] | None:
        job = self.job
        return dict(job) if job is not None else None


def _acquire(lock: threading.Lock, cancel: CancelToken) -> None:
    while not lock.acquire(timeout=0.1):
        cancel.check()


def index_repo(host: IndexHost, repo: Repo, rev: str | None, *, title: str,
               lazy_progress: bool = False, cancel: CancelToken | None = None,
               reason: str = "indexed") -> IndexSummary:
    """Bring the snapshot of `rev` (None: the working tree) up to date, load it, and tell the
    client (`codeloupe/indexChanged`) when it changed. Runs in a worker thread."""
    cancel = cancel or host.new_cancel_token()
    ws = repo.ws
    _acquire(repo.index_lock, cancel)
    progress = WorkDoneProgress(host, title, cancel, lazy=lazy_progress)
    try:
        repo.job = {"rev": rev or WORKTREE, "done": 0, "total": 0, "message": "starting"}
        if not lazy_progress:
            progress.begin("scanning files")

        def on_progress(done: int, total: int, message: str) -> None:
            repo.job = {"rev": rev or WORKTREE, "done": done, "total": total,
                        "message": message}
            progress.report(done, total, f"{done}/{total} new files · {message}")

        def on_wait(message: str) -> None:
            progress.report(0, 0, message)

        summary = _index_when_free(ws, rev, on_progress, on_wait, cancel)
        name = summary.name
        changed = None
        if repo.snapshot_named(name) is None or not summary.up_to_date:
            changed = ws.snapshot(None if name == WORKTREE else name, refresh=False)
            repo.set_snapshot(changed)
        progress.end(f"{summary.files} files, {summary.new_blobs} new"
                     if not summary.up_to_date else "up to date")
        if changed is not None:  # after the progress ends: "done", then "changed"
            host.index_changed(repo, name, changed, reason)
        return summary
    except Cancelled:
        progress.end("cancelled; the previous index is unchanged")
        raise
    except BaseException as exc:
        progress.end(f"failed: {exc}")
        raise
    finally:
        repo.job = None
        repo.index_lock.release()


def _index_when_free(ws: Workspace, rev: str | None, on_progress: Any, on_wait: Any,
                     cancel: CancelToken) -> IndexSummary:
    """ws.index, waiting (cancellably) while another process holds the index's write lock."""
    told = False
    deadline = time.monotonic() + BUSY_GIVE_UP_SECONDS
    while True:
        try:
            return ws.index(rev, on_progress=on_progress, cancel=cancel, wait=False)
        except IndexBusyError as exc:
            if time.monotonic() > deadline:
                raise
            if not told:
                on_wait(str(exc))
                told = True
        end = time.monotonic() + BUSY_RETRY_SECONDS
        while time.monotonic() < end:
            cancel.check()
            time.sleep(0.05)


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
    """Index the working tree of a newly opened repository (worker thread)."""
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
    host.warm_symbols(repo)


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
            host.warm_symbols(repo)
            with repo.state_lock:
                if not repo.reindex_pending or host.closing.is_set():
                    repo.reindex_running = False
                    return
    except BaseException:
        with repo.state_lock:
            repo.reindex_running = False
        raise
