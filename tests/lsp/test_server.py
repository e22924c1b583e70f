"""End-to-end: the language server in a subprocess, driven by pytest-lsp's client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from lsp_server.server import CUSTOM_METHODS
from tests.lsp.conftest import UNICODE_LINE, Session
from tests.lsp.protocol_doc import DOC, json_blocks, schemas, validate

pytestmark = pytest.mark.asyncio(loop_scope="module")


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def file_result(response: dict[str, Any], path: str) -> dict[str, Any]:
    found = [r for r in response["results"] if r["path"] == path]
    assert found, f"{path} not in {[r['path'] for r in response['results']]}"
    return found[0]


def paths_of(response: dict[str, Any]) -> list[str]:
    return [r["path"] for r in response["results"]]


# --- startup --------------------------------------------------------------------------------


async def test_initialize_advertises_what_we_serve(session: Session) -> None:
    caps = session.result.capabilities
    assert session.result.server_info.name == "codeloupe"
    assert caps.position_encoding == types.PositionEncodingKind.Utf16  # utf-8 not offered
    assert caps.workspace_symbol_provider
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Full
    assert "codeloupe/search" in caps.experimental["codeloupe"]["methods"]


async def test_indexing_reported_progress_and_index_changed(session: Session) -> None:
    reports = [r for r in session.client.progress_reports.values() if r]
    assert reports, "no $/progress for the initial index"
    first = reports[0]
    assert isinstance(first[0], types.WorkDoneProgressBegin)
    assert first[0].cancellable
    assert isinstance(first[-1], types.WorkDoneProgressEnd)
    assert any(isinstance(r, types.WorkDoneProgressReport) and r.percentage is not None
               for r in first)
    changed = [n for n in session.recorder.index_changed if n["rev"] == "worktree"]
    assert changed[0]["folder"] == session.folder_uri
    assert changed[0]["files"] == 5


# --- symbols --------------------------------------------------------------------------------


async def test_workspace_symbol_camel_humps(session: Session) -> None:
    result = await asyncio.wait_for(session.client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="gTS")), 30)
    assert result, "no symbol for gTS"
    top = result[0]
    assert top.name == "getTextSize"
    assert top.kind == types.SymbolKind.Function
    assert top.location.uri == (session.repo / "src/widgets.py").as_uri()
    assert top.location.range.start == types.Position(line=5, character=4)
    assert top.location.range.end == types.Position(line=5, character=15)

    result = await session.client.workspace_symbol_async(types.WorkspaceSymbolParams(query="WF"))
    assert result[0].name == "WidgetFactory"
    method = await session.client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="make_widget"))
    assert method[0].container_name == "WidgetFactory"


async def test_workspace_symbol_partial_results(session: Session) -> None:
    token = "symbols-partial-1"
    result = await session.client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="gTS", partial_result_token=token))
    assert result == []
    batches = session.recorder.partial[token]
    assert batches[0][0]["name"] == "getTextSize"
    assert batches[0][0]["location"]["range"]["start"] == {"line": 5, "character": 4}


async def test_workspace_symbol_resolve_gives_the_full_range(session: Session) -> None:
    result = await session.client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="WidgetFactory"))
    resolved = await session.client.workspace_symbol_resolve_async(result[0])
    # whole lines: from the class's first line to the start of the line after its last
    assert resolved.location.range.start == types.Position(line=0, character=0)
    assert resolved.location.range.end == types.Position(line=3, character=0)


async def test_codeloupe_symbols_kind_filter_and_rev(session: Session) -> None:
    classes = await session.request("codeloupe/symbols", {"query": "w", "kinds": [5]})
    assert [s["name"] for s in classes["symbols"]] == ["WidgetFactory"]
    feature = await session.request("codeloupe/symbols",
                                    {"query": "featureOnly", "rev": "feature"})
    assert feature["symbols"][0]["name"] == "featureOnlyMarker"
    main = await session.request("codeloupe/symbols", {"query": "featureOnlyMarker"})
    assert all(s["name"] != "featureOnlyMarker" for s in main["symbols"])


# --- search ---------------------------------------------------------------------------------


async def test_search_regex_ranges_are_utf16(session: Session) -> None:
    response = await session.search(query=r"target_\w+", isRegex=True, isCaseSensitive=True)
    hit = file_result(response, "src/unicode_text.py")
    match = hit["matches"][0]
    assert match["line"] == 1
    assert match["text"] == UNICODE_LINE.rstrip("\n")
    start = UNICODE_LINE.index("target_value")
    assert match["ranges"] == [{
        "start": {"line": 1, "character": utf16(UNICODE_LINE[:start])},
        "end": {"line": 1, "character": utf16(UNICODE_LINE[:start + len("target_value")])}}]
    # the emoji is two UTF-16 units: the column differs from the code-point index
    assert utf16(UNICODE_LINE[:start]) == start + 1
    assert hit["uri"] == (session.repo / "src/unicode_text.py").as_uri()
    assert response["rev"] == "worktree"
    assert response["limitHit"] is False


async def test_search_case_and_whole_word(session: Session) -> None:
    insensitive = await session.search(query="target", includes=["src/unicode_text.py"])
    lines = file_result(insensitive, "src/unicode_text.py")["matches"]
    line1 = [m for m in lines if m["line"] == 1][0]
    assert len(line1["ranges"]) == 2  # target_value and Target
    sensitive = await session.search(query="Target", isCaseSensitive=True,
                                     includes=["src/unicode_text.py"])
    assert [m["line"] for m in sensitive["results"][0]["matches"]] == [1]
    words = await session.search(query="target", isWordMatch=True, isCaseSensitive=True,
                                 includes=["*.py"])
    assert "src/widgets.py" not in paths_of(words)  # only "targets" there
    unicode_lines = [m["line"] for m in file_result(words, "src/unicode_text.py")["matches"]]
    assert unicode_lines == [2]  # "target_value" is no whole word; line 3 "target = 3" is


async def test_search_include_and_exclude_globs(session: Session) -> None:
    everything = await session.search(query="target")
    assert set(paths_of(everything)) == {"docs/guide.md", "src/app.js", "src/unicode_text.py",
                                         "src/widgets.py", "tests/test_widgets.py"}
    python = await session.search(query="target", includes=["*.py"], excludes=["tests/**"])
    assert paths_of(python) == ["src/unicode_text.py", "src/widgets.py"]
    assert python["stats"]["matchedFiles"] == 2


async def test_search_max_results_and_context(session: Session) -> None:
    limited = await session.search(query="target", maxResults=2)
    assert sum(len(r["matches"]) for r in limited["results"]) == 2
    assert limited["limitHit"] is True
    context = await session.search(query="getTextSize", context=1, isCaseSensitive=True)
    matches = file_result(context, "src/widgets.py")["matches"]
    assert [(m["line"], m.get("context", False)) for m in matches] == [
        (4, True), (5, False), (6, True)]


async def test_search_another_branch_by_rev(session: Session) -> None:
    worktree = await session.search(query="featureOnlyMarker")
    assert worktree["results"] == []
    feature = await session.search(query="featureOnlyMarker", rev="feature")
    assert paths_of(feature) == ["src/feature_only.py"]
    assert feature["rev"] == "feature"
    assert feature["snapshots"][0]["commit"]
    match = feature["results"][0]["matches"][0]
    assert match["ranges"][0]["start"] == {"line": 0, "character": 4}
    with pytest.raises(JsonRpcInvalidParams, match="unknown revision"):
        await session.search(query="x", rev="no-such-branch")


async def test_unsaved_buffer_is_searched(session: Session) -> None:
    path = session.repo / "src/widgets.py"
    uri = path.as_uri()
    text = path.read_text()
    client = session.client
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                             text=text)))
    edited = text.replace("def parse_config(path):", "def parse_config(path):  # ü unsavedNeedle")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)]))
    try:
        response = await session.search(query="unsavedneedle")
        hit = file_result(response, "src/widgets.py")
        match = hit["matches"][0]
        assert match["line"] == 9
        line = "def parse_config(path):  # ü unsavedNeedle"
        col = utf16(line[:line.index("unsaved")])
        assert match["ranges"][0]["start"]["character"] == col
        assert response["stats"]["overlayFiles"] == 1
        assert "unsavedNeedle" not in path.read_text()  # nothing was written
        # the rest of the file is still found, from the buffer
        other = await session.search(query="getTextSize", isCaseSensitive=True)
        assert paths_of(other) == ["src/widgets.py"]
    finally:
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
    closed = await session.search(query="unsavedneedle")
    assert closed["results"] == []


async def test_symbols_of_an_unsaved_buffer(session: Session) -> None:
    path = session.repo / "src/app.js"
    uri = path.as_uri()
    text = path.read_text()
    client = session.client
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="javascript", version=1,
                                             text=text)))
    edited = text.replace("function startServer(port) {",
                          "function startServer(port) {\n  function ünsavedHelperFn() {}")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)]))
    try:
        found = await session.client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="nsavedHelperFn"))
        assert [s.name for s in found] == ["ünsavedHelperFn"]
        assert found[0].location.uri == uri
        assert found[0].location.range.start == types.Position(line=1, character=11)
        assert found[0].location.range.end == types.Position(line=1, character=26)
        assert found[0].container_name == "startServer"
        detailed = await session.request("codeloupe/symbols", {"query": "ünsavedHelperFn"})
        assert detailed["symbols"][0]["signature"].startswith("function ünsavedHelperFn")
        # the rest of the buffer's file still answers, from the buffer's positions
        server = await session.client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="startServer"))
        assert server[0].location.range.start == types.Position(line=0, character=9)
        assert "ünsavedHelperFn" not in path.read_text()  # nothing was written
    finally:
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
    closed = await session.client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="ünsavedHelperFn"))
    assert "ünsavedHelperFn" not in [s.name for s in closed]


async def test_partial_results_stream_through_progress(session: Session) -> None:
    token = "search-partial-1"
    response = await session.search(query="target", partialResultToken=token)
    assert response["results"] == []
    batches = session.recorder.partial.get(token, [])
    streamed = [r["path"] for batch in batches for r in batch["results"]]
    assert "src/widgets.py" in streamed and len(streamed) == 5


# --- bad input ------------------------------------------------------------------------------


async def test_invalid_regex_is_an_error_with_the_position(session: Session) -> None:
    with pytest.raises(JsonRpcInvalidParams) as info:
        await session.search(query="foo(bar", isRegex=True)
    assert "position 3" in str(info.value.message)  # the unclosed group opens at 3
    assert info.value.data["position"] == 3
    with pytest.raises(JsonRpcInvalidParams, match="position"):
        await session.search(query=r"(a)\1", isRegex=True)
    # the server is alive and well
    after = await session.search(query="getTextSize")
    assert paths_of(after) == ["src/widgets.py"]


async def test_huge_patterns_and_globs_are_refused_at_once(session: Session) -> None:
    # issue 23: a 10 MB literal and a 1 MB `*` glob never answered (the planner was cubic);
    # the server's edge refuses them by size (the engine's own limits: test_hostile_patterns)
    with pytest.raises(JsonRpcInvalidParams, match="at most 100,000"):
        await session.search(query="a" * (10 << 20))
    with pytest.raises(JsonRpcInvalidParams, match="at most 4,096"):
        await session.search(query="target", includes=["*" * (1 << 20)])
    with pytest.raises(JsonRpcInvalidParams, match="4,096"):
        await session.search(query="target", includes=["{a,b}" * 20])
    after = await session.search(query="getTextSize")  # and the server is well
    assert paths_of(after) == ["src/widgets.py"]


async def test_paths_outside_the_workspace_are_refused(session: Session) -> None:
    with pytest.raises(JsonRpcInvalidParams, match="refused"):
        await session.search(query="root", folder="/etc")
    with pytest.raises(JsonRpcInvalidParams, match="refused"):
        await session.search(query="root", paths=["/etc/passwd"])
    with pytest.raises(JsonRpcInvalidParams, match="refused"):
        await session.search(query="root", paths=["../../etc"])
    with pytest.raises(JsonRpcInvalidParams, match="refused"):
        await session.request("codeloupe/status", {"folder": "file:///etc"})
    scoped = await session.search(query="target", paths=["src"])
    assert all(p.startswith("src/") for p in paths_of(scoped)) and paths_of(scoped)


async def test_malformed_params_are_invalid_params(session: Session) -> None:
    with pytest.raises(JsonRpcInvalidParams, match="'query' must be a string"):
        await session.request("codeloupe/search", {"query": 42})
    with pytest.raises(JsonRpcInvalidParams, match="'query' is required"):
        await session.request("codeloupe/search", {})
    with pytest.raises(JsonRpcInvalidParams, match="must be an object"):
        await session.request("codeloupe/search", [1, 2])
    with pytest.raises(JsonRpcInvalidParams, match="maxResults"):
        await session.search(query="x", maxResults=0)
    with pytest.raises(JsonRpcInvalidParams, match="invalid params"):
        await session.request_raw("workspace/symbol", {"notAQuery": 7})
    with pytest.raises(JsonRpcInvalidParams, match="workspace/symbol: invalid params"):
        await session.request_raw("workspace/symbol", "not an object")
    with pytest.raises(JsonRpcInvalidParams, match="'kinds' holds values"):
        await session.request("codeloupe/symbols", {"query": "x", "kinds": [0, 99]})
    with pytest.raises(JsonRpcInvalidParams, match="'limit' must be between"):
        await session.request("codeloupe/symbols", {"query": "x", "limit": 10**9})
    with pytest.raises(JsonRpcInvalidParams, match="'context' must be"):
        await session.search(query="x", context="lots")
    with pytest.raises(JsonRpcInvalidParams, match="'isRegex' must be true or false"):
        await session.search(query="x", isRegex="yes")
    with pytest.raises(JsonRpcInvalidParams, match="'paths' must be a list of strings"):
        await session.search(query="x", paths=[1])
    with pytest.raises(JsonRpcInvalidParams, match="'partialResultToken'"):
        await session.search(query="x", partialResultToken={"a": 1})
    status = await session.request("codeloupe/status", {"checkFresh": False})
    assert status["folders"][0]["state"] == "ready"


# --- status, branches, reindex, watching ----------------------------------------------------


async def test_status_and_branches(session: Session) -> None:
    status = await session.request("codeloupe/status", {})
    folder = status["folders"][0]
    assert folder["root"] == str(session.repo)
    assert folder["fresh"] is True
    assert status["positionEncoding"] == "utf-16"
    worktree = [s for s in folder["snapshots"] if s["name"] == "worktree"][0]
    assert worktree["files"] == 5
    branches = await session.request("codeloupe/branches", {})
    info = branches["folders"][0]
    names = {r["name"]: r for r in info["refs"]}
    assert set(names) >= {"main", "feature"}
    assert names["feature"]["indexed"] is True  # searched above
    assert info["head"]["branch"] == "main"


async def test_reindex_of_a_rev(session: Session) -> None:
    response = await session.request("codeloupe/reindex", {"rev": "main"})
    result = response["results"][0]
    assert result["files"] == 5 and result["commit"]


async def test_file_changes_on_disk_are_picked_up(session: Session) -> None:
    before = len(session.recorder.index_changed)
    new_file = session.repo / "src" / "fresh_module.py"
    new_file.write_text("def freshlyWrittenFunction():\n    return 'watch me'\n")
    try:
        await session.wait_indexed(after=before)
        response = await session.search(query="freshlyWrittenFunction")
        assert paths_of(response) == ["src/fresh_module.py"]
        symbols = await session.client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="fWF"))
        assert symbols[0].name == "freshlyWrittenFunction"
    finally:
        new_file.unlink()
    # the deletion is picked up by a re-index after it; the creation may have caused more than
    # one (created, then modified), so wait for the answer, not for one more notification
    for _ in range(300):
        seen = len(session.recorder.index_changed)
        gone = await session.search(query="freshlyWrittenFunction")
        if gone["results"] == []:
            break
        await session.wait_indexed(after=seen)
    assert gone["results"] == []


# --- the protocol document matches the server -----------------------------------------------


async def test_protocol_doc_schemas_match_responses(session: Session) -> None:
    docs = schemas()
    text = DOC.read_text()
    assert json_blocks()  # every block parses
    for method in CUSTOM_METHODS:
        assert f"## `{method}`" in text or f"`{method}`" in text, method
    calls = {
        "codeloupe/search": {"query": "target", "context": {"before": 1, "after": 0}},
        "codeloupe/symbols": {"query": "WF", "rev": "main"},
        "codeloupe/status": {},
        "codeloupe/branches": {},
        "codeloupe/reindex": {},
        "codeloupe/ask": {"query": "text size", "k": 2},
        "codeloupe/context": {"task": "explain the text size code", "budget": 600},
    }
    for method, params in calls.items():
        assert not validate(params, docs[f"{method} params"]), method
        result = await session.request(method, params)
        errors = validate(result, docs[f"{method} result"])
        assert not errors, (method, errors)
    notification = session.recorder.index_changed[0]
    assert not validate(notification, docs["codeloupe/indexChanged params"])
