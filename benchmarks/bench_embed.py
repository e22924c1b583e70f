"""Embedding throughput and time-to-answers, old path vs new path in the same run.

Part 1 (default): CoSQA's 6,267 functions (../shared/data/cosqa, read in place, never copied)
indexed and chunked by the real pipeline, then every chunk's code view encoded by

- the old path: one ONNX Runtime session splitting each product over all cores (its threads
  spinning between operators), texts sorted by length within each call of 256 chunks — what
  `indexer/embed/onnx_backend.py` did before;
- the new path: the engine's encoder now (one single-threaded session per core, each encoding
  its own batches, no spinning; sorted by length over each call of `job.BATCH` chunks);

with chunks/s (wall) and chunks per CPU-second (less sensitive to other load) for each, and
the dense MRR on CoSQA dev (file level: the function) from each path's vectors, so a speed-up
that costs quality shows. The machine's load average is printed with every figure.

Part 2 (`--timeline`): time from `codeloupe index` on a fresh index to the first regex search,
the first `ask`, and every chunk embedded — before (the code of `--before-rev`, exported with
`git archive`: `index` embeds everything before it returns) and after (this code: `index`
returns after chunks, symbols and BM25, the daemon's worker embeds in the background).

    python benchmarks/bench_embed.py --data ../shared/data/cosqa [--work DIR] [--limit N]
    python benchmarks/bench_embed.py --timeline [--tree DIR] [--before-rev ca517e5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_lexical_baseline import DEFAULT_DATA, build_repo

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


# --- part 1: throughput and quality --------------------------------------------------------
class OldPath:
    """The encoder as it was: one session with intra-op threads = cores (spinning), the
    texts of each call sorted by length, batches of 16."""

    def __init__(self, new) -> None:  # noqa: ANN001 - the engine's OnnxEncoder (for its files)
        import onnxruntime

        self.new = new
        onnx_path = new.onnx_path
        self.sessions = {}
        for n in {1, new.threads}:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = n
            options.inter_op_num_threads = 1
            self.sessions[n] = onnxruntime.InferenceSession(
                str(onnx_path), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        session = self.sessions[1 if len(texts) <= 4 else self.new.threads]
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.new.dimensions), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            self.new._encode_batch(session, texts, order[start:start + batch_size], out)
        return out


def encode_all(encode, texts: list[str], window: int) -> tuple[np.ndarray, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    parts = [encode(texts[i:i + window]) for i in range(0, len(texts), window)]
    return np.concatenate(parts), time.perf_counter() - wall, time.process_time() - cpu


def file_mrr(doc_vectors: np.ndarray, paths: list[str], query_vectors: np.ndarray,
             expected: list[str]) -> float:
    scores = query_vectors @ doc_vectors.T
    total = 0.0
    for q, want in enumerate(expected):
        seen: set[str] = set()
        for row in np.argsort(-scores[q], kind="stable"):
            path = paths[row]
            if path in seen:
                continue
            seen.add(path)
            if path == want:
                total += 1.0 / len(seen)
                break
            if len(seen) >= 1000:
                break
    return total / len(expected)


def throughput(data: Path, work: Path, limit: int | None, again: bool) -> None:
    from indexer.embed.job import BATCH
    from indexer.embed.model import load_embedder
    from indexer.embed.texts import chunk_sources, code_view_text
    from indexer.workspace import Workspace

    repo = work / "cosqa"
    if not (repo / ".git").exists():
        build_repo(data, repo)
    ws = Workspace.open(repo, index_dir=work / "index")
    ws.index(None)
    ws.enrich(None)
    searcher = ws.semantic(None, refresh=False)
    table = searcher.table
    rows = list(range(len(table)))[:limit]
    texts = [code_view_text(r, src) for _, r, src in
             chunk_sources(ws.store, searcher.snapshot.manifest, table, rows)]
    paths = [table.paths[r] for r in rows]
    queries = json.loads((data / "cosqa-retrieval-dev-500.json").read_text())
    if limit is not None:
        present = set(paths)
        queries = [q for q in queries if f"funcs/f{q['retrieval_idx']:05d}.py" in present]
    expected = [f"funcs/f{q['retrieval_idx']:05d}.py" for q in queries]
    embedder = load_embedder(ws.settings)
    new = embedder._onnx
    if new is None:
        sys.exit("the ONNX backend is not in use: nothing to compare")
    old = OldPath(new)
    print(f"CoSQA: {len(texts)} chunks, {len(queries)} queries; {os.cpu_count()} cores; "
          f"{load()}", flush=True)
    results = {}
    for name, encode, window in (("old", old.encode, 256), ("new", new.encode, BATCH)):
        vectors, wall, cpu = encode_all(encode, texts, window)
        qv = np.stack([encode([q["doc"]])[0] for q in queries]) if queries else None
        mrr = file_mrr(vectors, paths, qv, expected) if queries else float("nan")
        results[name] = vectors
        print(f"{name} path: {len(texts) / wall:6.1f} chunks/s, {len(texts) / cpu:6.1f} "
              f"chunks per CPU-second; dense MRR {mrr:.4f}  ({load()})", flush=True)
    cos = (results["old"] * results["new"]).sum(1)
    print(f"vectors old vs new: mean cosine {cos.mean():.4f}, min {cos.min():.4f}")
    if not again:
        return
    # A second, shorter round in the other order: load drifts while the first round runs.
    sample = texts[:min(len(texts), 1024)]
    for name, encode, window in (("new", new.encode, BATCH), ("old", old.encode, 256)):
        _, wall, cpu = encode_all(encode, sample, window)
        print(f"again, {len(sample)} chunks, {name} path: {len(sample) / wall:6.1f} chunks/s, "
              f"{len(sample) / cpu:6.1f} chunks per CPU-second  ({load()})", flush=True)


# --- part 2: time to answers ---------------------------------------------------------------
def cli(src: Path, env: dict, tree: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m indexer ARGS --repo TREE`, run in `src` so that `-m` imports that code
    (sys.path starts with the working directory, ahead of PYTHONPATH)."""
    repo = [] if args[:1] == ("daemon",) else ["--repo", str(tree)]
    return subprocess.run([sys.executable, "-m", "indexer", *args, *repo], cwd=src,
                          capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"})


def timeline(tree: Path, before_rev: str, question: str, pattern: str, priority: str) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        old_src = Path(tmp) / "before"
        old_src.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", before_rev],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old_src)], input=archive, check=True)
        base = {k: v for k, v in os.environ.items() if not k.startswith("CODELOUPE_")}
        rows = []
        for label, src, daemon in (("before", old_src, "off"), ("after", ROOT, "on")):
            env = {**base, "CODELOUPE_INDEX_DIR": str(Path(tmp) / f"idx-{label}"),
                   "CODELOUPE_DAEMON": daemon, "CODELOUPE_EMBEDDING_PRIORITY": priority}
            print(f"{label}: codeloupe index of {tree} ({load()})", flush=True)
            started = time.perf_counter()
            done = cli(src, env, tree, "index")
            returned = time.perf_counter() - started
            if done.returncode != 0:
                sys.exit(f"{label}: index failed: {done.stderr}")
            found = cli(src, env, tree, "search", "-F", pattern)
            first_search = time.perf_counter() - started
            asked = cli(src, env, tree, "ask", "-k", "5", question)
            first_ask = time.perf_counter() - started
            assert found.returncode == 0 and asked.returncode == 0, (found.stderr, asked.stderr)
            embedded_at = returned
            if label == "after":
                while True:
                    state = json.loads(cli(src, env, tree, "status", "--json").stdout)
                    if state["embedded"] >= 1.0 and state["job"] is None:
                        break
                    time.sleep(1.0)
                embedded_at = time.perf_counter() - started
                status = cli(src, env, tree, "status").stdout.strip().splitlines()
                cli(src, env, tree, "daemon", "--stop")
                print("  " + "\n  ".join(status))
            note = asked.stderr.strip().splitlines()
            print(f"  index returned {returned:.1f} s; first search {first_search:.1f} s; "
                  f"first ask {first_ask:.1f} s; fully embedded {embedded_at:.1f} s ({load()})")
            if note:
                print(f"  ask said: {note[-1][:160]}")
            rows.append((label, returned, first_search, first_ask, embedded_at))
        print("\n| | index returns | first search | first ask | fully embedded |")
        print("|---|---|---|---|---|")
        for label, *times in rows:
            print(f"| {label} | " + " | ".join(f"{t:.1f} s" for t in times) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the CoSQA repository and index here between runs")
    parser.add_argument("--limit", type=int, default=None, help="only the first N chunks")
    parser.add_argument("--again", action="store_true",
                        help="then 1,024 chunks again, new path first (load drifts)")
    parser.add_argument("--timeline", action="store_true",
                        help="time to first search / ask / fully embedded instead")
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="the repository --timeline indexes (default: this one)")
    parser.add_argument("--before-rev", default="ca517e5",
                        help="the code --timeline measures as 'before' (git archive of it; "
                             "default: the last commit before background embedding)")
    parser.add_argument("--question", default="where are search results checked against "
                                               "ripgrep")
    parser.add_argument("--pattern", default="def ")
    parser.add_argument("--priority", default="normal", choices=("idle", "nice", "normal"),
                        help="the background worker's priority in --timeline (default normal: "
                             "the same as `index` before, so that the times compare; at idle "
                             "priority it only uses cores nothing else wants)")
    args = parser.parse_args()
    if args.timeline:
        timeline(args.tree.resolve(), args.before_rev, args.question, args.pattern,
                 args.priority)
        return
    if not (args.data / "code_idx_map.json").exists():
        print(f"skipped: CoSQA data not found at {args.data}")
        return
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
        throughput(args.data, args.work, args.limit, args.again)
        return
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        throughput(args.data, Path(tmp), args.limit, args.again)


if __name__ == "__main__":
    main()
