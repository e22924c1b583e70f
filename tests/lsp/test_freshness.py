"""Files changed on disk are searched (and their symbols found) before the re-index has run:
the server reads them from disk until the index catches up.

To make "before the re-index" certain, the test holds the index's write lock itself (as
another codeloupe process would), so the re-index the watcher triggers waits."""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path

import pytest
from lsprotocol import types

from indexer.store.index_store import index_dir_for
from tests.lsp.conftest import Session, build_repo, start_session, stop_session


async def until(check, timeout: float = 15.0):  # noqa: ANN001, ANN201
    """Poll an async check until it returns something true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)


async def paths(session: Session, query: str) -> tuple[list[str], int]:
    found = await session.search(query=query, isCaseSensitive=True)
    return [r["path"] for r in found["results"]], found["stats"]["overlayFiles"]


@pytest.mark.asyncio
async def test_changes_on_disk_are_seen_before_the_reindex(tmp_path: Path) -> None:
    repo = build_repo(tmp_path / "project")
    index_root = tmp_path / "index"
    session, _ = await start_session(repo, index_root)
    fd = None
    try:
        await session.wait_indexed()
        # the first symbols are built too (they need the lock we are about to take)
        await asyncio.wait_for(session.client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="getTextSize")), 60)
        before = len(session.recorder.index_changed)
        fd = os.open(index_dir_for(repo.resolve(), index_root) / "write.lock",
                     os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)  # the re-index waits for us

        (repo / "src" / "fresh.py").write_text("def diskOnlyFunction():\n    return 1\n")
        widgets = repo / "src" / "widgets.py"
        widgets.write_text(widgets.read_text().replace("parse_config", "parse_settings"))
        (repo / "src" / "app.js").unlink()

        async def fresh_seen() -> bool:
            return (await paths(session, "diskOnlyFunction"))[0] == ["src/fresh.py"]

        assert await until(fresh_seen), "a new file on disk was not searched"
        found, overlaid = await paths(session, "parse_settings")
        assert found == ["src/widgets.py"] and overlaid >= 1
        assert (await paths(session, "parse_config"))[0] == []  # the indexed text is hidden
        assert (await until(lambda: _gone(session, "startServer")))  # deleted on disk
        symbols = await asyncio.wait_for(session.client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="diskOnlyFunction")), 30)
        assert [s.name for s in symbols] == ["diskOnlyFunction"]
        assert symbols[0].location.range.start == types.Position(line=0, character=4)
        assert len(session.recorder.index_changed) == before  # nothing was re-indexed yet

        os.close(fd)
        fd = None
        await session.wait_indexed(after=before)  # the re-index ran; answers from the index
        found, overlaid = await paths(session, "diskOnlyFunction")
        assert found == ["src/fresh.py"] and overlaid == 0
    finally:
        if fd is not None:
            os.close(fd)
        assert await stop_session(session) == 0


async def _gone(session: Session, query: str) -> bool:
    return (await paths(session, query))[0] == []
