"""The working tree as an overlay on HEAD's snapshot, updated path by path, and `codeloupe
watch` keeping it current through saves, deletions and branch switches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.errors import RepositoryError
from indexer.ingest import WorktreeScan
from indexer.repo import WORKTREE
from indexer.search import SearchOptions
from indexer.store.content import prepare_content
from indexer.watch import TreeWatcher
from indexer.workspace import Workspace
from tests.conftest import git, make_repo


def _stored(ws: Workspace) -> dict[str, bytes]:
    """path -> the searchable bytes the working tree's snapshot holds."""
    manifest = ws.snapshot(None, refresh=False).manifest
    return {path: ws.store.packs.read(manifest.packs[i], manifest.offsets[i],
                                      manifest.lengths[i])
            for i, path in enumerate(manifest.paths)}


def _on_disk(ws: Workspace) -> dict[str, bytes]:
    """The oracle: git's own full listing of the working tree (tracked plus untracked, not
    ignored), each file's bytes as they are on disk."""
    entries, _ = ws.repo.worktree()
    out = {}
    for entry in entries:
        data = ws.repo.read_worktree_file(entry.path)
        if data is not None:
            out[entry.path] = prepare_content(data).data
    return out


def _hits(ws: Workspace, pattern: str) -> set[tuple[str, int]]:
    snapshot = ws.snapshot(None, refresh=False)
    return {(r.path, line.line_number)
            for r in snapshot.searcher.search(SearchOptions(patterns=(pattern,)))
            for line in r.lines}


def _messy_repo(tmp_path: Path) -> Path:
    files = {f"src/m{i:02d}.py": f"def f{i}():\n    return {i}\n" for i in range(40)}
    files.update({"keep/a.txt": "alpha\n", "gone/b.txt": "beta\n", "cached/c.txt": "gamma\n",
                  "mode.sh": "echo mode\n", "typechange.txt": "was a file\n",
                  "old_name.txt": "renamed content\n", ".gitignore": "*.log\nbuild/\n"})
    return make_repo(tmp_path / "repo", files)


def _mess_up(repo: Path) -> None:
    """Every kind of difference from HEAD git status can report."""
    (repo / "src/m01.py").write_text("def f1():\n    return 'unstaged edit'\n")
    (repo / "src/m02.py").write_text("def f2():\n    return 'staged edit'\n")
    git(repo, "add", "src/m02.py")
    (repo / "src/m03.py").write_text("staged first\n")
    git(repo, "add", "src/m03.py")
    (repo / "src/m03.py").write_text("then edited again\n")
    (repo / "src/m04.py").unlink()  # deleted, not staged
    git(repo, "rm", "-q", "-r", "gone")  # deleted and staged
    git(repo, "rm", "-q", "--cached", "cached/c.txt")  # untracked now, still on disk
    (repo / "new_dir/deeper").mkdir(parents=True)
    (repo / "new_dir/deeper/n.py").write_text("untracked = True\n")
    (repo / "added.py").write_text("added_and_staged = 1\n")
    git(repo, "add", "added.py")
    (repo / "intent.py").write_text("intent_to_add = 1\n")
    git(repo, "add", "-N", "intent.py")
    (repo / "debug.log").write_text("ignored\n")
    (repo / "build").mkdir()
    (repo / "build/out.txt").write_text("ignored too\n")
    os.chmod(repo / "mode.sh", 0o755)
    (repo / "typechange.txt").unlink()
    os.symlink("keep/a.txt", repo / "typechange.txt")
    os.symlink("keep/a.txt", repo / "untracked_link.txt")
    git(repo, "mv", "old_name.txt", "new_name.txt")
    (repo / "empty.txt").write_bytes(b"")
    nested = repo / "vendor_repo"
    nested.mkdir()
    git(nested, "init", "-q")
    (nested / "inner.txt").write_text("nested repository\n")


def test_the_working_tree_overlay_equals_a_full_listing_of_the_disk(tmp_path: Path) -> None:
    repo = _messy_repo(tmp_path)
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    ws.index("HEAD")
    _mess_up(repo)
    summary = ws.index(None)
    assert summary.new_blobs <= 10  # only files that differ from HEAD were read
    record = ws.store.catalog.snapshot(WORKTREE)
    assert record is not None and record.parent == ws.repo.head_commit()
    assert _stored(ws) == _on_disk(ws)
    assert ws.is_fresh(None)
    # Revert everything: the overlay empties and the snapshot equals HEAD's again.
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-q", "-fdx")
    ws.index(None)
    head = ws.snapshot("HEAD", refresh=False).manifest
    assert ws.snapshot(None, refresh=False).manifest.paths == head.paths
    assert ws.store.catalog.worktree_overlay() == {}


def test_index_paths_reads_only_the_named_paths_and_matches_a_full_refresh(
        tmp_path: Path) -> None:
    repo = _messy_repo(tmp_path)
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    ws.index(None)
    (repo / "src/m05.py").write_text("saved_edit_token = 5\n")
    (repo / "brand_new.py").write_text("brand_new_token = 1\n")
    (repo / "src/m06.py").unlink()
    (repo / "ignored.log").write_text("saved_edit_token in an ignored file\n")
    scan = WorktreeScan(ws.repo, ws.store, ["src/m05.py", "brand_new.py", "src/m06.py",
                                            "ignored.log"])
    assert scan.partial and len(scan.read) == 2  # the two saved files, nothing else
    summary = ws.index_paths([repo / "src/m05.py", "brand_new.py", "src/m06.py",
                              "ignored.log"])
    assert summary.new_blobs == 2
    assert _hits(ws, "saved_edit_token|brand_new_token") == {("src/m05.py", 1),
                                                             ("brand_new.py", 1)}
    assert "src/m06.py" not in ws.snapshot(None, refresh=False).manifest.paths
    assert ws.is_fresh(None)  # what a whole `git status` would conclude, too
    assert _stored(ws) == _on_disk(ws)
    # A directory event: everything under it is asked about.
    (repo / "src/m07.py").write_text("dir_event_token = 7\n")
    (repo / "src/sub").mkdir()
    (repo / "src/sub/x.py").write_text("dir_event_token = 8\n")
    ws.index_paths(["src"])
    assert _hits(ws, "dir_event_token") == {("src/m07.py", 1), ("src/sub/x.py", 1)}
    # An edit undone: the path holds HEAD's blob again and leaves the overlay.
    git(repo, "checkout", "-q", "--", "src/m05.py")
    ws.index_paths(["src/m05.py"])
    assert "src/m05.py" not in ws.store.catalog.worktree_overlay()
    assert ws.is_fresh(None) and _stored(ws) == _on_disk(ws)
    with pytest.raises(RepositoryError, match="outside the repository"):
        ws.index_paths(["../elsewhere.py"])


def test_index_paths_after_a_commit_falls_back_to_a_whole_refresh(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "a = 1\n", "b.py": "b = 1\n"})
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    ws.index(None)
    (repo / "a.py").write_text("a = 'committed'\n")
    git(repo, "commit", "-q", "-am", "second")
    (repo / "b.py").write_text("b = 'dirty'\n")
    ws.index_paths(["b.py"])  # HEAD moved since the last snapshot: all of it is asked about
    assert _hits(ws, "committed|dirty") == {("a.py", 1), ("b.py", 1)}
    head = ws.repo.head_commit()
    assert ws.store.catalog.snapshot(WORKTREE).parent == head  # type: ignore[union-attr]
    assert ws.store.catalog.snapshot(head).parent is not None  # forked from the old HEAD


def test_the_watcher_classifies_paths_and_ignores_git_internals_and_the_index(
        tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "a = 1\n"})
    ws = Workspace.open(repo, index_dir=repo / ".codeloupe-index")  # inside the tree
    watcher = TreeWatcher(ws, lambda update: None)
    root = str(repo)
    assert watcher.classify(f"{root}/a.py") == ("file", "a.py")
    assert watcher.classify(f"{root}/src/deep/b.py") == ("file", "src/deep/b.py")
    for git_path in (".git/HEAD", ".git/refs/heads/main", ".git/packed-refs", ".git/index"):
        assert watcher.classify(f"{root}/{git_path}") == ("git", None)
    for ignored in (".git/objects/ab/cdef", ".git/refs/heads/main.lock", ".git/logs/HEAD",
                    ".git/index.lock", ".codeloupe-index/catalog.sqlite", "/elsewhere/x.py"):
        path = ignored if ignored.startswith("/") else f"{root}/{ignored}"
        assert watcher.classify(path) is None, ignored


def _wait_for(condition, what: str, timeout: float = 30.0) -> None:  # noqa: ANN001
    """Poll until `condition()` holds (a safety deadline only; no timing is asserted)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_codeloupe_watch_follows_saves_deletions_and_branch_switches(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {f"pkg/m{i}.py": f"value_{i} = {i}\n"
                                         for i in range(30)})
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "pkg/feature_only.py").write_text("feature_branch_token = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature")
    git(repo, "checkout", "-q", "main")
    index_dir = tmp_path / "index"
    log = tmp_path / "watch.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "indexer", "watch", "--repo", str(repo),
                                 "--index-dir", str(index_dir)], stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: b"watching" in log.read_bytes(), "the first snapshot")
        ws = Workspace.open(repo, index_dir=index_dir)
        (repo / "pkg/m3.py").write_text("value_3 = 'saved_token'\n")
        _wait_for(lambda: _hits(ws, "saved_token") == {("pkg/m3.py", 1)}, "a save")
        (repo / "pkg/m4.py").unlink()
        _wait_for(lambda: "pkg/m4.py" not in ws.snapshot(None, refresh=False).manifest.paths,
                  "a deletion")
        (repo / "notes.txt").write_text("untracked_token\n")
        _wait_for(lambda: _hits(ws, "untracked_token") == {("notes.txt", 1)}, "a new file")
        git(repo, "stash", "-q", "-u")  # tidy the tree, then switch branches
        git(repo, "checkout", "-q", "feature")
        feature = ws.repo.resolve("feature")
        _wait_for(lambda: _hits(ws, "feature_branch_token") == {("pkg/feature_only.py", 1)}
                  and ws.store.catalog.snapshot(WORKTREE).commit_id == feature,  # type: ignore[union-attr]
                  "a branch switch")
        record = ws.store.catalog.snapshot(feature)
        assert record is not None and record.parent == ws.repo.resolve("main")  # forked
        assert _hits(ws, "saved_token|untracked_token") == set()
        assert ws.is_fresh(None)
        ws.close()
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        code = proc.wait(timeout=30)
    text = log.read_text()
    assert code == 0, text
    assert "HEAD ->" in text and text.rstrip().endswith("stopped")
