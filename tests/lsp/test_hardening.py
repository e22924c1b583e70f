"""Hardening: a request that crashes does not take the server down, and a client that
vanishes mid-work leaves no worker process and no index lock behind."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError

from indexer.repo import WORKTREE
from indexer.store.index_store import index_dir_for
from indexer.workspace import Workspace
from tests.conftest import make_repo
from tests.lsp.conftest import build_repo, start_session, stop_session


@pytest.mark.asyncio
async def test_a_crashing_request_leaves_the_server_serving(tmp_path: Path) -> None:
    repo = build_repo(tmp_path / "project")
    index_root = tmp_path / "index"
    session, client = await start_session(repo, index_root)
    try:
        await session.wait_indexed()
        # another process (the CLI, say) indexes a branch; then its manifest gets corrupted
        def corrupt_a_branch() -> None:
            ws = Workspace.open(repo, index_dir=index_dir_for(repo.resolve(), index_root))
            try:
                name = ws.index("feature").name
                record = ws.store.catalog.snapshot(name)
                assert record is not None and name != WORKTREE
                ws.store.manifest_path(record.manifest).write_bytes(b"\x00garbage")
            finally:
                ws.close()

        await asyncio.to_thread(corrupt_a_branch)  # the client's loop keeps answering
        with pytest.raises(JsonRpcInternalError):
            await session.search(query="featureOnlyMarker", rev="feature")
        with pytest.raises(JsonRpcInternalError):
            await session.request("codeloupe/symbols", {"query": "x", "rev": "feature"})
        # everything else still works, in the same process
        assert client._server.returncode is None
        found = await session.search(query="getTextSize")
        assert [r["path"] for r in found["results"]] == ["src/widgets.py"]
        symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="gTS"))
        assert symbols[0].name == "getTextSize"
        status = await session.request("codeloupe/status", {"checkFresh": False})
        assert status["folders"][0]["state"] == "ready"
    finally:
        assert await stop_session(session) == 0


def _children(pid: int) -> set[int]:
    """Processes whose parent is `pid`, from /proc."""
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.add(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.asyncio
async def test_a_vanished_client_leaves_no_worker_and_no_lock(tmp_path: Path) -> None:
    # enough files for the enrich stage to start its worker processes
    files = {f"pkg/mod_{i:03}.py": f"def function_{i}(x):\n    return x + {i}\n\n\n"
             f"class Thing{i}:\n    def method(self):\n        return {i}\n" * 40
             for i in range(400)}
    repo = make_repo(tmp_path / "big", files)
    index_root = tmp_path / "index"
    session, client = await start_session(repo, index_root)
    server = client._server
    assert server is not None
    recorder = session.recorder

    def enriching() -> bool:
        return any(isinstance(r[0], types.WorkDoneProgressBegin) and
                   r[0].title.startswith("Symbols of") and
                   not isinstance(r[-1], types.WorkDoneProgressEnd)
                   for r in client.progress_reports.values() if r)

    await recorder.wait_for(enriching, timeout=60)
    workers = _children(server.pid)
    assert len(workers) >= 2, workers  # the enrich stage's process pool
    server.stdin.close()  # the editor crashed
    assert await asyncio.wait_for(server.wait(), 30) is not None
    deadline = asyncio.get_running_loop().time() + 15
    while any(_alive(pid) for pid in workers) and \
            asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "worker processes outlived the server"
    fd = os.open(index_dir_for(repo.resolve(), index_root) / "write.lock",
                 os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody holds the index's lock
    finally:
        os.close(fd)
    with contextlib.suppress(Exception):
        await client.stop()
