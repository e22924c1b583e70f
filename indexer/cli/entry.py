"""The `codeloupe` executable. `search` goes to the warm daemon when it can.

This module imports almost nothing: for `codeloupe search` the whole process must cost about
what ripgrep costs, so the client only connects, forwards its arguments and copies bytes.
Anything else — or no daemon, or CODELOUPE_DAEMON=off — runs the full CLI in-process (and a
missing daemon is started in the background for the next search).
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys

FRAME = struct.Struct(">cI")
RESTART = object()


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("daemon closed the connection")
        data += chunk
    return bytes(data)


def _via_daemon(argv: list[str]):  # noqa: ANN202 - exit code, None (no daemon) or RESTART
    from indexer.paths import code_version, daemon_socket

    path = daemon_socket()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        return None
    try:
        request = {"version": code_version(), "argv": argv, "cwd": os.getcwd()}
        try:
            sock.sendall(json.dumps(request).encode() + b"\n")
        except OSError:  # a daemon shutting down: search in-process (not "no matches")
            return None
        out = sys.stdout.buffer
        while True:
            kind, length = FRAME.unpack(_recv_exact(sock, FRAME.size))
            payload = _recv_exact(sock, length)
            if kind == b"o":
                out.write(payload)
            elif kind == b"e":
                out.flush()
                sys.stderr.write(payload.decode(errors="replace"))
            elif kind == b"x":
                out.flush()
                return RESTART if payload == b"restart" else int(payload)
    except BrokenPipeError:  # our stdout closed (`| head`): done, quietly
        return closed_pipe()
    except (ConnectionError, OSError, ValueError, struct.error):
        return None  # the daemon died mid-answer: nothing was lost, run in-process
    finally:
        sock.close()


def closed_pipe() -> int:
    """stdout's reader went away: 141 (128 + SIGPIPE), as a shell reports a process killed
    by it, and stdout pointed at /dev/null so that no later flush raises."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141


def main() -> None:
    # every Python we start (daemon, workers) ignores its working directory on sys.path
    os.environ["PYTHONSAFEPATH"] = "1"
    os.umask(0o077)  # indexes hold the text of private code: files 0600, folders 0700
    try:
        _main()
    except KeyboardInterrupt:  # Ctrl-C before or after a command ran: 128 + SIGINT, quietly
        sys.exit(130)


def _main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["search"] and os.environ.get("CODELOUPE_DAEMON", "on") != "off":
        code = _via_daemon(argv)
        if isinstance(code, int):
            sys.exit(code)
        if os.environ.get("CODELOUPE_DAEMON") != "off":
            from indexer.cli.daemon import spawn_daemon
            from indexer.paths import default_index_root

            spawn_daemon(default_index_root())  # warm for the next search
    from indexer.cli import main as full_cli

    full_cli()
