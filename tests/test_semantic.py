"""Semantic retrieval on real repositories: embeddings cached per chunk, hybrid recall,
re-ranking, filters, `ask`, and the bad-input paths. Uses the shipped MiniLM model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.config import Settings
from indexer.embed.model import ModelNotFound, load_embedder
from indexer.embed.vector_cache import VectorCache
from indexer.retrieval.semantic import AskRequest, QueryError
from indexer.workspace import Workspace
from tests.conftest import git, make_repo

FILES = {
    "shop/auth.py": '''
import hashlib
import os


def hash_password(password: str, salt: bytes | None = None) -> str:
    """Derive a salted PBKDF2 digest so stored passwords cannot be reversed."""
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 200_000)
    return salt.hex() + ":" + digest.hex()


def verify_password(password: str, stored: str) -> bool:
    salt, _ = stored.split(":")
    return hash_password(password, bytes.fromhex(salt)) == stored
''',
    "shop/shipping.py": '''
RATES = {"domestic": 4.99, "international": 19.99}


def shipping_cost(weight_kg: float, country: str) -> float:
    """Price of sending a parcel: a base rate by destination plus a charge per kilogram."""
    zone = "domestic" if country == "US" else "international"
    return round(RATES[zone] + 1.25 * weight_kg, 2)
''',
    "shop/retry.py": '''
import time


def retry_with_backoff(call, attempts=5, base_delay=0.1):
    for attempt in range(attempts):
        try:
            return call()
        except ConnectionError:
            time.sleep(base_delay * 2 ** attempt)
    raise TimeoutError("gave up")
''',
    "web/format.ts": '''
export function formatPrice(cents: number, currency: string): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(cents / 100);
}
''',
    "README.md": "# Shop\n\nA tiny shop backend used by the tests.\n",
}


@pytest.fixture
def repo(tmp_path: Path, index_root: Path) -> Path:
    return make_repo(tmp_path / "shop", FILES)


@pytest.fixture
def ws(repo: Path):
    workspace = Workspace.open(repo)
    yield workspace
    workspace.close()


def top_names(response) -> list[str]:  # noqa: ANN001
    return [r.name for r in response.results]


def test_ask_finds_code_by_meaning_and_reports_each_signal(ws: Workspace) -> None:
    searcher = ws.semantic(None)
    searcher.embed()
    assert searcher.coverage() == 1.0
    response = searcher.ask(AskRequest("derive a salted digest of a password", k=3))
    assert response.results[0].name == "hash_password"
    assert response.embedded == 1.0
    first = response.results[0]
    assert {"dense", "lexical"} <= set(first.signals)
    assert first.ranks["dense"] >= 1
    response = searcher.ask(AskRequest("keep trying a flaky network call, waiting longer "
                                       "each time", k=3))
    assert response.results[0].name == "retry_with_backoff"


def test_identifiers_in_the_question_bring_symbol_and_regex_signals(ws: Workspace) -> None:
    searcher = ws.semantic(None)
    response = searcher.ask(AskRequest("where is verify_password called", k=5))
    names = top_names(response)
    assert "verify_password" in names[:2]
    hit = response.results[names.index("verify_password")]
    assert "symbol" in hit.ranks and "regex" in hit.ranks


def test_ask_works_before_embedding_and_says_how_much_is_embedded(ws: Workspace) -> None:
    searcher = ws.semantic(None)
    response = searcher.ask(AskRequest("shipping price per kilogram", k=3))
    assert response.embedded == 0.0
    assert any("embedded so far" in note for note in response.notes)
    assert response.results[0].name == "shipping_cost"  # BM25 + re-rank on the fly


def test_filters_restrict_by_glob_language_and_kind(ws: Workspace) -> None:
    searcher = ws.semantic(None)
    searcher.embed()
    only_ts = searcher.ask(AskRequest("format money for display", languages=("typescript",)))
    assert {r.path for r in only_ts.results} == {"web/format.ts"}
    no_shop = searcher.ask(AskRequest("password", globs=("!shop/**",)))
    assert all(not r.path.startswith("shop/") for r in no_shop.results)
    functions = searcher.ask(AskRequest("shop", kinds=("function",)))
    assert functions.results and all(r.kind == "function" for r in functions.results)


def test_vectors_are_shared_across_branches(ws: Workspace, repo: Path) -> None:
    ws.semantic(None).embed()
    git(repo, "checkout", "-q", "-b", "feature")
    path = repo / "shop" / "shipping.py"
    path.write_text(path.read_text() + "\n\ndef free_shipping(total):\n"
                    "    \"\"\"Orders above fifty dollars ship free.\"\"\"\n"
                    "    return total >= 50\n")
    git(repo, "commit", "-qam", "free shipping")
    reports = ws.semantic("feature").embed(views=("dense",))
    # the changed file's chunks only: every other chunk's vector was reused
    assert 1 <= reports[0].embedded <= 2
    assert reports[0].cached >= reports[0].total - 2


def test_bad_questions_get_clear_errors(ws: Workspace) -> None:
    searcher = ws.semantic(None)
    with pytest.raises(QueryError, match="empty"):
        searcher.ask(AskRequest("   "))
    with pytest.raises(QueryError, match="re-ranker"):
        searcher.ask(AskRequest("x", rerank="crossencoder"))
    huge = searcher.ask(AskRequest("password " * 2000, k=1))
    assert any("capped" in note for note in huge.notes)


def test_a_missing_model_is_named_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="nothing is downloaded"):
        load_embedder(Settings(embedding_model=str(tmp_path / "no-such-model")))


def test_a_torn_vector_file_tail_is_cut_before_appending(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.sqlite"
    cache = VectorCache(catalog, tmp_path / "vectors", "m", 4)
    with cache.writing():
        cache.add("code", ["a"], np.ones((1, 4), dtype=np.float32))
    with open(cache.rows_path, "ab") as torn:  # a writer killed mid-batch
        torn.write(b"\x01\x02\x03")
    with cache.writing():
        cache.add("code", ["b"], np.full((1, 4), 0.5, dtype=np.float32))
    reopened = VectorCache(catalog, tmp_path / "vectors", "m", 4)
    rows = reopened.rows_for("code")
    assert reopened.vectors([rows["a"]])[0].tolist() == [1, 1, 1, 1]
    assert reopened.vectors([rows["b"]])[0].tolist() == [0.5] * 4


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", *args, "--repo", str(repo)],
                          capture_output=True, text=True)


def test_ask_command_json_has_anchors_and_signal_scores(repo: Path) -> None:
    done = cli(repo, "ask", "--json", "-k", "2", "cost of sending a parcel abroad")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert rows[0]["name"] == "shipping_cost" and rows[0]["path"] == "shop/shipping.py"
    for key in ("start_line", "end_line", "kind", "score", "signals"):
        assert key in rows[0]
    bad = cli(repo, "ask", "--rev", "no-such-branch", "x")
    assert bad.returncode == 2 and "unknown revision" in bad.stderr


def test_eval_and_goldgen_commands(repo: Path, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        json.dumps({"id": "a", "query": "salted password digest",
                    "expected": [{"path": "shop/auth.py", "symbol": "hash_password"}]}) + "\n"
        + json.dumps({"id": "b", "query": "a file that is not there",
                      "expected": [{"path": "shop/missing.py"}]}) + "\n")
    done = cli(repo, "eval", str(gold), "--json", "--pipelines", "lexical,hybrid+rerank")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert any("shop/missing.py" in p for p in report["problems"])
    hybrid = report["pipelines"][1]
    assert hybrid["pipeline"] == "hybrid+rerank"
    assert hybrid["levels"]["symbol"]["recall@5"] == 0.5  # one of two queries answerable
    out = tmp_path / "generated.jsonl"
    done = cli(repo, "goldgen", "-n", "5", "-o", str(out))
    assert done.returncode == 0, done.stderr
    queries = [json.loads(line) for line in out.read_text().splitlines()]
    assert queries and all(q["rev"] for q in queries)
    for q in queries:  # the docstring that became the question is gone from that commit
        stripped = git(repo, "show", f"{q['rev']}:{q['expected'][0]['path']}")
        assert q["query"].lower()[:30] not in stripped.lower()
    assert git(repo, "status", "--porcelain") == ""  # the user's tree and index untouched


def test_llm_reranker_follows_the_model_and_falls_back_when_it_fails(
        ws: Workspace, endpoint) -> None:  # noqa: ANN001 - the chat endpoint fixture
    from dataclasses import replace

    searcher = ws.semantic(None)
    searcher.embed()
    searcher.settings = replace(searcher.settings, gloss_provider="openai", gloss_model="m",
                                gloss_base_url=endpoint.url, rerank_timeout_s=2.0)
    question = "how is the cost of a parcel computed"
    dense = searcher.ask(AskRequest(question, k=3, rerank="dense"))

    def reverse(body: dict) -> str:  # the model prefers the reverse of what it was shown
        shown = body["messages"][-1]["content"].count("\n[")
        return str(list(range(shown + 1, 0, -1)))

    endpoint.custom, endpoint.default = reverse, "custom"
    llm = searcher.ask(AskRequest(question, k=3, rerank="llm"))
    assert [r.path for r in llm.results] != [r.path for r in dense.results] or \
        [r.name for r in llm.results] != [r.name for r in dense.results]
    assert endpoint.requests and "Question: how is the cost" in \
        endpoint.requests[-1]["messages"][-1]["content"]
    endpoint.default = "not-json"
    broken = searcher.ask(AskRequest(question, k=3, rerank="llm"))
    assert [r.name for r in broken.results] == [r.name for r in dense.results]
    assert any("rerank llm failed" in note for note in broken.notes)
