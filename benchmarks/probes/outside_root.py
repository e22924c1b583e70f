"""Standing probe: attempts to read outside the workspace root through every front end.

Each front end gets its own real repository, indexed once; then a tracked directory is
replaced by a symlink to an outside folder holding a secret (files of the same names, so
paths the index knows lead there), and symlinks are planted: a file symlink and a directory
symlink to the secret, symlink loops. The secret is also written into `.git/`. Then every
front end is asked, with paths and URIs that try to leave the root: `..`, absolute paths,
`.git`, the symlinks, hostile revisions, URIs of other roots, percent-encoded tricks:

- the CLI (search, symbols, chunks, context), without and with the search daemon;
- the MCP server (search, symbols, ask, context);
- the language server (codeloupe/search, /symbols, /context, /ask, workspace/symbol), also
  after didSave of the swapped paths and while another process holds the index write lock.

`wrong` counts the answers that hold the secret. Target: 0.

    python benchmarks/probes/outside_root.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.probes._common import (  # noqa: E402
    HEALTH_FILES,
    RawLsp,
    make_repo,
    print_table,
    server_env,
)

SECRET = "OUTSIDE_SECRET_5b7e1a"
PART = SECRET[8:]  # what requests ask for: an answer echoing it does not hold SECRET
FILES = {**HEALTH_FILES, "pkg/mod.py": "def inside_function():\n    return 'inside'\n",
         "pkg/util.py": "def helper():\n    return 2\n", "main.py": "import pkg.mod\n"}
CLI_TIMEOUT_S = 120


class World:
    """A repository with its ways out, and the outside folder holding the secret."""

    def __init__(self, base: Path, name: str) -> None:
        self.base = base / name
        self.outside = self.base / "outside"
        self.outside.mkdir(parents=True)
        for rel in ("mod.py", "util.py", "secret.py"):
            (self.outside / rel).write_text(f"def {SECRET}():\n    return '{SECRET}'\n")
        self.repo = make_repo(self.base / "repo", FILES)
        self.index = self.base / "index"

    def plant(self) -> None:
        """After the first index: the ways out."""
        repo = self.repo
        shutil.rmtree(repo / "pkg")
        os.symlink(self.outside, repo / "pkg")  # a tracked directory, now a symlink out
        os.symlink(self.outside, repo / "linkdir")
        os.symlink(self.outside / "secret.py", repo / "link.py")
        os.symlink("loop_b", repo / "loop_a")
        os.symlink("loop_a", repo / "loop_b")
        os.symlink("self_loop", repo / "self_loop")
        (repo / ".git" / "description").write_text(f"{SECRET}\n")
        (repo / ".git" / "secret.py").write_text(f"{SECRET} = 1\n")

    def sneaky_paths(self) -> list[str]:
        o = str(self.outside)
        return ["..", "../outside", "../outside/secret.py", o, o + "/secret.py", ".git",
                ".git/description", "linkdir", "linkdir/secret.py", "link.py", "pkg",
                "pkg/mod.py", "loop_a", "loop_a/x", "self_loop", "./pkg/../../outside",
                "pkg/../../outside/secret.py", "/etc", "%2e%2e/outside"]

    def sneaky_uris(self) -> list[str]:
        root = self.repo.as_uri()
        o = self.outside.as_uri()
        return [o, o + "/secret.py", f"{root}/../outside", f"{root}/%2e%2e/outside/secret.py",
                f"{root}/pkg/mod.py", f"{root}/link.py", f"{root}/linkdir/secret.py",
                f"{root}/.git/description", f"{root}/pkg%2fmod.py", "file:///etc/passwd",
                f"file://localhost{self.outside}/secret.py", f"{root}/loop_a/x"]


HOSTILE_REVS = ["HEAD:../", "--output=/tmp/cl-probe-x", "../../outside", "HEAD@{-1}",
                "HEAD^{tree}", f"{'x' * 300}", "HEAD:pkg", ".git/description", "-n1"]


def _leaks(text: str) -> bool:
    return SECRET in text


# --- the CLI, without and with the daemon ------------------------------------------------

def _cli_attempts(world: World) -> list[list[str]]:
    attempts: list[list[str]] = [["search", PART], ["search", "def "], ["symbols", PART]]
    for path in world.sneaky_paths():
        attempts += [["search", PART, path], ["chunks", path],
                     ["context", PART, "--file", path], ["context", PART, "--open", path],
                     ["context", PART, "--selection", f"{path}:1-2"]]
    for rev in HOSTILE_REVS:
        attempts += [["search", "--rev", rev, PART], ["symbols", "--rev", rev, PART]]
    return attempts


def run_cli(world: World, daemon: bool, budget_s: float, limit: int | None) -> dict[str, Any]:
    env = server_env(world.index, CODELOUPE_DAEMON="on" if daemon else "off")
    row = _row(f"outside root: CLI{' + daemon' if daemon else ''}")
    proc = None
    if daemon:
        proc = subprocess.Popen([sys.executable, "-m", "indexer", "daemon", "--idle", "120"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sock = world.index / "daemon.sock"
        for _ in range(400):
            if sock.exists():
                break
            time.sleep(0.05)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=world.repo,
                              env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S)

    try:
        cli("index")
        world.plant()
        deadline = time.monotonic() + budget_s
        for args in _cli_attempts(world)[:limit]:
            if time.monotonic() > deadline:
                break
            row["tried"] += 1
            try:
                done = cli(*args)
            except subprocess.TimeoutExpired:
                row["hangs"] += 1
                continue
            if done.returncode < 0 or "Traceback" in done.stderr:
                row["crashes"] += 1
                row["_notes"].append(f"{' '.join(args)[:60]}: "
                                     f"{done.stderr.strip().splitlines()[-1][:80]}")
            if _leaks(done.stdout + done.stderr):
                row["wrong"] += 1
                row["_notes"].append(f"secret in: {' '.join(args)[:80]}")
    finally:
        if proc is not None:
            subprocess.run([sys.executable, "-m", "indexer", "daemon", "--stop"], env=env,
                           capture_output=True, timeout=30)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return _done(row)


# --- MCP ---------------------------------------------------------------------------------

async def _run_mcp(world: World, budget_s: float, limit: int | None) -> dict[str, Any]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    row = _row("outside root: MCP")
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "indexer", "mcp", "--repo", str(world.repo)],
                                   env=server_env(world.index), cwd=str(world.repo))
    calls: list[tuple[str, dict[str, Any]]] = [("search", {"query": PART}),
                                               ("search", {"query": "def ", "regex": True}),
                                               ("symbols", {"query": PART}),
                                               ("ask", {"question": PART}),
                                               ("context", {"query": PART})]
    for path in world.sneaky_paths():
        calls += [("search", {"query": PART, "paths": [path]}),
                  ("symbols", {"query": PART, "paths": [path]}),
                  ("context", {"query": PART, "paths": [path]})]
    for rev in HOSTILE_REVS:
        calls += [("search", {"query": PART, "rev": rev}), ("symbols", {"query": PART,
                                                                        "rev": rev})]
    deadline = time.monotonic() + budget_s
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await asyncio.wait_for(client.initialize(), 120)
        await asyncio.wait_for(client.call_tool("symbols", {"query": "getTextSize"}), 120)
        world.plant()
        for tool, args in calls[:limit]:
            if time.monotonic() > deadline:
                break
            row["tried"] += 1
            try:
                result = await asyncio.wait_for(client.call_tool(tool, args), 60)
            except TimeoutError:
                row["hangs"] += 1
                continue
            text = " ".join(getattr(c, "text", "") for c in result.content)
            if _leaks(text):
                row["wrong"] += 1
                row["_notes"].append(f"secret in: {tool} {json.dumps(args)[:80]}")
    return _done(row)


# --- the language server -------------------------------------------------------------------

def _lsp_attempts(world: World) -> list[tuple[str, Any]]:
    calls: list[tuple[str, Any]] = [("codeloupe/search", {"query": PART}),
                                    ("codeloupe/search", {"query": "def ", "isRegex": True}),
                                    ("workspace/symbol", {"query": PART}),
                                    ("codeloupe/symbols", {"query": PART}),
                                    ("codeloupe/ask", {"query": PART}),
                                    ("codeloupe/context", {"task": PART})]
    for path in world.sneaky_paths():
        calls += [("codeloupe/search", {"query": PART, "paths": [path]}),
                  ("codeloupe/symbols", {"query": PART, "paths": [path]})]
    for uri in world.sneaky_uris():
        calls += [("codeloupe/search", {"query": PART, "paths": [uri]}),
                  ("codeloupe/search", {"query": PART, "folder": uri}),
                  ("codeloupe/context", {"task": PART, "file": uri}),
                  ("codeloupe/context", {"task": PART, "open": [uri]}),
                  ("codeloupe/context", {"task": PART, "selection": {"uri": uri, "range": {
                      "start": {"line": 0, "character": 0},
                      "end": {"line": 2, "character": 0}}}})]
    for rev in HOSTILE_REVS:
        calls += [("codeloupe/search", {"query": PART, "rev": rev}),
                  ("codeloupe/symbols", {"query": PART, "rev": rev})]
    return calls


def run_lsp(world: World, budget_s: float, limit: int | None, locked: bool) -> dict[str, Any]:
    row = _row(f"outside root: LSP{' (write lock held)' if locked else ''}")
    server = RawLsp(world.repo, world.index, world.base / "lsp.log")
    holder = None
    try:
        server.initialize()
        if locked:
            holder = _hold_write_lock(world)
        world.plant()
        for rel in ("pkg/mod.py", "pkg/util.py", "link.py", "linkdir/secret.py"):
            server.notify("textDocument/didSave",
                          {"textDocument": {"uri": (world.repo / rel).as_uri()}})
        deadline = time.monotonic() + budget_s
        for method, params in _lsp_attempts(world)[:limit]:
            if time.monotonic() > deadline:
                break
            row["tried"] += 1
            answer = server.request(method, params, 60)
            if answer is None:
                row["crashes" if not server.alive() else "hangs"] += 1
                if not server.alive():
                    break
                continue
            if _leaks(json.dumps(answer)):
                row["wrong"] += 1
                row["_notes"].append(f"secret in: {method} {json.dumps(params)[:80]}")
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        code = server.stop()
        if code not in (0, None):
            row["crashes"] += 1
            row["_notes"].append(f"exit code {code}")
    return _done(row)


def _hold_write_lock(world: World) -> subprocess.Popen:
    """Another process holding the index's write lock (as a second codeloupe would): the
    server then reads changed files from disk. Stopped by PID."""
    from indexer.store.index_store import index_dir_for

    directory = index_dir_for(world.repo.resolve(), world.index)
    code = ("import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(3600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(directory / "write.lock")],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


# --- the table -------------------------------------------------------------------------------

def _row(name: str) -> dict[str, Any]:
    return {"probe": name, "tried": 0, "crashes": 0, "hangs": 0, "wrong": 0, "leaks": 0,
            "notes": "", "_notes": []}


def _done(row: dict[str, Any]) -> dict[str, Any]:
    notes = row.pop("_notes")
    row["notes"] = "; ".join(notes[:8]) + (f" (+{len(notes) - 8})" if len(notes) > 8 else "")
    if not notes:
        row["notes"] = f"{row['tried']} attempts, no answer held the secret"
    return row


def run(budget_s: float, seed: int, count: int | None = None) -> list[dict[str, Any]]:
    """Every front end; `count` caps the attempts per front end (None: all of them). The
    attempts are fixed lists: `seed` is accepted for the driver's uniform call."""
    del seed
    fronts: list[tuple[str, Callable[[World, float], dict[str, Any]]]] = [
        ("cli", lambda w, b: run_cli(w, False, b, count)),
        ("daemon", lambda w, b: run_cli(w, True, b, count)),
        ("mcp", lambda w, b: asyncio.run(_run_mcp(w, b, count))),
        ("lsp", lambda w, b: run_lsp(w, b, count, False)),
        ("lsp-locked", lambda w, b: run_lsp(w, b, count, True)),
    ]
    rows = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cl-outside-") as tmp:
        for k, (name, front) in enumerate(fronts):
            left = budget_s - (time.monotonic() - started)
            share = max(5.0, left / (len(fronts) - k))
            try:
                rows.append(front(World(Path(tmp), name), share))
            except Exception as exc:
                row = _row(f"outside root: {name}")
                row["crashes"] = 1
                row["_notes"].append(f"{type(exc).__name__}: {str(exc)[:120]}")
                rows.append(_done(row))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=900.0, help="seconds, in all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=None, help="attempts per front end")
    args = parser.parse_args()
    t0 = time.monotonic()
    table = run(args.budget, args.seed, args.count)
    print_table(table)
    print(f"({time.monotonic() - t0:.0f} s)")
