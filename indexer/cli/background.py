"""The CLI's side of background embedding: hand an index's backlog to the search daemon (which
runs the low-priority worker, see indexer.embed.backlog), and `codeloupe status`."""

from __future__ import annotations

import json
import os
import socket
import struct
import time
from pathlib import Path

import click

FRAME = struct.Struct(">cI")
CONNECT_WAIT_S = 5.0


def _ask_daemon(request: dict) -> bytes | None:
    """Send one request to the daemon; its exit frame's payload, or None when none answers."""
    from indexer.paths import code_version, daemon_socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    try:
        sock.connect(str(daemon_socket()))
        sock.sendall(json.dumps({"version": code_version(), **request}).encode() + b"\n")
        while True:
            head = sock.recv(FRAME.size, socket.MSG_WAITALL)
            if len(head) < FRAME.size:
                return None
            kind, length = FRAME.unpack(head)
            payload = sock.recv(length, socket.MSG_WAITALL) if length else b""
            if kind == b"x":
                return payload
    except OSError:
        return None
    finally:
        sock.close()


def hand_to_daemon(index_dir: Path, repo_root: Path, rev: str | None) -> str:
    """Ask the search daemon (started if need be) to embed the index's backlog in the
    background; a line saying what happens."""
    if os.environ.get("CODELOUPE_DAEMON", "on") == "off":
        return ("not embedding in the background: the daemon is off (CODELOUPE_DAEMON=off); "
                "`codeloupe index --wait` embeds now")
    from indexer.cli.daemon import spawn_daemon
    from indexer.paths import daemon_socket, default_index_root

    request = {"embed": {"index_dir": str(index_dir), "repo": str(repo_root), "rev": rev}}
    last_spawn = -1.0
    deadline = time.monotonic() + CONNECT_WAIT_S
    while time.monotonic() < deadline:
        answer = _ask_daemon(request)
        if answer is not None and answer != b"restart":
            return "continuing in the background (the search daemon); `codeloupe status` " \
                   "shows the progress"
        # None running, or one from older code on its way out: start one (again after a
        # second, in case ours found the old one still holding the lock and gave up)
        if (answer == b"restart" or not daemon_socket().exists()) and \
                time.monotonic() - last_spawn > 1.0:
            spawn_daemon(default_index_root())
            last_spawn = time.monotonic()
        time.sleep(0.1)
    return "the search daemon did not answer: the rest is embedded by the next " \
           "`codeloupe index --wait`, or the language server"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def describe_job(job: dict | None) -> str:
    if not job:
        return "no background job"
    rate = job.get("rate")
    done, total = job.get("done") or 0, job.get("total") or 0
    pace = f", {rate:.0f} texts/s, ETA {_duration(job.get('eta_s'))}" if rate else ""
    return f"background embedding (pid {job.get('running')}): {done}/{total} texts{pace}"


@click.command()
@click.option("--rev", default=None, help="Branch, tag or commit (default: the working tree).")
@click.option("--repo", type=click.Path(file_okay=False),
              help="Repository (default: the one containing the current directory).")
@click.option("--index-dir", type=click.Path(file_okay=False), help="Index directory.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def status(rev: str | None, repo: str | None, index_dir: str | None, as_json: bool) -> None:
    """What the index holds: snapshot, files, chunks, the share embedded and glossed, and
    the background embedding job (its rate and ETA)."""
    from indexer.cli import _fail, _open_workspace
    from indexer.embed.backlog import embedding_state
    from indexer.errors import CodeloupeError

    try:
        ws = _open_workspace(repo, index_dir, None)
        state = embedding_state(ws, rev)
    except CodeloupeError as exc:
        _fail(str(exc))
        return
    from indexer.embed.devices import detect_accelerator

    state = {"repo": str(ws.root), "index_dir": str(ws.store.directory), **state,
             "accelerator": detect_accelerator()}
    if as_json:
        click.echo(json.dumps(state))
        return
    snapshot = "working tree" if state["snapshot"] == "worktree" else state["snapshot"][:12]
    click.echo(f"{state['repo']}  ({state['index_dir']})")
    click.echo(f"  snapshot {snapshot} at {(state['commit'] or '-')[:12]}: "
               f"{state['files']} files, {state['chunks']} chunks")
    click.echo(f"  embedded {state['embedded']:.0%} ({state['embedded_chunks']}/"
               f"{state['chunks']}), glossed {state['glossed']:.0%} "
               f"({state['gloss_provider']})")
    last = state.get("last_job") or {}
    line = describe_job(state["job"])
    if not state["job"] and last.get("state"):
        line += f" (last: {last['state']}" + (f", {last['rate']:.0f} texts/s" if
                                              last.get("rate") else "") + ")"
    click.echo(f"  {line}")
    click.echo(f"  embedding compute: {state['accelerator']['summary']}")
