"""Every retrieval pipeline on CoSQA (6,267 Python functions, 500 web queries), side by side.

Reads ../shared/data/cosqa (never copied into the repository); skipped with a message when
absent. Each function becomes one file of a git repository indexed by codeloupe's real
pipeline (trigrams, chunks, BM25, embeddings of the code and gloss views), then each
pipeline answers every query through `SemanticSearcher.ask`.

    python benchmarks/bench_semantic.py [--data ../shared/data/cosqa] [--work DIR] [--json]

--work keeps the repository and index between runs (embeddings are the slow part).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench_lexical_baseline import DEFAULT_DATA, build_repo

from indexer.eval.gold import Expected, GoldQuery
from indexer.eval.runner import PIPELINES, evaluate
from indexer.workspace import Workspace


def cosqa_gold(data: Path) -> list[GoldQuery]:
    queries = json.loads((data / "cosqa-retrieval-dev-500.json").read_text())
    return [GoldQuery(q["idx"], q["doc"], [Expected(f"funcs/f{q['retrieval_idx']:05d}.py")])
            for q in queries]


def run(data: Path, work: Path, pipelines: list[str], as_json: bool,
        held_out: bool = False) -> None:
    repo = work / "cosqa"
    if not (repo / ".git").exists():
        build_repo(data, repo)
    ws = Workspace.open(repo, index_dir=work / "index")
    started = time.perf_counter()
    ws.index(None)
    ws.enrich(None)
    searcher = ws.semantic(None)
    reports = searcher.embed()
    for r in reports:
        if r.embedded:
            print(f"embedded {r.embedded} {r.view} texts in {r.seconds:.1f} s "
                  f"({r.per_second:.0f}/s)", file=sys.stderr)
    print(f"indexed in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    gold = cosqa_gold(data)
    if held_out:  # the first half trained the fusion weights and the default file ranker
        gold = gold[len(gold) // 2:]
    results = evaluate(lambda rev: searcher, gold, pipelines)
    if as_json:
        print(json.dumps([r.to_dict() for r in results], indent=1))
        return
    print(f"CoSQA dev, {len(gold)} queries, {len(searcher.table)} chunks (file level = the "
          f"function)")
    print(f"{'pipeline':15s} {'MRR':>6s} {'R@1':>6s} {'R@5':>6s} {'R@10':>6s} {'R@50':>6s} "
          f"{'nDCG10':>7s} {'p50 ms':>7s}")
    for r in results:
        s = r.levels["file"]
        print(f"{r.name:15s} {s.mrr:6.3f} {s.recall[1]:6.3f} {s.recall[5]:6.3f} "
              f"{s.recall[10]:6.3f} {s.recall[50]:6.3f} {s.ndcg10:7.3f} {r.p50_ms:7.1f}")
    best_single = max(r.levels["file"].mrr for r in results if r.name in
                      ("lexical", "dense", "dense+gloss"))
    final = next((r for r in results if r.name == "hybrid+rerank"), None)
    if final:
        gain = final.levels["file"].mrr - best_single
        print(f"hybrid+rerank vs best single signal: {gain * 100:+.1f} MRR points "
              f"(target +5.0, and MRR >= 0.60)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--pipelines", default=",".join(PIPELINES))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--held-out", action="store_true",
                        help="score only the second half of CoSQA dev (never trained on)")
    args = parser.parse_args()
    if not (args.data / "code_idx_map.json").exists():
        print(f"skipped: CoSQA data not found at {args.data}")
        return
    pipelines = args.pipelines.split(",")
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        run(args.data, args.work, pipelines, args.json, args.held_out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(args.data, Path(tmp), pipelines, args.json, args.held_out)


if __name__ == "__main__":
    main()
