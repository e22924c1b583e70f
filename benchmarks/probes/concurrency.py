"""Concurrent indexing, searching, editing and committing on one repository.

For the budget: a loop of `codeloupe index` processes, a loop of `codeloupe search`
processes (each brings the index up to date itself: a second writer), an in-process reader
searching the last snapshot, an editor rewriting files and a committer. Then everything
stops, the index is brought up to date once more, and it must be healthy (`doctor`) and
give rg's answer. Counts: crashes = a process that failed other than "index busy" or a
reader exception; wrong = an unhealthy index or a final answer other than rg's.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.probes.common import (  # noqa: E402
    codeloupe_argv,
    git,
    main_for,
    make_repo,
    rg_binary,
    row,
)

FILES = 300
MARK = "concurrent_marker_"


def _body(i: int, generation: int) -> bytes:
    return "".join(f"def f_{i}_{j}():\n    return {j}  # {MARK}{generation}\n"
                   for j in range(20)).encode()


def run(budget_s: float, seed: int, count: int | None = None) -> list[dict]:
    from indexer.maintenance.doctor import examine
    from indexer.search import SearchOptions
    from indexer.workspace import Workspace

    rnd = random.Random(seed)
    rg = rg_binary()
    seconds = min(budget_s * 0.8, 180.0) if count is None else float(count)
    counts = {"tried": 0, "crashes": 0}
    notes: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def note(ok: bool, what: str) -> None:
        with lock:
            counts["tried"] += 1
            if not ok:
                counts["crashes"] += 1
                notes.append(what[:200])

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True,
                                     prefix="probe-concurrency-") as tmp:
        repo = make_repo(Path(tmp) / "repo",
                         {f"m{i % 10}/f{i}.py": _body(i, 0) for i in range(FILES)})
        index_dir = Path(tmp) / "index"
        env = {**os.environ, "CODELOUPE_DAEMON": "off"}
        base = ["--repo", str(repo), "--index-dir", str(index_dir)]

        def process_loop(args: list[str]) -> None:
            while not stop.is_set():
                proc = subprocess.run(codeloupe_argv(*args, *base), env=env,
                                      capture_output=True)
                busy = b"busy" in proc.stderr.lower() or b"lock" in proc.stderr.lower()
                note(proc.returncode in (0, 1) or busy,
                     f"{args[0]} exit {proc.returncode}: {proc.stderr[-160:]!r}")

        def reader() -> None:
            ws = Workspace.open(repo, index_dir=index_dir)
            try:
                while not stop.is_set():
                    try:
                        for _ in ws.search(SearchOptions(patterns=(MARK + r"\d+",)),
                                           refresh=False):
                            pass
                        note(True, "")
                    except Exception as exc:  # noqa: BLE001 - counted
                        not_yet = "not indexed" in str(exc)
                        note(not_yet, f"reader: {type(exc).__name__}: {exc}")
                    time.sleep(0.05)
            finally:
                ws.close()

        def editor() -> None:
            generation = 0
            while not stop.is_set():
                generation += 1
                for i in rnd.sample(range(FILES), 20):
                    (repo / f"m{i % 10}/f{i}.py").write_bytes(_body(i, generation))
                if generation % 5 == 0:
                    (repo / f"new/g{generation}.py").parent.mkdir(exist_ok=True)
                    (repo / f"new/g{generation}.py").write_bytes(_body(-generation, generation))
                if generation % 10 == 0:
                    try:
                        git(repo, "add", "-A")
                        git(repo, "commit", "-q", "-m", f"generation {generation}")
                    except subprocess.CalledProcessError as exc:
                        note("index.lock" in (exc.stderr or ""), f"commit: {exc.stderr}")
                time.sleep(0.2)

        workers = [threading.Thread(target=process_loop, args=(["index", "--no-embed"],)),
                   threading.Thread(target=process_loop, args=(["search", MARK + "1\\b"],)),
                   threading.Thread(target=reader), threading.Thread(target=editor)]
        for worker in workers:
            worker.start()
        time.sleep(seconds)
        stop.set()
        for worker in workers:
            worker.join()

        final = subprocess.run(codeloupe_argv("index", "--no-embed", *base), env=env,
                               capture_output=True)
        wrong = 0
        if final.returncode != 0:
            wrong += 1
            notes.append(f"final index exit {final.returncode}: {final.stderr[-160:]!r}")
        ws = Workspace.open(repo, index_dir=index_dir)
        try:
            report = examine(ws, full=True)
            if not report.healthy:
                wrong += 1
                notes.append(f"doctor: {report.problems[:2]}")
            ours = {(r.path, line.line_number)
                    for r in ws.search(SearchOptions(patterns=(MARK + r"\d+",)), refresh=False)
                    for line in r.lines if line.is_match}
        finally:
            ws.close()
        out = subprocess.run([rg, "-n", "--no-heading", "--with-filename", "--hidden",
                              "-g", "!.git", MARK + r"\d+"], cwd=repo,
                             capture_output=True).stdout
        theirs = {(line.split(b":")[0].decode(), int(line.split(b":")[1]))
                  for line in out.splitlines()}
        if ours != theirs:
            wrong += 1
            notes.append(f"final search differs from rg: {len(ours ^ theirs)} lines")
    summary = f"{seconds:.0f} s of index + search + read + edit + commit"
    return [row("concurrent writers", counts["tried"], counts["crashes"], 0, wrong, 0,
                "; ".join([summary, *notes[:3]]))]


if __name__ == "__main__":
    main_for(run, __doc__.splitlines()[0])
