"""Chunking workers die with the indexer: `kill -9` mid-index leaves no process behind
(issue 23, item 6: 3 orphaned workers in 23 of 60 runs, alive after 110 s)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import make_repo


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the fields after the command name (which may hold spaces) start with state, ppid
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry))
    return found


def _pool_workers(pid: int) -> set[int]:
    """The indexer's children started by multiprocessing (not its git processes)."""
    found = set()
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing" in cmdline:
            found.add(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_9_during_chunking_leaves_no_worker(tmp_path: Path) -> None:
    def body(i: int) -> str:  # distinct files: the index stores each blob once
        return "".join(f"def function_{i}_{j}(a, b):\n    return a + b\n\n"
                       for j in range(150))

    repo = make_repo(tmp_path / "repo", {f"m{i}/mod{i}.py": body(i) for i in range(1200)})
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "idx"),
           "CODELOUPE_DAEMON": "off"}
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "index", "--no-embed"],
                            cwd=repo, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        workers = _pool_workers(proc.pid)
        if len(workers) >= 2:  # the pool is up
            break
        time.sleep(0.02)
    assert proc.poll() is None and len(workers) >= 2, "chunking never reached the pool"
    # at once: the workers may still be starting (the parent gone before they look at it)
    workers = _pool_workers(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for pid in left:  # do not leave them to the next test either way
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} worker(s) outlived the indexer"
