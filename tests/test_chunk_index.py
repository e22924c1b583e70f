"""Chunks, symbols and lexical ranking through the index and the CLI, on real fixture files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.retrieval.lexical import lexical_search
from indexer.retrieval.symbol_search import SymbolIndex
from indexer.workspace import Workspace
from tests.conftest import git

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "languages"


@pytest.fixture
def repo(tmp_path: Path, index_root: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "fixtures")
    return root


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=repo,
                          capture_output=True, text=True, env=os.environ.copy())


def test_symbols_command_ranks_like_go_to_symbol(repo: Path) -> None:
    result = cli(repo, "symbols", "--json", "Inventory")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["name"] == "Inventory" and rows[0]["path"] == "inventory.py"
    assert rows[0]["kind"] == 5  # LSP SymbolKind.Class
    classes = cli(repo, "symbols", "--kind", "class", "--json", "o").stdout.splitlines()
    assert classes and all(json.loads(line)["kind"] == 5 for line in classes)
    bad = cli(repo, "symbols", "--kind", "gizmo", "x")
    assert bad.returncode == 2 and "unknown kind" in bad.stderr


def test_chunks_command_shows_how_a_file_was_cut(repo: Path) -> None:
    rows = [json.loads(line) for line in
            cli(repo, "chunks", "--json", "inventory.py").stdout.splitlines()]
    names = [r["qualified_name"] for r in rows]
    assert "Inventory" in names and "reorder_requests" in names
    fields = {"kind", "qualified_name", "signature", "docstring", "start_line", "end_line",
              "start_byte", "end_byte", "breadcrumb", "title", "content_hash", "language"}
    assert fields <= set(rows[0])
    outside = cli(repo, "chunks", "../etc/passwd")
    assert outside.returncode == 2 and "outside the repository" in outside.stderr


def test_lexical_search_ranks_chunks(repo: Path) -> None:
    ws = Workspace.open(repo)
    ws.enrich(None)
    hits = lexical_search(ws, ws.snapshot(None, refresh=False), "reorder requests batch", k=5)
    assert hits[0].path == "inventory.py"
    assert hits[0].chunk.qualified_name == "reorder_requests"
    result = cli(repo, "search", "--lexical", "--json", "reorder requests")
    top = json.loads(result.stdout.splitlines()[0])
    assert {"path", "start_line", "end_line", "name", "kind", "score"} <= set(top)


def test_chunks_and_symbols_are_computed_once_per_blob(repo: Path) -> None:
    ws = Workspace.open(repo)
    first = ws.enrich(None)
    assert first.blobs > 20
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "inventory.py").write_text((repo / "inventory.py").read_text() +
                                       "\n\ndef added_on_feature():\n    return 1\n")
    git(repo, "commit", "-q", "-am", "feature")
    second = ws.enrich("feature")  # a commit: only the changed file is new
    assert second.blobs == 1
    names = {s.record.name for _, s in
             SymbolIndex(ws, ws.snapshot("feature", refresh=False)).search("added", 5)}
    assert "added_on_feature" in names


def test_an_interrupt_between_commit_and_begin_rolls_back_nothing(tmp_path: Path) -> None:
    """Ctrl-C can land right after a batch's COMMIT: the clean-up's rollback must not raise
    (it hid the KeyboardInterrupt: exit 1 with a traceback instead of 130)."""
    from indexer.store.index_store import IndexStore

    chunks = IndexStore(tmp_path / "index").chunks
    chunks.begin()
    chunks.commit()
    chunks.rollback()  # no transaction is open: nothing to do, no error
    chunks.begin()
    chunks.rollback()
    assert not chunks.db.in_transaction
