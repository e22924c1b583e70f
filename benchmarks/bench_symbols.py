"""Benchmark: chunking throughput over the Python stdlib, and symbol query latency at 100k.

    python benchmarks/bench_symbols.py [--processes 2] [--symbols 100000] [--files N]

Chunking: every ``*.py`` file of the running interpreter's stdlib goes through
``analyze_file`` (parse, chunks, symbols) in ``--processes`` worker processes; prints files/s
and MB/s (wall clock, pool start-up excluded). Symbols: the definitions found are topped up to
``--symbols`` (copies under extra directory levels, so ties on path length stay realistic),
indexed once with ``SymbolMatcher``, then a fixed query set is run; prints p50/p95/max latency.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import sysconfig
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.chunking import analyze_file  # noqa: E402
from indexer.symbols import SymbolMatcher  # noqa: E402

QUERIES = [
    # exact names, prefixes, camel/snake humps, substrings, subsequences, misses
    "Path", "urlopen", "__init__", "get", "get_", "gTS", "getattr", "HTTPServer", "HTTPSC",
    "JSONDecoder", "jsondec", "parse_args", "pa", "a", "x", "run", "Thread", "tmpdir",
    "read_bytes", "rdbytes", "to_bytes", "setUp", "sU", "tearDown", "assertEqual", "aE",
    "assert_eq", "Decimal", "quantize", "compile", "sub", "Event", "ev", "loop", "asyncio",
    "create_task", "ct", "OrderedDict", "od", "namedtuple", "nt", "SSLContext", "sslctx",
    "wrap_socket", "ws", "Element", "findall", "fa", "iterparse", "zzzzqqq", "xmlrpc",
    "TextIOWrapper", "tiow", "StringIO", "BytesIO", "open", "close", "flush", "__repr__",
    "visit_", "visitNode", "format", "fmt", "strftime", "timedelta", "td", "Fraction",
    "gcd", "lru_cache", "cached_property", "dataclass", "field", "Enum", "auto", "Flag",
]


@dataclass(slots=True)
class Sym:
    name: str
    path: str


def stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "__pycache__", "dist-packages"}
    return sorted(p for p in root.rglob("*.py") if not skip.intersection(p.parts))


def _work(path: str) -> tuple[int, int, list[tuple[str, str]]]:
    data = Path(path).read_bytes()
    analysis = analyze_file(path, data)
    return len(data), len(analysis.chunks), [(s.name, s.path) for s in analysis.symbols]


def bench_chunking(files: list[Path], processes: int) -> list[tuple[str, str]]:
    paths = [str(p) for p in files]
    symbols: list[tuple[str, str]] = []
    total_bytes = total_chunks = 0
    with ProcessPoolExecutor(max_workers=processes) as pool:
        list(pool.map(_work, paths[: processes * 2]))  # warm up: imports, grammar loading
        start = time.perf_counter()
        for size, chunks, syms in pool.map(_work, paths, chunksize=16):
            total_bytes += size
            total_chunks += chunks
            symbols.extend(syms)
        elapsed = time.perf_counter() - start
    print(f"chunking: {len(paths)} files, {total_bytes / 1e6:.1f} MB, {total_chunks} chunks, "
          f"{len(symbols)} symbols in {elapsed:.2f} s with {processes} processes")
    print(f"chunking throughput: {len(paths) / elapsed:.0f} files/s, "
          f"{total_bytes / 1e6 / elapsed:.2f} MB/s")
    return symbols


def bench_symbols(raw: list[tuple[str, str]], target: int, repeat: int) -> None:
    root = sysconfig.get_paths()["stdlib"].rstrip("/") + "/"
    base = [Sym(n, p.removeprefix(root)) for n, p in raw]
    symbols = list(base)
    copy = 0
    while len(symbols) < target and base:
        copy += 1
        symbols.extend(Sym(s.name, f"vendor{copy}/{s.path}") for s in base)
    symbols = symbols[:target]
    start = time.perf_counter()
    matcher = SymbolMatcher(symbols)
    build = time.perf_counter() - start
    print(f"symbol index: {len(symbols)} symbols built in {build * 1000:.0f} ms")
    latencies = []
    for _ in range(repeat):
        for q in QUERIES:
            t0 = time.perf_counter()
            matcher.search(q, 100)
            latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"symbol query latency over {len(QUERIES)} queries x {repeat}: "
          f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {latencies[-1]:.2f} ms")
    for q in ("gTS", "get_ts", "HTTPSC", "jsondec"):
        top = [s.name for _, s in matcher.search(q, 5)]
        print(f"  {q!r:10} -> {top}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--symbols", type=int, default=100_000)
    ap.add_argument("--files", type=int, default=0, help="limit the number of stdlib files")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    files = stdlib_files()
    if args.files:
        files = files[: args.files]
    raw = bench_chunking(files, args.processes)
    bench_symbols(raw, args.symbols, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
