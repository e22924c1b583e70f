"""Keep the working tree's snapshot current from file events (`codeloupe watch`).

watchdog reports changes only (`indexer.watch_events`: reads would flood inotify). Events are
debounced: an update starts once the tree has been quiet for `debounce` seconds, or
`max_delay` after the first event of a burst. Edits in the working tree update only the
paths they name (`git status` restricted to them, the files read and hashed, HEAD's snapshot
patched); an event in git's HEAD, refs, packed-refs or index means a checkout, commit, rebase
or reset, and the whole working tree is asked about: a new HEAD is indexed by forking the
nearest indexed commit first. The index directory is never watched (it lives outside the
tree by default; an index inside the tree is ignored).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import CodeloupeError
from indexer.ingest import IndexSummary
from indexer.overlay import MAX_PATHSPECS
from indexer.repo import WORKTREE

GIT_TRIGGERS = ("HEAD", "packed-refs", "index", "ORIG_HEAD")


@dataclass
class WatchUpdate:
    """One update of the working tree's snapshot."""

    reason: str  # "files" (edits in the tree) or "git" (HEAD, refs or git's index moved)
    paths: int  # paths named by the events (0 for "git")
    head: str | None
    head_changed: bool
    base: str | None  # the commit the working tree's snapshot is forked from
    summary: IndexSummary
    first_event: float  # time.monotonic() of the burst's first event
    finished: float  # time.monotonic() once the new snapshot was visible
    seconds: float  # time spent updating (to visible)


class TreeWatcher:
    def __init__(self, ws, on_update: Callable[[WatchUpdate], None],  # noqa: ANN001
                 on_error: Callable[[str], None] | None = None, *,
                 debounce: float = 0.05, max_delay: float = 1.0) -> None:
        self.ws = ws
        self.root = Path(ws.root)
        self.on_update = on_update
        self.on_error = on_error or (lambda message: None)
        self.debounce = debounce
        self.max_delay = max_delay
        git = ws.repo.git
        self.git_dirs = [Path(os.path.normpath(git(
            "rev-parse", "--path-format=absolute", flag).stdout.decode().strip()))
            for flag in ("--git-dir", "--git-common-dir")]
        self.ignored = [Path(os.path.normpath(ws.store.directory))]
        self._cond = threading.Condition()
        self._paths: set[str] = set()
        self._git = False
        self._first: float | None = None
        self._last = 0.0
        self._stopping = threading.Event()
        self._head = ws.repo.head_commit()
        self._observer = None
        self._worker: threading.Thread | None = None

    # --- events ---
    def classify(self, raw: str | bytes) -> tuple[str, str | None] | None:
        """("git", None) for HEAD/refs/index of git, ("file", path) for a working-tree path,
        None for everything else (git's objects and logs, the index directory)."""
        full = Path(os.path.normpath(os.fsdecode(raw)))
        for ignored in self.ignored:
            if full == ignored or ignored in full.parents:
                return None
        for git_dir in self.git_dirs:
            if full == git_dir or git_dir in full.parents:
                rel = full.relative_to(git_dir).as_posix()
                if rel.endswith(".lock"):
                    return None
                if rel in GIT_TRIGGERS or rel.startswith("refs/"):
                    return "git", None
                return None
        try:
            rel = full.relative_to(self.root).as_posix()
        except ValueError:
            return None
        if rel == ".":
            return "git", None  # the root itself: ask about everything
        if rel == ".git" or rel.startswith(".git/"):
            return None
        return "file", rel

    def notify(self, raw: str | bytes) -> None:
        """Record one changed path (watchdog's thread calls this)."""
        kind = self.classify(raw)
        if kind is None:
            return
        now = time.monotonic()
        with self._cond:
            if kind[0] == "git":
                self._git = True
            elif kind[1] is not None:
                self._paths.add(kind[1])
            if self._first is None:
                self._first = now
            self._last = now
            self._cond.notify()

    # --- running ---
    def start(self) -> IndexSummary:
        """Bring the snapshot up to date, then start watching. Returns the first summary."""
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        from indexer.watch_events import WATCHED_EVENTS

        summary = self.ws.index(None)
        self._head = summary.commit
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:  # noqa: ANN001
                if event.is_directory and event.event_type == "modified":
                    return  # a directory's mtime: the file event itself follows
                watcher.notify(event.src_path)
                dest = getattr(event, "dest_path", "")
                if dest:
                    watcher.notify(dest)

        observer = Observer()
        observer.daemon = True
        watched = [self.root] + [d for d in dict.fromkeys(self.git_dirs)
                                 if self.root not in d.parents and d != self.root]
        for directory in watched:
            observer.schedule(Handler(), str(directory), recursive=True,
                              event_filter=WATCHED_EVENTS)
        observer.start()
        self._observer = observer
        self._worker = threading.Thread(target=self._run, name="codeloupe-watch", daemon=True)
        self._worker.start()
        return summary

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching; an update under way finishes first (it is one transaction)."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._worker is not None:
            self._worker.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            batch = self._next_batch()
            if batch is not None:
                self._update(*batch)

    def _next_batch(self) -> tuple[set[str], bool, float] | None:
        with self._cond:
            while not (self._paths or self._git):
                if self._stopping.is_set():
                    return None
                self._cond.wait(0.5)
            while not self._stopping.is_set():  # debounce: quiet, or waited long enough
                assert self._first is not None
                wake = min(self._last + self.debounce, self._first + self.max_delay)
                now = time.monotonic()
                if now >= wake:
                    break
                self._cond.wait(wake - now)
            batch = (self._paths, self._git, self._first or time.monotonic())
            self._paths, self._git, self._first = set(), False, None
            return batch

    def _update(self, paths: set[str], git: bool, first: float) -> None:
        started, started_perf = time.monotonic(), time.perf_counter()
        try:
            if git or len(paths) > MAX_PATHSPECS:
                summary = self.ws.index(None)
            else:
                summary = self.ws.index_paths(paths)
        except CodeloupeError as exc:
            self.on_error(str(exc))
            return
        except Exception as exc:  # keep watching: the next event may well succeed
            self.on_error(f"update failed: {exc!r}")
            return
        # Searchable once the snapshot was visible (a tantivy merge may finish after it).
        finished = started + (summary.started + summary.visible_seconds - started_perf)
        head_changed = summary.commit != self._head
        self._head = summary.commit
        if summary.up_to_date and not head_changed:
            return  # ignored files, or a save that changed nothing
        record = self.ws.store.catalog.snapshot(WORKTREE)
        base = record.parent if record is not None else None
        self.on_update(WatchUpdate("git" if git else "files", 0 if git else len(paths),
                                   summary.commit, head_changed, base, summary, first,
                                   finished, finished - started))

    def run_forever(self) -> None:
        """Watch until Ctrl-C (SIGINT) or SIGTERM, then stop cleanly. The handlers are set
        explicitly: a process started in the background inherits SIGINT ignored."""
        import signal

        def request_stop(*_: object) -> None:
            self._stopping.set()

        previous = {sig: signal.signal(sig, request_stop)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not self._stopping.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()
