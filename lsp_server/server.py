"""The codeloupe language server: a thin adapter from LSP requests to the engine (`indexer`).

Threads: the asyncio event loop only parses messages, validates parameters and sends; every
engine call runs in `request_pool` (searches, symbols, status) or `index_pool` (indexing,
chunks and symbols, at a lower OS priority), and answers are serialised to JSON there too.
Anything a worker thread sends goes through `post`, onto the loop.

This module holds the server object and its plumbing; `handlers.py` the LSP methods;
`repos.py` folders, repositories and indexing; `search.py` the search; `symbols.py` the
symbols; `mcp_tools.py` the same engine for AI agents over MCP (`codeloupe mcp`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import inspect
import json
import logging
import os
import posixpath
import re
import stat
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cattrs
from lsprotocol import converters, types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcRequestCancelled,
)
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    lsp_method,
)

from indexer.errors import CodeloupeError, IndexBusyError, PatternError, RepositoryError
from indexer.ingest import Cancelled, CancelToken, ForegroundGate, TimeLimitExceeded
from indexer.repo import WORKTREE
from indexer.workspace import Snapshot
from lsp_server import repos as repos_mod
from lsp_server.embedding import BackgroundEmbeds
from lsp_server.overlay import Buffer
from lsp_server.params import RequestFailed, invalid, request_time_limit
from lsp_server.positions import UTF16, choose_encoding, to_path, uri_to_path
from lsp_server.repos import Folder, Repo, index_repo
from lsp_server.search import Target
from lsp_server.stalls import stall_threshold_ms, start_stall_tracing
from lsp_server.watcher import RepoWatcher

logger = logging.getLogger("codeloupe.lsp")

try:
    from importlib.metadata import version as _dist_version

    VERSION = _dist_version("codeloupe")
except Exception:  # not installed as a distribution
    VERSION = "0.0.0"

INDEX_CHANGED = "codeloupe/indexChanged"
CUSTOM_METHODS = ("codeloupe/search", "codeloupe/status", "codeloupe/reindex",
                  "codeloupe/branches", "codeloupe/symbols", "codeloupe/ask",
                  "codeloupe/context")
WORKSPACE_SYMBOL_LIMIT = 500
SAVE_DEBOUNCE = 0.3
WATCH_DEBOUNCE = 0.5
DEBOUNCE_MAX_WAIT = 3.0
BACKGROUND_NICENESS = 10  # indexing threads (the engine's worker processes are niced too)
# A request releases and retakes the GIL a dozen times (I/O, SQLite, locks); each time an
# indexing thread holds it, Python makes the request wait up to this long (default 5 ms).
SWITCH_INTERVAL = 0.001
HEAVY_WORKERS = 2  # searches, asks and contexts running at once (2 cores here)
HEAVY_QUEUE = 32  # more waiting than this: refused (RequestFailed) instead of queued
TIME_LIMIT_GRACE_S = 0.5  # the loop answers this long after the deadline, if the worker has not
PIPE_BYTES = 1 << 20  # stdout pipe capacity asked for (Linux' default ceiling)


class RawJSON(str):
    """A response result already serialised to JSON (by a worker thread): sent as it is."""


class _Answered:
    """A worker's result that the worker has written to the client already."""


ANSWERED = _Answered()


class ThreadSafeWriter:
    """pygls' stdout writer, locked, so that a worker thread may write too: a request's
    answer goes out from the worker that computed it, not after a hop back to the event
    loop (~0.06-0.2 ms a request on 2 busy cores)."""

    def __init__(self, inner: StdoutWriter) -> None:
        self.inner = inner
        self.lock = threading.RLock()

    def write(self, data: bytes) -> None:
        with self.lock:
            self.inner.write(data)

    def close(self) -> None:
        with self.lock:
            self.inner.close()


class _Ignored:
    """Stands in for a request already answered with an error during parsing."""

    jsonrpc = "ignored"
    method = ""


class CodeloupeProtocol(LanguageServerProtocol):
    """pygls' protocol, with our position-encoding choice and InvalidParams for requests
    whose parameters do not fit the LSP types (pygls would drop them unanswered)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Requests a worker may answer itself: msg id -> whether it has. Whoever answers
        # first (the worker, or the loop with an error or a cancellation) wins; the other
        # stays silent, so an id is never answered twice.
        self._early: dict[Any, bool] = {}
        self._early_lock = threading.Lock()

    def expect_early_answer(self, msg_id: Any) -> bool:
        """(loop) Let the worker of request `msg_id` answer it, if the transport allows
        writing from other threads (stdio does; TCP's asyncio transport does not)."""
        if msg_id is None or not isinstance(self.writer, ThreadSafeWriter):
            return False
        self._early[msg_id] = False
        return True

    def answer_early(self, msg_id: Any, result: Any) -> bool:
        """(worker) Write the answer to `msg_id` now, unless the loop has answered it."""
        payload = result if isinstance(result, RawJSON) else json.dumps(
            result, default=self._serialize_message)
        with self._early_lock:
            if self._early.get(msg_id) is not False:
                return False
            self._early[msg_id] = True
            self._write_body(f'{{"jsonrpc":"2.0","id":{json.dumps(msg_id)},"result":{payload}}}')
        return True

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):  # noqa: ANN201 - a generator
        general = params.capabilities.general
        offered = list(general.position_encodings or []) if general is not None else []
        encoding = choose_encoding([str(getattr(e, "value", e)) for e in offered])
        if general is not None and offered:
            # pygls takes the client's first supported preference: make it ours
            general.position_encodings = [types.PositionEncodingKind(encoding)]
        self._server.encoding = encoding
        result = yield from super().lsp_initialize(params)
        result.capabilities.position_encoding = types.PositionEncodingKind(encoding)
        result.capabilities.experimental = {
            "codeloupe": {"methods": list(CUSTOM_METHODS), "notifications": [INDEX_CHANGED],
                          "version": 1}}
        return result

    def structure_message(self, data: dict[str, Any]):  # noqa: ANN201
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if not (isinstance(data, dict) and "id" in data and "method" in data):
                raise
            cause = exc.__cause__
            detail = "; ".join(cattrs.transform_error(cause)) if isinstance(
                cause, cattrs.BaseValidationError) else str(cause or exc)
            error = JsonRpcInvalidParams(message=f"{data['method']}: invalid params: {detail}")
            self._send_response(data["id"], error=error.to_response_error())
            return _Ignored()

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        # An expected error (bad params, bad regex, cancelled…) is an answer, not a crash:
        # answer it without pygls' error-level traceback in the log.
        if future.done() and not future.cancelled():
            exc = future.exception()
            if isinstance(exc, JsonRpcException) and not isinstance(exc, JsonRpcInternalError):
                self._request_futures.pop(msg_id, None)
                logger.info("request %s answered with an error: %s", msg_id, exc.message)
                self._send_response(msg_id, error=exc.to_response_error())
                return
        super()._send_handler_result(future, msg_id=msg_id)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Ignored):
            return
        super().handle_message(message)

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        """Results go out as plain JSON: pygls would first walk the whole result with cattrs
        (tens of milliseconds for a large one, on the event loop). LSP types inside are still
        converted, lazily, by `json.dumps`'s default hook."""
        if error is not None and isinstance(getattr(error, "data", None), dict) and \
                "traceback" in error.data:
            # pygls puts the server's traceback in InternalError's data: it goes to the log
            # (pygls logged it already), never to the client
            error.data = None
        with self._early_lock:
            if self._early.pop(msg_id, False):  # its worker has answered it
                return
        if error is not None or self._result_types.get(msg_id) is not None:
            super()._send_response(msg_id, result, error)
            return
        self._result_types.pop(msg_id, None)
        payload = result if isinstance(result, RawJSON) else json.dumps(
            result, default=self._serialize_message)
        self._write_body(f'{{"jsonrpc":"2.0","id":{json.dumps(msg_id)},"result":{payload}}}')

    def _write_body(self, body: str) -> None:
        if self.writer is None:
            logger.error("cannot send a response: no transport")
            return
        data = body.encode(self.CHARSET)
        if self._include_headers:
            data = (f"Content-Length: {len(data)}\r\n"
                    f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
                    ).encode() + data
        try:
            written = self.writer.write(data)
            if inspect.isawaitable(written):
                asyncio.ensure_future(written)
        except BrokenPipeError:
            raise
        except Exception as exc:
            logger.exception("sending a response failed")
            self._server._report_server_error(exc, JsonRpcInternalError)


def plain_json_converter() -> cattrs.Converter:
    """lsprotocol's converter, leaving the params and results of non-LSP messages as plain
    JSON. (pygls' default turns them into namedtuples, renaming keys that are not Python
    identifiers.)"""
    converter = converters.get_converter()

    def keep(field: str) -> Callable[[dict[str, Any], type], Any]:
        def hook(obj: dict[str, Any], cls: type) -> Any:
            obj = dict(obj)
            obj.setdefault(field, None)
            return cls(**obj)

        return hook

    converter.register_structure_hook(JsonRPCRequestMessage, keep("params"))
    converter.register_structure_hook(JsonRPCNotification, keep("params"))
    converter.register_structure_hook(JsonRPCResponseMessage, keep("result"))
    return converter


class CodeloupeServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("codeloupe", VERSION,
                         text_document_sync_kind=types.TextDocumentSyncKind.Full,
                         protocol_cls=CodeloupeProtocol,
                         converter_factory=plain_json_converter)
        self.encoding = UTF16
        self.loop: asyncio.AbstractEventLoop | None = None
        self.folders: dict[str, Folder] = {}
        self.repos: dict[Path, Repo] = {}
        self.repos_lock = threading.Lock()
        self.retired: list[Repo] = []
        self.buffers: dict[str, bool] = {}  # open document URI -> changed since open/save
        self.progress_cancels: dict[Any, CancelToken] = {}
        self.cancel_tokens: weakref.WeakSet[CancelToken] = weakref.WeakSet()
        self.closing = threading.Event()
        self.request_pool = ThreadPoolExecutor(4, thread_name_prefix="codeloupe-request")
        # search, ask, context: their own workers, so they never hold up the cheap requests
        self.heavy_pool = ThreadPoolExecutor(HEAVY_WORKERS, thread_name_prefix="codeloupe-heavy")
        self.heavy_waiting = 0  # heavy requests submitted and not started (loop increments)
        self.heavy_lock = threading.Lock()
        self.time_limit_s = request_time_limit()
        self.foreground = ForegroundGate()
        self.index_pool = ThreadPoolExecutor(3, thread_name_prefix="codeloupe-index",
                                             initializer=_background_thread)
        self.embeds = BackgroundEmbeds(self, self.closing)  # embedding backlogs (workers)
        self._closed = False
        self._pending_folders: list[Folder] = []
        self.exit_code = 0

    def start_tcp(self, host: str, port: int) -> None:
        """pygls' TCP server, reading each connection with `read_messages` (hardened framing,
        as over stdio)."""
        self._stop_event = stop_event = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                             ) -> None:
            self.protocol.set_writer(writer)  # type: ignore[arg-type]
            await read_messages(stop_event, _StreamLines(reader), self.protocol,
                                self.report_server_error)
            self.shutdown()

        async def serve_tcp() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            asyncio.run(serve_tcp())

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """pygls' stdio loop, reading stdin in chunks (see `_ChunkedStdin`)."""
        self._stop_event = threading.Event()
        out = stdout or sys.stdout.buffer
        _widen_pipe(out)
        self.protocol.set_writer(ThreadSafeWriter(StdoutWriter(out)))
        reader = _ChunkedStdin(stdin or sys.stdin.buffer, self.thread_pool)
        try:
            asyncio.run(read_messages(self._stop_event, reader, self.protocol,
                                      self.report_server_error))
        except BrokenPipeError:
            logger.error("the connection to the client is lost; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    # --- plumbing between threads and the loop -----------------------------------------
    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._run_posted, fn, args)

    @staticmethod
    def _run_posted(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception:
            logger.exception("posted call failed")

    def notify(self, method: str, params: Any) -> None:
        self.post(self.protocol.notify, method, params)

    def send_partial(self, token: Any, value: str) -> None:
        """(worker) Partial results of a request: written at once where the worker may
        answer its request itself (they must reach the client before the answer), else
        posted to the loop, ahead of the answer."""
        if isinstance(self.protocol.writer, ThreadSafeWriter):
            self.send_progress_json(token, value)
        else:
            self.post(self.send_progress_json, token, value)

    def send_progress_json(self, token: Any, value: str) -> None:
        """(loop) `$/progress` with a value already serialised (streamed partial results)."""
        self.protocol._write_body(f'{{"jsonrpc":"2.0","method":"$/progress","params":'
                                  f'{{"token":{json.dumps(token)},"value":{value}}}}}')

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.post(self.window_show_message, types.ShowMessageParams(type=kind, message=message))

    def supports_work_done_progress(self) -> bool:
        try:
            window = self.client_capabilities.window
        except Exception:
            return False
        return bool(window is not None and window.work_done_progress)

    def new_cancel_token(self, background: bool = False,
                         time_limit_s: float | None = None) -> CancelToken:
        """A token for a request, or for background work (`background`: it also yields to
        requests in flight, see ForegroundGate)."""
        token = CancelToken(self.foreground if background else None, time_limit_s)
        if self.closing.is_set():
            token.cancel()
        self.cancel_tokens.add(token)
        return token

    async def in_thread(self, fn: Callable[..., Any], *args: Any,
                        pool: ThreadPoolExecutor | None = None, heavy: bool = False) -> Any:
        """Run `fn(cancel, *args)` in a worker; a cancelled request cancels the token.

        A request (no `pool`) runs under the server's time limit: its token stops the work
        at the next check past the deadline, and the client gets RequestFailed by then even
        if the work has not reached a check. `heavy` requests (search, ask, context) wait for
        a worker of their own bounded pool, so that however many of them are in flight,
        symbols, status and document sync are answered from `request_pool`."""
        if self.closing.is_set():
            raise RequestFailed(message="the server is shutting down")
        if self.loop is None:  # a request before `initialized`: start opening folders now
            self.start(asyncio.get_running_loop())
        limit = self.time_limit_s if pool is None else None
        if heavy and self.heavy_waiting >= HEAVY_QUEUE:
            raise RequestFailed(message=f"the server is busy: {self.heavy_waiting} searches "
                                "are waiting; try again when they finish")
        cancel = self.new_cancel_token(time_limit_s=limit)
        protocol = self.protocol
        msg_id = protocol._ctx_msg_id.get()  # set by pygls in a request's task...
        if protocol._request_futures.get(msg_id) is asyncio.current_task() and \
                protocol.expect_early_answer(msg_id):  # ...and this is that task
            answer = functools.partial(_answered_by_worker, protocol, msg_id, fn)
        else:
            answer = fn
        if pool is None:  # a request: background work pauses while it runs
            if heavy:
                with self.heavy_lock:
                    self.heavy_waiting += 1
                future = self.heavy_pool.submit(self._heavy_started, answer, cancel, *args)
            else:
                future = self.request_pool.submit(_in_foreground, self.foreground, answer,
                                                  cancel, *args)
        else:
            future = pool.submit(_guarded, answer, cancel, *args)
        try:
            if limit is None:
                return await asyncio.wrap_future(future)
            # the worker's own check answers a moment before this does
            done, _ = await asyncio.wait([asyncio.wrap_future(future)],
                                         timeout=limit + TIME_LIMIT_GRACE_S)
            if done:
                return done.pop().result()
            cancel.cancel()
            logger.warning("a request passed the time limit of %g s without reaching a "
                           "check; answered, its worker stops at its next check", limit)
            raise RequestFailed(message=f"stopped after the time limit of {limit:g} s "
                                "(CODELOUPE_REQUEST_TIME_LIMIT_S)")
        except asyncio.CancelledError:
            cancel.cancel()
            raise

    def _heavy_started(self, fn: Callable[..., Any], cancel: CancelToken, *args: Any) -> Any:
        """(heavy worker) A heavy request leaves the queue and runs."""
        with self.heavy_lock:
            self.heavy_waiting -= 1
        return _in_foreground(self.foreground, fn, cancel, *args)

    async def in_thread_json(self, fn: Callable[..., Any], *args: Any,
                             pool: ThreadPoolExecutor | None = None) -> RawJSON:
        """`in_thread`, with the result serialised to JSON in the worker too: a large answer
        never holds the event loop."""
        def work(cancel: CancelToken, *inner: Any) -> RawJSON:
            return RawJSON(json.dumps(fn(cancel, *inner)))

        return await self.in_thread(work, *args, pool=pool)

    # --- callbacks from repos.py ---------------------------------------------------------
    def index_changed(self, repo: Repo, name: str, snap: Snapshot, reason: str) -> None:
        record = repo.ws.store.catalog.snapshot(name)
        for folder in list(self.folders.values()):
            if folder.repo is repo:
                self.notify(INDEX_CHANGED, _index_changed_params(folder, name, snap, record,
                                                                 reason))

    def embed_backlog(self, repo: Repo) -> None:
        """(worker) Embed what the working tree's chunks lack, in a background process; the
        files open in the editor first."""
        open_paths = []
        for uri in list(self.buffers):
            try:
                found = self.repo_of_path(uri_to_path(uri))
            except ValueError:
                continue
            if found is not None and found[0] is repo:
                open_paths.append(found[1])
        self.embeds.start(repo, open_paths)

    def warm_symbols(self, repo: Repo) -> None:
        """Load the symbol index of an existing snapshot in the background."""
        with contextlib.suppress(RuntimeError):  # shutting down
            self.index_pool.submit(repos_mod.warm_symbols, self, repo)

    # --- folders -------------------------------------------------------------------------
    def add_folder(self, uri: str, name: str | None) -> None:
        if uri in self.folders:
            return
        try:
            path = uri_to_path(uri)
        except ValueError as exc:
            logger.warning("ignoring workspace folder %s: %s", uri, exc)
            return
        folder = Folder(uri, name or path.name, path)
        self.folders[uri] = folder
        if self.loop is None:
            self._pending_folders.append(folder)  # opened on `initialized`
        else:
            self._submit_open(folder)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """(loop) Open the folders given at `initialize`: existing indexes at once, then
        index what is missing or stale in the background."""
        self.loop = loop
        threshold = stall_threshold_ms()
        if threshold is not None:
            start_stall_tracing(loop, threshold, self.foreground)
        pending, self._pending_folders = self._pending_folders, []
        for folder in pending:
            self._submit_open(folder)

    def _submit_open(self, folder: Folder) -> None:
        with contextlib.suppress(RuntimeError):  # shutting down
            self.index_pool.submit(self._open_job, folder)

    def _open_job(self, folder: Folder) -> None:
        try:
            repo = repos_mod.open_folder(self, folder, self.repos, self.repos_lock)
        except CodeloupeError as exc:
            self.show(f"codeloupe: {folder.name} is not searchable: {exc}")
            return
        except Exception as exc:
            folder.error = f"opening failed: {exc}"
            folder.opened.set()
            logger.exception("opening %s failed", folder.path)
            return
        if repo is None:  # a repository another folder opened already
            shared = folder.repo
            if shared is not None and shared.worktree is not None:
                record = shared.ws.store.catalog.snapshot(WORKTREE)
                self.notify(INDEX_CHANGED, _index_changed_params(
                    folder, WORKTREE, shared.worktree, record, "opened"))
            return
        self._start_watcher(repo)
        if repo.worktree is not None:
            self.warm_symbols(repo)
        try:
            repos_mod.initial_index(self, repo)
        except CodeloupeError as exc:
            self.show(f"codeloupe: indexing {repo.root} failed: {exc}")

    def _start_watcher(self, repo: Repo) -> None:
        if self.closing.is_set():
            return
        try:
            watcher = RepoWatcher(
                repo.root, lambda kind, path: self.file_changed(repo, kind, path),
                ignored=[repo.ws.store.directory])
            watcher.start()
        except Exception as exc:  # inotify limits, vanished folder: search still works
            logger.warning("cannot watch %s (%s); re-index on save only", repo.root, exc)
            return
        repo.watcher = watcher

    def remove_folder(self, uri: str) -> None:
        folder = self.folders.pop(uri, None)
        if folder is None or folder.repo is None:
            return
        repo = folder.repo
        if any(f.repo is repo for f in self.folders.values()):
            return
        with self.repos_lock:
            self.repos.pop(repo.root, None)
        if repo.debounce_handle is not None:
            repo.debounce_handle.cancel()
        if repo.watcher is not None:
            repo.watcher.stop()
        self.retired.append(repo)  # closed at shutdown: a worker may still be using it

    def file_changed(self, repo: Repo, kind: str, path: str) -> None:
        """(watcher thread) A watched file or ref changed. The bookkeeping is done here; the
        loop hears once per burst (a `git checkout` of 10,000 files must not queue 10,000
        callbacks on it)."""
        if kind == "worktree":
            with contextlib.suppress(ValueError):  # requests read it from disk until indexed
                repo.mark_dirty(Path(path).relative_to(repo.root).as_posix())
        with repo.state_lock:
            if kind == "worktree" and len(repo.changed_paths) < repos_mod.MAX_CHANGED_PATHS:
                repo.changed_paths.add(path)
            else:
                repo.force_reindex = True
            if repo.watch_posted:
                return
            repo.watch_posted = True
        self.post(self._watched, repo)

    def _watched(self, repo: Repo) -> None:
        """(loop) Events arrived since the last call."""
        with repo.state_lock:
            repo.watch_posted = False
        self.debounce_reindex(repo, WATCH_DEBOUNCE)

    def debounce_reindex(self, repo: Repo, delay: float, force: bool = False) -> None:
        """(loop) Re-index `delay` after the last event, at most DEBOUNCE_MAX_WAIT after the
        first of a burst."""
        if self.closing.is_set() or self.loop is None or repo.root not in self.repos:
            return
        if force:
            with repo.state_lock:
                repo.force_reindex = True
        now = self.loop.time()
        if repo.debounce_handle is not None:
            repo.debounce_handle.cancel()
        if repo.debounce_first is None:
            repo.debounce_first = now
        when = min(now + delay, repo.debounce_first + DEBOUNCE_MAX_WAIT)

        def fire() -> None:
            repo.debounce_handle = None
            repo.debounce_first = None
            with repo.state_lock:
                paths, repo.changed_paths = repo.changed_paths, set()
                force, repo.force_reindex = repo.force_reindex, False
            if not self.closing.is_set():
                with contextlib.suppress(RuntimeError):  # shutting down
                    self.index_pool.submit(repos_mod.reindex_after_events, self, repo, paths,
                                           force, self.index_pool)

        repo.debounce_handle = self.loop.call_at(when, fire)

    def repo_of_path(self, path: Path) -> tuple[Repo, str] | None:
        if "\0" in str(path):
            return None
        for candidate in (path, Path(os.path.realpath(path))):
            for root, repo in list(self.repos.items()):
                try:
                    rel = candidate.relative_to(root).as_posix()
                except ValueError:
                    continue
                if rel == "." or rel == ".git" or rel.startswith(".git/"):
                    return None
                return repo, rel
        return None

    # --- shared request helpers (worker threads) -----------------------------------------
    def wait_opened(self, folder: Folder, cancel: CancelToken) -> None:
        while not folder.opened.wait(0.1):
            cancel.check()

    def resolve_targets(self, method: str, cancel: CancelToken, folder_value: str | None,
                        paths: list[str]) -> list[Target]:
        """The folders a request covers, each with its path scopes; refuses anything outside
        the workspace folders."""
        folders = list(self.folders.values())
        if not folders:
            raise RequestFailed(message=f"{method}: no workspace folder is open")
        explicit = folder_value is not None
        sub: Path | None = None
        if folder_value is not None:
            folder, sub = self._folder_for(method, folder_value)
            chosen = [folder]
        else:
            chosen = folders
        absolute: list[Path] = []
        relative: list[str] = []
        for value in paths:
            if value.startswith("file:") or os.path.isabs(value):
                try:
                    path = to_path(value)
                except ValueError as exc:
                    raise invalid(method, str(exc)) from None
                if not any(_inside(path, f.path) for f in chosen):
                    raise invalid(method, f"path {value} is outside the workspace; refused")
                absolute.append(path)
            else:
                relative.append(value)
        targets: list[Target] = []
        for folder in chosen:
            self.wait_opened(folder, cancel)
            repo = folder.repo
            if repo is None:
                if explicit:
                    raise RequestFailed(message=f"{method}: folder {folder.uri} is not "
                                                f"searchable: {folder.error}")
                continue
            base = folder.prefix
            if sub is not None:
                base = self._relative(method, repo, sub, folder)
            scopes: list[str] = []
            for value in relative:
                scopes.append(self._relative(method, repo, (sub or folder.path) / value,
                                             folder, base))
            for path in absolute:
                if _inside(path, folder.path):
                    scopes.append(self._relative(method, repo, path, folder, base))
            if paths and not scopes:
                continue
            targets.append(Target(folder, repo, scopes or [base]))
        if not targets:
            errors = "; ".join(f"{f.name}: {f.error}" for f in chosen if f.error)
            raise RequestFailed(message=f"{method}: no searchable workspace folder"
                                        f"{' (' + errors + ')' if errors else ''}")
        return targets

    def _folder_for(self, method: str, value: str) -> tuple[Folder, Path | None]:
        try:
            path = to_path(value)
        except ValueError as exc:
            raise invalid(method, f"'folder': {exc}") from None
        best: Folder | None = None
        for folder in self.folders.values():
            if _inside(path, folder.path) and (
                    best is None or len(str(folder.path)) > len(str(best.path))):
                best = folder
        if best is None:
            raise invalid(method, f"folder {value} is outside every workspace folder; refused")
        return best, (None if path == best.path else path)

    @staticmethod
    def _relative(method: str, repo: Repo, path: Path, folder: Folder,
                  base: str | None = None) -> str:
        norm = Path(os.path.normpath(path))
        if _inside(norm, folder.path):  # by the folder's own path (it may hold symlinks)
            inner = norm.relative_to(folder.path).as_posix()
            rel = posixpath.normpath(posixpath.join(folder.prefix, inner))
        else:
            try:
                rel = repo.ws.relative_path(norm)
            except RepositoryError as exc:
                raise invalid(method, str(exc)) from None
        rel = "" if rel == "." else rel
        scope = folder.prefix if base is None else base
        if scope and not (rel == scope or rel.startswith(scope + "/")):
            raise invalid(method, f"path {path} is outside the workspace folder "
                                  f"{folder.path}; refused")
        if rel == ".git" or rel.startswith(".git/"):
            raise invalid(method, f"path {path} is inside .git; refused")
        return rel

    def snapshot_for(self, repo: Repo, rev: str | None, cancel: CancelToken) -> Snapshot:
        """The loaded snapshot of `rev`, indexing that commit first if needed."""
        if rev is None or rev == WORKTREE:
            return repo.wait_ready(cancel)
        name, _ = repo.ws.resolve(rev)
        snap = repo.snapshot_named(name)
        if snap is not None:
            try:
                return repo.revalidated(snap)
            except RepositoryError:  # gc dropped it: index that commit again below
                pass
        if repo.ws.store.catalog.snapshot(name) is not None:
            snap = repo.ws.snapshot(name, refresh=False)
            repo.set_snapshot(snap)
            return snap
        index_repo(self, repo, name, title=f"Indexing {rev} of {repo.root.name}",
                   cancel=cancel)
        snap = repo.snapshot_named(name)
        if snap is None:
            raise CodeloupeError(f"indexing {rev} did not produce a snapshot")
        return snap

    def buffers_by_repo(self) -> dict[Path, list[Buffer]]:
        """(loop) The open documents, by repository, with their current text."""
        out: dict[Path, list[Buffer]] = {}
        for uri, dirty in list(self.buffers.items()):
            # One document that cannot be placed (a hostile URI, say) is left out: it must
            # never fail the request of another.
            try:
                path = uri_to_path(uri)
                found = self.repo_of_path(path)
                if found is None:
                    continue
                text = self.workspace.get_text_document(uri).source
                repo, rel = found
                out.setdefault(repo.root, []).append(Buffer.of_text(uri, rel, text, dirty))
            except Exception as exc:
                logger.debug("open document %.200r left out: %s", uri, exc)
        return out

    # --- shutdown ------------------------------------------------------------------------
    def stop_timers(self) -> None:
        """(loop) Cancel debounce timers."""
        for repo in list(self.repos.values()):
            if repo.debounce_handle is not None:
                repo.debounce_handle.cancel()
                repo.debounce_handle = None

    def close(self) -> None:
        """Stop watchers, cancel and wait for workers, close the indexes. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.closing.set()
        for token in list(self.cancel_tokens):
            token.cancel()
        self.embeds.stop_all()  # the workers, by pid; their backlogs resume next time
        repos = list(self.repos.values()) + self.retired
        for repo in repos:
            if repo.watcher is not None:
                repo.watcher.stop()
                repo.watcher = None
        self.request_pool.shutdown(wait=True, cancel_futures=True)
        self.heavy_pool.shutdown(wait=True, cancel_futures=True)
        self.index_pool.shutdown(wait=True, cancel_futures=True)
        for repo in repos:
            try:
                repo.ws.close()
            except Exception:
                logger.exception("closing the index of %s failed", repo.root)
        logger.info("codeloupe server closed")


def _widen_pipe(stream: Any) -> None:
    """Let a large answer (a few hundred KB of symbols or matches) go into the pipe in one
    write, instead of 64 KiB at a time, each waiting for the client to read (Linux only)."""
    with contextlib.suppress(Exception):
        fd = stream.fileno()
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


MAX_MESSAGE_BYTES = 64 << 20  # a larger Content-Length is refused, not waited for
MAX_HEADER_LINE = 1 << 16  # a longer header line is dropped in pieces
_CONTENT_LENGTH = re.compile(rb"^Content-Length: (\d+)\r\n$")


class _StreamLines:
    """An asyncio StreamReader read by `read_messages`: a header line past the reader's limit
    is dropped (StreamReader raises), a short read at the end is returned."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    async def readline(self) -> bytes:
        try:
            return await self.reader.readline()
        except ValueError:  # longer than the limit: StreamReader dropped it; not a header
            return b"\0\r\n"

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.reader.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial


async def read_messages(stop_event: threading.Event, reader: _ChunkedStdin | _StreamLines,
                        protocol: CodeloupeProtocol,
                        error_handler: Callable[[Exception, type], Any]) -> None:
    """pygls' message loop (`pygls.io_.run_async`), hardened against a hostile peer: a
    Content-Length over MAX_MESSAGE_BYTES is ignored (pygls would wait for that many bytes,
    swallowing every later message), and a body that is not JSON is answered with Parse
    error (-32700), as JSON-RPC asks, instead of only logged."""
    content_length = 0
    while not stop_event.is_set():
        header = await reader.readline()
        if not header:
            break
        if not content_length:
            match = _CONTENT_LENGTH.fullmatch(header)
            if match:
                content_length = int(match.group(1))
                if content_length > MAX_MESSAGE_BYTES:
                    logger.error("a message of %d bytes refused (at most %d); its header is "
                                 "skipped", content_length, MAX_MESSAGE_BYTES)
                    content_length = 0
                    continue
        if content_length and not header.strip():
            body = await reader.readexactly(content_length)
            content_length = 0
            if not body:
                break
            try:
                message = json.loads(body, object_hook=protocol.structure_message)
            except (ValueError, RecursionError) as exc:
                logger.warning("a message that is not JSON: %s", str(exc)[:200])
                protocol._write_body('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,'
                                     '"message":"Parse error: the message is not JSON"}}')
                continue
            except Exception as exc:
                logger.exception("unable to read a message")
                error_handler(exc, JsonRpcException)
                continue
            try:
                protocol.handle_message(message)
            except Exception as exc:
                logger.exception("unable to handle a message")
                error_handler(exc, JsonRpcException)


class _ChunkedStdin:
    """stdin for pygls' message loop, read in chunks of up to 64 KiB. A pipe is read by the
    event loop itself (epoll), with no thread at all; anything else (a regular file) by a
    reader thread, one hop per chunk rather than three per message (header line, blank
    line, body). Each hop costs ~0.1 ms on a busy machine, on every request."""

    def __init__(self, stdin: Any, executor: ThreadPoolExecutor) -> None:
        self.fd = stdin.fileno()
        self.executor = executor
        self.buffer = bytearray()
        self.eof = False
        self.pipe: asyncio.StreamReader | None = None
        self.tried_pipe = False

    async def _open_pipe(self) -> None:
        self.tried_pipe = True
        mode = os.fstat(self.fd).st_mode
        if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
            return
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 16)
        pipe = open(self.fd, "rb", buffering=0, closefd=False)  # noqa: SIM115 - the transport closes it
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        except (OSError, ValueError):
            pipe.close()
            return
        self.pipe = reader

    async def _fill(self) -> None:
        if not self.tried_pipe:
            await self._open_pipe()
        if self.pipe is not None:
            chunk = await self.pipe.read(1 << 16)
        else:
            chunk = await asyncio.get_running_loop().run_in_executor(self.executor, os.read,
                                                                     self.fd, 1 << 16)
        if chunk:
            self.buffer += chunk
        else:
            self.eof = True

    async def readline(self) -> bytes:
        while True:
            end = self.buffer.find(b"\n")
            if end < 0 and len(self.buffer) > MAX_HEADER_LINE:
                end = len(self.buffer) - 1  # no header is this long: hand it over in pieces
            if end >= 0 or self.eof:
                end = end + 1 if end >= 0 else len(self.buffer)
                line = bytes(self.buffer[:end])
                del self.buffer[:end]
                return line
            await self._fill()

    async def readexactly(self, n: int) -> bytes:
        while len(self.buffer) < n and not self.eof:
            await self._fill()
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data


def _background_thread() -> None:
    """Indexing threads run at a lower OS priority than the loop and the request threads, so
    a request gets the CPU (and then the GIL) first on a busy machine. (Linux: a thread's own
    niceness; elsewhere nothing.)"""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def iso_time(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _index_changed_params(folder: Folder, name: str, snap: Snapshot, record: Any,
                          reason: str) -> dict[str, Any]:
    return {"folder": folder.uri, "rev": name, "commit": snap.commit,
            "files": getattr(record, "files", None), "bytes": getattr(record, "bytes", None),
            "reason": reason}


def _in_foreground(gate: ForegroundGate, fn: Callable[..., Any], cancel: CancelToken,
                   *args: Any) -> Any:
    with gate.active():
        return _guarded(fn, cancel, *args)


def _answered_by_worker(protocol: CodeloupeProtocol, msg_id: Any, fn: Callable[..., Any],
                        cancel: CancelToken, *args: Any) -> Any:
    result = fn(cancel, *args)
    return ANSWERED if protocol.answer_early(msg_id, result) else result


def _guarded(fn: Callable[..., Any], cancel: CancelToken, *args: Any) -> Any:
    """Run a worker and turn engine errors into JSON-RPC errors."""
    try:
        cancel.check()  # cancelled or past its time limit while it waited for a worker
        return fn(cancel, *args)
    except JsonRpcException:
        raise
    except TimeLimitExceeded as exc:
        raise RequestFailed(message=f"{exc} (CODELOUPE_REQUEST_TIME_LIMIT_S)") from None
    except (Cancelled, InterruptedError):
        raise JsonRpcRequestCancelled(message="request cancelled") from None
    except PatternError as exc:
        raise JsonRpcInvalidParams(message=str(exc), data={
            "position": exc.position, "reason": exc.reason, "pattern": exc.pattern}) from None
    except RepositoryError as exc:
        raise JsonRpcInvalidParams(message=str(exc)) from None
    except IndexBusyError as exc:
        raise RequestFailed(message=str(exc)) from None
    except CodeloupeError as exc:
        raise RequestFailed(message=str(exc)) from None


# --- the server ----------------------------------------------------------------------


def create_server() -> CodeloupeServer:
    """A fresh server with every handler registered (tests, embedding)."""
    from lsp_server.handlers import register

    return register(CodeloupeServer())


def serve(tcp: str | None = None, *, ls: CodeloupeServer | None = None) -> int:
    """Run the language server: stdio by default, or TCP with `tcp="HOST:PORT"`.

    Returns the process exit code the protocol asks for: 0 after shutdown and exit, 1 after
    an exit without shutdown."""
    if tcp:
        host, sep, port = tcp.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"--tcp wants HOST:PORT, got {tcp!r}")
    sys.setswitchinterval(SWITCH_INTERVAL)
    ls = ls or create_server()
    try:
        if tcp:
            ls.start_tcp(host.strip("[]") or "127.0.0.1", int(port))
        else:
            # Anything printed by mistake must not corrupt the protocol stream on stdout.
            stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
            sys.stdout = sys.stderr
            ls.start_io(stdin, stdout)
        return ls.exit_code
    finally:
        ls.close()  # the client may vanish without shutdown/exit: still stop every worker
