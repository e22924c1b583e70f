"""File-level answers (`ask --files`, AskRequest.files) on a real repository: files ranked by
their chunks' evidence, each with its best chunks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.retrieval.ranker import DEFAULT_MODEL
from indexer.retrieval.semantic import AskRequest, QueryError
from indexer.workspace import Workspace
from tests.conftest import make_repo
from tests.test_semantic import FILES, cli

MORE = {
    "shop/auth_tokens.py": '''
import secrets


def issue_token(user_id: int) -> str:
    """A random session token for a user who signed in with a password."""
    return f"{user_id}:{secrets.token_hex(16)}"


def revoke_token(token: str, store: dict) -> None:
    store.pop(token, None)
''',
}


@pytest.fixture
def repo(tmp_path: Path, index_root: Path) -> Path:
    return make_repo(tmp_path / "shop", {**FILES, **MORE})


def test_files_are_ranked_with_their_best_chunks(repo: Path) -> None:
    ws = Workspace.open(repo)
    try:
        searcher = ws.semantic(None)
        searcher.embed()
        response = searcher.ask(AskRequest("salted password digest that cannot be reversed",
                                           k=3, files=True))
        files = response.files
        assert files is not None and files[0].path == "shop/auth.py"
        assert len({f.path for f in files}) == len(files) <= 3
        assert [f.score for f in files] == sorted((f.score for f in files), reverse=True)
        best = files[0].evidence
        assert best and all(e.path == "shop/auth.py" for e in best)
        assert best[0].name == "hash_password"
        assert "files" in response.timings_ms
        # without the flag the response has no file ranking (and costs nothing more)
        assert searcher.ask(AskRequest("password digest", k=3)).files is None
        # the shipped model ranks by default; `fixed` is the combination without a model
        assert searcher.file_ranker().source == str(DEFAULT_MODEL)
        assert searcher.file_ranker("fixed") is None
        fixed = searcher.ask(AskRequest("salted password digest that cannot be reversed",
                                        k=3, files=True, ranker="fixed"))
        assert fixed.files[0].path == "shop/auth.py"
        with pytest.raises(QueryError, match="unknown file ranker"):
            searcher.ask(AskRequest("x y", files=True, ranker="nope"))
    finally:
        ws.close()


def test_ask_files_command(repo: Path) -> None:
    done = cli(repo, "ask", "--files", "--json", "-k", "2", "price of shipping a parcel")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 2 and rows[0]["path"] == "shop/shipping.py"
    assert rows[0]["evidence"][0]["name"] == "shipping_cost"
    text = cli(repo, "ask", "--files", "price of shipping a parcel")
    assert text.returncode == 0 and " 1. " in text.stdout and "shop/shipping.py" in text.stdout
