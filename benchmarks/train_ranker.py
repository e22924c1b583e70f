"""Train the default file ranker (indexer/retrieval/models/file_ranker.txt).

Training data, per query the candidate files' features (indexer/retrieval/ranker.py) and
whether each was changed / expected:
- history-mined gold sets of the training repositories (`codeloupe goldgen --from-history`,
  one JSONL per repository in --gold-dir, each repository cloned under --repos and indexed
  under --index-root/NAME, its parents' snapshots embedded);
- the first half of CoSQA dev (../shared/data/cosqa; the second half stays held out);
- the shop gold set (fixtures/shop_gold.jsonl over fixtures/shop).
Features are cached per source in --cache, so re-training costs seconds.

    python benchmarks/train_ranker.py --gold-dir G --repos R --index-root I \\
        --train attrs,click,... [--cosqa ../shared/data/cosqa --cosqa-work W] [--shop]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from indexer.eval.gold import load_gold
from indexer.eval.ranker_data import QueryGroup, collect, load, save
from indexer.retrieval.ranker import DEFAULT_MODEL, feature_names, train
from indexer.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]


def groups_for(name: str, cache: Path, make) -> list[QueryGroup]:  # noqa: ANN001
    path = cache / f"{name}.npz"
    if path.exists():
        return load(path)
    started = time.perf_counter()
    groups = make()
    save(groups, path)
    print(f"{name}: {len(groups)} queries in {time.perf_counter() - started:.0f} s",
          file=sys.stderr, flush=True)
    return groups


def repo_groups(repo: Path, index_dir: Path, gold_path: Path) -> list[QueryGroup]:
    ws = Workspace.open(repo, index_dir=index_dir)
    searchers: dict = {}

    def searcher_for(rev):  # noqa: ANN001, ANN202
        if rev not in searchers:
            searchers.clear()  # one snapshot at a time: parents differ per query
            searchers[rev] = ws.semantic(rev)
            searchers[rev].embed()
        return searchers[rev]

    try:
        return collect(searcher_for, load_gold(gold_path))
    finally:
        ws.close()


def cosqa_groups(data: Path, work: Path) -> list[QueryGroup]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_lexical_baseline import build_repo
    from bench_semantic import cosqa_gold

    repo = work / "cosqa"
    if not (repo / ".git").exists():
        build_repo(data, repo)
    ws = Workspace.open(repo, index_dir=work / "index")
    searcher = ws.semantic(None)
    searcher.embed()
    gold = cosqa_gold(data)
    try:
        return collect(lambda rev: searcher, gold[:len(gold) // 2])  # second half held out
    finally:
        ws.close()


def shop_groups(work: Path) -> list[QueryGroup]:
    repo = work / "shop"
    if not (repo / ".git").exists():
        shutil.copytree(ROOT / "fixtures" / "shop", repo)
        for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                     ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "s"]):
            subprocess.run(["git", "-C", str(repo), *args], check=True)
    ws = Workspace.open(repo, index_dir=work / "shop-index")
    searcher = ws.semantic(None)
    searcher.embed()
    try:
        return collect(lambda rev: searcher, load_gold(ROOT / "fixtures" / "shop_gold.jsonl"))
    finally:
        ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold-dir", type=Path, required=True)
    parser.add_argument("--repos", type=Path, required=True)
    parser.add_argument("--index-root", type=Path, required=True)
    parser.add_argument("--train", required=True, help="comma-separated repository names")
    parser.add_argument("--cosqa", type=Path, default=None)
    parser.add_argument("--cosqa-work", type=Path, default=None)
    parser.add_argument("--shop", action="store_true")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/codeloupe-ranker-features"))
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--rounds", type=int, default=150)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    groups: list[QueryGroup] = []
    for name in args.train.split(","):
        got = groups_for(name, args.cache, lambda n=name: repo_groups(
            args.repos / n, args.index_root / n, args.gold_dir / f"{n}.jsonl"))
        groups += got
        print(f"{name}: {len(got)} queries", file=sys.stderr)
    if args.cosqa:
        work = args.cosqa_work or args.cache / "cosqa-work"
        groups += groups_for("cosqa", args.cache, lambda: cosqa_groups(args.cosqa, work))
    if args.shop:
        groups += groups_for("shop", args.cache, lambda: shop_groups(args.cache))
    usable = [g for g in groups if g.labels.max(initial=0) > 0]
    print(f"{len(groups)} queries, {len(usable)} with an expected file among the candidates",
          file=sys.stderr)
    booster = train([(g.features, g.labels) for g in groups], rounds=args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(args.out))
    gains = booster.feature_importance("gain")
    top = np.argsort(-gains)[:12]
    print("top features by gain: " + ", ".join(f"{feature_names()[i]} {gains[i]:.0f}"
                                              for i in top))
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
