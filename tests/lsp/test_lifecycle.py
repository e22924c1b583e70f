"""The server ends cleanly however the client leaves."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lsp.conftest import build_repo, start_session


@pytest.mark.asyncio
async def test_exit_without_shutdown_and_vanished_client(tmp_path: Path) -> None:
    repo = build_repo(tmp_path / "project")

    # exit without shutdown: exit code 1, as the spec says, and promptly
    session, client = await start_session(repo, tmp_path / "index")
    await session.wait_indexed()
    client.exit(None)
    code = await asyncio.wait_for(client._server.wait(), 15)
    assert code == 1
    with contextlib.suppress(Exception):
        await client.stop()

    # the client's pipe closes in the middle of things (an editor crash): the server ends
    session, client = await start_session(repo, tmp_path / "index")
    await session.wait_indexed()
    pending = asyncio.ensure_future(session.search(query="target"))
    await asyncio.sleep(0)
    client._server.stdin.close()
    await asyncio.wait_for(client._server.wait(), 15)
    pending.cancel()
    with contextlib.suppress(BaseException):
        await pending
    with contextlib.suppress(Exception):
        await client.stop()


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_stdin_from_a_regular_file(tmp_path: Path) -> None:
    """A pipe is read by the event loop; a regular file (no epoll) falls back to a thread."""
    repo = build_repo(tmp_path / "project")
    requests = tmp_path / "requests.bin"
    requests.write_bytes(
        _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"processId": None, "rootUri": None, "capabilities": {},
                           "workspaceFolders": [{"uri": repo.as_uri(), "name": "project"}]}})
        + _frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "index"),
           "CODELOUPE_DAEMON": "off"}
    with requests.open("rb") as stdin:
        done = subprocess.run([sys.executable, "-m", "lsp_server", "--stdio"], stdin=stdin,
                              capture_output=True, env=env, timeout=60)
    # the file ends: the server answers what it read, then ends as for a vanished client
    assert b'"id":1,"result":{"capabilities"' in done.stdout.replace(b" ", b"")


def _read_frame(stream) -> dict:  # noqa: ANN001 - a binary pipe
    length = 0
    while (line := stream.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    if not length:
        raise EOFError("the server closed its output")
    return json.loads(stream.read(length))


def test_each_request_answered_once_partials_first(tmp_path: Path) -> None:
    """Workers write their own answers (no hop back to the event loop). A burst of requests,
    half of them cancelled at once, still gets exactly one answer per id, and the partial
    results of a request all come before its answer."""
    repo = build_repo(tmp_path / "project")
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "index"),
           "CODELOUPE_DAEMON": "off"}
    burst = [{"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"processId": None, "rootUri": None, "capabilities": {},
                         "workspaceFolders": [{"uri": repo.as_uri(), "name": "project"}]}},
             {"jsonrpc": "2.0", "method": "initialized", "params": {}}]
    ids = list(range(10, 70))
    for n in ids:
        if n % 3 == 0:
            method, params = "workspace/symbol", {"query": "target", "partialResultToken": n}
        else:
            params = {"query": "target|def", "isRegex": True, "maxResults": 50}
            if n % 5 == 0:
                params["partialResultToken"] = f"p{n}"
            method = "codeloupe/search"
        burst.append({"jsonrpc": "2.0", "id": n, "method": method, "params": params})
        if n % 2:
            burst.append({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": n}})
    last = {"jsonrpc": "2.0", "id": 98, "method": "codeloupe/status", "params": {}}
    server = subprocess.Popen([sys.executable, "-m", "lsp_server", "--stdio"], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    assert server.stdin is not None and server.stdout is not None
    messages: list[dict] = []
    try:
        server.stdin.write(b"".join(_frame(r) for r in burst))
        server.stdin.flush()

        def read_until_answered(wanted: set[int]) -> None:
            while wanted:
                message = _read_frame(server.stdout)
                messages.append(message)
                if "method" not in message:
                    wanted.discard(message.get("id"))

        read_until_answered({1, *ids})
        server.stdin.write(_frame(last))  # anything late (a second answer) comes before it
        server.stdin.flush()
        read_until_answered({98})
        server.stdin.write(_frame({"jsonrpc": "2.0", "id": 99, "method": "shutdown"}))
        server.stdin.flush()
        read_until_answered({99})
        server.stdin.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
        server.stdin.close()
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()
    answers = [m["id"] for m in messages if "method" not in m]
    assert sorted(answers) == [1, *ids, 98, 99]  # each once: none lost, none twice
    position = {m["id"]: k for k, m in enumerate(messages) if "method" not in m}
    partials = 0
    for k, m in enumerate(messages):
        value = m.get("params", {}).get("value") if m.get("method") == "$/progress" else None
        if isinstance(value, list) or (isinstance(value, dict) and "results" in value):
            token = m["params"]["token"]
            n = token if isinstance(token, int) else int(str(token)[1:])
            assert k < position[n], f"a partial result of request {n} after its answer"
            partials += 1
    assert partials  # some were sent (not all of their requests were cancelled in time)
    assert any("result" in messages[position[n]] for n in ids)
