"""File watching: working-tree edits and branch switches trigger a (debounced) re-index.

watchdog calls us on its own thread; we only classify the path and hand a flag to the
server's event loop, which debounces and schedules the work.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_ATTRIB,
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CLOSED_NO_WRITE,
    EVENT_TYPE_OPENED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from indexer.watch_events import WATCHED_EVENTS

logger = logging.getLogger(__name__)

IGNORED_EVENTS = {EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED, EVENT_TYPE_CLOSED_NO_WRITE,
                  EVENT_TYPE_ATTRIB}
# Asked of inotify itself (see indexer.watch_events): changes only, never reads.
WATCHER_NICENESS = 10


def classify(root: Path, path: str, ignored: tuple[str, ...] = ()) -> str | None:
    """'worktree' for a working-tree file, 'refs' for HEAD or a ref of .git, None to ignore."""
    full = os.path.normpath(path)
    if any(full == p or full.startswith(p + os.sep) for p in ignored):
        return None
    try:
        rel = Path(full).relative_to(root)
    except ValueError:
        return None
    parts = rel.parts
    if not parts:
        return None
    if parts[0] != ".git":
        return "worktree"
    if len(parts) == 2 and parts[1] in ("HEAD", "packed-refs"):
        return "refs"
    if len(parts) > 2 and parts[1] == "refs" and not parts[-1].endswith(".lock"):
        return "refs"
    return None


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, ignored: tuple[str, ...],
                 on_change: Callable[[str, str], None]) -> None:
        self.root = root
        self.ignored = ignored
        self.on_change = on_change

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in IGNORED_EVENTS:
            return
        if event.is_directory and event.event_type == "modified":
            return  # a directory's mtime: the file event itself follows
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        for raw in paths:
            if not raw:
                continue
            path = os.fsdecode(raw)
            kind = classify(self.root, path, self.ignored)
            if kind is not None:
                try:
                    self.on_change(kind, path)
                except Exception:  # never let the observer thread die
                    logger.exception("file-change callback failed")
                return


class RepoWatcher:
    """A recursive watch on one repository root."""

    def __init__(self, root: Path, on_change: Callable[[str, str], None],
                 ignored: list[Path] | None = None) -> None:
        """`on_change(kind, path)` runs on the observer's thread for every relevant event."""
        self.root = root
        ignored_paths = tuple(os.path.normpath(p) for p in (ignored or []))
        self.observer = Observer()
        self.observer.daemon = True
        self.observer.schedule(_Handler(root, ignored_paths, on_change), str(root),
                               recursive=True, event_filter=WATCHED_EVENTS)

    def start(self) -> None:
        self.observer.start()
        # A burst of events (a checkout, a build) is parsed by these threads in Python: they
        # run at a lower OS priority than the threads answering requests.
        for thread in [self.observer, *self.observer.emitters]:
            with contextlib.suppress(OSError, AttributeError, TypeError):
                os.setpriority(os.PRIO_PROCESS, thread.native_id, WATCHER_NICENESS)

    def stop(self, timeout: float = 5.0) -> None:
        try:
            self.observer.stop()
            if self.observer.is_alive():
                self.observer.join(timeout)
        except Exception:
            logger.exception("stopping the file watcher of %s failed", self.root)
