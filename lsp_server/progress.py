"""Server-initiated work-done progress, driven from worker threads.

Every message goes through the event loop (`Host.post`), so notifications from threads never
interleave with the loop's own writes, and keep their order. Each progress is cancellable:
the client's `window/workDoneProgress/cancel` reaches the CancelToken registered here.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from lsprotocol import types

from indexer.ingest import CancelToken

logger = logging.getLogger(__name__)

REPORT_EVERY = 0.2  # seconds between two reports


class Host(Protocol):
    """What a worker thread needs from the server."""

    loop: asyncio.AbstractEventLoop | None
    progress_cancels: dict[Any, CancelToken]

    def post(self, fn: Callable[..., Any], *args: Any) -> None: ...

    def supports_work_done_progress(self) -> bool: ...

    @property
    def work_done_progress(self) -> Any: ...


class WorkDoneProgress:
    """begin → report(percentage, message) … → end, or nothing if the client can't show it.

    With `lazy`, `begin` waits for the first report: a re-index that finds nothing to do
    shows nothing.
    """

    def __init__(self, host: Host, title: str, cancel: CancelToken | None = None,
                 lazy: bool = False) -> None:
        self.host = host
        self.title = title
        self.cancel = cancel
        self.lazy = lazy
        self.token: str | None = None
        self.begun = False
        self.ended = False
        self._last = 0.0
        self._lock = threading.Lock()

    def begin(self, message: str | None = None) -> None:
        with self._lock:
            if self.begun or self.ended:
                return
            self.begun = True
            host = self.host
            if host.loop is None or not host.supports_work_done_progress():
                return
            token = f"codeloupe-{uuid.uuid4().hex[:12]}"
            try:
                created = asyncio.run_coroutine_threadsafe(
                    host.work_done_progress.create_async(token), host.loop)
                created.result(timeout=10)
            except Exception as exc:  # the client refused or did not answer: no progress
                logger.info("window/workDoneProgress/create failed: %s", exc)
                return
            self.token = token
            if self.cancel is not None:
                host.progress_cancels[token] = self.cancel
            host.post(host.work_done_progress.begin, token, types.WorkDoneProgressBegin(
                title=self.title, cancellable=self.cancel is not None, message=message,
                percentage=0))

    def report(self, done: int, total: int, message: str | None = None) -> None:
        if not self.begun:
            if not self.lazy:
                return
            self.begin(message)
        now = time.monotonic()
        if self.token is None or (now - self._last < REPORT_EVERY and done < total):
            return
        self._last = now
        percentage = min(100, int(done * 100 / total)) if total else None
        self.host.post(self.host.work_done_progress.report, self.token,
                       types.WorkDoneProgressReport(message=message, percentage=percentage,
                                                    cancellable=self.cancel is not None))

    def end(self, message: str | None = None) -> None:
        with self._lock:
            if self.ended:
                return
            self.ended = True
            token = self.token
        if token is None:
            return
        host = self.host
        host.progress_cancels.pop(token, None)

        def finish() -> None:
            host.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
            host.work_done_progress.tokens.pop(token, None)

        host.post(finish)
