"""The server ends cleanly however the client leaves."""

from __future__ import annotations

import asyncio
import contextlib
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
