"""The command line as a user runs it: real processes, real git repositories, rg as oracle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git, make_repo

FILES = {
    "src/app.py": "import os\n\ndef main():\n    print('hello world')\n    return 0\n",
    "src/util.py": "def helper(x):\n    # hello again\n    return x * 2\n",
    "docs/readme.md": "# Hello\n\nSay hello to naïve users.\n",
    "data/blob.bin": b"\x00\x01binary hello\n",
}


def run(repo: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=cwd or repo,
                          capture_output=True, env=os.environ.copy())


@pytest.fixture
def repo(tmp_path: Path, index_root: Path) -> Path:
    return make_repo(tmp_path / "repo", FILES)


def test_index_prints_a_summary_and_reindex_reads_only_changes(repo: Path) -> None:
    first = run(repo, "index")
    assert first.returncode == 0, first.stderr
    line = first.stdout.decode()
    # it adds up: 4 files = 3 searchable + 1 skipped (1 binary), and all 4 were read
    assert "4 files = 3 searchable" in line and "+ 1 skipped (1 binary)" in line, line
    assert "index size" in line
    assert "4 new files read" in line
    (repo / "src" / "util.py").write_text("def helper(x):\n    return x * 3\n")
    second = run(repo, "index")
    assert "1 new files read" in second.stdout.decode(), second.stdout
    third = run(repo, "index")
    assert "up to date" in third.stdout.decode()


def test_search_output_exit_codes_and_auto_indexing(repo: Path) -> None:
    found = run(repo, "search", "hello")  # no index yet: it indexes first
    assert found.returncode == 0, found.stderr
    lines = found.stdout.decode().splitlines()
    assert "src/app.py:4:12:    print('hello world')" in lines
    assert all(not line.startswith("data/") for line in lines)  # binary skipped
    assert run(repo, "search", "no_such_thing_anywhere").returncode == 1
    bad = run(repo, "search", "foo(bar")
    assert bad.returncode == 2
    assert b"position 3" in bad.stderr and b"unclosed group" in bad.stderr


def test_search_sees_an_edit_without_an_explicit_reindex(repo: Path) -> None:
    assert run(repo, "search", "hello").returncode == 0
    (repo / "src" / "new.py").write_text("FRESHLY_ADDED = 1\n")
    result = run(repo, "search", "FRESHLY_ADDED")
    assert result.stdout.decode().startswith("src/new.py:1:1:")
    (repo / "src" / "new.py").unlink()
    assert run(repo, "search", "FRESHLY_ADDED").returncode == 1


def test_search_from_a_subdirectory_uses_the_enclosing_repository(repo: Path) -> None:
    result = run(repo, "search", "-F", "x * 2", cwd=repo / "src")
    assert result.stdout.decode() == "src/util.py:3:12:    return x * 2\n"


def test_json_output_is_ripgreps(repo: Path, rg: str) -> None:
    ours = run(repo, "search", "--json", "-i", "hello")
    theirs = subprocess.run([rg, "--json", "-i", "hello"], cwd=repo, capture_output=True)

    def matches(output: bytes) -> list[dict]:
        messages = [json.loads(line) for line in output.splitlines()]
        kinds = {m["type"] for m in messages}
        assert {"begin", "match", "end", "summary"} <= kinds
        return sorted((m["data"] for m in messages if m["type"] == "match"),
                      key=lambda d: (d["path"]["text"], d["line_number"]))

    assert matches(ours.stdout) == matches(theirs.stdout)


def test_json_context_lines_are_ripgreps(repo: Path, rg: str) -> None:
    ours = run(repo, "search", "--json", "-C", "1", "return")
    theirs = subprocess.run([rg, "--json", "-C", "1", "return"], cwd=repo, capture_output=True)

    def lines(output: bytes) -> list[tuple]:
        return sorted((m["type"], m["data"]["path"]["text"], m["data"]["line_number"])
                      for m in map(json.loads, output.splitlines())
                      if m["type"] in ("match", "context"))

    assert lines(ours.stdout) == lines(theirs.stdout)


def test_flags_word_glob_and_max_count(repo: Path) -> None:
    assert run(repo, "search", "-w", "hell").returncode == 1
    only_md = run(repo, "search", "-i", "-g", "*.md", "hello").stdout.decode().splitlines()
    assert only_md and all(line.startswith("docs/") for line in only_md)
    no_md = run(repo, "search", "-i", "-g", "!*.md", "hello").stdout.decode()
    assert "docs/" not in no_md and "src/app.py" in no_md
    one = run(repo, "search", "-m", "1", "-i", "hello", "-g", "docs/**").stdout.decode()
    assert one.count("\n") == 1


def test_search_a_branch_without_checking_it_out(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "src" / "feature.py").write_text("ONLY_ON_FEATURE = True\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature")
    git(repo, "checkout", "-q", "main")
    assert run(repo, "search", "ONLY_ON_FEATURE").returncode == 1
    on_branch = run(repo, "search", "--rev", "feature", "ONLY_ON_FEATURE")
    assert on_branch.stdout.decode() == "src/feature.py:1:1:ONLY_ON_FEATURE = True\n"
    assert run(repo, "search", "--rev", "HEAD~0", "ONLY_ON_FEATURE").returncode == 1


def test_bad_revisions_and_places_get_clear_errors(repo: Path, tmp_path: Path) -> None:
    unknown = run(repo, "search", "--rev", "featur", "x")
    assert unknown.returncode == 2 and b"unknown revision 'featur'" in unknown.stderr
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    result = run(outside, "index")  # only git repositories are indexed
    assert result.returncode == 2 and b"not a git repository" in result.stderr
    result = run(outside, "search", "x")  # searched as rg would: nothing there
    assert result.returncode == 2 and b"No files were searched" in result.stderr
