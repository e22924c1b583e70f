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
