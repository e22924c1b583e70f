"""No front end reads a file outside the workspace (issue 23): a tracked directory replaced by a
symlink to an outside folder (a branch checkout can do that) must not be read through, by the
language server, the MCP server, or the CLI with and without its daemon, also while another
process holds the index's write lock (then the server reads changed files from disk)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types

from indexer.safe_paths import OutsideRoot, is_beneath, lstat_beneath, read_regular
from indexer.store.index_store import index_dir_for
from tests.conftest import make_repo
from tests.lsp.conftest import start_session, stop_session

SECRET = "OUTSIDE_SECRET_8f1c2d"
PART = SECRET[8:]  # what the requests ask for: an answer echoing it holds no SECRET
FILES = {"pkg/mod.py": "def inside_function():\n    return 'inside only'\n",
         "pkg/util.py": "def helper():\n    return 2\n",
         "main.py": "from pkg.mod import inside_function\n"}


def _project(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "outside"
    outside.mkdir()
    # same names as the tracked files: a path the index knows leads to the secret
    (outside / "mod.py").write_text(f"def {SECRET}():\n    return '{SECRET}'\n")
    (outside / "util.py").write_text(f"{SECRET} = 1\n")
    repo = make_repo(tmp_path / "repo", FILES)
    return repo, outside


def _swap_in_symlink(repo: Path, outside: Path) -> None:
    shutil.rmtree(repo / "pkg")
    os.symlink(outside, repo / "pkg")


@pytest.fixture
def lock_holder(tmp_path: Path) -> Iterator[callable]:
    """Starts a process holding an index directory's write lock; stopped by PID."""
    procs: list[subprocess.Popen] = []

    def hold(index_dir: Path) -> None:
        index_dir.mkdir(parents=True, exist_ok=True)
        code = ("import fcntl, os, sys, time\n"
                "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\n"
                "fcntl.flock(fd, fcntl.LOCK_EX)\n"
                "os.pwrite(fd, str(os.getpid()).encode(), 0)\n"
                "print('held', flush=True)\n"
                "time.sleep(600)\n")
        proc = subprocess.Popen([sys.executable, "-c", code, str(index_dir / "write.lock")],
                                stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait(timeout=10)


# --- the helper itself ---------------------------------------------------------------

def test_the_reader_refuses_every_way_out(tmp_path: Path) -> None:
    repo, outside = _project(tmp_path)
    assert read_regular(repo, "pkg/mod.py") == FILES["pkg/mod.py"].encode()
    _swap_in_symlink(repo, outside)
    os.symlink(outside / "mod.py", repo / "link.py")
    os.symlink("loop_b", repo / "loop_a")
    os.symlink("loop_a", repo / "loop_b")
    os.mkfifo(repo / "fifo")
    for rel in ("pkg/mod.py", "link.py", "loop_a", "loop_a/x", "fifo", "pkg"):
        assert read_regular(repo, rel) is None, rel
    for rel in ("../outside/mod.py", str(outside / "mod.py"), "a/../../outside/mod.py",
                ".git/config", "main.py\0", "./main.py", "", "a//b"):
        assert read_regular(repo, rel) is None, rel
        with pytest.raises(OutsideRoot):
            from indexer.safe_paths import split_relative
            split_relative(rel)
    assert lstat_beneath(repo, "pkg/mod.py") is None  # a symlinked parent: not there
    assert lstat_beneath(repo, "pkg") is not None
    assert read_regular(repo, "main.py") == FILES["main.py"].encode()
    assert not is_beneath(repo, repo / "pkg" / "mod.py")
    assert is_beneath(repo, repo / "main.py")


# --- the language server -------------------------------------------------------------

def _leaks(answer: object) -> bool:
    return SECRET in json.dumps(answer, default=str)


@pytest.mark.asyncio
@pytest.mark.parametrize("locked", [False, True], ids=["unlocked", "write-locked"])
async def test_language_server_never_reads_through_a_symlinked_directory(
        tmp_path: Path, locked: bool, lock_holder) -> None:
    repo, outside = _project(tmp_path)
    index_root = tmp_path / "index"
    session, client = await start_session(repo, index_root)
    try:
        await session.wait_indexed()
        if locked:  # another process writes the index: changed files are read from disk
            lock_holder(index_dir_for(repo.resolve(), index_root))
        _swap_in_symlink(repo, outside)
        for rel in ("pkg/mod.py", "pkg/util.py"):  # the editor saved them: read from disk
            client.text_document_did_save(types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=(repo / rel).as_uri())))
        answers = []
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:
            answers.append(await session.search(query=PART))
            answers.append(await session.search(query="def ", regex=True))
            answers.append(await client.workspace_symbol_async(
                types.WorkspaceSymbolParams(query=PART)))
            await asyncio.sleep(0.1)
        leaked = [a for a in answers if _leaks(a)]
        assert not leaked, f"{len(leaked)} of {len(answers)} answers hold the outside file"
    finally:
        assert await stop_session(session) == 0


# --- the CLI, with and without the daemon, and MCP ---------------------------------------

def _cli(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("daemon", ["off", "on"])
def test_cli_never_reads_through_a_symlinked_directory(tmp_path: Path, daemon: str,
                                                       lock_holder) -> None:
    repo, outside = _project(tmp_path)
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "index"),
           "CODELOUPE_DAEMON": daemon}
    daemon_proc = None
    if daemon == "on":
        daemon_proc = subprocess.Popen([sys.executable, "-m", "indexer", "daemon", "--idle",
                                        "60"], env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        sock = tmp_path / "index" / "daemon.sock"
        for _ in range(200):
            if sock.exists():
                break
            time.sleep(0.05)
    try:
        assert _cli(repo, env, "index").returncode == 0
        _swap_in_symlink(repo, outside)
        outs = [_cli(repo, env, "search", PART), _cli(repo, env, "search", "def "),
                _cli(repo, env, "index"), _cli(repo, env, "search", PART),
                _cli(repo, env, "symbols", PART)]
        lock_holder(index_dir_for(repo.resolve(), tmp_path / "index"))
        outs += [_cli(repo, env, "search", PART), _cli(repo, env, "search", "--", "def ")]
        for proc in outs:
            assert SECRET not in proc.stdout + proc.stderr, proc.args
        assert "inside_function" not in outs[3].stdout  # the symlink replaced the file
    finally:
        if daemon_proc is not None:
            _cli(repo, env, "daemon", "--stop")
            try:
                daemon_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon_proc.kill()
                daemon_proc.wait()


@pytest.mark.asyncio
async def test_mcp_never_reads_through_a_symlinked_directory(tmp_path: Path) -> None:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    repo, outside = _project(tmp_path)
    env = {"CODELOUPE_INDEX_DIR": str(tmp_path / "index"), "CODELOUPE_DAEMON": "off",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "indexer", "mcp", "--repo", str(repo)],
                                   env=env, cwd=str(repo))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await asyncio.wait_for(client.initialize(), 60)
        first = await client.call_tool("search", {"query": "inside_function"})
        assert not first.is_error and "pkg/mod.py" in first.content[0].text
        _swap_in_symlink(repo, outside)
        for tool, args in [("search", {"query": PART}),
                           ("search", {"query": "def ", "regex": True}),
                           ("symbols", {"query": PART}),
                           ("context", {"query": PART}),
                           ("ask", {"question": PART}),
                           ("search", {"query": PART, "paths": ["pkg"]}),
                           ("search", {"query": PART, "paths": [str(outside)]})]:
            result = await asyncio.wait_for(client.call_tool(tool, args), 60)
            text = " ".join(getattr(c, "text", "") for c in result.content)
            assert SECRET not in text, (tool, args, text[:300])


def test_repository_settings_are_not_read_through_a_symlink(tmp_path: Path) -> None:
    from indexer.config import load_settings

    repo, outside = _project(tmp_path)
    (outside / "settings.toml").write_text("[codeloupe]\ncontext_budget = 1234\n")
    os.symlink(outside / "settings.toml", repo / ".codeloupe.toml")
    assert load_settings(repo, env={}).context_budget != 1234
    os.unlink(repo / ".codeloupe.toml")
    (repo / ".codeloupe.toml").write_text("[codeloupe]\ncontext_budget = 1234\n")
    assert load_settings(repo, env={}).context_budget == 1234
