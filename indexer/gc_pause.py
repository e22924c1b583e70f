"""Python's cyclic GC paused while a burst of long-lived objects is built.

A search that matches 100k lines builds a `Line` (a tuple subclass, which the GC never
untracks) and a submatch list per line; a symbol index builds millions of objects. Each
counts toward collections, and full collections walk everything alive with the GIL held:
half the time of a big search, 20-30 ms stalls during a symbol build (measured). Nothing these
builds make holds a cycle, so reference counting frees it all.

One counter for the whole process: builds overlapping in threads turn the GC back on once,
when the last one ends, and only if it was on when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausers = 0
_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    global _pausers, _was_enabled
    with _lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _was_enabled:
                gc.enable()
