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
    shows nothing. Never blocks the calling worker (which may hold the index's lock): the
    token is created with `window/workDoneProgress/create`, and the messages wait on the
    event loop until the client has answered (dropped if it refuses).
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
        # (loop) None: waiting for the client's answer; True: created; False: refused
        self._created: bool | None = None
        self._queue: list[Callable[[], None]] = []

    def begin(self, message: str | None = None) -> None:
        with self._lock:
            if self.begun or self.ended:
                return
            self.begun = True
            host = self.host
            if host.loop is None or not host.supports_work_done_progress():
                return
            token = self.token = f"codeloupe-{uuid.uuid4().hex[:12]}"
            if self.cancel is not None:
                host.progress_cancels[token] = self.cancel
        begin = types.WorkDoneProgressBegin(title=self.title, cancellable=self.cancel is not None,
                                            message=message, percentage=0)
        self._send(lambda: host.work_done_progress.begin(token, begin))
        host.post(self._create, token)

    def _create(self, token: str) -> None:
        """(loop) Ask the client for the token; send what waits once it answers."""
        try:
            future = self.host.work_done_progress.create(token)
        except Exception as exc:
            self._created_done(token, exc)
            return
        future.add_done_callback(lambda f: self.host.post(
            self._created_done, token, None if f.cancelled() else f.exception()))

    def _created_done(self, token: str, error: BaseException | None) -> None:
        """(loop)"""
        if error is not None:
            logger.info("window/workDoneProgress/create failed: %s", error)
            self._created = False
            self._queue.clear()
            self.host.progress_cancels.pop(token, None)
            return
        self._created = True
        queue, self._queue = self._queue, []
        for send in queue:
            send()

    def _send(self, send: Callable[[], None]) -> None:
        def run() -> None:  # (loop)
            if self._created is None:
                self._queue.append(send)
            elif self._created:
                send()

        self.host.post(run)

    def report(self, done: int, total: int, message: str | None = None) -> None:
        if not self.begun:
            if not self.lazy:
                return
            self.begin(message)
        now = time.monotonic()
        token = self.token
        if token is None or (now - self._last < REPORT_EVERY and done < total):
            return
        self._last = now
        percentage = min(100, int(done * 100 / total)) if total else None
        value = types.WorkDoneProgressReport(message=message, percentage=percentage,
                                             cancellable=self.cancel is not None)
        self._send(lambda: self.host.work_done_progress.report(token, value))

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

        self._send(finish)
