"""`codeloupe gc` in another process while the server runs: gc moves the working tree's blobs
to a new pack and unlinks the old one; the server's next search reloads its snapshot rather
than reading a pack that is gone."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from indexer.store.index_store import index_dir_for
from indexer.store.packs import pack_numbers
from tests.conftest import git, make_repo
from tests.lsp.conftest import start_session, stop_session


@pytest.mark.asyncio
async def test_search_after_gc_in_another_process(tmp_path: Path) -> None:
    bulky = {f"data/d{i}.txt": "".join(f"bulk {i}.{j} {'x' * 70}\n" for j in range(400))
             for i in range(12)}
    repo = make_repo(tmp_path / "repo", {"src/app.py": "def handler():\n    return 'marker'\n",
                                         **bulky}, "with data")
    old = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "rm", "-q", "-r", "data")
    git(repo, "commit", "-q", "-m", "drop data")
    index_root = tmp_path / "index"
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(index_root), "CODELOUPE_DAEMON": "off"}

    async def cli(*args: str) -> None:
        # not subprocess.run: the client shares this event loop and must keep answering
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "indexer", *args, "--repo", str(repo), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()

    await cli("index", "--rev", old)  # the old commit's bulky blobs share the pack
    session, client = await start_session(repo, index_root)
    try:
        await session.wait_indexed()
        packs = index_dir_for(repo.resolve(), index_root) / "packs"
        before = pack_numbers(packs)
        await cli("gc", "--keep-recent", "0")  # drops the old commit, rewrites the pack
        assert min(pack_numbers(packs)) > max(before)  # the pack the server knew is gone
        result = await asyncio.wait_for(session.search(query="marker"), 60)
        assert [f["path"] for f in result["results"]] == ["src/app.py"]
    finally:
        assert await stop_session(session) == 0
