"""Regression gate: the hand-made gold set over fixtures/shop, every pipeline.

Thresholds sit a little under the values measured when they were set (see README,
"Semantic retrieval"); a drop below them fails CI. The fixture becomes its own repository.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer.eval.gold import load_gold
from indexer.eval.runner import check_gold, evaluate
from indexer.workspace import Workspace
from tests.conftest import git

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# pipeline -> (chunk-level MRR, chunk-level Recall@10) floors
FLOORS = {
    "lexical": (0.80, 0.80),
    "dense": (0.76, 0.77),
    "hybrid": (0.78, 0.80),
    "hybrid+rerank": (0.78, 0.82),
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("gold") / "shop"
    shutil.copytree(FIXTURES / "shop", root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "shop")
    ws = Workspace.open(root, index_dir=root.parent / "index")
    searcher = ws.semantic(None)
    searcher.embed()
    yield searcher
    ws.close()


def test_gold_set_matches_the_fixture(shop) -> None:  # noqa: ANN001
    assert check_gold(shop, load_gold(FIXTURES / "shop_gold.jsonl")) == []


def test_pipelines_stay_above_their_floors(shop) -> None:  # noqa: ANN001
    gold = load_gold(FIXTURES / "shop_gold.jsonl")
    reports = {r.name: r for r in evaluate(lambda rev: shop, gold, list(FLOORS))}
    for name, (mrr, recall10) in FLOORS.items():
        level = reports[name].levels["chunk"]
        assert level.mrr >= mrr, f"{name}: MRR {level.mrr:.3f} < {mrr}"
        assert level.recall[10] >= recall10, f"{name}: R@10 {level.recall[10]:.3f} < {recall10}"
    # fusion must earn its keep: more of the answers in the top 10 than any single signal
    best_single = max(reports[n].levels["chunk"].recall[10] for n in ("lexical", "dense"))
    assert reports["hybrid+rerank"].levels["chunk"].recall[10] > best_single


def test_packs_over_the_gold_set_have_no_overlaps_or_duplicates(shop) -> None:  # noqa: ANN001
    from indexer.context.pack import ContextRequest, pack_context
    from tests.test_context import assert_well_formed  # exact count, no overlap, no twin

    for q in load_gold(FIXTURES / "shop_gold.jsonl"):
        assert_well_formed(pack_context(shop, ContextRequest(q.query, budget=4000)))
