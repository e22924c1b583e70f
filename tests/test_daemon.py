"""The search daemon: same answers as the in-process CLI, sees edits, stops cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_repo


def cli(repo: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=repo,
                          capture_output=True, env=env)


def untimed(output: bytes) -> list[dict]:
    messages = [json.loads(line) for line in output.splitlines()]
    for message in messages:
        for holder in (message["data"], message["data"].get("stats", {})):
            holder.pop("elapsed", None)
            holder.pop("elapsed_total", None)
        if message["type"] == "summary":  # it counts the timings' digits too
            message["data"]["stats"].pop("bytes_printed")
    return messages


@pytest.fixture
def daemon_env(tmp_path: Path):
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "indexes"),
           "CODELOUPE_DAEMON": "on"}
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "daemon", "--idle", "60"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    socket_path = tmp_path / "indexes" / "daemon.sock"
    for _ in range(100):
        if socket_path.exists():
            break
        time.sleep(0.05)
    yield env
    subprocess.run([sys.executable, "-m", "indexer", "daemon", "--stop"], env=env,
                   capture_output=True)
    assert proc.wait(timeout=10) == 0  # it exits by itself: no stray process
    assert not socket_path.exists()


def test_daemon_answers_like_the_in_process_cli_and_sees_edits(tmp_path: Path,
                                                                daemon_env: dict) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "def alpha():\n    return 1\n",
                                         "b.py": "beta = 'alpha'\n"})
    in_process = {**daemon_env, "CODELOUPE_DAEMON": "off"}
    for args in (["alpha"], ["--json", "-w", "alpha"], ["-C", "1", "return"], ["nothing_here"],
                 ["-g", "b.*", "alpha"]):
        via_daemon = cli(repo, daemon_env, "search", *args)
        direct = cli(repo, in_process, "search", *args)
        assert via_daemon.returncode == direct.returncode
        if "--json" in args:  # `end` and `summary` carry timings; compare the rest
            assert untimed(via_daemon.stdout) == untimed(direct.stdout)
        else:
            assert via_daemon.stdout == direct.stdout
    (repo / "c.py").write_text("gamma = 'alpha'\n")
    deadline = time.monotonic() + 5
    while b"c.py" not in cli(repo, daemon_env, "search", "alpha").stdout:
        assert time.monotonic() < deadline, "the daemon did not see the new file"
        time.sleep(0.1)
    bad = cli(repo, daemon_env, "search", "foo(")
    assert bad.returncode == 2 and b"unclosed group" in bad.stderr
    usage = cli(repo, daemon_env, "search", "--no-such-flag", "x")
    assert usage.returncode == 2
    assert cli(repo, daemon_env, "search", "alpha").returncode == 0  # still alive


def test_daemon_reloads_a_snapshot_gc_moved(tmp_path: Path, daemon_env: dict) -> None:
    """gc (another process) compacts the pack the daemon's warm snapshot points into and
    unlinks it: the daemon's next search reloads the snapshot instead of failing."""
    bulky = {f"data/d{i}.txt": "".join(f"bulk {i}.{j} {'x' * 70}\n" for j in range(400))
             for i in range(12)}
    repo = make_repo(tmp_path / "repo", {"src/app.py": "marker = 1\n", **bulky}, "with data")
    old = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                         text=True, check=True).stdout.strip()
    subprocess.run(["git", "rm", "-q", "-r", "data"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "drop data"], cwd=repo, check=True)
    in_process = {**daemon_env, "CODELOUPE_DAEMON": "off"}
    assert cli(repo, in_process, "index", "--rev", old).returncode == 0
    for rev in ([], ["--rev", "HEAD"]):  # the working tree and a commit, held warm
        assert cli(repo, daemon_env, "search", *rev, "marker").returncode == 0
    gc = cli(repo, in_process, "gc", "--keep-recent", "0")
    assert gc.returncode == 0 and b"packs compacted" in gc.stdout, gc.stdout + gc.stderr
    for rev in ([], ["--rev", "HEAD"]):
        again = cli(repo, daemon_env, "search", *rev, "marker")
        assert again.returncode == 0 and b"src/app.py:1:" in again.stdout, again.stderr
