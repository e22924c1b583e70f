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
