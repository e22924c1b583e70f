"""Shared fixtures: real git repositories built on disk, and ripgrep as the oracle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# the `endpoint` fixture: a real OpenAI-compatible chat endpoint on 127.0.0.1
pytest_plugins = ("tests.chat_endpoint",)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@localhost",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo.parent)}
    proc = subprocess.run(["git", "-C", str(repo), *args], check=True, env=env,
                          capture_output=True, text=True)
    return proc.stdout


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)


def make_repo(root: Path, files: dict[str, str | bytes], message: str = "initial") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write_files(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return root


def rg_binary() -> str | None:
    candidate = Path(sys.executable).parent / "rg"
    return str(candidate) if candidate.exists() else shutil.which("rg")


@pytest.fixture
def rg() -> str:
    path = rg_binary()
    if path is None:
        pytest.skip("ripgrep (pip install ripgrep==14.1.0) is not installed: no oracle")
    return path


@pytest.fixture
def index_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own index root, outside the repositories it builds."""
    root = tmp_path / "index-root"
    monkeypatch.setenv("CODELOUPE_INDEX_DIR", str(root))
    return root


@pytest.fixture(autouse=True)
def _no_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI tests run in-process; the daemon has tests of its own that start and stop it."""
    monkeypatch.setenv("CODELOUPE_DAEMON", "off")
