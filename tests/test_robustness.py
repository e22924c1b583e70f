"""Bad input and bad luck: kills mid-index, concurrent writers, vanishing files, paths outside."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.errors import IndexBusyError, RepositoryError
from indexer.ingest import WorktreeScan
from indexer.repo import GitRepo
from indexer.search import SearchOptions
from indexer.workspace import Workspace
from tests.conftest import git, make_repo


def _hits(ws: Workspace, pattern: str, rev: str | None = None) -> set[tuple[str, int]]:
    return {(r.path, line.line_number)
            for r in ws.search(SearchOptions(patterns=(pattern,)), rev=rev) for line in r.lines}


def test_kill_9_at_any_moment_leaves_the_old_or_the_new_snapshot_never_a_mix(
        tmp_path: Path) -> None:
    body = "".join(f"    value_{j} = compute({j}) + offset  # padding text {j}\n"
                   for j in range(300))
    files = {f"pkg/mod{i:04d}.py": f"def function_{i}():\n{body}    return {i}\n"
             for i in range(1200)}  # ~20 MB: indexing takes a few seconds
    repo = make_repo(tmp_path / "repo", {"seed.py": "SEED = 1\n"})
    index_dir = tmp_path / "index"
    ws = Workspace.open(repo, index_dir=index_dir)
    assert _hits(ws, "SEED") == {("seed.py", 1)}
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    complete = sorted(["seed.py", *files])
    for delay in (0.4, 0.8, 1.2, 1.6, 2.4):
        proc = subprocess.Popen([sys.executable, "-m", "indexer", "index", "--repo", str(repo),
                                 "--index-dir", str(index_dir)], stdout=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader = Workspace.open(repo, index_dir=index_dir)
        paths = reader.snapshot(None, refresh=False).manifest.paths
        assert paths in (["seed.py"], complete)  # whole or not at all
        reader.close()
    # The next run completes, reusing the blobs that were durable, and sees everything.
    final = Workspace.open(repo, index_dir=index_dir)
    assert _hits(final, "def function_1199\\(") == {("pkg/mod1199.py", 1)}
    assert len(final.snapshot(None, refresh=False).manifest) == len(complete)


def test_a_second_writer_waits_or_fails_clearly_while_readers_go_on(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "alpha = 1\n"})
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    ws.index(None)
    (repo / "b.py").write_text("beta = 2\n")
    with ws.store.write_lock():
        other = Workspace.open(repo, index_dir=tmp_path / "index")
        with pytest.raises(IndexBusyError, match="another codeloupe process"):
            other.index(None, wait=False)
        assert _hits_no_refresh(other, "alpha") == {("a.py", 1)}  # readers keep working
    assert _hits(ws, "beta") == {("b.py", 1)}


def _hits_no_refresh(ws: Workspace, pattern: str) -> set[tuple[str, int]]:
    snapshot = ws.snapshot(None, refresh=False)
    return {(r.path, line.line_number)
            for r in snapshot.searcher.search(SearchOptions(patterns=(pattern,)))
            for line in r.lines}


def test_files_vanishing_mid_index_are_counted_not_fatal(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # Clean files come from HEAD's snapshot (git objects); edited ones are read from disk.
    repo = make_repo(tmp_path / "repo", {"keep.py": "keep = 1\n", "gone.py": "gone = 1\n"})
    (repo / "keep.py").write_text("keep = 2\n")
    (repo / "gone.py").write_text("gone = 2\n")
    real_read = GitRepo.read_worktree_file

    def vanish(self: GitRepo, path: str) -> bytes | None:
        if path == "gone.py":
            (self.root / path).unlink(missing_ok=True)
        return real_read(self, path)

    monkeypatch.setattr(GitRepo, "read_worktree_file", vanish)
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    scan = WorktreeScan(ws.repo, ws.store)  # git status lists it; it is gone when read
    assert scan.vanished == 1
    assert scan.overlay is not None and scan.overlay["gone.py"] is None
    ws.index(None)
    assert _hits(ws, "keep|gone") == {("keep.py", 1)}


def test_paths_outside_the_repository_are_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "a = 1\n"})
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    assert ws.relative_path(repo / "a.py") == "a.py"
    for bad in ("../etc/passwd", "/etc/passwd", "sub/../../x"):
        with pytest.raises(RepositoryError, match="outside the repository"):
            ws.relative_path(bad)


def test_symlinks_and_submodules_are_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP_SECRET outside the repo\n")
    repo = make_repo(tmp_path / "repo", {"a.py": "a = 1\n"})
    os.symlink(secret, repo / "link.txt")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "link")
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    assert _hits(ws, "TOP_SECRET") == set()
    assert _hits(ws, "TOP_SECRET", rev="HEAD") == set()


def test_invalid_utf8_minified_and_empty_files_index_without_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {
        "bad.txt": b"caf\xe9 latin-1 here\nline two \xff\n",
        "min.js": b"x=1;" * 300_000,  # 1.2 MB one line: over the cap
        "empty.txt": b"",
    })
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    summary = ws.index(None)
    assert summary.skipped.get("too large") == 1
    result = list(ws.search(SearchOptions(patterns=("two",))))
    assert result[0].lines[0].byte_offset == len(b"caf\xe9 latin-1 here\n")
    assert result[0].lines[0].submatches == [(5, 8)]


def test_a_repository_with_no_commits_yet(tmp_path: Path) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "draft.py").write_text("DRAFT = True\n")
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    assert _hits(ws, "DRAFT") == {("draft.py", 1)}
    with pytest.raises(RepositoryError, match="unknown revision"):
        ws.index("HEAD")
