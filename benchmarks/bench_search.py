"""Benchmark: codeloupe search against ripgrep on the same files, with correctness checks.

    python benchmarks/bench_search.py [--quick] [--corpus DIR] [--index-dir DIR] [--reuse-index]

One run does everything:

1. corpus: make_corpus.py's git repository (stdlib + site-packages) in a temporary folder, or
   an existing one with ``--corpus``; its size and file count (a loud warning under 100 MB);
2. indexing: ``Workspace.index`` into a fresh index directory, in a child process (MB/s of
   source read and of searchable bytes, index size and its ratio to the corpus, peak RSS);
3. every query of ``queries.py`` (``--quick``: about 20 of them):
   a. correctness: the (path, line) pairs the engine reports equal those of
      ``rg --hidden --max-filesize 1M -g '!.git' -n --no-heading [flags] -e PATTERN``
      run in the corpus root;
   b. in-process latency: median of ``--runs`` warm engine searches (every result consumed)
      against the median of ``--rg-runs`` ripgrep processes whose stdout is read in full
      through a pipe (never /dev/null: ripgrep notices it and stops at the first match);
   c. the "editor" regime, for queries with more than 20,000 matching lines: the engine with
      ``limit=20000`` against ripgrep read in chunks and killed once 20,000 lines have come
      (VS Code's search.maxResults);
   d. whole processes: ``codeloupe search`` (it checks the index is fresh first, as it does by
      default) against ``rg --vimgrep`` (the same output format), stdout read in full, median
      of ``--cli-runs`` each;
4. a table per query in benchmarks/results/search-<date>[-quick].md and .json, and a summary
   on stdout. Ratios are codeloupe time / ripgrep time: below 1 codeloupe is faster.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from make_corpus import make_corpus  # noqa: E402
from queries import CLASSES, QUERIES, Query, quick_set  # noqa: E402

from indexer.errors import PatternError  # noqa: E402
from indexer.paths import daemon_socket  # noqa: E402
from indexer.search import SearchOptions, SearchStats, compile_search  # noqa: E402
from indexer.workspace import Workspace  # noqa: E402

RG_BASE = ["--hidden", "--max-filesize", "1M", "-g", "!.git"]
EDITOR_LIMIT = 20_000
MIN_CORPUS_BYTES = 100_000_000

# Runs in a child process, so that its peak RSS is the indexer's alone.
INDEX_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from indexer.paths import daemon_socket  # noqa: E402
from indexer.workspace import Workspace
ws = Workspace.open(sys.argv[1], index_dir=Path(sys.argv[2]))
t = time.perf_counter()
s = ws.index(None)
wall = time.perf_counter() - t
out = dict(files=s.files, bytes=s.bytes, skipped=s.skipped, new_blobs=s.new_blobs,
           read_bytes=s.read_bytes, seconds=s.seconds, wall=wall, up_to_date=s.up_to_date,
           index_bytes=ws.store.size_bytes(),
           maxrss_self_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           maxrss_children_kb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
ws.close()
print(json.dumps(out))
"""


# --- helpers ------------------------------------------------------------------------------------


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def pct(xs: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def fmt_ms(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def fmt_ratio(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs <= 0:
        return None
    return ours / theirs


def search_options(q: Query, limit: int | None = None) -> SearchOptions:
    f = q.flags
    case = "ignore" if f.get("i") else "smart" if f.get("S") else "sensitive"
    return SearchOptions(patterns=(q.pattern,), fixed_strings=bool(f.get("F")), case=case,
                         whole_word=bool(f.get("w")), globs=q.globs, limit=limit)


def rg_command(rg: str, q: Query, *, vimgrep: bool = False) -> list[str]:
    mode = ["--vimgrep"] if vimgrep else ["-n", "--no-heading"]
    return [rg, *RG_BASE, *mode, *q.rg_flags(), "-e", q.pattern]


def run_full(cmd: list[str], cwd: Path) -> tuple[float, bytes, int]:
    """(seconds, stdout, exit code) of a process whose stdout is read in full via a pipe."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        sys.stderr.write(f"warning: {cmd!r} exited {proc.returncode}: "
                         f"{err.decode(errors='replace')[:300]}\n")
    return elapsed, out, proc.returncode


def run_until_lines(cmd: list[str], cwd: Path, lines: int) -> tuple[float, int]:
    """Seconds until `lines` lines of stdout have been read (then the process is killed), as
    an editor consumes ripgrep; the whole run if it prints fewer."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    fd = proc.stdout.fileno()
    seen = 0
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        seen += chunk.count(b"\n")
        if seen >= lines:
            break
    elapsed = time.perf_counter() - t
    if seen >= lines:
        proc.kill()
    proc.stdout.close()
    proc.wait()
    if seen < lines:
        elapsed = time.perf_counter() - t
    return elapsed, seen


def parse_rg_lines(out: bytes) -> dict[tuple[bytes, int], bytes]:
    """(path, line number) -> text from `rg -n --no-heading` output (paths hold no ':')."""
    pairs: dict[tuple[bytes, int], bytes] = {}
    for line in out.split(b"\n"):
        if not line:
            continue
        i = line.find(b":")
        j = line.find(b":", i + 1)
        pairs[(line[:i], int(line[i + 1:j]))] = line[j + 1:]
    return pairs


# --- corpus and indexing ------------------------------------------------------------------------


def corpus_stats(corpus: Path) -> tuple[int, int]:
    files = size = 0
    for root, dirs, names in os.walk(corpus):
        dirs[:] = [d for d in dirs if not (root == str(corpus) and d == ".git")]
        for name in names:
            path = os.path.join(root, name)
            if os.path.islink(path):
                continue
            files += 1
            size += os.path.getsize(path)
    return files, size


def build_index(corpus: Path, index_dir: Path) -> dict:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", INDEX_CHILD, str(corpus), str(index_dir)],
                          capture_output=True, text=True, cwd=HERE.parent)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"indexing failed ({proc.returncode}):\n{proc.stderr}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    info["process_wall"] = wall
    info["maxrss_rusage_children_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return info


# --- one query ----------------------------------------------------------------------------------


@dataclass
class Result:
    cls: str
    pattern: str
    flags: dict
    label: str
    error: str | None = None
    rg_lines: int = 0
    ours_lines: int = 0
    identical: bool | None = None
    only_ours: int = 0
    only_rg: int = 0
    examples: list[str] = field(default_factory=list)
    scanned: bool | None = None
    candidates: int | None = None
    ours_ms: float | None = None
    rg_ms: float | None = None
    ratio: float | None = None
    ours_runs_ms: list[float] = field(default_factory=list)
    rg_runs_ms: list[float] = field(default_factory=list)
    editor_ours_ms: float | None = None
    editor_rg_ms: float | None = None
    editor_ratio: float | None = None
    editor_ours_lines: int | None = None
    cli_ours_ms: float | None = None
    cli_rg_ms: float | None = None
    cli_ratio: float | None = None
    cli_ours_lines: int | None = None
    cli_rg_lines: int | None = None


def engine_run(searcher, opts: SearchOptions, compiled, collect: bool = False):  # noqa: ANN001
    stats = SearchStats()
    t = time.perf_counter()
    n = 0
    pairs: dict[tuple[bytes, int], bytes] | None = {} if collect else None
    for fm in searcher.search(opts, compiled, stats):
        n += len(fm.lines)
        if pairs is not None:
            path = os.fsencode(fm.path)
            for line in fm.lines:
                if line.submatches:
                    pairs[(path, line.line_number)] = line.text
    return time.perf_counter() - t, n, pairs, stats


def show_line(text: bytes) -> str:
    s = text.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
    return s if len(s) <= 100 else s[:97] + "..."


def bench_query(q: Query, searcher, corpus: Path, index_dir: Path, rg: str,  # noqa: ANN001
                codeloupe: str, args: argparse.Namespace, with_cli: bool) -> Result:
    r = Result(q.cls, q.pattern, dict(q.flags), q.label())
    opts = search_options(q)
    try:
        compiled = compile_search(opts)
    except PatternError as exc:
        r.error = str(exc).splitlines()[0]
        return r
    # (a) correctness, from a first (warm-up) engine run and a first rg run
    _, _, ours, stats = engine_run(searcher, opts, compiled, collect=True)
    r.scanned, r.candidates = stats.scanned, stats.candidates
    rg_cmd = rg_command(rg, q)
    rg_times = []
    elapsed, out, _ = run_full(rg_cmd, corpus)
    rg_times.append(elapsed)
    theirs = parse_rg_lines(out)
    del out
    assert ours is not None
    r.ours_lines, r.rg_lines = len(ours), len(theirs)
    only_ours = ours.keys() - theirs.keys()
    only_rg = theirs.keys() - ours.keys()
    r.only_ours, r.only_rg = len(only_ours), len(only_rg)
    r.identical = not only_ours and not only_rg
    for side, keys, texts in (("only codeloupe", only_ours, ours),
                              ("only rg", only_rg, theirs)):
        for key in sorted(keys)[:3]:
            path = key[0].decode("utf-8", "backslashreplace")
            r.examples.append(f"{side}: {path}:{key[1]}: {show_line(texts[key])}")
    del ours, theirs
    # (b) latency
    for _ in range(args.runs):
        r.ours_runs_ms.append(engine_run(searcher, opts, compiled)[0] * 1000)
    for _ in range(args.rg_runs - 1):
        rg_times.append(run_full(rg_cmd, corpus)[0])
    r.rg_runs_ms = [t * 1000 for t in rg_times]
    r.ours_ms, r.rg_ms = median(r.ours_runs_ms), median(r.rg_runs_ms)
    r.ratio = ratio(r.ours_ms, r.rg_ms)
    # (c) editor regime
    if r.rg_lines > EDITOR_LIMIT:
        limited = search_options(q, limit=EDITOR_LIMIT)
        times = []
        for _ in range(args.runs):
            elapsed, n, _, _ = engine_run(searcher, limited, compiled)
            times.append(elapsed * 1000)
        r.editor_ours_lines = n
        r.editor_ours_ms = median(times)
        r.editor_rg_ms = median([run_until_lines(rg_cmd, corpus, EDITOR_LIMIT)[0] * 1000
                                 for _ in range(args.rg_runs)])
        r.editor_ratio = ratio(r.editor_ours_ms, r.editor_rg_ms)
    # (d) whole processes
    if with_cli:
        # --hidden: the same files as RG_BASE (the CLI skips hidden ones by default, as rg)
        ours_cmd = [codeloupe, "search", "--hidden", "--repo", str(corpus), "--index-dir",
                    str(index_dir), *q.rg_flags(), "-e", q.pattern]
        rg_vim = rg_command(rg, q, vimgrep=True)
        ours_t, rg_t = [], []
        for _ in range(args.cli_runs):
            elapsed, out, _ = run_full(ours_cmd, corpus)
            ours_t.append(elapsed * 1000)
            r.cli_ours_lines = out.count(b"\n")
            elapsed, out, _ = run_full(rg_vim, corpus)
            rg_t.append(elapsed * 1000)
            r.cli_rg_lines = out.count(b"\n")
            del out
        r.cli_ours_ms, r.cli_rg_ms = median(ours_t), median(rg_t)
        r.cli_ratio = ratio(r.cli_ours_ms, r.cli_rg_ms)
    return r


# --- report -------------------------------------------------------------------------------------


def md_cell(text: str) -> str:
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def write_markdown(path: Path, meta: dict, results: list[Result], summary_text: str) -> None:
    lines = [f"# codeloupe vs ripgrep: search benchmark ({meta['started']})", "",
             f"Command: `{meta['command']}`", "", "```", summary_text.rstrip(), "```", "",
             "Ratios are codeloupe / ripgrep (below 1: codeloupe faster). `ok`: same "
             "(path, line) set as rg. Editor: limit 20,000 lines vs rg killed after 20,000 "
             "lines. CLI: `codeloupe search` vs `rg --vimgrep`, whole processes.", "",
             "| class | pattern | matches | ours ms | rg ms | ratio | editor ours | editor rg "
             "| editor ratio | CLI ours | CLI rg | CLI ratio | ok |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
    for r in results:
        ok = "ERROR" if r.error else ("yes" if r.identical else
                                      f"NO (+{r.only_ours}/-{r.only_rg})")
        lines.append(
            f"| {r.cls} | {md_cell(r.label)} | {r.rg_lines} | {fmt_ms(r.ours_ms)} | "
            f"{fmt_ms(r.rg_ms)} | {fmt_ratio(r.ratio)} | {fmt_ms(r.editor_ours_ms)} | "
            f"{fmt_ms(r.editor_rg_ms)} | {fmt_ratio(r.editor_ratio)} | {fmt_ms(r.cli_ours_ms)} | "
            f"{fmt_ms(r.cli_rg_ms)} | {fmt_ratio(r.cli_ratio)} | {ok} |")
    bad = [r for r in results if r.error or not r.identical]
    if bad:
        lines += ["", "## Mismatches and errors", ""]
        for r in bad:
            lines.append(f"- {md_cell(r.label)} ({r.cls}): " + (
                r.error or f"{r.ours_lines} lines ours, {r.rg_lines} rg; {r.only_ours} only "
                           f"codeloupe, {r.only_rg} only rg"))
            lines += [f"  - {md_cell(e)}" for e in r.examples]
    path.write_text("\n".join(lines) + "\n")


def summarize(meta: dict, results: list[Result]) -> str:
    out: list[str] = []
    p = out.append
    c = meta["corpus"]
    p(f"corpus: {c['path']}: {c['files']} files, {c['bytes'] / 1e6:.1f} MB "
      f"(searchable, as rg sees it: {c['searchable_files']} files, "
      f"{c['searchable_bytes'] / 1e6:.1f} MB)")
    if c["bytes"] < MIN_CORPUS_BYTES:
        p(f"!!! WARNING: corpus is {c['bytes'] / 1e6:.1f} MB, under the 100 MB the benchmark "
          "asks for !!!")
    ix = meta.get("indexing")
    if ix:
        secs = ix["seconds"]
        p(f"indexing: {ix['new_blobs']} blobs, {ix['read_bytes'] / 1e6:.1f} MB read in "
          f"{secs:.1f} s (child process {ix['process_wall']:.1f} s): "
          f"{ix['read_bytes'] / 1e6 / secs:.2f} MB/s read, "
          f"{ix['bytes'] / 1e6 / secs:.2f} MB/s searchable; skipped {ix['skipped']}")
        p(f"index size: {ix['index_bytes'] / 1e6:.1f} MB = "
          f"{ix['index_bytes'] / ix['bytes']:.2f}x the searchable bytes, "
          f"{ix['index_bytes'] / c['bytes']:.2f}x the corpus")
        p(f"peak RSS while indexing: {ix['maxrss_self_kb'] / 1024:.0f} MB (indexer process; "
          f"its git children peaked at {ix['maxrss_children_kb'] / 1024:.0f} MB; "
          f"RUSAGE_CHILDREN of this script: {ix['maxrss_rusage_children_kb'] / 1024:.0f} MB)")
    else:
        p("indexing: not measured (--reuse-index)")
    ok = [r for r in results if not r.error]
    errors = [r for r in results if r.error]
    identical = sum(1 for r in ok if r.identical)
    p("")
    p(f"queries: {len(results)}; correctness: {identical}/{len(results)} identical to rg "
      f"(path, line); pattern errors: {len(errors)}")
    for r in errors:
        p(f"  ERROR {r.label!r}: {r.error}")
    for r in ok:
        if not r.identical:
            p(f"  MISMATCH [{r.cls}] {r.label!r}: ours {r.ours_lines} lines, rg {r.rg_lines}; "
              f"{r.only_ours} only codeloupe, {r.only_rg} only rg")
            for e in r.examples:
                p(f"      {e}")
    p("")
    p("in-process latency (median of warm runs, all results consumed) vs rg (process, stdout "
      "read in full); ratio = ours / rg")
    p(f"{'class':12} {'n':>3} {'ours p50':>9} {'ours p95':>9} {'rg p50':>8} {'rg p95':>8} "
      f"{'ratio p50':>9} {'slower':>6}")
    for cls in CLASSES + ["ALL"]:
        rs = [r for r in ok if cls in ("ALL", r.cls)]
        if not rs:
            continue
        ours = [r.ours_ms for r in rs]
        theirs = [r.rg_ms for r in rs]
        ratios = [r.ratio for r in rs if r.ratio is not None]
        slower = sum(1 for x in ratios if x > 1)
        p(f"{cls:12} {len(rs):>3} {fmt_ms(median(ours)):>9} {fmt_ms(pct(ours, 95)):>9} "
          f"{fmt_ms(median(theirs)):>8} {fmt_ms(pct(theirs, 95)):>8} "
          f"{fmt_ratio(median(ratios)):>9} {slower:>6}")
    ratios = [r.ratio for r in ok if r.ratio is not None]
    if ratios:
        geo = math.exp(statistics.fmean(math.log(x) for x in ratios))
        p(f"overall: median ratio {median(ratios):.3f}, geometric mean {geo:.3f}, "
          f"best {min(ratios):.3f}, worst {max(ratios):.2f}")
    slow = sorted((r for r in ok if r.ratio is not None and r.ratio > 1),
                  key=lambda r: -r.ratio)
    p(f"slower than rg: {len(slow)} of {len(ok)}")
    for r in slow:
        p(f"  [{r.cls}] {r.label!r}: {r.rg_lines} lines, ours {fmt_ms(r.ours_ms)} ms, "
          f"rg {fmt_ms(r.rg_ms)} ms, ratio {fmt_ratio(r.ratio)}")
    ed = [r for r in ok if r.editor_ratio is not None]
    p("")
    if ed:
        er = [r.editor_ratio for r in ed]
        p(f"editor regime (limit {EDITOR_LIMIT} vs rg killed after {EDITOR_LIMIT} lines), "
          f"{len(ed)} queries with more lines: median ratio {median(er):.3f}; ours p50 "
          f"{fmt_ms(median([r.editor_ours_ms for r in ed]))} ms, rg p50 "
          f"{fmt_ms(median([r.editor_rg_ms for r in ed]))} ms; slower than rg: "
          f"{sum(1 for x in er if x > 1)}")
        for r in ed:
            if r.editor_ratio > 1:
                p(f"  [{r.cls}] {r.label!r}: ours {fmt_ms(r.editor_ours_ms)} ms, rg "
                  f"{fmt_ms(r.editor_rg_ms)} ms, ratio {fmt_ratio(r.editor_ratio)}")
        wrong = [r for r in ed if r.editor_ours_lines != EDITOR_LIMIT]
        for r in wrong:
            p(f"  limit not honoured: {r.label!r} returned {r.editor_ours_lines} lines")
    else:
        p("editor regime: no query with more than 20,000 lines")
    cl = [r for r in ok if r.cli_ratio is not None]
    p("")
    if cl:
        cr = [r.cli_ratio for r in cl]
        which = "every query" if meta["cli_subset"] == 1 else (
            f"1 query in {meta['cli_subset']} ({len(cl)} of {len(ok)}: queries.py entries 0, "
            f"{meta['cli_subset']}, {2 * meta['cli_subset']}, ...; every class)")
        p(f"CLI (codeloupe search vs rg --vimgrep, whole processes, median of "
          f"{meta['cli_runs']}), {which}: median ratio {median(cr):.3f}; ours p50 "
          f"{fmt_ms(median([r.cli_ours_ms for r in cl]))} ms, rg p50 "
          f"{fmt_ms(median([r.cli_rg_ms for r in cl]))} ms; slower than rg: "
          f"{sum(1 for x in cr if x > 1)}")
        p(f"  (through the warm search daemon; without it, CODELOUPE_DAEMON=off, a selective "
          f"query takes {meta['cli_no_daemon_ms']:.0f} ms as a whole process)")
        for cls in CLASSES:
            rs = [r.cli_ratio for r in cl if r.cls == cls]
            if rs:
                p(f"  {cls:12} n={len(rs):>2} median CLI ratio {median(rs):.3f}")
        for r in cl:
            if r.cli_ours_lines != r.cli_rg_lines:
                p(f"  CLI output differs: {r.label!r}: {r.cli_ours_lines} lines, "
                  f"rg --vimgrep {r.cli_rg_lines}")
    p("")
    p(f"bench wall time: {meta['wall_seconds'] / 60:.1f} min; runs: engine {meta['runs']}, "
      f"rg {meta['rg_runs']}, CLI {meta['cli_runs']}; machine: {os.cpu_count()} cores, load "
      f"average {meta['loadavg_before'][0]:.2f} before, {meta['loadavg_after'][0]:.2f} after; "
      f"{meta['rg']}")
    return "\n".join(out) + "\n"


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="about 20 queries (smoke test)")
    ap.add_argument("--corpus", type=Path, help="reuse this corpus (a make_corpus.py repo)")
    ap.add_argument("--index-dir", type=Path, help="where to build the index (must be empty "
                    "or missing, unless --reuse-index)")
    ap.add_argument("--reuse-index", action="store_true",
                    help="search an existing index in --index-dir; indexing is not measured")
    ap.add_argument("--runs", type=int, default=5, help="warm engine runs per query")
    ap.add_argument("--rg-runs", type=int, default=3, help="rg runs per query")
    ap.add_argument("--cli-runs", type=int, default=3, help="CLI runs per query, each side")
    ap.add_argument("--cli-subset", type=int, default=None,
                    help="time the CLI on every Nth query only (default: 3, or 1 with --quick; "
                         "the query list is ordered by class, so every class is sampled)")
    ap.add_argument("--filter", help="only queries whose class or pattern contains this")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()
    if args.cli_subset is None:
        args.cli_subset = 1 if args.quick else 3
    load_before = os.getloadavg()
    started = time.perf_counter()
    rg = shutil.which("rg") or sys.exit("rg (ripgrep) not found on PATH")
    codeloupe = shutil.which("codeloupe") or str(Path(sys.executable).parent / "codeloupe")
    rg_version = subprocess.run([rg, "--version"], capture_output=True, text=True
                                ).stdout.splitlines()[0]
    tmp = Path(tempfile.mkdtemp(prefix="codeloupe-bench-"))
    try:
        # 1. corpus
        if args.corpus:
            corpus = args.corpus.resolve()
            if not (corpus / ".git").exists():
                sys.exit(f"{corpus} is not a git repository (build one with make_corpus.py)")
            print(f"corpus: reusing {corpus}", flush=True)
        else:
            corpus = tmp / "corpus"
            print(f"corpus: building {corpus} ...", flush=True)
            t = time.perf_counter()
            make_corpus(corpus)
            print(f"corpus: built in {time.perf_counter() - t:.0f} s", flush=True)
        files, size = corpus_stats(corpus)
        print(f"corpus: {files} files, {size / 1e6:.1f} MB", flush=True)
        if size < MIN_CORPUS_BYTES:
            print(f"!!! WARNING: the corpus is only {size / 1e6:.1f} MB, under 100 MB !!!",
                  flush=True)
        # 2. indexing
        index_dir = (args.index_dir or tmp / "index").resolve()
        indexing = None
        if args.reuse_index:
            if not index_dir.exists():
                sys.exit(f"--reuse-index: {index_dir} does not exist")
        else:
            if index_dir.exists() and any(index_dir.iterdir()):
                sys.exit(f"{index_dir} is not empty: remove it, or pass --reuse-index")
            print(f"indexing into {index_dir} (child process) ...", flush=True)
            indexing = build_index(corpus, index_dir)
            print(f"indexing: {indexing['seconds']:.1f} s, "
                  f"{indexing['read_bytes'] / 1e6 / indexing['seconds']:.2f} MB/s read, index "
                  f"{indexing['index_bytes'] / 1e6:.1f} MB, peak RSS "
                  f"{indexing['maxrss_self_kb'] / 1024:.0f} MB", flush=True)
        ws = Workspace.open(corpus, index_dir=index_dir)
        summary = ws.index(None)  # up to date: a no-op that reports the searchable files
        snap = ws.snapshot(None, refresh=False)
        searcher = snap.searcher
        # warm the page cache for both sides
        subprocess.run([rg, *RG_BASE, "-c", "-e", "zzxqjwarm"], cwd=corpus,
                       capture_output=True)
        # `codeloupe search` talks to the search daemon (started on first use): start it and
        # let it load this index, so the CLI figures are the warm, everyday ones.
        cold_cmd = [codeloupe, "search", "--repo", str(corpus), "--index-dir", str(index_dir),
                    "-e", "socket\\.create_connection"]
        cold = [run_full(cold_cmd, corpus)[0] * 1000 for _ in range(3)]  # no daemon yet: spawns
        off_env_runs = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(cold_cmd, cwd=corpus, capture_output=True,
                           env={**os.environ, "CODELOUPE_DAEMON": "off"})
            off_env_runs.append((time.perf_counter() - t) * 1000)
        deadline = time.monotonic() + 20
        while not daemon_socket().exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        run_full(cold_cmd, corpus)  # the daemon loads this index once
        cli_cold_ms = median(off_env_runs)
        print(f"CLI without the daemon (CODELOUPE_DAEMON=off), selective query: "
              f"{cli_cold_ms:.0f} ms; first runs {', '.join(f'{x:.0f}' for x in cold)} ms",
              flush=True)
        # 3. queries
        queries = quick_set() if args.quick else list(QUERIES)
        if args.filter:
            queries = [q for q in queries if args.filter in q.cls or args.filter in q.pattern]
        print(f"running {len(queries)} queries (engine x{args.runs}, rg x{args.rg_runs}, "
              f"CLI x{args.cli_runs} on 1 query in {args.cli_subset}) ...", flush=True)
        results: list[Result] = []
        for k, q in enumerate(queries):
            t = time.perf_counter()
            r = bench_query(q, searcher, corpus, index_dir, rg, codeloupe, args,
                            with_cli=k % args.cli_subset == 0)
            results.append(r)
            state = "ERROR " + r.error if r.error else (
                "ok" if r.identical else f"MISMATCH +{r.only_ours}/-{r.only_rg}")
            print(f"[{k + 1:3}/{len(queries)}] {r.cls:11} {r.label[:44]:44} "
                  f"{r.rg_lines:>8} lines  ours {fmt_ms(r.ours_ms):>6} ms  rg "
                  f"{fmt_ms(r.rg_ms):>6} ms  x{fmt_ratio(r.ratio):>5}  "
                  f"cli x{fmt_ratio(r.cli_ratio):>5}  {state}  "
                  f"({time.perf_counter() - t:.1f} s)", flush=True)
        ws.close()
        # 4. report
        now = datetime.datetime.now()
        meta = {
            "started": now.strftime("%Y-%m-%d %H:%M"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "rg": rg_version,
            "corpus": {"path": str(corpus), "files": files, "bytes": size,
                       "searchable_files": summary.files, "searchable_bytes": summary.bytes},
            "indexing": indexing,
            "runs": args.runs, "rg_runs": args.rg_runs, "cli_runs": args.cli_runs,
            "cli_no_daemon_ms": cli_cold_ms,
            "cli_subset": args.cli_subset, "quick": args.quick,
            "wall_seconds": time.perf_counter() - started,
            "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
        }
        text = summarize(meta, results)
        args.out.mkdir(parents=True, exist_ok=True)
        stem = f"search-{now:%Y-%m-%d}{'-quick' if args.quick else ''}"
        md, js = args.out / f"{stem}.md", args.out / f"{stem}.json"
        write_markdown(md, meta, results, text)
        js.write_text(json.dumps({"meta": meta, "results": [asdict(r) for r in results]},
                                 indent=1, default=str) + "\n")
        print("\n" + "=" * 30 + " summary " + "=" * 30)
        print(text, end="")
        print(f"results: {md} and {js}")
        mismatches = sum(1 for r in results if r.error or not r.identical)
        return 1 if mismatches else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
