"""Every commit of a short real-code history, indexed by forking its neighbour, answers
exactly as ripgrep does on a `git worktree` checkout of that commit (the working tree too).

The history is cut from the Python standard library and walks through what forks must get
right: edits, additions, a deleted directory, a renamed one, a file turned binary, a BOM, a
file grown past the size cap, a symlink, a mode change, and a branch indexed out of order.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from indexer.search import SearchOptions
from indexer.workspace import Workspace
from tests.conftest import git
from tests.test_search_matches_ripgrep import _rg_args, _vimgrep_set

QUERIES: list[tuple[str, dict]] = [
    ("def ", {}), ("import", {}), (r"^class \w+", {}), ("self", {"whole_word": True}),
    ("json", {"case": "ignore"}), ("Decoder", {}), (r"\d{3,}", {}), ("TODO|FIXME|XXX", {}),
    ("history_marker", {}), ("hello", {}), ("return", {"globs": ("*.py", "!**/tool.py")}),
    ("a.b(c)", {"fixed_strings": True}), (r"^\s*#", {}), ("naïve", {}), ("qq", {}),
]


def _commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def _history(root: Path) -> tuple[Path, list[str]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    repo = root / "repo"
    shutil.copytree(stdlib / "json", repo / "json", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(stdlib / "email" / "mime", repo / "mime",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "notes.txt").write_text("hello\nnaïve café\nqq\n")
    git(repo, "init", "-q", "-b", "main")
    commits = [_commit(repo, "import")]
    # edits and additions
    (repo / "json/decoder.py").write_text((repo / "json/decoder.py").read_text().replace(
        "class JSONDecoder", "# history_marker 1\nclass JSONDecoder"))
    (repo / "json/extra.py").write_text("def extra():\n    return 'a.b(c) 12345'\n")
    commits.append(_commit(repo, "edit and add"))
    # a directory deleted, another renamed; a BOM; a symlink; a mode change
    shutil.rmtree(repo / "mime")
    (repo / "json").rename(repo / "jsonlib")
    (repo / "bom.txt").write_bytes(b"\xef\xbb\xbfhello with a BOM\n")
    os.symlink("notes.txt", repo / "link.txt")
    os.chmod(repo / "jsonlib/tool.py", 0o755)
    commits.append(_commit(repo, "move things"))
    # a file turned binary, one grown past 1 MiB, one emptied
    (repo / "notes.txt").write_bytes(b"hello\0binary now\n")
    (repo / "jsonlib/scanner.py").write_bytes(b"# hello huge\n" * 90_000)
    (repo / "jsonlib/extra.py").write_text("")
    commits.append(_commit(repo, "binary, huge, empty"))
    # a side branch off the second commit, indexed last (out of order)
    git(repo, "checkout", "-q", "-b", "side", commits[1])
    (repo / "json/side.py").write_text("# history_marker side\nTODO = 'side 777'\n")
    commits.append(_commit(repo, "side"))
    git(repo, "checkout", "-q", "main")
    return repo, commits


def _expected(rg: str, root: Path, pattern: str, options: dict) -> set[tuple[str, int, int]]:
    proc = subprocess.run([rg, *_rg_args(options), "-e", pattern], cwd=root,
                          capture_output=True)
    assert proc.returncode in (0, 1), proc.stderr
    return _vimgrep_set(proc.stdout)


def _got(ws: Workspace, rev: str | None, pattern: str, options: dict
         ) -> set[tuple[str, int, int]]:
    snapshot = ws.snapshot(rev, refresh=False)
    return {(r.path, line.line_number, start + 1)
            for r in snapshot.searcher.search(SearchOptions(patterns=(pattern,), **options))
            for line in r.lines for start, _ in line.submatches}


def test_each_commit_of_a_history_answers_like_ripgrep_on_its_checkout(
        rg: str, tmp_path: Path) -> None:
    repo, commits = _history(tmp_path)
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    for commit in commits:  # in order: each one forked from the one before
        summary = ws.index(commit)
        assert summary.files > 0
    parents = {r.name: r.parent for r in ws.store.catalog.snapshots()}
    assert parents[commits[0]] is None
    assert all(parents[c] is not None for c in commits[1:])  # forked, not listed whole
    assert parents[commits[4]] == commits[1]  # the side branch forks from its real parent
    (repo / "jsonlib/__init__.py").write_text("# history_marker worktree\nhello = 'dirty'\n")
    (repo / "untracked.py").write_text("def untracked():\n    return 'qq'\n")
    ws.index(None)
    checkouts: list[tuple[str | None, Path]] = [(None, repo)]
    for i, commit in enumerate(commits):
        checkout = tmp_path / f"checkout-{i}"
        git(repo, "worktree", "add", "-q", "--detach", str(checkout), commit)
        checkouts.append((commit, checkout))
    for rev, root in checkouts:
        for pattern, options in QUERIES:
            expected = _expected(rg, root, pattern, options)
            got = _got(ws, rev, pattern, options)
            missing, extra = sorted(expected - got)[:3], sorted(got - expected)[:3]
            assert got == expected, (f"{rev or 'worktree'} {pattern!r} {options}: "
                                     f"missing {missing}, extra {extra}")
    ws.close()


@pytest.fixture(autouse=True)
def _no_rg_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RIPGREP_CONFIG_PATH", raising=False)
