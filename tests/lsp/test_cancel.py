"""Cancellation: `$/cancelRequest` stops a waiting search; cancelling the indexing progress
stops the indexing and leaves a server that can index again.

To make the work last, the test holds the index's write lock itself (as another codeloupe
process would): the server's indexing waits for it, and searches wait for the index.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from indexer.store.index_store import index_dir_for
from tests.conftest import make_repo
from tests.lsp.conftest import build_repo, start_session, stop_session


@pytest.mark.asyncio
async def test_cancel_search_and_indexing(tmp_path: Path) -> None:
    repo = build_repo(tmp_path / "project")
    index_root = tmp_path / "index"
    store = index_dir_for(repo.resolve(), index_root)
    store.mkdir(parents=True)
    fd: int | None = os.open(store / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
    assert fd is not None
    fcntl.flock(fd, fcntl.LOCK_EX)
    session, client = await start_session(repo, index_root)
    try:
        recorder = session.recorder
        await recorder.wait_for(lambda: any(client.progress_reports.values()))
        token = next(t for t, reports in client.progress_reports.items() if reports)
        await recorder.wait_for(lambda: any(
            isinstance(r, types.WorkDoneProgressReport) and "writing the index" in (
                r.message or "") for r in client.progress_reports[token]))

        pending = asyncio.ensure_future(client.protocol.send_request_async(
            "codeloupe/search", {"query": "target"}, msg_id="search-to-cancel"))
        await asyncio.sleep(0.3)
        assert not pending.done()  # waiting for the first index
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="search-to-cancel"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(pending, 10)

        client.protocol.notify(types.WINDOW_WORK_DONE_PROGRESS_CANCEL,
                               types.WorkDoneProgressCancelParams(token=token))
        await recorder.wait_for(lambda: isinstance(client.progress_reports[token][-1],
                                                   types.WorkDoneProgressEnd))
        assert "cancelled" in (client.progress_reports[token][-1].message or "")
        status = await session.request("codeloupe/status", {"checkFresh": False})
        assert status["folders"][0]["state"] == "error"
        assert "cancelled" in status["folders"][0]["error"]

        os.close(fd)
        fd = None
        result = await session.request("codeloupe/reindex", {})
        assert result["results"][0]["files"] == 5
        found = await session.search(query="getTextSize")
        assert [r["path"] for r in found["results"]] == ["src/widgets.py"]
    finally:
        if fd is not None:
            os.close(fd)
        assert await stop_session(session) == 0


@pytest.mark.asyncio
async def test_cancel_a_long_search(tmp_path: Path) -> None:
    """`$/cancelRequest` stops a search that is running (not just waiting): the answer is
    RequestCancelled, promptly, and the server goes on serving."""
    line = "alpha beta gamma delta {n}\n"
    files = {f"logs/part{k:02}.txt": "".join(line.format(n=n) for n in range(30_000))
             for k in range(36)}  # 36 files, 1,080,000 matching lines: seconds of work
    repo = make_repo(tmp_path / "logs", files)
    session, client = await start_session(repo, tmp_path / "index")
    try:
        await session.wait_indexed()
        loop = asyncio.get_running_loop()
        pending = asyncio.ensure_future(client.protocol.send_request_async(
            "codeloupe/search", {"query": "beta", "maxResults": 1_000_000},
            msg_id="long-search"))
        await asyncio.sleep(0.5)
        assert not pending.done(), "the search finished before it could be cancelled"
        cancelled_at = loop.time()
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="long-search"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(pending, 20)
        assert loop.time() - cancelled_at < 3.0
        small = await session.search(query="delta 29999", maxResults=5)
        assert small["stats"]["matchedLines"] == 5 and small["limitHit"] is True
    finally:
        assert await stop_session(session) == 0
