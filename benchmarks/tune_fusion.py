"""Tune the fusion and re-ranking weights on gold sets, then check them on held-out queries.

First-stage signals run once per query; every weight combination is then replayed offline
(weighted RRF, then the dense re-ranker's linear score). Gold sets: the shop fixture's
(chunk level) and the first half of CoSQA dev (file level); the second half of CoSQA is
held out and reported separately, so the figures in the README are not tuned on themselves.

    python benchmarks/tune_fusion.py [--cosqa-work /tmp/clbench/cosqa]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from bench_lexical_baseline import DEFAULT_DATA, build_repo
from bench_semantic import cosqa_gold

from indexer.eval.gold import load_gold
from indexer.eval.metrics import Retrieved, score_query
from indexer.retrieval.hybrid import SIGNALS, FusionWeights, fuse
from indexer.retrieval.rerank import RerankWeights, dense_rerank
from indexer.retrieval.semantic import AskRequest
from indexer.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]


def prepared(repo: Path, index: Path):  # noqa: ANN201
    ws = Workspace.open(repo, index_dir=index)
    searcher = ws.semantic(None)
    searcher.embed()
    return searcher


def collect(searcher, gold, level: str) -> list[dict]:  # noqa: ANN001
    """Per query: first-stage hits, cosines of every pooled row, the scorer."""
    out = []
    for q in gold:
        stage = searcher.first_stage(AskRequest(q.query, signals=SIGNALS, rerank="dense"))
        rows = np.asarray(sorted({r for h in stage.hits.values() for r in h.rows}),
                          dtype=np.int64)
        code = searcher.dense("dense").scores_for(stage.query_vector, rows)
        gloss = searcher.dense("gloss").scores_for(stage.query_vector, rows)
        out.append({"hits": stage.hits, "code": code, "gloss": gloss, "expected": q.expected,
                    "level": level})
    return out


def mrr(searcher, cases: list[dict], fusion: FusionWeights, rerank: RerankWeights | None,  # noqa: ANN001
        depth: int = 40) -> float:
    t = searcher.table
    total = 0.0
    for case in cases:
        pool = fuse({k: v for k, v in case["hits"].items() if v.rows}, fusion, 300)
        if rerank is not None:
            head = dense_rerank(pool[:depth], case["code"], case["gloss"], rerank)
            order = [c for c, _ in head] + pool[depth:]
        else:
            order = pool
        retrieved = [Retrieved(t.paths[c.row], t.names[c.row], *map(int, t.lines[c.row]))
                     for c in order[:100]]
        first = score_query(retrieved, case["expected"], case["level"]).first_hit
        total += 1 / first if first else 0.0
    return total / len(cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cosqa-work", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        shop_repo = Path(tmp) / "shop"
        shutil.copytree(ROOT / "fixtures" / "shop", shop_repo)
        for cmd in (["init", "-q", "-b", "main"], ["add", "-A"],
                    ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "shop"]):
            subprocess.run(["git", "-C", str(shop_repo), *cmd], check=True)
        shop = prepared(shop_repo, Path(tmp) / "shop-index")
        sets = {"shop": (shop, collect(shop, load_gold(ROOT / "fixtures" / "shop_gold.jsonl"),
                                       "chunk"))}
        if (args.data / "code_idx_map.json").exists():
            work = args.cosqa_work or Path(tmp) / "cosqa"
            if not (work / "cosqa" / ".git").exists():
                build_repo(args.data, work / "cosqa")
            cosqa = prepared(work / "cosqa", work / "index")
            gold = cosqa_gold(args.data)
            sets["cosqa-tune"] = (cosqa, collect(cosqa, gold[:250], "file"))
            sets["cosqa-held-out"] = (cosqa, collect(cosqa, gold[250:], "file"))
        else:
            print(f"CoSQA not found at {args.data}: tuning on the shop gold set alone")
        tuning = [name for name in sets if name != "cosqa-held-out"]

        def per_set(fusion: FusionWeights, rerank: RerankWeights | None) -> list[float]:
            return [mrr(sets[n][0], sets[n][1], fusion, rerank) for n in tuning]

        # Each tuning set counts the same (a mean of their MRRs): CoSQA's web questions and
        # the shop's developer questions are both kinds of query users ask.
        trials = []
        for lexical, gloss, symbol, regex in itertools.product(
                (0.0, 0.1, 0.2, 0.3, 0.5), (0.0, 0.15, 0.3, 0.5), (0.5, 1.0), (0.25, 0.5)):
            fusion = FusionWeights(lexical=lexical, gloss=gloss, symbol=symbol, regex=regex)
            trials.append((float(np.mean(scores := per_set(fusion, None))), scores, fusion))
        trials.sort(key=lambda t: -t[0])
        for score, scores, fusion in trials[:5]:
            print(f"fusion {fusion}: mean {score:.3f} per set {[round(x, 3) for x in scores]}")
        best_fusion = trials[0][2]
        trials = []
        for gloss, lexical, symbol, fused in itertools.product(
                (0.0, 0.1, 0.2, 0.3), (0.0, 0.05, 0.1, 0.2), (0.0, 0.1, 0.2),
                (0.0, 0.05, 0.1, 0.2)):
            rerank = replace(RerankWeights(), gloss=gloss, lexical=lexical, symbol=symbol,
                             fused=fused)
            trials.append((float(np.mean(scores := per_set(best_fusion, rerank))), scores,
                           rerank))
        trials.sort(key=lambda t: -t[0])
        for score, scores, rerank in trials[:5]:
            print(f"rerank {rerank}: mean {score:.3f} per set {[round(x, 3) for x in scores]}")
        best_rerank = trials[0][2]
        print(f"\n{'gold set':16s} {'default hybrid':>15s} {'tuned hybrid':>13s} "
              f"{'default +rerank':>16s} {'tuned +rerank':>14s}")
        for name, (searcher, cases) in sets.items():
            print(f"{name:16s} {mrr(searcher, cases, FusionWeights(), None):15.3f} "
                  f"{mrr(searcher, cases, best_fusion, None):13.3f} "
                  f"{mrr(searcher, cases, FusionWeights(), RerankWeights()):16.3f} "
                  f"{mrr(searcher, cases, best_fusion, best_rerank):14.3f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
