"""The search daemon: keeps indexes warm so `codeloupe search` costs what ripgrep costs.

A Python process pays ~100 ms to start, import tantivy and RE2, and ask git whether the working
tree changed, before it searches for 2 ms. The daemon pays that once. `codeloupe search` sends
its argv, cwd and environment over a Unix socket and copies the answer to stdout; the daemon
parses the arguments with the very same click command and runs the very same `run_search`.

Freshness without asking git each time: each working tree is watched (watchdog/inotify). A
query refreshes the snapshot only when something changed since the last refresh, or when the
tree cannot be watched. Revisions other than the working tree are immutable once indexed.

The daemon starts on first use (detached), serves every repository under one index root,
exits after `IDLE_SECONDS` without requests, and is replaced when the installed code changes.

Wire format: one JSON request line; answers are frames `type (1 byte) + length (4 bytes) +
payload`, type b"o" stdout bytes, b"e" stderr text, b"x" exit code (ASCII).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socketserver
import struct
import threading
import time
from pathlib import Path

from indexer.child_processes import python_module_argv
from indexer.paths import code_version, daemon_socket, default_index_root

IDLE_SECONDS = 15 * 60
FRAME = struct.Struct(">cI")


class FramedWriter:
    """A bytes stream sent as b"o" frames, buffered to 64 KiB."""

    def __init__(self, sock) -> None:  # noqa: ANN001
        self.sock = sock
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= 1 << 16:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buffer:
            self.sock.sendall(FRAME.pack(b"o", len(self.buffer)) + self.buffer)
            self.buffer.clear()

    def send(self, kind: bytes, payload: bytes) -> None:
        self.flush()
        self.sock.sendall(FRAME.pack(kind, len(payload)) + payload)


class _TreeWatch:
    """Marks a working tree dirty on any file event (the next query then refreshes)."""

    def __init__(self, root: Path) -> None:
        self.dirty = True
        self.watching = False
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer

            watch = self

            from indexer.watch_events import WATCHED_EVENTS

            class Handler(FileSystemEventHandler):
                def on_any_event(self, event) -> None:  # noqa: ANN001
                    watch.dirty = True

            self.observer = Observer()
            self.observer.schedule(Handler(), str(root), recursive=True,
                                   event_filter=WATCHED_EVENTS)
            self.observer.daemon = True
            self.observer.start()
            self.watching = True
        except Exception:  # inotify limits, unsupported filesystems: ask git every time
            self.watching = False

    def stop(self) -> None:
        if self.watching:
            self.observer.stop()


class BackgroundEmbeds:
    """The embedding workers this daemon started (one per index, at idle priority; see
    indexer.embed.backlog): started on request of `codeloupe index`, resumed when an index
    it opens has an interrupted backlog, restarted a few times if one dies, stopped by pid
    when the daemon exits (the backlog resumes next time)."""

    MAX_RESTARTS = 3

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.procs: dict[Path, tuple[object, Path, str | None]] = {}  # dir -> (proc, repo, rev)
        self.restarts: dict[Path, int] = {}

    def start(self, index_dir: Path, repo: Path, rev: str | None) -> None:
        from indexer.embed.backlog import start_worker

        with self.lock:
            held = self.procs.get(index_dir)
            if held is not None and held[0].poll() is None:  # type: ignore[attr-defined]
                return
            proc = start_worker(index_dir, repo, rev)
            if proc is not None:
                self.procs[index_dir] = (proc, repo, rev)

    def resume(self, index_dir: Path, repo: Path) -> None:
        """Start a worker if the index's last one was interrupted or stopped."""
        from indexer.embed.backlog import read_status

        status = read_status(index_dir)
        if status and not status.get("running") and \
                status.get("state") in ("interrupted", "stopped"):
            rev = status.get("rev")
            self.start(index_dir, repo, None if rev in (None, "worktree") else rev)

    def check(self) -> None:
        """(idle watch) Restart workers that died mid-run; forget finished ones."""
        with self.lock:
            ended = [(d, held) for d, held in self.procs.items()
                     if held[0].poll() is not None]  # type: ignore[attr-defined]
            for index_dir, _ in ended:
                del self.procs[index_dir]
        for index_dir, (_, repo, _rev) in ended:
            if self.restarts.get(index_dir, 0) < self.MAX_RESTARTS:
                from indexer.embed.backlog import read_status

                status = read_status(index_dir) or {}
                if status.get("state") == "interrupted":
                    self.restarts[index_dir] = self.restarts.get(index_dir, 0) + 1
                    self.resume(index_dir, repo)

    def busy(self) -> bool:
        with self.lock:
            return any(held[0].poll() is None  # type: ignore[attr-defined]
                       for held in self.procs.values())

    def stop_all(self) -> None:
        from indexer.embed.backlog import stop_worker

        with self.lock:
            procs, self.procs = list(self.procs.values()), {}
        for proc, _, _ in procs:
            stop_worker(proc)  # type: ignore[arg-type]


class WarmWorkspaces:
    """Open workspaces, their watchers and their loaded snapshots, shared by request threads."""

    def __init__(self, on_open=None) -> None:  # noqa: ANN001 - on_open(workspace)
        self.on_open = on_open
        self.lock = threading.Lock()
        self.workspaces: dict[tuple, object] = {}
        self.watches: dict[Path, _TreeWatch] = {}
        self.snapshots: dict[tuple, object] = {}

    def snapshot(self, repo: str | None, index_dir: str | None, max_filesize: str | None,
                 rev: str | None, refresh: bool, on_wait=None):  # noqa: ANN001, ANN201
        from indexer.cli import _open_workspace
        from indexer.errors import RepositoryError
        from indexer.repo import GitRepo

        root = GitRepo.discover(repo).root
        key = (root, index_dir, max_filesize)
        with self.lock:
            ws = self.workspaces.get(key)
            if ws is None:
                ws = _open_workspace(str(root), index_dir, max_filesize)
                self.workspaces[key] = ws
                self.watches[root] = _TreeWatch(root)
                if self.on_open is not None:
                    self.on_open(ws)
            watch = self.watches[root]
        name, _ = ws.resolve(rev)
        snap_key = (key, name)
        if name == "worktree":
            with self.lock:  # one refresh at a time per process keeps the logic simple
                cached = self.snapshots.get(snap_key)
                if cached is None or not watch.watching or watch.dirty:
                    watch.dirty = False  # events during the refresh set it again
                    cached = ws.snapshot(None, refresh=refresh, on_wait=on_wait)
                else:  # `codeloupe gc` may have moved its blobs since
                    cached = ws.current(cached)
                self.snapshots[snap_key] = cached
                return cached
        with self.lock:
            cached = self.snapshots.get(snap_key)
        try:
            fresh = ws.current(cached) if cached is not None else None
        except RepositoryError:  # gc dropped that commit's snapshot
            fresh = None
        if fresh is None:
            fresh = ws.snapshot(rev, refresh=refresh, on_wait=on_wait)
        if fresh is not cached:
            with self.lock:
                self.snapshots[snap_key] = fresh
        return fresh


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server: DaemonServer = self.server  # type: ignore[assignment]
        server.touch()
        writer = FramedWriter(self.connection)
        try:
            request = json.loads(self.rfile.readline())
            if request.get("version") != server.version:
                writer.send(b"x", b"restart")
                server.stop_soon()
                return
            if "embed" in request:  # from `codeloupe index`: embed this index's backlog
                job = request["embed"]
                server.embeds.start(Path(job["index_dir"]), Path(job["repo"]), job.get("rev"))
                writer.send(b"x", b"0")
                return
            code = _run(request, writer, server.workspaces)
            writer.send(b"x", str(code).encode())
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # one bad request never takes the daemon down
            with contextlib.suppress(OSError):
                writer.send(b"e", f"codeloupe daemon: internal error: {exc!r}\n".encode())
                writer.send(b"x", b"2")
        finally:
            server.touch()


def _run(request: dict, writer: FramedWriter, workspaces: WarmWorkspaces) -> int:
    """Parse and run one `codeloupe search`; whatever is meant for the user (help, usage
    errors, messages) goes back over the socket, never to the daemon's own stdout or log."""
    import io

    import click

    from indexer.cli import cli, run_search, search

    cwd = request["cwd"]
    parent = click.Context(cli, info_name="codeloupe")
    printed = io.StringIO()  # what click prints while parsing: help, the version
    try:
        # sys.stdout is the whole process's: parse one request at a time (microseconds)
        with _PARSE_LOCK, contextlib.redirect_stdout(printed):
            context = search.make_context("search", list(request["argv"][1:]), parent=parent)
    except click.exceptions.Exit as exc:  # --help, -h, --version: the user's terminal
        writer.write(printed.getvalue().encode())
        return exc.exit_code
    except click.ClickException as exc:
        message = io.StringIO()
        exc.show(file=message)  # "Usage: … Try … Error: …", as in-process
        writer.send(b"e", message.getvalue().encode())
        return exc.exit_code
    params = dict(context.params)
    # Paths in the arguments are relative to the client's directory, not the daemon's.
    params["cwd"] = cwd
    if params.get("repo"):
        params["repo"] = os.path.join(cwd, params["repo"])
    if params.get("index_dir"):
        params["index_dir"] = os.path.join(cwd, params["index_dir"])

    def err(message: str) -> None:
        writer.send(b"e", (message + "\n").encode())

    return run_search(params, writer, err, workspaces)


_PARSE_LOCK = threading.Lock()


class DaemonServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, path: Path) -> None:
        self.version = code_version()
        self.embeds = BackgroundEmbeds()
        self.workspaces = WarmWorkspaces(
            on_open=lambda ws: self.embeds.resume(ws.store.directory, ws.root))
        self.last_request = time.monotonic()
        super().__init__(str(path), _Handler)

    def touch(self) -> None:
        self.last_request = time.monotonic()

    def stop_soon(self) -> None:
        threading.Thread(target=self.shutdown, daemon=True).start()


def serve_daemon(index_root: Path | None = None, idle_seconds: float = IDLE_SECONDS) -> None:
    """Run the daemon in this process until idle (or SIGTERM)."""
    import fcntl

    root = index_root or default_index_root()
    root.mkdir(parents=True, exist_ok=True)
    lock = os.open(root / "daemon.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(lock)
        return  # another daemon already serves this index root
    path = daemon_socket(root)
    if path.exists():
        path.unlink()  # a stale socket of a dead daemon (we hold the lock: none is alive)
    server = DaemonServer(path)
    os.chmod(path, 0o600)

    def idle_watch() -> None:
        while True:
            time.sleep(min(5.0, idle_seconds))
            server.embeds.check()
            if server.embeds.busy():  # embedding in the background is not idleness
                server.touch()
            elif time.monotonic() - server.last_request > idle_seconds:
                server.shutdown()
                return

    threading.Thread(target=idle_watch, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        server.embeds.stop_all()
        for watch in server.workspaces.watches.values():
            watch.stop()
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(lock)  # releases the flock


def spawn_daemon(index_root: Path) -> None:
    """Start a detached daemon for `index_root` (it outlives this process)."""
    import subprocess

    index_root.mkdir(parents=True, exist_ok=True)
    # -P and a working directory of our own: the repository searched from must not be able
    # to put modules on the daemon's import path (a `re2.py` in it would run)
    env = {**os.environ, "PYTHONSAFEPATH": "1"}
    with open(index_root / "daemon.log", "ab") as log:
        subprocess.Popen(python_module_argv("indexer", "daemon", "--index-root",
                                            str(index_root)),
                         cwd=index_root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                         stderr=log, start_new_session=True, close_fds=True)


def stop_daemon(index_root: Path | None = None) -> bool:
    """Ask the daemon of `index_root` to exit; False if none was running."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(daemon_socket(index_root)))
        sock.sendall(json.dumps({"version": "stop"}).encode() + b"\n")
        sock.recv(64)
        return True
    except OSError:
        return False
    finally:
        sock.close()
