"""The file events a working-tree watcher asks inotify for.

Only changes: reads (open/close) of every file during indexing or a ripgrep run would flood
inotify's queue (it overflows, events are lost, watchdog rescans everything).
"""

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
)

WATCHED_EVENTS = [FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent,
                  DirCreatedEvent, DirDeletedEvent, DirMovedEvent]
