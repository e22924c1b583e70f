"""File-level retrieval on history-mined questions: BM25, dense, today's pipeline, the new
default (`ask --files`: query understanding + learned ranker) and a per-repository `tune`,
side by side in one run.

Each evaluation repository has a gold set from `codeloupe goldgen --from-history` (commit
message → the files it changed, asked at the parent). The set is split by time: the older
part trains the repository's tuned ranker (as `codeloupe tune` does), the later part is
where every pipeline is scored, so the tuned model never sees a question it is scored on.
None of these repositories may be among those the default model was trained on.

    python benchmarks/bench_retrieval.py --gold-dir G --repos R --index-root I \\
        --eval arrow,marshmallow,... [--tune-share 0.4] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from indexer.eval.gold import load_gold
from indexer.eval.metrics import Retrieved, score_query
from indexer.eval.ranker_data import collect
from indexer.eval.runner import PIPELINES, RANKER, UNDERSTANDING
from indexer.retrieval.ranker import DEFAULT_MODEL, TUNE, TUNED_NAME, train
from indexer.retrieval.semantic import AskRequest
from indexer.workspace import Workspace

COLUMNS = [("BM25", "lexical"), ("dense", "dense"), ("today", "hybrid+rerank"),
           ("default", "files-default"), ("tuned", "files")]


def score_repo(name: str, repo: Path, index_dir: Path, gold_path: Path, tune_share: float,
               limit: int | None) -> dict:
    gold = load_gold(gold_path)  # oldest first
    cut = int(round(len(gold) * tune_share))
    tune_part, scored = gold[:cut], gold[cut:]
    if limit:
        scored = scored[-limit:]
    ws = Workspace.open(repo, index_dir=index_dir)
    searchers: dict = {}

    def searcher_for(rev):  # noqa: ANN001, ANN202
        if rev not in searchers:
            searchers.clear()
            searcher = ws.semantic(rev)
            searcher.embed()
            searchers[rev] = searcher
        return searchers[rev]

    tuned = Path(ws.store.directory) / TUNED_NAME
    tuned.unlink(missing_ok=True)
    started = time.perf_counter()
    groups = collect(searcher_for, tune_part)
    booster = train([(g.features, g.labels) for g in groups], init_model=DEFAULT_MODEL,
                    **TUNE)  # as `codeloupe tune` does
    booster.save_model(str(tuned))
    tune_seconds = time.perf_counter() - started
    per_query: dict[str, list] = {label: [] for label, _ in COLUMNS}
    latency: dict[str, list[float]] = {label: [] for label, _ in COLUMNS}
    try:
        for q in scored:
            searcher = searcher_for(q.rev)
            for label, pipeline in COLUMNS:
                signals, rerank = PIPELINES[pipeline]
                clock = time.perf_counter()
                response = searcher.ask(AskRequest(
                    q.query, k=300, pool=300, rerank=rerank, signals=signals, files=True,
                    understand=pipeline in UNDERSTANDING, ranker=RANKER.get(pipeline, "fixed")))
                latency[label].append((time.perf_counter() - clock) * 1000)
                files = [Retrieved(f.path, "", 0, 0) for f in response.files or ()]
                per_query[label].append(score_query(files, q.expected, "file"))
    finally:
        tuned.unlink(missing_ok=True)
        ws.close()
    return {"repo": name, "questions": len(scored), "tune_questions": len(tune_part),
            "tune_seconds": round(tune_seconds, 1), "per_query": per_query,
            "p50_ms": {k: statistics.median(v) if v else 0.0 for k, v in latency.items()}}


def summary(per_query: list) -> dict[str, float]:
    n = len(per_query) or 1
    return {"R@1": sum(s.recall[1] for s in per_query) / n,
            "R@5": sum(s.recall[5] for s in per_query) / n,
            "MRR": sum(1 / s.first_hit for s in per_query if s.first_hit) / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold-dir", type=Path, required=True)
    parser.add_argument("--repos", type=Path, required=True)
    parser.add_argument("--index-root", type=Path, required=True)
    parser.add_argument("--eval", required=True, help="comma-separated repository names")
    parser.add_argument("--tune-share", type=float, default=0.4,
                        help="the oldest share of each gold set, used to tune")
    parser.add_argument("--limit", type=int, default=None, help="scored questions per repo")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    for name in args.eval.split(","):
        started = time.perf_counter()
        results.append(score_repo(name, args.repos / name, args.index_root / name,
                                  args.gold_dir / f"{name}.jsonl", args.tune_share, args.limit))
        print(f"{name}: {results[-1]['questions']} questions in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    rows = []
    for r in results:
        rows.append((r["repo"], r["questions"], {k: summary(v) for k, v in r["per_query"].items()},
                     r["p50_ms"]))
    pooled = {label: summary([s for r in results for s in r["per_query"][label]])
              for label, _ in COLUMNS}
    rows.append(("pooled", sum(r["questions"] for r in results), pooled, {}))
    if args.json:
        print(json.dumps([{"repo": n, "questions": q, "metrics": m, "p50_ms": p}
                          for n, q, m, p in rows], indent=1))
        return
    head = " | ".join(f"{label} R@1 / R@5 / MRR" for label, _ in COLUMNS)
    print(f"| repository | questions | {head} |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for name, count, metrics, _ in rows:
        cells = " | ".join(f"{m['R@1']:.3f} / {m['R@5']:.3f} / {m['MRR']:.3f}"
                           for m in (metrics[label] for label, _ in COLUMNS))
        print(f"| {name} | {count} | {cells} |")
    print("\np50 ms per question (file ranking included): " + "; ".join(
        f"{name}: " + ", ".join(f"{k} {v:.0f}" for k, v in p50.items())
        for name, _, _, p50 in rows if p50))


if __name__ == "__main__":
    main()
