"""`codeloupe eval` on a real repository: it never scores a dense pipeline over a snapshot
that is not fully embedded without saying so, writes per-query results, and scores only the
levels asked for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.eval.gold import Expected, GoldQuery
from indexer.eval.runner import EmbeddingIncomplete, evaluate
from indexer.workspace import Workspace
from tests.conftest import make_repo
from tests.test_semantic import FILES, cli


@pytest.fixture
def repo(tmp_path: Path, index_root: Path) -> Path:
    return make_repo(tmp_path / "shop", FILES)


GOLD = [GoldQuery("a", "salted password digest", [Expected("shop/auth.py", "hash_password")]),
        GoldQuery("b", "price of sending a parcel abroad", [Expected("shop/shipping.py")])]


def test_dense_pipelines_refuse_a_snapshot_that_is_not_embedded(repo: Path) -> None:
    ws = Workspace.open(repo)
    try:
        searcher = ws.semantic(None)
        assert searcher.coverage() == 0.0
        with pytest.raises(EmbeddingIncomplete, match="dense vector"):
            evaluate(lambda rev: searcher, GOLD, ["lexical", "dense"])
        # lexical needs no vectors and is scored as before
        report, = evaluate(lambda rev: searcher, GOLD, ["lexical"], levels=["file"])
        assert set(report.levels) == {"file"}
        assert report.levels["file"].recall[5] == 1.0
    finally:
        ws.close()


def test_eval_command_embeds_first_or_refuses_and_writes_per_query(
        repo: Path, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"id": q.id, "query": q.query, "expected": [
        {"path": e.path, **({"symbol": e.symbol} if e.symbol else {})} for e in q.expected]})
        + "\n" for q in GOLD))
    refused = cli(repo, "eval", str(gold), "--pipelines", "dense", "--no-embed")
    assert refused.returncode == 2
    assert "dense vector" in refused.stderr and "embed" in refused.stderr

    per_query = tmp_path / "per_query.jsonl"
    done = cli(repo, "eval", str(gold), "--pipelines", "lexical,dense", "--levels", "file",
               "--per-query", str(per_query), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    dense = report["pipelines"][1]
    assert list(dense["levels"]) == ["file"]
    assert dense["levels"]["file"]["mrr"] > 0.5  # embedded first, so dense has vectors
    rows = [json.loads(line) for line in per_query.read_text().splitlines()]
    assert {(r["pipeline"], r["id"]) for r in rows} == {
        (p, q) for p in ("lexical", "dense") for q in ("a", "b")}
    assert all(set(r["levels"]) == {"file"} and r["top"] for r in rows)
    assert len(dense["queries"]) == 2
