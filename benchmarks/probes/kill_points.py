"""`kill -9` of `codeloupe index` at random moments: the index must stay readable.

Each case edits part of a working tree (or commits and indexes a branch), starts the indexer,
kills it after a random delay within one indexing run's length, then opens the index as a
reader: the snapshot must be the last good one or the new one, never a mix; `doctor` must
find it healthy; and no worker process may outlive the indexer.

Counts: crashes = the reader could not open or search; wrong = a mixed snapshot or an
unhealthy doctor report; leaks = processes the killed indexer left behind.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.probes.common import (  # noqa: E402
    Budget,
    codeloupe_argv,
    git,
    main_for,
    make_repo,
    row,
)

FILES = 900
MUTATED = 260  # files rewritten per case: above the chunking pool's threshold
MARK = "generation_marker_"


def _body(i: int, generation: int) -> bytes:
    lines = [f"def function_{i}_{j}(value):\n    return value * {j}  # {MARK}{generation}\n"
             for j in range(40)]
    return "".join(lines).encode()


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _generations(ws, rev: str | None) -> dict[str, int] | None:  # noqa: ANN001 - Workspace
    """path -> the generation its indexed text holds, as the reader sees the snapshot."""
    from indexer.search import SearchOptions

    try:
        snapshot = ws.snapshot(rev, refresh=False)
    except Exception:  # noqa: BLE001 - a rev never indexed yet
        return None
    if snapshot is None:
        return None
    found: dict[str, int] = {}
    for result in snapshot.searcher.search(SearchOptions(patterns=(MARK + r"\d+",))):
        for line in result.lines:
            found[result.path] = int(bytes(line.text).decode().rsplit(MARK, 1)[1].split()[0])
            break
    return found


def run(budget_s: float, seed: int, count: int | None = None) -> list[dict]:
    from indexer.maintenance.doctor import examine
    from indexer.workspace import Workspace

    rnd = random.Random(seed)
    count = 100 if count is None else count
    tried = crashes = wrong = leaks = 0
    notes: list[str] = []
    budget = Budget(budget_s)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True, prefix="probe-kill-") as tmp:
        repo = make_repo(Path(tmp) / "repo",
                         {f"pkg{i % 30}/mod{i}.py": _body(i, 0) for i in range(FILES)})
        index_dir = Path(tmp) / "index"
        env = {**os.environ, "CODELOUPE_DAEMON": "off"}
        base = ["--repo", str(repo), "--index-dir", str(index_dir)]
        subprocess.run(codeloupe_argv("index", "--no-embed", *base), env=env, check=True,
                       capture_output=True)
        state = {i: 0 for i in range(FILES)}  # the generation of each file on disk
        good = {None: {f"pkg{i % 30}/mod{i}.py": 0 for i in range(FILES)}}  # rev -> last good
        started = time.monotonic()
        subprocess.run(codeloupe_argv("index", "--no-embed", *base), env=env, check=True,
                       capture_output=True)
        one_run = max(1.0, time.monotonic() - started)  # a no-op run: the fixed cost
        generation = 0
        while tried < count and budget.left():
            generation += 1
            rev = None if rnd.random() < 0.7 else "feature"
            for i in rnd.sample(range(FILES), MUTATED):
                state[i] = generation
                (repo / f"pkg{i % 30}/mod{i}.py").write_bytes(_body(i, generation))
            if rev is not None:  # commit to a branch and index that, from git objects
                git(repo, "checkout", "-q", "-B", "feature")
                git(repo, "commit", "-q", "-am", f"generation {generation}")
            now = {f"pkg{i % 30}/mod{i}.py": g for i, g in state.items()}
            args = ["index", "--no-embed", *base] + (["--rev", rev] if rev else [])
            proc = subprocess.Popen(codeloupe_argv(*args), env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.0, 3.0 * one_run))
            family = _descendants(proc.pid)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            tried += 1
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(_alive(p) for p in family):
                time.sleep(0.1)
            left = [p for p in family if _alive(p)]
            leaks += len(left)
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            try:
                ws = Workspace.open(repo, index_dir=index_dir)
                try:
                    seen = _generations(ws, rev)
                    report = examine(ws)
                finally:
                    ws.close()
            except Exception as exc:  # noqa: BLE001 - the point is to count them
                crashes += 1
                notes.append(f"case {tried}: {type(exc).__name__}: {exc}"[:200])
                continue
            previous = good.get(rev)
            if seen == now:
                good[rev] = now
            elif seen is not None and seen != previous:
                wrong += 1
                notes.append(f"case {tried}: a mixed snapshot of {rev or 'the working tree'}")
            if not report.healthy:
                wrong += 1
                notes.append(f"case {tried}: doctor: {report.problems[:2]}")
            if rev is not None:
                git(repo, "checkout", "-q", "main")
                git(repo, "checkout", "-q", "feature", "--", ".")  # keep the edits on disk
                git(repo, "reset", "-q")
    summary = f"{FILES} files, {MUTATED} rewritten per case; kill within 0-{3 * one_run:.1f} s"
    return [row("kill -9 mid-index", tried, crashes, 0, wrong, leaks,
                "; ".join([summary, *notes[:3]]))]


if __name__ == "__main__":
    main_for(run, __doc__.splitlines()[0])
