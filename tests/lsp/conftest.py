"""A real LSP client (pytest-lsp) driving the server in a subprocess over stdio."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES

from lsp_server.server import plain_json_converter
from tests.conftest import git, make_repo

SERVER_COMMAND = [sys.executable, "-m", "lsp_server", "--stdio"]
TIMEOUT = 30.0

UNICODE_LINE = 'greeting = "héllo wörld 😀 ünïcode"; target_value = compute(Target)\n'

FILES: dict[str, str | bytes] = {
    "src/widgets.py": (
        "class WidgetFactory:\n"
        "    def make_widget(self, name):\n"
        "        return name\n"
        "\n"
        "\n"
        "def getTextSize(text):\n"
        "    return len(text)\n"
        "\n"
        "\n"
        "def parse_config(path):\n"
        "    targets = []\n"
        "    return targets\n"),
    "src/unicode_text.py": "# -*- coding: utf-8 -*-\n" + UNICODE_LINE + "target = 3\n",
    "src/app.js": "function startServer(port) {\n  return port; // target port\n}\n",
    "tests/test_widgets.py": "def test_target():\n    target = 1\n    assert target\n",
    "docs/guide.md": "# Guide\n\nThe target audience is everyone.\n",
}
BRANCH_FILES = {"src/feature_only.py": "def featureOnlyMarker():\n    return 'only on feature'\n"}


class Recorder:
    """Notifications the tests wait on."""

    def __init__(self) -> None:
        self.index_changed: list[dict[str, Any]] = []
        self.partial: dict[Any, list[Any]] = {}
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    def poke(self) -> None:
        for check, future in list(self._waiters):
            if not future.done() and check():
                future.set_result(None)

    async def wait_for(self, check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        if check():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (check, future)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            self._waiters.remove(entry)


def make_client(recorder: Recorder) -> LanguageClient:
    client = LanguageClient(converter_factory=plain_json_converter)
    for method, func in DEFAULT_CLIENT_FEATURES.items():
        if method != types.PROGRESS:
            client.feature(method)(func)

    @client.feature(types.PROGRESS)
    def progress(client: LanguageClient, params: types.ProgressParams) -> None:
        value = params.value
        if isinstance(value, dict) and value.get("kind") in ("begin", "report", "end"):
            kinds = {"begin": types.WorkDoneProgressBegin,
                     "report": types.WorkDoneProgressReport, "end": types.WorkDoneProgressEnd}
            structured = client.protocol._converter.structure(value, kinds[value["kind"]])
            client.progress_reports.setdefault(params.token, []).append(structured)
        else:
            recorder.partial.setdefault(params.token, []).append(value)
        recorder.poke()

    @client.feature("codeloupe/indexChanged")
    def index_changed(client: LanguageClient, params: Any) -> None:
        recorder.index_changed.append(params)
        recorder.poke()

    return client


def build_repo(root: Path) -> Path:
    repo = make_repo(root, FILES)
    git(repo, "checkout", "-q", "-b", "feature")
    for rel, text in BRANCH_FILES.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature work")
    git(repo, "checkout", "-q", "main")
    return repo


class Session:
    def __init__(self, client: LanguageClient, recorder: Recorder, repo: Path,
                 result: types.InitializeResult) -> None:
        self.client = client
        self.recorder = recorder
        self.repo = repo
        self.result = result
        self.folder_uri = repo.as_uri()

    async def request(self, method: str, params: Any) -> Any:
        return await asyncio.wait_for(
            self.client.protocol.send_request_async(method, params), TIMEOUT)

    async def request_raw(self, method: str, params: Any) -> Any:
        """Send params as they are, bypassing the client's LSP types (to send bad ones)."""
        protocol = self.client.protocol
        msg_id = f"raw-{uuid.uuid4().hex}"
        future: Future[Any] = Future()
        protocol._request_futures[msg_id] = future
        body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method,
                           "params": params})
        protocol.writer.write(f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
        return await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT)

    async def search(self, **params: Any) -> dict[str, Any]:
        return await self.request("codeloupe/search", params)

    async def wait_indexed(self, rev: str = "worktree", after: int = 0) -> dict[str, Any]:
        def done() -> bool:
            return any(n.get("rev") == rev for n in self.recorder.index_changed[after:])

        await self.recorder.wait_for(done)
        return [n for n in self.recorder.index_changed[after:] if n.get("rev") == rev][-1]


async def start_session(repo: Path, index_dir: Path, *, encodings: list[str] | None = None,
                        ) -> tuple[Session, Any]:
    recorder = Recorder()
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(index_dir), "PYTHONUNBUFFERED": "1"}
    config = ClientServerConfig(server_command=SERVER_COMMAND,
                                client_factory=lambda: make_client(recorder), server_env=env)
    client = await config.start()
    general = types.GeneralClientCapabilities(position_encodings=encodings) \
        if encodings else None
    capabilities = types.ClientCapabilities(
        general=general,
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(
            workspace_folders=True,
            symbol=types.WorkspaceSymbolClientCapabilities(
                resolve_support=types.ClientSymbolResolveOptions(properties=["location.range"]))),
    )
    result = await client.initialize_session(types.InitializeParams(
        capabilities=capabilities,
        workspace_folders=[types.WorkspaceFolder(uri=repo.as_uri(), name=repo.name)]))
    return Session(client, recorder, repo, result), client


async def stop_session(session: Session) -> int | None:
    client = session.client
    await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    code = client._server.returncode if client._server else None
    await client.stop()
    return code


@pytest.fixture(scope="module")
def lsp_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_repo(tmp_path_factory.mktemp("lsp") / "project")


@pytest.fixture(scope="module")
def lsp_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lsp-index")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def session(lsp_repo: Path, lsp_index_dir: Path) -> AsyncIterator[Session]:
    """One server for the module, initialised and done with its first index."""
    session, _ = await start_session(lsp_repo, lsp_index_dir)
    await session.wait_indexed()
    yield session
    code = await stop_session(session)
    assert code == 0, f"server exited with {code}"
