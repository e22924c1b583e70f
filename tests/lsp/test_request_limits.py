"""Slow requests cannot starve others, a cancelled search stops working, and a server-side time
limit stops the work itself (issue 23). A real client against a real server subprocess; the
server's CPU time is read from /proc."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled

from tests.conftest import make_repo
from tests.lsp.conftest import start_session, stop_session

LINE = "alpha beta gamma delta {n}\n"


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {f"logs/part{k:02}.txt": "".join(LINE.format(n=n) for n in range(30_000))
             for k in range(36)}  # 1,080,000 matching lines: seconds of work per search
    files["src/app.py"] = "def getTextSize(text):\n    return len(text)\n"
    return make_repo(tmp_path_factory.mktemp("limits") / "logs", files)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _quiet(pid: int, window: float = 1.0) -> float:
    """CPU seconds the server used over `window` seconds."""
    before = _cpu_seconds(pid)
    await asyncio.sleep(window)
    return _cpu_seconds(pid) - before


def _slow_search(client, msg_id: str) -> asyncio.Future:  # noqa: ANN001
    return asyncio.ensure_future(client.protocol.send_request_async(
        "codeloupe/search", {"query": "beta", "maxResults": 1_000_000}, msg_id=msg_id))


@pytest.mark.asyncio
async def test_slow_searches_do_not_hold_up_symbols_and_cancel_stops_them(
        big_repo: Path, tmp_path: Path) -> None:
    session, client = await start_session(big_repo, tmp_path / "index")
    try:
        await session.wait_indexed()
        await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="getTextSize"))
        pid = client._server.pid
        searches = [_slow_search(client, f"slow-{i}") for i in range(4)]
        await asyncio.sleep(0.3)
        started = time.monotonic()
        symbols = await asyncio.wait_for(client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="getTextSize")), 30)
        took = time.monotonic() - started
        status = await asyncio.wait_for(session.request("codeloupe/status",
                                                        {"checkFresh": False}), 30)
        assert [s.name for s in symbols] == ["getTextSize"]
        assert status["folders"][0]["state"] == "ready"
        assert not all(s.done() for s in searches), "the searches ended too soon to tell"
        assert took < 3.0, f"workspace/symbol took {took:.1f} s behind four searches"
        for i in range(4):
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=f"slow-{i}"))
        for search in searches:
            with pytest.raises(JsonRpcRequestCancelled):
                await asyncio.wait_for(search, 20)
        used = await _quiet(pid)
        assert used < 0.3, f"the server used {used:.2f} s of CPU after every search was cancelled"
    finally:
        assert await stop_session(session) == 0


@pytest.mark.asyncio
async def test_the_time_limit_stops_the_work(big_repo: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # a tenth of a second: on a quiet machine the "slow" search finished inside 1 s
    monkeypatch.setenv("CODELOUPE_REQUEST_TIME_LIMIT_S", "0.1")
    session, client = await start_session(big_repo, tmp_path / "index")
    try:
        await session.wait_indexed()
        pid = client._server.pid
        started = time.monotonic()
        with pytest.raises(JsonRpcException) as info:
            await asyncio.wait_for(_slow_search(client, "limited"), 20)
        took = time.monotonic() - started
        assert info.value.code == -32803 and "time limit" in info.value.message
        assert took < 3.0, took
        used = await _quiet(pid)
        assert used < 0.3, f"the server used {used:.2f} s of CPU after the time limit"
        small = await session.search(query="getTextSize")  # still serving
        assert [r["path"] for r in small["results"]] == ["src/app.py"]
    finally:
        assert await stop_session(session) == 0


@pytest.mark.asyncio
async def test_mcp_tools_have_the_time_limit_too(big_repo: Path, tmp_path: Path) -> None:
    """A tool call that runs past the limit is stopped (a tool error saying so), and the next
    call, which waits for the same lock, is answered at once."""
    import sys

    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = {"CODELOUPE_INDEX_DIR": str(tmp_path / "index"), "CODELOUPE_DAEMON": "off",
           "CODELOUPE_REQUEST_TIME_LIMIT_S": "0.2", "PYTHONPATH": os.pathsep.join(sys.path)}
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "indexer", "mcp", "--repo", str(big_repo)],
                                   env=env, cwd=str(big_repo))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await asyncio.wait_for(client.initialize(), 60)
        warm = await asyncio.wait_for(client.call_tool("symbols", {"query": "getTextSize"}), 120)
        assert not warm.is_error, warm.content
        started = time.monotonic()
        # every line of logs/ matches and is dropped by the scope: 3 s of work unlimited
        slow = await asyncio.wait_for(client.call_tool(
            "search", {"query": "\\w", "regex": True, "case": "ignore", "context": 2,
                       "paths": ["src"], "limit": 10}), 30)
        took = time.monotonic() - started
        assert slow.is_error and "time limit" in slow.content[0].text, slow.content
        assert took < 30, took  # stopped, not run to its end (wall time: no tighter bound)
        started = time.monotonic()
        quick = await asyncio.wait_for(client.call_tool("symbols", {"query": "getTextSize"}), 30)
        assert not quick.is_error and "getTextSize" in quick.content[0].text
        assert time.monotonic() - started < 15  # the lock was let go (a loaded machine)
        huge = await client.call_tool("search", {"query": "x" * 200_000})
        assert huge.is_error and "traceback" not in huge.content[0].text.lower()


@pytest.mark.asyncio
async def test_ask_and_context_answer_while_another_process_writes_the_index(
        tmp_path: Path) -> None:
    """codeloupe/ask and /context used to wait on the index's write lock (up to 10 minutes)
    and on the server's own indexing waiting for it, holding a worker all along."""
    import fcntl

    from indexer.store.index_store import index_dir_for
    from tests.lsp.conftest import build_repo

    repo = build_repo(tmp_path / "project")
    index_root = tmp_path / "index"
    session, client = await start_session(repo, index_root)
    fd = None
    try:
        await session.wait_indexed()
        fd = os.open(index_dir_for(repo.resolve(), index_root) / "write.lock",
                     os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)  # another codeloupe process is writing the index
        (repo / "src/widgets.py").write_text("def renamed_widget():\n    return 1\n")
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=(repo / "src/widgets.py").as_uri())))
        await asyncio.sleep(1.0)  # the re-index starts, and waits for the lock
        for method, params in [("codeloupe/ask", {"query": "make a widget"}),
                               ("codeloupe/context", {"task": "make a widget"})]:
            started = time.monotonic()
            answer = await asyncio.wait_for(session.request(method, params), 20)
            assert answer, method
            assert time.monotonic() - started < 10, method
    finally:
        if fd is not None:
            os.close(fd)
        assert await stop_session(session) == 0
