"""A second session: UTF-8 positions when the client offers them, several workspace folders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types

from tests.conftest import git, make_repo
from tests.lsp.conftest import UNICODE_LINE, Session, build_repo, start_session, stop_session

pytestmark = pytest.mark.asyncio(loop_scope="module")

OTHER_FILES = {"lib/other.py": "def otherHelper():\n    return 'target in the other repo'\n",
               "sub/deep/notes.txt": "a target deep down\n"}


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("multi")
    return build_repo(base / "first"), make_repo(base / "second", OTHER_FILES)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def utf8_session(repos: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
                       ) -> AsyncIterator[Session]:
    session, _ = await start_session(repos[0], tmp_path_factory.mktemp("multi-index"),
                                     encodings=["utf-16", "utf-8"])
    await session.wait_indexed()
    yield session
    assert await stop_session(session) == 0


async def test_utf8_is_chosen_when_offered(utf8_session: Session) -> None:
    assert utf8_session.result.capabilities.position_encoding == \
        types.PositionEncodingKind.Utf8
    response = await utf8_session.search(query="target_value", isCaseSensitive=True)
    hit = [r for r in response["results"] if r["path"] == "src/unicode_text.py"][0]
    start = len(UNICODE_LINE[:UNICODE_LINE.index("target_value")].encode("utf-8"))
    assert hit["matches"][0]["ranges"][0]["start"] == {"line": 1, "character": start}
    assert hit["matches"][0]["ranges"][0]["end"]["character"] == start + len("target_value")


async def test_added_folder_is_indexed_and_searched(utf8_session: Session,
                                                    repos: tuple[Path, Path]) -> None:
    second = repos[1]
    uri = second.as_uri()
    before = len(utf8_session.recorder.index_changed)
    utf8_session.client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(event=types.WorkspaceFoldersChangeEvent(
            added=[types.WorkspaceFolder(uri=uri, name="second")], removed=[])))
    await utf8_session.recorder.wait_for(lambda: any(
        n["folder"] == uri for n in utf8_session.recorder.index_changed[before:]))

    both = await utf8_session.search(query="target", isWordMatch=True)
    folders = {r["folder"] for r in both["results"]}
    assert folders == {utf8_session.folder_uri, uri}
    only_second = await utf8_session.search(query="target", folder=uri)
    assert {r["path"] for r in only_second["results"]} == {"lib/other.py",
                                                          "sub/deep/notes.txt"}
    subfolder = await utf8_session.search(query="target", folder=str(second / "sub"))
    assert [r["path"] for r in subfolder["results"]] == ["sub/deep/notes.txt"]
    relative = await utf8_session.search(query="target", folder=uri, paths=["lib"])
    assert [r["path"] for r in relative["results"]] == ["lib/other.py"]

    symbols = await utf8_session.client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="otherHelper"))
    assert symbols[0].location.uri == (second / "lib/other.py").as_uri()

    utf8_session.client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(event=types.WorkspaceFoldersChangeEvent(
            added=[], removed=[types.WorkspaceFolder(uri=uri, name="second")])))
    status = await utf8_session.request("codeloupe/status", {"checkFresh": False})
    assert [f["folder"] for f in status["folders"]] == [utf8_session.folder_uri]


async def test_branch_switch_reindexes_the_working_tree(utf8_session: Session) -> None:
    repo = utf8_session.repo
    before = len(utf8_session.recorder.index_changed)
    git(repo, "checkout", "-q", "feature")
    try:
        await utf8_session.wait_indexed(after=before)
        found = await utf8_session.search(query="featureOnlyMarker")
        assert [r["path"] for r in found["results"]] == ["src/feature_only.py"]
    finally:
        before = len(utf8_session.recorder.index_changed)
        git(repo, "checkout", "-q", "main")
    await utf8_session.wait_indexed(after=before)
    gone = await utf8_session.search(query="featureOnlyMarker")
    assert gone["results"] == []


async def test_ignored_files_do_not_trigger_a_reindex(utf8_session: Session) -> None:
    repo = utf8_session.repo
    (repo / ".gitignore").write_text("build/\n")
    before = len(utf8_session.recorder.index_changed)
    await utf8_session.wait_indexed(after=before)  # .gitignore itself is a new file
    settled = len(utf8_session.recorder.index_changed)
    (repo / "build").mkdir()
    (repo / "build" / "out.txt").write_text("target build output\n")
    await asyncio.sleep(1.5)  # past the debounce
    assert len(utf8_session.recorder.index_changed) == settled
    found = await utf8_session.search(query="build output")
    assert found["results"] == []


async def test_folder_through_a_symlink(utf8_session: Session, tmp_path: Path) -> None:
    link = tmp_path / "linked-project"
    link.symlink_to(utf8_session.repo, target_is_directory=True)
    uri = link.as_uri()
    before = len(utf8_session.recorder.index_changed)
    utf8_session.client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(event=types.WorkspaceFoldersChangeEvent(
            added=[types.WorkspaceFolder(uri=uri, name="linked")], removed=[])))
    await utf8_session.recorder.wait_for(lambda: any(
        n["folder"] == uri for n in utf8_session.recorder.index_changed[before:]))
    found = await utf8_session.search(query="getTextSize", folder=uri)
    assert [r["uri"] for r in found["results"]] == [(link / "src/widgets.py").as_uri()]
    scoped = await utf8_session.search(query="target", folder=uri, paths=[str(link / "docs")])
    assert [r["path"] for r in scoped["results"]] == ["docs/guide.md"]
    everywhere = await utf8_session.search(query="getTextSize")
    assert len(everywhere["results"]) == 1  # one repository behind both folders
