"""The language server embeds a repository's backlog in a background worker, reports it with
`$/progress` ("Embedding <folder>") and `codeloupe/status`, answers `codeloupe/ask` before it
is done (saying what share is embedded), and stops the worker on shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from indexer.embed.backlog import running_pid
from tests.lsp.conftest import start_session, stop_session
from tests.test_background_embed import big_repo

pytestmark = pytest.mark.asyncio


def embedding_reports(session) -> list:  # noqa: ANN001
    for reports in session.client.progress_reports.values():
        if reports and isinstance(reports[0], types.WorkDoneProgressBegin) and \
                reports[0].title.startswith("Embedding "):
            return reports
    return []


async def test_backlog_is_embedded_in_the_background_with_progress(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODELOUPE_EMBEDDING_PRIORITY", "normal")
    repo = big_repo(tmp_path / "repo")
    session, _ = await start_session(repo, tmp_path / "indexes")
    try:
        await session.wait_indexed()
        await session.recorder.wait_for(lambda: len(embedding_reports(session)) > 1, 120)
        status = await session.request("codeloupe/status", {"checkFresh": False})
        index_dir = Path(status["folders"][0]["indexDir"])
        early = await session.request("codeloupe/ask", {"query": "price of sending a parcel"})
        if early["embedded"] < 1.0:  # answered at once, saying how much is embedded
            assert any("embedded so far" in n for n in early["notes"])
        assert early["results"][0]["name"] == "shipping_cost"
        await session.recorder.wait_for(
            lambda: isinstance(embedding_reports(session)[-1], types.WorkDoneProgressEnd), 240)
        reports = embedding_reports(session)
        assert reports[0].cancellable
        assert any(isinstance(r, types.WorkDoneProgressReport) and r.percentage is not None
                   and "/s" in (r.message or "") for r in reports)
        assert reports[-1].message == "all chunks embedded"
        status = await session.request("codeloupe/status", {"checkFresh": False})
        embedding = status["folders"][0]["embedding"]
        assert embedding["state"] == "done" and embedding["running"] is None
        answer = await session.request("codeloupe/ask", {"query": "price of sending a parcel"})
        assert answer["embedded"] == 1.0 and not answer["notes"]
        pack = await session.request("codeloupe/context", {"task": "parcel prices",
                                                           "budget": 800})
        assert pack["embedded"] == 1.0
    finally:
        code = await stop_session(session)
    assert code == 0
    assert running_pid(index_dir) is None


async def test_shutdown_stops_a_running_worker(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODELOUPE_EMBEDDING_PRIORITY", "normal")
    repo = big_repo(tmp_path / "repo", functions=1600)
    session, _ = await start_session(repo, tmp_path / "indexes")
    try:
        await session.wait_indexed()
        await session.recorder.wait_for(lambda: len(embedding_reports(session)) > 1, 120)
        status = await session.request("codeloupe/status", {"checkFresh": False})
        index_dir = Path(status["folders"][0]["indexDir"])
        assert running_pid(index_dir) is not None
    finally:
        code = await stop_session(session)
    assert code == 0
    assert running_pid(index_dir) is None  # stopped by pid; the backlog resumes next time
