"""`codeloupe mcp` driven by the MCP SDK's own stdio client: list the tools, call them, and
get tool errors (not crashes) for bad arguments."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.lsp.conftest import build_repo

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def mcp_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_repo(tmp_path_factory.mktemp("mcp") / "project")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(mcp_repo: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[ClientSession]:
    env = {"CODELOUPE_INDEX_DIR": str(tmp_path_factory.mktemp("mcp-index")),
           "CODELOUPE_DAEMON": "off", "PYTHONPATH": os.pathsep.join(sys.path)}
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "indexer", "mcp", "--repo", str(mcp_repo)],
                                   env=env, cwd=str(mcp_repo))
    ready: asyncio.Future[ClientSession] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def hold() -> None:
        # anyio's scopes must be left by the task that entered them: one task owns the session
        try:
            async with stdio_client(params) as (read, write), \
                    ClientSession(read, write) as session:
                await session.initialize()
                ready.set_result(session)
                await done.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    owner = asyncio.create_task(hold())
    session = await asyncio.wait_for(ready, 60)
    yield session
    done.set()
    await asyncio.wait_for(owner, 30)


async def call(client: ClientSession, tool: str, arguments: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    structured = result.structured_content
    assert structured == json.loads(result.content[0].text)  # text mirrors the structure
    return structured


async def error_of(client: ClientSession, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result
    return result.content[0].text


async def test_lists_the_tools_with_schemas(client: ClientSession) -> None:
    listed = await client.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == {"search", "symbols", "ask", "context"}
    schema = tools["search"].input_schema
    assert schema["required"] == ["query"]
    assert {"regex", "case", "whole_word", "globs", "paths", "rev", "limit", "max_per_file",
            "context"} <= set(schema["properties"])
    assert tools["symbols"].description and "getTextSize" in tools["symbols"].description


async def test_search_literal_regex_and_options(client: ClientSession) -> None:
    found = await call(client, "search", {"query": "getTextSize"})
    assert found["rev"] == "worktree" and found["limitHit"] is False
    assert [f["path"] for f in found["files"]] == ["src/widgets.py"]
    line = found["files"][0]["lines"][0]
    assert line == {"line": 6, "ranges": [[4, 15]], "text": "def getTextSize(text):"}

    regex = await call(client, "search", {"query": r"target_\w+", "regex": True,
                                          "case": "sensitive"})
    hit = regex["files"][0]["lines"][0]
    assert regex["files"][0]["path"] == "src/unicode_text.py"
    assert hit["text"][hit["ranges"][0][0]:hit["ranges"][0][1]] == "target_value"  # characters

    words = await call(client, "search", {"query": "target", "whole_word": True,
                                          "globs": ["*.py", "!tests/**"]})
    assert [f["path"] for f in words["files"]] == ["src/unicode_text.py"]

    limited = await call(client, "search", {"query": "target", "limit": 2, "context": 1})
    assert limited["matchedLines"] == 2 and limited["limitHit"] is True
    assert any(line.get("context") for f in limited["files"] for line in f["lines"])

    scoped = await call(client, "search", {"query": "target", "paths": ["tests"]})
    assert [f["path"] for f in scoped["files"]] == ["tests/test_widgets.py"]


async def test_search_another_branch(client: ClientSession) -> None:
    feature = await call(client, "search", {"query": "featureOnlyMarker", "rev": "feature"})
    assert [f["path"] for f in feature["files"]] == ["src/feature_only.py"]
    assert feature["commit"]
    worktree = await call(client, "search", {"query": "featureOnlyMarker"})
    assert worktree["files"] == []


async def test_symbols(client: ClientSession) -> None:
    found = await call(client, "symbols", {"query": "gTS"})
    top = found["symbols"][0]
    assert (top["name"], top["kind"], top["path"], top["line"]) == (
        "getTextSize", "function", "src/widgets.py", 6)
    assert found["complete"] is True
    classes = await call(client, "symbols", {"query": "w", "kinds": ["class"]})
    assert [s["name"] for s in classes["symbols"]] == ["WidgetFactory"]
    method = await call(client, "symbols", {"query": "make_widget"})
    assert method["symbols"][0]["container"] == "WidgetFactory"
    assert method["symbols"][0]["qualifiedName"] == "WidgetFactory.make_widget"
    feature = await call(client, "symbols", {"query": "featureOnly", "rev": "feature"})
    assert feature["symbols"][0]["name"] == "featureOnlyMarker"


async def test_bad_arguments_are_tool_errors(client: ClientSession) -> None:
    assert "position 3" in await error_of(client, "search", {"query": "foo(bar", "regex": True})
    assert "limit" in await error_of(client, "search", {"query": "x", "limit": 0})
    assert "query" in await error_of(client, "search", {"limit": 5})
    assert "case" in await error_of(client, "search", {"query": "x", "case": "upper"})
    assert "unknown revision" in await error_of(client, "search",
                                                {"query": "x", "rev": "no-such-branch"})
    assert "refused" in await error_of(client, "search", {"query": "root",
                                                          "paths": ["/etc/passwd"]})
    assert "refused" in await error_of(client, "search", {"query": "root",
                                                          "paths": ["../../etc"]})
    assert "refused" in await error_of(client, "symbols", {"query": "x", "paths": [".git"]})
    assert "unknown kind" in await error_of(client, "symbols", {"query": "x",
                                                                "kinds": ["gizmo"]})
    assert "no_such_tool" in await error_of(client, "no_such_tool", {})
    # the server is still serving
    again = await call(client, "search", {"query": "getTextSize"})
    assert again["files"]


async def test_ask_and_context(client: ClientSession) -> None:
    answer = await call(client, "ask", {"question": "where is the config parsed?", "k": 3})
    assert answer["results"] and answer["embedded"] == 1.0
    first = answer["results"][0]
    assert {"path", "start_line", "end_line", "name", "score", "signals"} <= set(first)
    files = await call(client, "ask", {"question": "where is the config parsed?", "k": 2,
                                       "files": True})
    assert files["files"] and files["files"][0]["evidence"]
    pack = await call(client, "context", {"query": "parse the config", "budget_tokens": 800})
    assert 0 < pack["tokens"] <= 800 and pack["blocks"] and pack["text"]
    assert "refused" in await error_of(client, "ask", {"question": "x",
                                                       "paths": ["/etc/passwd"]})
