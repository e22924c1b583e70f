"""Searching or indexing a repository never runs its code (issue 23, item 0).

A repository can hold files named like the modules codeloupe imports (`re2.py`, a copy of a
site-packages tree) and a local git config naming a program for `git status` to run. Each
one below writes a marker file if it is ever executed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import git, make_repo

CODELOUPE = str(Path(sys.executable).parent / "codeloupe")


def _planted(marker: Path) -> dict[str, str]:
    """Modules that a daemon, a chunking worker or the CLI would import, if they could."""
    payload = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    files = {name: payload for name in ("re2.py", "tantivy.py", "stringzilla.py",
                                        "multiprocessing.py", "click.py", "indexer.py")}
    files["rich/__init__.py"] = payload
    # enough files that chunking goes to a process pool (enrich.POOL_THRESHOLD)
    files.update({f"pkg/mod{i}.py": f"def hello_{i}():\n    return {i}\n" for i in range(240)})
    return files


def _run(args: list[str], repo: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([CODELOUPE, *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def untrusted(tmp_path: Path):
    marker = tmp_path / "ran-repository-code"
    repo = make_repo(tmp_path / "repo", _planted(marker))
    # a local config naming a program for `git status` to run
    fsmonitor = tmp_path / "fsmonitor.sh"
    fsmonitor.write_text(f"#!/bin/sh\necho fsmonitor >> {marker}\n")
    fsmonitor.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(fsmonitor))
    (repo / "pkg" / "dirty.py").write_text("hello = 'edited'\n")  # a working-tree change
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "indexes"),
           "CODELOUPE_DAEMON": "on"}
    env.pop("PYTHONSAFEPATH", None)
    yield repo, marker, env
    subprocess.run([CODELOUPE, "daemon", "--stop"], env=env, capture_output=True, timeout=60)


def test_search_through_a_fresh_daemon_runs_no_repository_code(untrusted) -> None:
    repo, marker, env = untrusted
    first = _run(["search", "hello_17"], repo, env)  # in-process; starts the daemon
    assert first.returncode == 0, first.stderr
    assert "pkg/mod17.py" in first.stdout
    socket_path = Path(env["CODELOUPE_INDEX_DIR"]) / "daemon.sock"
    for _ in range(200):
        if socket_path.exists():
            break
        time.sleep(0.05)
    assert socket_path.exists(), "the daemon did not start"
    second = _run(["search", "hello_18"], repo, env)  # through the daemon
    assert second.returncode == 0, second.stderr
    assert "pkg/mod18.py" in second.stdout
    assert not marker.exists(), marker.read_text()


def test_index_with_a_worker_pool_runs_no_repository_code(untrusted) -> None:
    repo, marker, env = untrusted
    done = _run(["index", "--no-embed"], repo, {**env, "CODELOUPE_DAEMON": "off"})
    assert done.returncode == 0, done.stderr
    found = _run(["symbols", "hello_42"], repo, {**env, "CODELOUPE_DAEMON": "off"})
    assert "hello_42" in found.stdout
    assert not marker.exists(), marker.read_text()


def test_python_m_entry_points_forget_an_untrusted_working_directory(tmp_path: Path) -> None:
    """`python -m lsp_server` from a workspace folder (what an editor may run)."""
    marker = tmp_path / "ran"
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "re2.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    # `-c` puts the working directory first on sys.path, as `python -m` does
    code = ("import runpy, sys\n"
            "sys.argv = ['lsp_server', '--help']\n"
            "try:\n"
            "    runpy.run_module('lsp_server', run_name='__main__')\n"
            "except SystemExit:\n"
            "    pass\n"
            "try:\n"
            "    import re2\n"  # what the server imports later, once it searches
            "except ImportError:\n"
            "    pass\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=60)
    assert "usage" in proc.stdout.lower()
    assert not marker.exists()
