"""`python -m lsp_server --tcp HOST:PORT` serves the same protocol over a socket."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.server import plain_json_converter
from tests.lsp.conftest import build_repo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.asyncio
async def test_tcp_transport(tmp_path: Path) -> None:
    repo = build_repo(tmp_path / "project")
    port = free_port()
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "index")}
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "lsp_server", "--tcp", f"127.0.0.1:{port}"],
                            env=env, stderr=log)
    client = LanguageClient(converter_factory=plain_json_converter)
    indexed = asyncio.Event()

    @client.feature("codeloupe/indexChanged")
    def index_changed(client: LanguageClient, params: object) -> None:
        indexed.set()

    try:
        for _ in range(100):
            try:
                await client.start_tcp("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the server never listened")
        result = await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=repo.as_uri(), name="p")])), 30)
        assert result.server_info.name == "codeloupe"
        await asyncio.wait_for(indexed.wait(), 30)
        found = await asyncio.wait_for(client.protocol.send_request_async(
            "codeloupe/search", {"query": "getTextSize"}), 30)
        assert [r["path"] for r in found["results"]] == ["src/widgets.py"]
        await asyncio.wait_for(client.shutdown_async(None), 30)
        client.exit(None)
    finally:
        with contextlib.suppress(Exception):
            await client.stop()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("the TCP server did not exit after shutdown/exit")
        finally:
            log.close()


def test_tcp_framing_a_hostile_peer_cannot_use_to_stall_the_server(tmp_path: Path) -> None:
    """Over TCP too: a huge Content-Length is refused (pygls waited for that many bytes), an
    endless header line dropped, a body that is not JSON answered with Parse error."""
    import json
    import time

    port = free_port()
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "index")}
    proc = subprocess.Popen([sys.executable, "-m", "lsp_server", "--tcp", f"127.0.0.1:{port}"],
                            env=env, stderr=subprocess.DEVNULL)
    sock = None
    try:
        for _ in range(100):
            try:
                sock = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.1)
        assert sock is not None, "the server never listened"
        sock.settimeout(20)

        def frame(message: dict) -> bytes:
            body = json.dumps(message).encode()
            return b"Content-Length: %d\r\n\r\n" % len(body) + body

        sock.sendall(b"Content-Length: 99999999999999\r\n\r\n\r\n")
        sock.sendall(b"X" * 200_000 + b"\r\n\r\n")
        sock.sendall(b"Content-Length: 5\r\n\r\n{nope")
        sock.sendall(frame({"jsonrpc": "2.0", "id": "after", "method": "shutdown"}))
        received = b""
        while b'"id":"after"' not in received.replace(b" ", b""):
            chunk = sock.recv(65536)
            assert chunk, f"connection closed; got {received!r}"
            received += chunk
        assert b"-32700" in received
    finally:
        if sock is not None:
            sock.close()
        proc.kill()
        proc.wait()
