"""Benchmark: an index for every commit and branch, forked from its neighbour.

    python benchmarks/bench_branches.py [--quick] [--sizes 10000,100000] [--keep DIR]

Every figure comes with its baseline from the same run:

(a) fork time: a synthetic repository (N small files, made with `git fast-import`, plus 30
    commits of 1-50 changed files each) indexed in full once, then each commit indexed by
    forking its parent (time until searchable, new blobs included): p50/p95, next to the
    time to index one of those commits from scratch. Also on real histories: this
    project's own commits, and successive versions of pip found on this machine committed
    one after the other;
(b) branch switch: a checkout of the synthetic repository on main; `git checkout` of a
    branch with <= 50 changed files, then the time until the working tree's snapshot is
    searchable (`Workspace.index`: HEAD's snapshot forked, the overlay applied), next to
    the time to index that commit in full;
(c) saved edits through `codeloupe watch` (a separate process): a file edited, created or
    deleted, and the time until a reader in this process finds the change (p50/p95);
(d) disk: what each extra indexed commit adds to the index: its manifest (as a share of
    the base index) and the rest (new blobs: packs, trigram documents, rows) next to the
    bytes of its changed content;
(e) correctness: for 20 commits of the real history (and each pip version), every query of
    `queries.py` through `--rev C` against ripgrep on a `git worktree` checkout of C.

Results go to benchmarks/results/branches-<date>[-quick].md and .json; a summary is printed.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_search import median, parse_rg_lines, pct, rg_command, search_options  # noqa: E402
from queries import QUERIES, Query, quick_set  # noqa: E402

from indexer.errors import PatternError  # noqa: E402
from indexer.search import SearchOptions, compile_search  # noqa: E402
from indexer.workspace import Workspace  # noqa: E402

GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@localhost",
           "GIT_CONFIG_NOSYSTEM": "1"}
FORK_COMMITS = 30
BRANCHES = 10


def log(message: str) -> None:
    print(message, flush=True)


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True,
                          env={**os.environ, **GIT_ENV}, check=True)
    return proc.stdout.decode()


def checkpointed_size(ws: Workspace) -> int:
    """The index's size with SQLite's write-ahead log folded in (it is reused, not grown)."""
    ws.store.catalog.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return ws.store.size_bytes()


# --- synthetic repository ----------------------------------------------------------------------


def synthetic_content(i: int, version: int = 0) -> bytes:
    return (f"# module {i} version {version}\nimport os\n\n"
            f"def function_{i}(value_{i % 97}):\n"
            f"    '''Compute item {i} of group {i % 131}.'''\n"
            f"    total = value_{i % 97} * {i} + {version}\n"
            f"    return os.path.join('dir{i % 50}', str(total))\n\n"
            f"class Widget{i}:\n    size = {i * 7 % 1000}\n").encode()


def synthetic_path(i: int) -> str:
    return f"pkg{i // 1000:03d}/sub{(i // 100) % 10}/mod{i:06d}.py"


def make_synthetic(root: Path, files: int, seed: int = 7) -> dict:
    """main: a base commit of `files` files, then FORK_COMMITS commits of 1-50 changes each
    (edits, additions, deletions); branches br01.. off main's tip, <= 50 changes each. One
    `git fast-import` stream: 100k files take seconds, not 100k `git add`s."""
    rnd = random.Random(seed)
    git(root.parent, "init", "-q", "-b", "main", str(root))
    stream = bytearray()

    def blob_line(path: str, data: bytes) -> None:
        stream.extend(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))

    stamp = 1_700_000_000
    stream += b"commit refs/heads/main\nmark :1\ncommitter B <b@x> %d +0000\ndata 4\nbase\n" % stamp
    for i in range(files):
        blob_line(synthetic_path(i), synthetic_content(i))
    stream += b"\n"
    present = set(range(files))
    next_new = files
    for c in range(1, FORK_COMMITS + BRANCHES + 1):
        branch = c > FORK_COMMITS
        ref = f"refs/heads/br{c - FORK_COMMITS:02d}" if branch else "refs/heads/main"
        parent = f":{FORK_COMMITS + 1}" if branch else f":{c}"
        stream += (b"commit %s\nmark :%d\ncommitter B <b@x> %d +0000\ndata 3\nc%02d\nfrom %s\n"
                   % (ref.encode(), c + 1, stamp + c, c % 100, parent.encode()))
        for _ in range(rnd.randint(1, 50)):
            roll = rnd.random()
            if roll < 0.8 or branch:
                i = rnd.choice(tuple(present)) if len(present) < 5000 else rnd.randrange(files)
                blob_line(synthetic_path(i), synthetic_content(i, c))
            elif roll < 0.9:
                blob_line(synthetic_path(next_new), synthetic_content(next_new, c))
                next_new += 1
            else:
                i = rnd.randrange(files)
                if i in present:
                    present.discard(i)
                    stream += b"D %s\n" % synthetic_path(i).encode()
        stream += b"\n"
    git(root, "fast-import", "--quiet", input=bytes(stream))
    main = git(root, "rev-list", "--reverse", "main").split()
    return {"base": main[0], "forks": main[1:],
            "branches": [f"br{b:02d}" for b in range(1, BRANCHES + 1)]}


# --- (a) and (d): forks --------------------------------------------------------------------------


def searchable_after(t0: float, summary) -> float:  # noqa: ANN001 - an IndexSummary
    """Milliseconds from `t0` until the summary's snapshot was visible to readers (tantivy's
    segment merges, which the command then waits for, come after)."""
    return (summary.started + summary.visible_seconds - t0) * 1000


def fork_series(ws: Workspace, commits: list[str], label: str) -> dict:
    """Index `commits` in order, each forked from the one before; time and disk per commit."""
    times, totals, disk = [], [], []
    for commit in commits:
        before = checkpointed_size(ws)
        t = time.perf_counter()
        summary = ws.index(commit)
        totals.append((time.perf_counter() - t) * 1000)
        record = ws.store.catalog.snapshot(commit)
        assert record is not None
        manifest = ws.store.manifest_path(record.manifest).stat().st_size
        grown = checkpointed_size(ws) - before
        times.append(searchable_after(t, summary))
        disk.append({"grown": grown, "manifest": manifest, "content": summary.read_bytes,
                     "new_blobs": summary.new_blobs, "forked": record.parent is not None})
    forked = sum(d["forked"] for d in disk)
    log(f"  {label}: {len(commits)} commits ({forked} forked), until searchable: p50 "
        f"{median(times):.1f} ms, p95 {pct(times, 95):.1f} ms, max {max(times):.1f} ms; "
        f"until the command returned (merges included): p50 {median(totals):.1f} ms, p95 "
        f"{pct(totals, 95):.1f} ms")
    return {"ms": times, "command_ms": totals, "disk": disk}


def refork_ms(ws: Workspace, commits: list[str]) -> list[float]:
    """The same forks again with every blob already stored (as for a branch switched back, a
    revert or a cherry-pick): the cost of the fork itself, diff plus manifest."""
    catalog = ws.store.catalog
    for commit in commits:
        record = catalog.snapshot(commit)
        with catalog.transaction():
            catalog.db.execute("DELETE FROM snapshots WHERE name=?", (commit,))
        if record is not None:
            ws.store.manifest_path(record.manifest).unlink()
    times = []
    for commit in commits:
        t = time.perf_counter()
        summary = ws.index(commit)
        times.append(searchable_after(t, summary))
        assert summary.new_blobs == 0
    log(f"  the same forks with their blobs already stored: p50 {median(times):.1f} ms, "
        f"p95 {pct(times, 95):.1f} ms")
    return times


def full_index_ms(repo: Path, commit: str, scratch: Path) -> tuple[float, int]:
    """Time to index `commit` from scratch in a fresh index (the baseline); its size."""
    index_dir = scratch / f"fresh-{commit[:12]}-{time.time_ns()}"
    ws = Workspace.open(repo, index_dir=index_dir)
    t = time.perf_counter()
    ws.index(commit)
    elapsed = (time.perf_counter() - t) * 1000
    size = checkpointed_size(ws)
    ws.close()
    shutil.rmtree(index_dir, ignore_errors=True)
    return elapsed, size


def disk_summary(base_size: int, disk: list[dict]) -> dict:
    manifest_share = [d["manifest"] / base_size for d in disk]
    rest = [d["grown"] - d["manifest"] for d in disk]
    content = sum(d["content"] for d in disk)
    return {"base_index_bytes": base_size,
            "manifest_share_p50": median(manifest_share),
            "manifest_share_max": max(manifest_share),
            "grown_share_max_minus_content": max(
                (d["grown"] - d["content"]) / base_size for d in disk),
            "rest_bytes": sum(rest), "changed_content_bytes": content,
            "rest_per_content_byte": sum(rest) / content if content else None}


def hardlink_forks(ws: Workspace, scratch: Path, forks: int = 10, changed: int = 50) -> dict:
    """The other mechanism ARCHITECTURE.md offers, measured on the same index: a commit's own
    trigram index made by hard-linking the committed segment files of its parent's (never
    the lock files), then `changed` documents deleted and added, committed. Time per fork,
    and the bytes it does not share with its parent (new segments, delete bitmaps, meta)."""
    import tantivy

    from indexer.store.trigram_index import TrigramIndex

    source = ws.store.tantivy_dir("trigram")
    rows = ws.store.catalog.db.execute("SELECT blob_no, pack, offset, length FROM blobs "
                                       "WHERE pack > 0 ORDER BY blob_no LIMIT ?",
                                       (changed,)).fetchall()
    texts = [(b, ws.store.packs.read(p, o, n).decode("utf-8", "replace") + " forked")
             for b, p, o, n in rows]
    times, unshared = [], []
    for k in range(forks):
        target = scratch / f"hardlink-fork-{k}"
        t = time.perf_counter()
        target.mkdir()
        for f in source.iterdir():
            if f.is_file() and not f.name.endswith(".lock"):
                os.link(f, target / f.name)
        index = TrigramIndex(target)
        writer = index.writer(expected_docs=changed)
        writer.delete_documents_by_query(tantivy.Query.term_set_query(
            index.schema, "blob_no", [b for b, _ in texts]))
        for blob, text in texts:
            index.add(blob, text)
        index.close_writer()
        times.append((time.perf_counter() - t) * 1000)
        unshared.append(sum(f.stat().st_size for f in target.iterdir()
                            if f.is_file() and f.stat().st_nlink == 1))
        shutil.rmtree(target)
    return {"ms": times, "unshared_bytes": unshared,
            "trigram_bytes": sum(f.stat().st_size for f in source.iterdir() if f.is_file())}


# --- (b) branch switches -------------------------------------------------------------------------


def branch_switches(repo: Path, ws: Workspace, branches: list[str]) -> dict:
    """Check out each branch (off main's tip) and back: time until searchable."""
    to_branch, back, checkout = [], [], []
    for branch in branches:
        for target, bucket in ((branch, to_branch), ("main", back)):
            t = time.perf_counter()
            git(repo, "checkout", "-q", target)
            checkout.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            bucket.append(searchable_after(t, ws.index(None)))
    return {"to_new_branch_ms": to_branch, "back_to_indexed_ms": back,
            "git_checkout_ms": checkout}


# --- (c) saved edits through `codeloupe watch` ---------------------------------------------------


def watched_edits(repo: Path, index_dir: Path, files: int, rounds: int) -> dict:
    """Edits, new files and deletions while `codeloupe watch` runs; time until a reader here
    sees each change (polling the snapshot every 2 ms, as a client would ask)."""
    env = {**os.environ, "CODELOUPE_DAEMON": "off"}
    out = open(index_dir.parent / f"watch-{files}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "watch", "--repo", str(repo),
                             "--index-dir", str(index_dir)], stdout=out,
                            stderr=subprocess.STDOUT, env=env)
    log_path = Path(out.name)
    deadline = time.monotonic() + 300
    while b"watching" not in log_path.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"codeloupe watch did not start: {log_path.read_text()}")
        time.sleep(0.05)
    ws = Workspace.open(repo, index_dir=index_dir)
    rnd = random.Random(files)
    results: dict[str, list[float]] = {"edit": [], "new": [], "delete": []}
    try:
        for k in range(rounds):
            kind = ("edit", "edit", "new", "delete")[k % 4]
            token = f"watched_token_{files}_{k}_{rnd.randrange(10**9)}"
            if kind == "edit":
                path = repo / synthetic_path(rnd.randrange(files // 2))
                with open(path, "a") as f:
                    f.write(f"# {token}\n")
            elif kind == "new":
                path = repo / f"pkg_new/n{k:04d}.py"
                path.parent.mkdir(exist_ok=True)
                path.write_text(f"{token} = {k}\n")
            else:
                path = repo / synthetic_path(files // 2 + rnd.randrange(files // 2))
                rel = path.relative_to(repo).as_posix()
                path.unlink()
            t0 = time.monotonic()
            opts = SearchOptions(patterns=(token,), fixed_strings=True)
            snapshot = None
            while True:
                # As a client keeps a loaded snapshot: reload when the catalog names a new one.
                if snapshot is None or not ws.is_current(snapshot):
                    snapshot = ws.snapshot(None, refresh=False)
                if kind == "delete":
                    done = rel not in snapshot.manifest.paths
                else:
                    done = any(True for _ in snapshot.searcher.search(opts))
                if done:
                    break
                if time.monotonic() - t0 > 30:
                    raise RuntimeError(f"a {kind} never became visible")
                time.sleep(0.002)
            results[kind].append((time.monotonic() - t0) * 1000)
            time.sleep(0.25)  # the next save comes after this one was handled
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        out.close()
        ws.close()
    every = [x for xs in results.values() for x in xs]
    return {**{f"{k}_ms": v for k, v in results.items()}, "all_ms": every,
            "exit_code": proc.returncode}


# --- real histories ------------------------------------------------------------------------------


def own_history(scratch: Path) -> tuple[Path, list[str]] | None:
    """A clone of this project's repository: its commits, oldest first."""
    source = HERE.parent
    if not (source / ".git").exists():
        return None
    repo = scratch / "codeloupe-history"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(source), str(repo)],
                   check=True)
    commits = git(repo, "rev-list", "--reverse", "--first-parent", "HEAD").split()
    return repo, commits


def pip_history(scratch: Path) -> tuple[Path, list[str], list[str]] | None:
    """A repository whose commits are the successive versions of pip installed on this
    machine (one per Python install found), oldest first."""
    candidates = set(glob.glob(os.path.expanduser("~/.pyenv/versions/*/lib/python*/"
                                                  "site-packages/pip")))
    candidates |= set(glob.glob("/usr/lib/python3*/*-packages/pip"))
    candidates |= set(glob.glob(f"{sys.base_prefix}/lib/python*/site-packages/pip"))
    versions: dict[tuple[int, ...], Path] = {}
    for path in map(Path, candidates):
        match = re.search(r'__version__ = "([0-9.]+)', (path / "__init__.py").read_text())
        if match:
            versions[tuple(int(x) for x in match.group(1).split("."))] = path
    if len(versions) < 3:
        return None
    repo = scratch / "pip-history"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commits, names = [], []
    for version in sorted(versions):
        shutil.rmtree(repo / "pip", ignore_errors=True)
        shutil.copytree(versions[version], repo / "pip",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        name = ".".join(map(str, version))
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"pip {name}")
        commits.append(git(repo, "rev-parse", "HEAD").strip())
        names.append(name)
    return repo, commits, names


# --- (e) correctness against ripgrep -------------------------------------------------------------


def correctness(repo: Path, ws: Workspace, commits: list[str], queries: list[Query],
                rg: str, scratch: Path) -> dict:
    """Each (commit, query): the (path, line) set of `--rev commit` equals rg's on a
    `git worktree` checkout of the commit."""
    pairs = identical = 0
    differences: list[str] = []
    for n, commit in enumerate(commits):
        checkout = scratch / f"wt-{repo.name}-{n}"
        git(repo, "worktree", "add", "-q", "--detach", str(checkout), commit)
        searcher = ws.snapshot(commit, refresh=True).searcher
        for q in queries:
            opts = search_options(q)
            try:
                compiled = compile_search(opts)
            except PatternError:
                continue
            ours = {(os.fsencode(fm.path), line.line_number)
                    for fm in searcher.search(opts, compiled) for line in fm.lines
                    if line.submatches}
            proc = subprocess.run(rg_command(rg, q), cwd=checkout, capture_output=True)
            if proc.returncode == 2 and b"No files were searched" not in proc.stderr:
                raise RuntimeError(f"rg failed on {q.label()}: {proc.stderr[:300]!r}")
            theirs = set(parse_rg_lines(proc.stdout))  # exit 2 above: a glob kept no file
            pairs += 1
            if ours == theirs:
                identical += 1
            elif len(differences) < 10:
                differences.append(f"{commit[:10]} {q.label()}: only ours "
                                   f"{sorted(ours - theirs)[:2]}, only rg "
                                   f"{sorted(theirs - ours)[:2]}")
        git(repo, "worktree", "remove", "--force", str(checkout))
    return {"commits": len(commits), "pairs": pairs, "identical": identical,
            "differences": differences}


# --- the run -------------------------------------------------------------------------------------


def synthetic_run(files: int, scratch: Path, rounds: int) -> dict:
    log(f"synthetic repository, {files:,} files")
    root = scratch / f"synthetic-{files}"
    t = time.perf_counter()
    layout = make_synthetic(root, files)
    log(f"  made with git fast-import in {time.perf_counter() - t:.1f} s")
    index_dir = scratch / f"index-{files}"
    ws = Workspace.open(root, index_dir=index_dir)
    t = time.perf_counter()
    ws.index(layout["base"])
    base_ms = (time.perf_counter() - t) * 1000
    base_size = checkpointed_size(ws)
    log(f"  base commit indexed in full: {base_ms / 1000:.2f} s, index {base_size / 1e6:.1f} MB")
    forks = fork_series(ws, layout["forks"], "(a) forks")
    forks["known_blobs_ms"] = refork_ms(ws, layout["forks"])
    baseline_ms, _ = full_index_ms(root, layout["forks"][-1], scratch)
    log(f"  baseline: the last of them indexed in full: {baseline_ms / 1000:.2f} s")
    linked = hardlink_forks(ws, scratch)
    log(f"  the alternative, hard-linked tantivy segments (50 documents replaced): p50 "
        f"{median(linked['ms']):.0f} ms, p95 {pct(linked['ms'], 95):.0f} ms per fork, "
        f"{median(linked['unshared_bytes']) / 1e3:.0f} KB unshared")
    t = time.perf_counter()
    git(root, "checkout", "-q", "-f", "main")
    checkout_ms = (time.perf_counter() - t) * 1000
    ws.index(None)
    switches = branch_switches(root, ws, layout["branches"])
    switch_baseline_ms, _ = full_index_ms(root, git(root, "rev-parse", "br01").strip(), scratch)
    log(f"  (b) branch switch (<= 50 changed files) until searchable: p50 "
        f"{median(switches['to_new_branch_ms']):.0f} ms, p95 "
        f"{pct(switches['to_new_branch_ms'], 95):.0f} ms (back to an indexed branch p50 "
        f"{median(switches['back_to_indexed_ms']):.0f} ms); full index of that commit "
        f"{switch_baseline_ms / 1000:.2f} s")
    disk = disk_summary(base_size, forks["disk"])
    log(f"  (d) disk per extra commit: manifest {disk['manifest_share_p50']:.1%} of the base "
        f"index (max {disk['manifest_share_max']:.1%}); the rest "
        f"{disk['rest_per_content_byte']:.2f} bytes per changed byte")
    ws.close()
    watched = watched_edits(root, index_dir, files, rounds)
    log(f"  (c) watched saves until searchable: p50 {median(watched['all_ms']):.0f} ms, p95 "
        f"{pct(watched['all_ms'], 95):.0f} ms (edit p50 {median(watched['edit_ms']):.0f}, "
        f"new {median(watched['new_ms']):.0f}, delete {median(watched['delete_ms']):.0f})")
    return {"files": files, "base_full_ms": base_ms, "base_index_bytes": base_size,
            "forks": forks, "fork_full_baseline_ms": baseline_ms, "hardlink_forks": linked,
            "worktree_checkout_ms": checkout_ms, "switches": switches,
            "switch_full_baseline_ms": switch_baseline_ms, "disk": disk, "watch": watched}


def history_run(label: str, repo: Path, commits: list[str],
                scratch: Path) -> tuple[dict, Workspace]:
    log(f"real history: {label}, {len(commits)} commits")
    ws = Workspace.open(repo, index_dir=scratch / f"index-{repo.name}")
    t = time.perf_counter()
    ws.index(commits[0])
    first_ms = (time.perf_counter() - t) * 1000
    forks = fork_series(ws, commits[1:], "(a) forks")
    baseline_ms, baseline_size = full_index_ms(repo, commits[-1], scratch)
    # A project's first commit can be tiny: measure against an index of its last one.
    disk = disk_summary(baseline_size, forks["disk"])
    changed = [len(git(repo, "diff", "--name-only", a, b).splitlines())
               for a, b in zip(commits, commits[1:], strict=False)]
    log(f"  first commit in full {first_ms:.0f} ms; last commit in full {baseline_ms:.0f} ms; "
        f"changed files per commit p50 {median(changed):.0f}, max {max(changed)}; manifest "
        f"{disk['manifest_share_p50']:.2%} of an index of the last commit")
    return {"label": label, "commits": len(commits), "first_full_ms": first_ms,
            "full_baseline_ms": baseline_ms, "forks": forks, "disk": disk,
            "changed_files": changed}, ws


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="10k files only, the quick query set, fewer watched saves")
    parser.add_argument("--sizes", default=None, help="synthetic sizes (default 10000,100000)")
    parser.add_argument("--keep", default=None, help="work in this folder and keep it")
    parser.add_argument("--history-commits", type=int, default=20,
                        help="commits of the real history checked against rg")
    parser.add_argument("--wait-idle", type=float, default=None, metavar="LOAD",
                        help="first wait (up to 30 min) until the 1-minute load is below LOAD")
    args = parser.parse_args()
    if args.wait_idle is not None:
        deadline = time.monotonic() + 1800
        while os.getloadavg()[0] >= args.wait_idle and time.monotonic() < deadline:
            time.sleep(10)
    sizes = [int(s) for s in (args.sizes or ("10000" if args.quick else "10000,100000"))
             .split(",")]
    rg = shutil.which("rg", path=str(Path(sys.executable).parent)) or shutil.which("rg")
    if rg is None:
        sys.exit("ripgrep is needed (pip install ripgrep==14.1.0)")
    os.environ["CODELOUPE_DAEMON"] = "off"
    scratch = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-branches-"))
    scratch.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    meta = {"date": datetime.date.today().isoformat(), "cpus": os.cpu_count(),
            "load_before": os.getloadavg()[0], "quick": args.quick,
            "rg": subprocess.run([rg, "--version"], capture_output=True,
                                 text=True).stdout.split("\n")[0]}
    log(f"scratch folder {scratch}; {meta['cpus']} CPUs, load {meta['load_before']:.2f}")
    results: dict = {"meta": meta, "synthetic": [], "histories": [], "correctness": []}
    try:
        for files in sizes:
            results["synthetic"].append(synthetic_run(files, scratch, 12 if args.quick else 24))
        queries = quick_set() if args.quick else list(QUERIES)
        own = own_history(scratch)
        if own is not None:
            repo, commits = own
            run, ws = history_run("this project's history", repo, commits, scratch)
            results["histories"].append(run)
            check = correctness(repo, ws, commits[-args.history_commits:], queries, rg,
                                scratch)
            results["correctness"].append({"history": run["label"], **check})
            log(f"  (e) {check['identical']}/{check['pairs']} (commit, query) pairs equal rg "
                f"on a checkout ({check['commits']} commits x {len(queries)} queries)")
            ws.close()
        pip = pip_history(scratch)
        if pip is not None:
            repo, commits, names = pip
            run, ws = history_run(f"pip {names[0]} .. {names[-1]}", repo, commits, scratch)
            run["versions"] = names
            results["histories"].append(run)
            check = correctness(repo, ws, commits, queries, rg, scratch)
            results["correctness"].append({"history": run["label"], **check})
            log(f"  (e) {check['identical']}/{check['pairs']} (commit, query) pairs equal rg "
                f"on a checkout ({check['commits']} commits x {len(queries)} queries)")
            ws.close()
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    meta["seconds"] = time.perf_counter() - started
    summary = summarize(results)
    print("\n" + summary)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    stem = f"branches-{meta['date']}{'-quick' if args.quick else ''}"
    (out_dir / f"{stem}.json").write_text(json.dumps(results, indent=1))
    (out_dir / f"{stem}.md").write_text(f"# bench_branches.py, {meta['date']}\n\n"
                                        f"{meta['cpus']} CPUs, load {meta['load_before']:.2f} "
                                        f"before the run, {meta['seconds']:.0f} s in all, "
                                        f"{meta['rg']}\n\n{summary}\n")
    log(f"written: {out_dir / stem}.md and .json")
    return 0


def summarize(results: dict) -> str:
    rows = ["| | figure | baseline (same run) |", "|---|---|---|"]
    for s in results["synthetic"]:
        n = f"{s['files'] // 1000}k files"
        f = s["forks"]["ms"]
        k = s["forks"]["known_blobs_ms"]
        c = s["forks"]["command_ms"]
        rows.append(f"| (a) fork, {n} (30 commits, 1-50 changed files), until searchable | "
                    f"p50 **{median(f):.0f} ms**, p95 **{pct(f, 95):.0f} ms** (the command, "
                    f"merges included: p50 {median(c):.0f}, p95 {pct(c, 95):.0f}); with the "
                    f"blobs already stored p50 {median(k):.0f} ms, p95 {pct(k, 95):.0f} ms | "
                    f"full index of one commit {s['fork_full_baseline_ms'] / 1000:.2f} s |")
    for s in results["synthetic"]:
        h = s["hardlink_forks"]
        rows.append(f"| the alternative: hard-linked tantivy segments, {s['files'] // 1000}k "
                    f"files (trigram index only, 50 documents replaced) | p50 "
                    f"{median(h['ms']):.0f} ms, p95 {pct(h['ms'], 95):.0f} ms; "
                    f"{median(h['unshared_bytes']) / 1e3:.0f} KB unshared per fork | "
                    f"trigram index {h['trigram_bytes'] / 1e6:.1f} MB |")
    for h in results["histories"]:
        f = h["forks"]["ms"]
        rows.append(f"| (a) fork, until searchable, {h['label']} ({h['commits']} commits, "
                    f"changed files p50 {median(h['changed_files']):.0f}, max "
                    f"{max(h['changed_files'])}) | p50 "
                    f"**{median(f):.0f} ms**, p95 **{pct(f, 95):.0f} ms** | full index of the "
                    f"last commit {h['full_baseline_ms']:.0f} ms |")
    for s in results["synthetic"]:
        n = f"{s['files'] // 1000}k files"
        w = s["switches"]
        rows.append(f"| (b) branch switch, {n} (<= 50 changed files), until searchable | "
                    f"p50 **{median(w['to_new_branch_ms']):.0f} ms**, p95 "
                    f"**{pct(w['to_new_branch_ms'], 95):.0f} ms**; back to an indexed branch "
                    f"p50 {median(w['back_to_indexed_ms']):.0f} ms | full index of the branch "
                    f"{s['switch_full_baseline_ms'] / 1000:.2f} s; `git checkout` itself p50 "
                    f"{median(w['git_checkout_ms']):.0f} ms |")
    for s in results["synthetic"]:
        n = f"{s['files'] // 1000}k files"
        w = s["watch"]
        rows.append(f"| (c) saved edit searchable via `codeloupe watch`, {n} | p50 "
                    f"**{median(w['all_ms']):.0f} ms**, p95 **{pct(w['all_ms'], 95):.0f} ms** "
                    f"(edit {median(w['edit_ms']):.0f}, new file {median(w['new_ms']):.0f}, "
                    f"deletion {median(w['delete_ms']):.0f}) | - |")
    for item in [*results["synthetic"], *results["histories"]]:
        d = item["disk"]
        what = f"{item['files'] // 1000}k files" if "files" in item else item["label"]
        per = d["rest_per_content_byte"]
        share = d["manifest_share_p50"]
        rows.append(f"| (d) disk per extra commit, {what} | manifest **{share:.1%}"
                    f"** of the base index (max {d['manifest_share_max']:.1%}); the rest "
                    f"{per:.2f} bytes per byte of changed content | base index "
                    f"{d['base_index_bytes'] / 1e6:.1f} MB |" if per is not None else
                    f"| (d) disk per extra commit, {what} | manifest "
                    f"{d['manifest_share_p50']:.1%} | - |")
    for c in results["correctness"]:
        rows.append(f"| (e) `--rev C` vs rg on a checkout of C, {c['history']} | "
                    f"**{c['identical']}/{c['pairs']}** (commit, query) pairs identical "
                    f"({c['commits']} commits) | rg on `git worktree` checkouts |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
