"""`codeloupe/ask` and `codeloupe/context` through a real LSP session (pytest-lsp client)."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from tests.lsp.conftest import Session

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_ask_returns_ranked_chunks_with_uris_and_signals(session: Session) -> None:
    answer = await session.request("codeloupe/ask", {"query": "text size of a string", "k": 3})
    assert answer["rev"] == "worktree" and answer["embedded"] == 1.0
    first = answer["results"][0]
    assert first["uri"].startswith("file://") and first["folder"] == session.folder_uri
    for key in ("path", "start_line", "end_line", "name", "kind", "score", "signals",
                "preview"):
        assert key in first
    scoped = await session.request("codeloupe/ask", {"query": "size", "globs": ["*.md"]})
    assert all(r["path"].endswith(".md") for r in scoped["results"])


async def test_ask_files_ranks_files_with_their_evidence(session: Session) -> None:
    answer = await session.request("codeloupe/ask", {"query": "text size of a string",
                                                     "k": 3, "files": True})
    files = answer["files"]
    assert files and len(files) <= 3 and len({f["path"] for f in files}) == len(files)
    assert files[0]["uri"].startswith("file://") and files[0]["evidence"]
    assert all(e["path"] == files[0]["path"] for e in files[0]["evidence"])
    plain = await session.request("codeloupe/ask", {"query": "text size of a string"})
    assert "files" not in plain


async def test_context_packs_the_selection_first_under_the_budget(session: Session) -> None:
    target = next(p for p in session.repo.rglob("*.py") if ".git" not in p.parts)
    pack = await session.request("codeloupe/context", {
        "task": "explain this code", "budget": 1200,
        "selection": {"uri": target.as_uri(),
                      "range": {"start": {"line": 0, "character": 0},
                                "end": {"line": 2, "character": 0}}}})
    assert 0 < pack["tokens"] <= 1200 and pack["encoding"]
    assert pack["blocks"][0]["reasons"] == ["selection"]
    assert pack["blocks"][0]["start_line"] == 1 and pack["blocks"][0]["end_line"] == 2
    assert pack["text"].count("### ") == len(pack["blocks"])


async def test_bad_semantic_requests_are_invalid_params(session: Session) -> None:
    with pytest.raises(JsonRpcInvalidParams, match="query"):
        await session.request_raw("codeloupe/ask", {"query": ""})
    with pytest.raises(JsonRpcInvalidParams, match="outside"):
        await session.request_raw("codeloupe/context", {"task": "x",
                                                        "file": "file:///etc/passwd",
                                                        "line": 1})
