"""`--max-filesize` holds exactly as in ripgrep, whatever cap the index stored a blob under
(issue 23: a 1.8 MB file gave 1 line where `rg --max-filesize 10M` gave 300,001, and the
reverse)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from indexer.search import SearchOptions
from indexer.workspace import Workspace
from tests.conftest import git, make_repo

MB = 1 << 20
BIG_LINES = 300_000  # "hello\n" each: 1.8 MB, over the default 1 MiB cap


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {
        "big.txt": "hello\n" * BIG_LINES,
        "mid.txt": "hello\n" + "x" * (600 * 1024) + "\n",  # ~600 KB
        "small.txt": "hello\n",
    })


def _ours(repo: Path, index: Path, cap: int, rev: str | None = None) -> dict[str, int]:
    ws = Workspace.open(repo, index_dir=index, max_filesize=cap)
    try:
        return {r.path: r.match_count
                for r in ws.search(SearchOptions(patterns=("hello",)), rev=rev)}
    finally:
        ws.close()


def _rg(rg: str, repo: Path, cap: int) -> dict[str, int]:
    out = subprocess.run([rg, "--count", "--hidden", "--max-filesize", str(cap), "hello", "."],
                         cwd=repo, capture_output=True, text=True, check=False).stdout
    counts = {}
    for line in out.splitlines():
        path, count = line.rsplit(":", 1)
        counts[path.removeprefix("./")] = int(count)
    return counts


@pytest.mark.parametrize("caps", [(MB, 10 * MB, 512 * 1024, MB),  # smaller cap first
                                  (10 * MB, MB, 10 * MB, 512 * 1024)])  # larger first
def test_each_search_honours_its_own_cap(rg: str, repo: Path, tmp_path: Path,
                                         caps: tuple[int, ...]) -> None:
    index = tmp_path / "index"
    for cap in caps:  # one index, caps changing between searches
        expected = _rg(rg, repo, cap)
        assert _ours(repo, index, cap) == expected, cap
    assert _rg(rg, repo, 10 * MB)["big.txt"] == BIG_LINES


def test_a_commit_indexed_under_a_smaller_cap(rg: str, repo: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    head = git(repo, "rev-parse", "HEAD").strip()
    assert "big.txt" not in _ours(repo, index, MB, rev=head)
    assert _ours(repo, index, 10 * MB, rev=head) == _rg(rg, repo, 10 * MB)
    assert _ours(repo, index, MB, rev=head) == _rg(rg, repo, MB)
    # the working tree, forked from that commit, sees the same
    assert _ours(repo, index, 10 * MB) == _rg(rg, repo, 10 * MB)
