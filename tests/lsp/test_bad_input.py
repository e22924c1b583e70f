"""Bad input is refused at the edge (issue 23): one bad `didOpen` cannot break other requests,
malformed params get InvalidParams (-32602) with a clear message, and no error carries a
server traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.lsp.conftest import Session

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _send_notification(session: Session, method: str, params: object) -> None:
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params})
    session.client.protocol.writer.write(f"Content-Length: {len(body)}\r\n\r\n{body}".encode())


async def _error_of(session: Session, method: str, params: object) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as info:
        await session.request_raw(method, params)
    return info.value


async def _healthy(session: Session) -> None:
    symbols = await session.client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="getTextSize"))
    assert [s.name for s in symbols][:1] == ["getTextSize"]
    found = await session.search(query="getTextSize")
    assert [r["path"] for r in found["results"]] == ["src/widgets.py"]
    symbols = await session.request("codeloupe/symbols", {"query": "getTextSize"})
    assert symbols


async def test_a_bad_document_uri_breaks_nothing(session: Session, lsp_repo: Path) -> None:
    bad_uris = [f"{lsp_repo.as_uri()}/src/a%00b.py", "file:///%00", f"{lsp_repo.as_uri()}%00",
                "untitled:Untitled-1", "http://example.com/x.py", "file://remote/x.py",
                "file:relative.py", "", "file:///" + "a/" * 3000 + "x.py",
                f"{lsp_repo.as_uri()}/%ff%fe.py", f"{lsp_repo.as_uri()}/../outside.py"]
    for uri in bad_uris:
        _send_notification(session, "textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": "hostile_buffer = 1\n"}})
        _send_notification(session, "textDocument/didSave", {"textDocument": {"uri": uri}})
        _send_notification(session, "textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"text": "hostile_buffer = 2\n"}]})
    try:
        await _healthy(session)
        status = await session.request("codeloupe/status", {"checkFresh": False})
        assert status["folders"][0]["state"] == "ready"
    finally:
        for uri in bad_uris:
            _send_notification(session, "textDocument/didClose", {"textDocument": {"uri": uri}})
    await _healthy(session)


BAD_RANGES = [
    "x", [], {"start": "x"}, {"start": {"line": -1, "character": 0}, "end": {"line": 0,
                                                                          "character": 0}},
    {"start": {"line": "1", "character": 0}, "end": {"line": 2, "character": 0}},
    {"start": {"line": 1.5, "character": 0}, "end": {"line": 2, "character": 0}},
    {"start": {"line": 10 ** 30, "character": 0}, "end": {"line": 2, "character": 0}},
    {"start": {"line": 5, "character": 0}, "end": {"line": 2, "character": 0}},
    {"start": {"line": True, "character": 0}, "end": {"line": 2, "character": 0}},
    {"start": {"line": 1, "character": None}, "end": {"line": 2, "character": 0}},
    {"start": None, "end": None},
]


async def test_a_malformed_selection_range_is_invalid_params(session: Session,
                                                             lsp_repo: Path) -> None:
    uri = (lsp_repo / "src/widgets.py").as_uri()
    for bad in BAD_RANGES:
        error = await _error_of(session, "codeloupe/context",
                                {"task": "make a widget", "selection": {"uri": uri, "range": bad}})
        assert error.code == -32602, (bad, error.code, error.message)
        assert "selection" in error.message
        assert "traceback" not in json.dumps(error.data or {}), bad
    for bad in [{"uri": "file:///%00", "range": {"start": {"line": 0, "character": 0},
                                                "end": {"line": 1, "character": 0}}},
                {"uri": 5, "range": {}}, "x"]:
        error = await _error_of(session, "codeloupe/context",
                                {"task": "make a widget", "selection": bad})
        assert error.code == -32602, (bad, error.code, error.message)
    await _healthy(session)


async def test_bad_params_of_every_custom_method_are_refused_cleanly(session: Session) -> None:
    bad_values: list[object] = [None, 1, "x", [], {"query": 5}, {"query": "x" * 10,
                                                                 "folder": "file:///%00"},
                                {"query": "a", "paths": ["file:///%00", 3]},
                                {"query": "a", "rev": "\0"}, {"query": "a", "rev": "--output=x"},
                                {"query": "a", "limit": -1}, {"query": "a", "globs": [1]},
                                {"task": "x", "file": "file:///etc/passwd"},
                                {"task": "x", "open": ["/etc/passwd"]}]
    methods = ["codeloupe/search", "codeloupe/symbols", "codeloupe/context", "codeloupe/ask",
               "codeloupe/status", "codeloupe/branches", "codeloupe/chunks"]
    for method in methods:
        for params in bad_values:
            try:
                await session.request_raw(method, params)
            except JsonRpcException as exc:
                assert exc.code in (-32602, -32803, -32601), (method, params, exc.code,
                                                              exc.message)
                assert "traceback" not in json.dumps(exc.data or {}, default=str), (method,
                                                                                    params)
    await _healthy(session)
