"""BM25 over chunks on CoSQA (6,267 Python functions, 500 web queries): MRR and Recall@k.

The baseline the semantic layer must beat. Reads ../shared/data/cosqa (never copied into the
repository); skipped with a message when the folder is absent. Each function becomes one file
of a git repository built in a temporary directory, indexed by codeloupe's real pipeline
(trigram stage, chunking, lexical index), and queried through `lexical_search`.

    python benchmarks/bench_lexical_baseline.py [--data ../shared/data/cosqa]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from indexer.retrieval.lexical import lexical_search
from indexer.workspace import Workspace

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cosqa"


def build_repo(data: Path, root: Path) -> None:
    corpus = json.loads((data / "code_idx_map.json").read_text())
    (root / "funcs").mkdir(parents=True)
    for code, idx in corpus.items():
        (root / "funcs" / f"f{idx:05d}.py").write_text(code + "\n")
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@localhost",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@localhost", "PATH": "/usr/bin:/bin"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "cosqa"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if not (args.data / "code_idx_map.json").exists():
        print(f"skipped: CoSQA data not found at {args.data}")
        return
    queries = json.loads((args.data / "cosqa-retrieval-dev-500.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "cosqa"
        build_repo(args.data, repo)
        ws = Workspace.open(repo, index_dir=Path(tmp) / "index")
        t = time.perf_counter()
        ws.index(None)
        enriched = ws.enrich(None)
        print(f"indexed {enriched.blobs} functions ({enriched.chunks} chunks) "
              f"in {time.perf_counter() - t:.1f} s")
        snapshot = ws.snapshot(None, refresh=False)
        reciprocal, hits_at = 0.0, {1: 0, 5: 0, 10: 0, 50: 0, 100: 0}
        latencies = []
        for q in queries:
            gold = f"funcs/f{q['retrieval_idx']:05d}.py"
            t = time.perf_counter()
            ranked = lexical_search(ws, snapshot, q["doc"], k=100)
            latencies.append(time.perf_counter() - t)
            files: list[str] = []
            for hit in ranked:  # file level: a function may have several chunks
                if hit.path not in files:
                    files.append(hit.path)
            if gold in files:
                rank = files.index(gold) + 1
                reciprocal += 1 / rank
                for k in hits_at:
                    hits_at[k] += rank <= k
        n = len(queries)
        latencies.sort()
        print(f"BM25 (codeloupe lexical) on CoSQA dev, {n} queries over "
              f"{len(snapshot.manifest)} functions:")
        print(f"  MRR {reciprocal / n:.3f}  " + "  ".join(
            f"R@{k} {v / n:.3f}" for k, v in hits_at.items()))
        print(f"  query latency p50 {latencies[n // 2] * 1000:.1f} ms, "
              f"p95 {latencies[int(n * 0.95)] * 1000:.1f} ms")
        ws.close()


if __name__ == "__main__":
    sys.exit(main())
