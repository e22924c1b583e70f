"""Benchmark: the language server against the engine in-process, in the same run.

    python benchmarks/bench_lsp.py [--corpus /tmp/clbench/corpus] [--work /tmp/clbench/lsp]

A real client (a minimal JSON-RPC client over pipes, as an editor's) drives
`python -m lsp_server --stdio` in a subprocess. Prints, with ratios:

(a) request latency through LSP (sent -> whole response received by the client) vs the
    engine in-process for the same `codeloupe/search` queries (benchmarks/queries.py, the
    editor's default maxResults 20,000) and the same `workspace/symbol` queries
    (bench_symbols.py's set, 500 results): median of `--repeat` interleaved runs each;
    overhead = LSP / engine - 1, p50 over the queries (target < 20%);
(b) workspace/symbol p50 on the >= 100 MB corpus (target < 30 ms);
(c) from a saved edit (the file written on disk) to a `codeloupe/search` that sees it, on a
    10,000-file repository, with and without the editor's didSave (target < 300 ms);
(d) workspace/symbol latency while that repository re-indexes all its 10,000 files (every
    file edited: trigram stage, then chunks and symbols in worker processes) against idle,
    query by query (target: delayed by at most 50 ms).

The corpus is benchmarks/make_corpus.py's (its index is built here, under --work, if
missing); the 10,000-file repository is its first 10,000 files, copied under --work.
Nothing here asserts: the figures are printed (and written as JSON with --json).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_symbols import QUERIES as SYMBOL_QUERIES  # noqa: E402
from queries import QUERIES as SEARCH_QUERIES  # noqa: E402
from queries import quick_set  # noqa: E402

from indexer.retrieval.symbol_search import SymbolIndex  # noqa: E402
from indexer.search import SearchOptions, compile_search  # noqa: E402
from indexer.store.index_store import index_dir_for  # noqa: E402
from indexer.workspace import Workspace  # noqa: E402

_RESULT_HEAD = re.compile(rb'\{"jsonrpc":"2.0","id":(\d+),"result":')
MAX_RESULTS = 20_000  # VS Code's default for its search view
SYMBOL_LIMIT = 500  # what workspace/symbol answers


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, env=env,
                          capture_output=True, text=True).stdout


# --- preparation ----------------------------------------------------------------------------


def prepare_index(repo: Path, index_root: Path) -> Path:
    """Index and enrich `repo` with the engine (only what is missing); the index directory."""
    directory = index_dir_for(repo.resolve(), index_root)
    ws = Workspace.open(repo, index_dir=directory)
    try:
        started = time.perf_counter()
        summary = ws.index(None)
        enriched = ws.enrich(None)
        print(f"index of {repo}: {summary.files} files, {summary.bytes / 1e6:.0f} MB; "
              f"{summary.new_blobs} new blobs, {enriched.blobs} chunked; "
              f"{time.perf_counter() - started:.1f} s")
    finally:
        ws.close()
    return directory


def prepare_small_repo(corpus: Path, target: Path, files: int) -> Path:
    if (target / ".git").exists():
        return target
    paths = git(corpus, "ls-files", "-z").split("\0")
    paths = [p for p in paths if p][:files]
    target.mkdir(parents=True)
    for rel in paths:
        dst = target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / rel, dst, follow_symlinks=False)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "10,000 files of the corpus")
    return target


# --- the client -----------------------------------------------------------------------------


class Client:
    """A minimal LSP client over the server's stdio, as an editor's: Content-Length framing
    and one JSON parse per message. `timed` measures until the whole response has arrived;
    the parse is timed apart (`parse_ms`): it is the client's own cost (a Python client
    parsing 4 MB pays ~40 ms where an editor's JavaScript pays a few). pygls' client would
    add a Python call per JSON object on top (its object hook)."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.pending: dict[int, asyncio.Future[tuple[float, bytes]]] = {}
        self.index_changed: list[dict[str, Any]] = []
        self.next_id = 0
        self.parse_ms: list[float] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self, folder: Path, index_root: Path, log: Path) -> None:
        env = {**os.environ, "CODELOUPE_INDEX_DIR": str(index_root), "CODELOUPE_DAEMON": "off"}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "lsp_server", "--stdio", "--log-file", str(log), env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, limit=1 << 26)
        self._reader = asyncio.create_task(self._read())
        await self.request("initialize", {
            "processId": os.getpid(), "rootUri": None,
            "capabilities": {"window": {"workDoneProgress": True}},
            "workspaceFolders": [{"uri": folder.as_uri(), "name": folder.name}]})
        self.notify("initialized", {})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        stdout = self.proc.stdout
        while True:
            length = 0
            while True:
                header = await stdout.readline()
                if not header:
                    return
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":")[1])
                elif header in (b"\r\n", b"\n"):
                    break
            body = await stdout.readexactly(length)
            arrived = time.perf_counter()
            fast = _RESULT_HEAD.match(body)  # our results: parsed later, by the caller
            message = None if fast else json.loads(body)
            msg_id = int(fast.group(1)) if fast else message.get("id")
            if fast or (message is not None and "method" not in message):
                future = self.pending.pop(msg_id, None)
                if future is not None and not future.done():
                    future.set_result((arrived, body))
                continue
            method = message.get("method")
            if "id" in message:  # a request from the server
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif method == "codeloupe/indexChanged":
                self.index_changed.append(message["params"])

    async def _call(self, method: str, params: Any, timeout: float = 600
                    ) -> tuple[float, float, Any]:
        self.next_id += 1
        msg_id = self.next_id
        future: asyncio.Future[tuple[float, bytes]] = \
            asyncio.get_running_loop().create_future()
        self.pending[msg_id] = future
        sent = time.perf_counter()
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        arrived, body = await asyncio.wait_for(future, timeout)
        started = time.perf_counter()
        message = json.loads(body)
        parse = (time.perf_counter() - started) * 1000
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return (arrived - sent) * 1000, parse, message["result"]

    async def request(self, method: str, params: Any, timeout: float = 600) -> Any:
        return (await self._call(method, params, timeout))[2]

    async def timed(self, method: str, params: Any) -> tuple[float, Any]:
        ms, parse, result = await self._call(method, params)
        self.parse_ms.append(parse)
        return ms, result

    async def wait_ready(self, timeout: float = 1800) -> None:
        """Until the folder's first index and its symbols are there."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = await self.request("codeloupe/status", {"checkFresh": False})
            folder = status["folders"][0]
            if folder["state"] == "ready":
                # workspace/symbol waits for the symbol index
                await self.request("workspace/symbol", {"query": "x"})
                return
            await asyncio.sleep(0.5)
        raise TimeoutError("the server did not get ready")

    async def wait_idle(self, timeout: float = 1800) -> float:
        """Until no indexing job has been seen for 2 s; returns when the last one was seen."""
        last_busy = time.perf_counter()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = await self.request("codeloupe/status", {"checkFresh": False})
            if status["folders"][0]["indexing"] is not None:
                last_busy = time.perf_counter()
            elif time.perf_counter() - last_busy > 2.0:
                return last_busy
            await asyncio.sleep(0.25)
        raise TimeoutError("indexing did not finish")

    async def stop(self) -> None:
        assert self.proc is not None
        try:
            await self.request("shutdown", None, timeout=120)
            self.notify("exit", None)
            await asyncio.wait_for(self.proc.wait(), 60)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
            if self._reader is not None:
                self._reader.cancel()


def search_params(q: Any) -> dict[str, Any]:
    flags = q.flags
    params: dict[str, Any] = {"query": q.pattern, "isRegex": not flags.get("F"),
                              "isCaseSensitive": not flags.get("i") and not flags.get("S"),
                              "smartCase": bool(flags.get("S")),
                              "isWordMatch": bool(flags.get("w")), "maxResults": MAX_RESULTS}
    includes = [g for g in q.globs if not g.startswith("!")]
    excludes = [g[1:] for g in q.globs if g.startswith("!")]
    if includes:
        params["includes"] = includes
    if excludes:
        params["excludes"] = excludes
    return params


def search_options(q: Any) -> SearchOptions:
    flags = q.flags
    case = "ignore" if flags.get("i") else ("smart" if flags.get("S") else "sensitive")
    return SearchOptions(patterns=(q.pattern,), fixed_strings=bool(flags.get("F")), case=case,
                         whole_word=bool(flags.get("w")), globs=q.globs, limit=MAX_RESULTS)


# --- (a) and (b) ----------------------------------------------------------------------------


async def bench_overhead(corpus: Path, directory: Path, index_root: Path, work: Path,
                         repeat: int, quick: bool) -> dict[str, Any]:
    ws = Workspace.open(corpus, index_dir=directory)
    snap = ws.snapshot(None, refresh=False)
    started = time.perf_counter()
    symbols = SymbolIndex(ws, snap)
    print(f"engine symbol index: {len(symbols)} symbols in {time.perf_counter() - started:.1f} s")
    gc.freeze()  # as the server does after building one: no full-heap GC pauses in the baseline

    def engine_search(q: Any) -> tuple[float, int]:
        started = time.perf_counter()
        options = search_options(q)
        lines = sum(len(fm.lines) for fm in snap.searcher.search(options,
                                                                   compile_search(options)))
        return (time.perf_counter() - started) * 1000, lines

    def engine_symbols(query: str) -> float:
        started = time.perf_counter()
        symbols.search(query, SYMBOL_LIMIT)
        return (time.perf_counter() - started) * 1000

    client = Client()
    started = time.perf_counter()
    await client.start(corpus, index_root, work / "server-corpus.log")
    await client.wait_ready()
    print(f"server ready on the corpus in {time.perf_counter() - started:.1f} s")
    rows: list[dict[str, Any]] = []
    for q in quick_set(2) if quick else SEARCH_QUERIES:
        params = search_params(q)
        engine_search(q)
        await client.request("codeloupe/search", params)  # warm both
        engine_ms, lsp_ms = [], []
        for _ in range(repeat):  # interleaved: both see the same machine load
            ms, lines = engine_search(q)
            engine_ms.append(ms)
            ms, result = await client.timed("codeloupe/search", params)
            lsp_ms.append(ms)
        matched = result["stats"]["matchedLines"]
        rows.append({"kind": "search", "query": q.label(), "class": q.cls,
                     "engine_ms": statistics.median(engine_ms),
                     "lsp_ms": statistics.median(lsp_ms), "lines": matched})
    for query in SYMBOL_QUERIES[::3] if quick else SYMBOL_QUERIES:
        engine_symbols(query)
        await client.request("workspace/symbol", {"query": query})
        engine_ms, lsp_ms = [], []
        for _ in range(repeat):
            engine_ms.append(engine_symbols(query))
            ms, result = await client.timed("workspace/symbol", {"query": query})
            lsp_ms.append(ms)
        rows.append({"kind": "symbol", "query": query, "engine_ms": statistics.median(engine_ms),
                     "lsp_ms": statistics.median(lsp_ms), "lines": len(result)})
    await client.stop()
    ws.close()

    out: dict[str, Any] = {"rows": rows}
    for kind in ("search", "symbol"):
        part = [r for r in rows if r["kind"] == kind]
        overhead = [r["lsp_ms"] / r["engine_ms"] - 1 for r in part if r["engine_ms"] > 0]
        added = [r["lsp_ms"] - r["engine_ms"] for r in part]
        engine = [r["engine_ms"] for r in part]
        lsp = [r["lsp_ms"] for r in part]
        out[kind] = {
            "queries": len(part), "engine_p50_ms": p(engine, 0.5),
            "lsp_p50_ms": p(lsp, 0.5), "engine_p95_ms": p(engine, 0.95),
            "lsp_p95_ms": p(lsp, 0.95), "overhead_p50": p(overhead, 0.5),
            "overhead_of_p50s": p(lsp, 0.5) / p(engine, 0.5) - 1,
            "added_p50_ms": p(added, 0.5), "added_p95_ms": p(added, 0.95)}
        s = out[kind]
        print(f"(a) {kind}: {s['queries']} queries; engine p50 {s['engine_p50_ms']:.1f} ms, "
              f"LSP p50 {s['lsp_p50_ms']:.1f} ms; overhead p50 {s['overhead_p50']:.0%} "
              f"(of the p50s {s['overhead_of_p50s']:.0%}); added p50 {s['added_p50_ms']:.1f} "
              f"ms, p95 {s['added_p95_ms']:.1f} ms")
    sym = out["symbol"]
    print(f"(b) workspace/symbol on the corpus ({len(symbols)} symbols): p50 "
          f"{sym['lsp_p50_ms']:.1f} ms, p95 {sym['lsp_p95_ms']:.1f} ms (target p50 < 30 ms)")
    for cls in sorted({r.get("class") for r in rows if r["kind"] == "search"}):
        part = [r for r in rows if r.get("class") == cls]
        print(f"    search class {cls:12} LSP/engine median "
              f"{statistics.median(r['lsp_ms'] / r['engine_ms'] for r in part):.2f}  "
              f"(engine p50 {p([r['engine_ms'] for r in part], 0.5):.1f} ms)")
    return out


# --- (c) and (d) ----------------------------------------------------------------------------


async def bench_freshness_and_load(small: Path, index_root: Path, work: Path, edits: int
                                   ) -> dict[str, Any]:
    client = Client()
    await client.start(small, index_root, work / "server-10k.log")
    await client.wait_ready()
    await client.wait_idle()
    files = [p for p in git(small, "ls-files", "-z").split("\0") if p.endswith(".py")]
    out: dict[str, Any] = {}

    # (c) a saved edit, then searches back to back until one sees it
    for with_save in (False, True):
        latencies = []
        for k in range(edits):
            rel = files[(k * 97 + (31 if with_save else 0)) % len(files)]
            marker = f"savedEditMarker{int(time.time() * 1000)}x{k}"
            path = small / rel
            started = time.perf_counter()
            with open(path, "a") as f:
                f.write(f"\n# {marker}\n")
            if with_save:
                client.notify("textDocument/didSave", {"textDocument": {"uri": path.as_uri()}})
            while True:
                result = await client.request("codeloupe/search", {
                    "query": marker, "isCaseSensitive": True, "maxResults": 5})
                if result["results"]:
                    break
                if time.perf_counter() - started > 30:
                    raise TimeoutError(f"the edit of {rel} was never seen")
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(1.0)
        key = "with_didSave" if with_save else "watcher_only"
        out[f"edit_{key}"] = {"p50_ms": p(latencies, 0.5), "max_ms": max(latencies),
                              "all_ms": latencies}
        print(f"(c) saved edit -> search sees it ({key}, {edits} edits): p50 "
              f"{p(latencies, 0.5):.0f} ms, max {max(latencies):.0f} ms (target < 300 ms)")
    await client.wait_idle()

    # (d) workspace/symbol while every file is edited and re-indexed
    queries = SYMBOL_QUERIES

    async def sample(rounds: int) -> list[tuple[str, float]]:
        got = []
        for i in range(rounds):
            query = queries[i % len(queries)]
            ms, _ = await client.timed("workspace/symbol", {"query": query})
            got.append((query, ms))
            await asyncio.sleep(0.05)
        return got

    idle = await sample(2 * len(queries))
    stamp = int(time.time())
    started = time.perf_counter()
    every = [f for f in git(small, "ls-files", "-z").split("\0") if f]
    for rel in every:
        with open(small / rel, "a") as f:
            f.write(f"\n# load test edit {stamp}\n")
    edited = time.perf_counter() - started
    during: list[tuple[str, float]] = []
    timeline: list[tuple[float, float, str]] = []  # (seconds since the edit, ms, phase)
    phase = "edited"
    busy_seen = False
    deadline = time.monotonic() + 1800
    i = 0
    while time.monotonic() < deadline:
        query = queries[i % len(queries)]
        i += 1
        ms, _ = await client.timed("workspace/symbol", {"query": query})
        during.append((query, ms))
        timeline.append((time.perf_counter() - started, ms, phase))
        if i % 10 == 0:
            status = await client.request("codeloupe/status", {"checkFresh": False})
            job = status["folders"][0]["indexing"]
            if job is not None:
                busy_seen = True
                phase = f"{job['message'][:40]} {job['done']}/{job['total']}"
            elif busy_seen:
                break
        await asyncio.sleep(0.05)
    for at, ms, when in sorted(timeline, key=lambda t: -t[1])[:8]:
        print(f"    slow: {ms:6.1f} ms at {at:6.1f} s ({when})")
    reindex_s = time.perf_counter() - started
    await client.stop()

    idle_by_query: dict[str, list[float]] = {}
    for query, ms in idle:
        idle_by_query.setdefault(query, []).append(ms)
    base = {q: statistics.median(v) for q, v in idle_by_query.items()}
    delays = [ms - base[q] for q, ms in during]
    idle_ms = [ms for _, ms in idle]
    during_ms = [ms for _, ms in during]
    out["load"] = {"files_edited": len(every), "edit_seconds": edited, "reindex_seconds": reindex_s,
                   "idle_p50_ms": p(idle_ms, 0.5), "idle_p95_ms": p(idle_ms, 0.95),
                   "idle_max_ms": max(idle_ms), "during_p50_ms": p(during_ms, 0.5),
                   "during_p95_ms": p(during_ms, 0.95), "during_max_ms": max(during_ms),
                   "delay_p50_ms": p(delays, 0.5), "delay_p95_ms": p(delays, 0.95),
                   "delay_max_ms": max(delays), "samples": len(during)}
    s = out["load"]
    print(f"(d) workspace/symbol during a {len(every)}-file re-index "
          f"({s['reindex_seconds']:.0f} s, {s['samples']} requests): p50 "
          f"{s['during_p50_ms']:.1f} ms, p95 "
          f"{s['during_p95_ms']:.1f} ms, max {s['during_max_ms']:.1f} ms; idle p50 "
          f"{s['idle_p50_ms']:.1f}, p95 {s['idle_p95_ms']:.1f}, max {s['idle_max_ms']:.1f} ms; "
          f"delay per query p50 {s['delay_p50_ms']:.1f} ms, p95 {s['delay_p95_ms']:.1f} ms, "
          f"max {s['delay_max_ms']:.1f} ms (target <= 50 ms)")
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    corpus = Path(args.corpus)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    index_root = work / "index"
    results: dict[str, Any] = {}
    if not args.skip_overhead:
        directory = prepare_index(corpus, index_root)
        results["overhead"] = await bench_overhead(corpus, directory, index_root, work,
                                                   args.repeat, args.quick)
    if not args.skip_load:
        small = prepare_small_repo(corpus, work / "repo10k", 10_000)
        prepare_index(small, index_root)
        results["freshness"] = await bench_freshness_and_load(small, index_root, work,
                                                              args.edits)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="/tmp/clbench/corpus")
    ap.add_argument("--work", default="/tmp/clbench/lsp")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--edits", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="(a)/(b) on a third of the queries")
    ap.add_argument("--skip-overhead", action="store_true", help="skip (a) and (b)")
    ap.add_argument("--skip-load", action="store_true", help="skip (c) and (d)")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if not (Path(args.corpus) / ".git").exists():
        print(f"no corpus at {args.corpus}: python benchmarks/make_corpus.py first")
        return 2
    results = asyncio.run(main_async(args))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
