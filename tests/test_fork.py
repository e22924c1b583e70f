"""Commit snapshots forked from an indexed neighbour equal a snapshot listed from scratch."""

from __future__ import annotations

import os
from pathlib import Path

from indexer.search import SearchOptions
from indexer.store.manifest import Manifest
from indexer.workspace import Workspace
from tests.conftest import git, make_repo


def _entries(manifest: Manifest) -> list[tuple[str, int, int]]:
    return list(zip(manifest.paths, manifest.blob_nos, manifest.kinds, strict=True))


def test_a_forked_snapshot_equals_a_full_listing(tmp_path: Path) -> None:
    files = {f"src/mod{i:03d}.py": f"def f{i}():\n    return {i}\n" for i in range(200)}
    files.update({"docs/a.md": "# A\n", "bin/tool.bin": b"\0\1\2", "old/name.txt": "keep me\n"})
    repo = make_repo(tmp_path / "repo", files)
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    first = ws.index("HEAD")
    assert first.new_blobs == len(files)
    # the next commit: modify, add, delete a directory, rename, a symlink, a mode change
    (repo / "src/mod007.py").write_text("def f7():\n    return 'changed'\n")
    (repo / "src/new_module.py").write_text("NEW = True\n")
    git(repo, "rm", "-q", "-r", "docs")
    git(repo, "mv", "old/name.txt", "renamed.txt")
    os.symlink("renamed.txt", repo / "link.txt")
    os.chmod(repo / "src/mod001.py", 0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    second = ws.index("HEAD")
    assert second.new_blobs == 2  # only the modified and the new file were read
    forked = ws.snapshot("HEAD", refresh=False)
    record = ws.store.catalog.snapshot(forked.name)
    assert record is not None and record.parent == first.name
    # the same commit listed from scratch in a fresh index
    fresh = Workspace.open(repo, index_dir=tmp_path / "fresh-index")
    fresh.index("HEAD")
    listed = fresh.snapshot("HEAD", refresh=False).manifest
    assert forked.manifest.paths == listed.paths
    assert "docs/a.md" not in forked.manifest.paths and "link.txt" not in forked.manifest.paths
    assert [k for _, _, k in _entries(forked.manifest)] == [k for _, _, k in _entries(listed)]
    hits = {(r.path, line.line_number) for r in
            ws.search(SearchOptions(patterns=("changed|NEW|keep me",)), rev="HEAD")
            for line in r.lines}
    assert hits == {("src/mod007.py", 2), ("src/new_module.py", 1), ("renamed.txt", 1)}
    assert ws.store.catalog.snapshot(first.name) is not None  # the parent is untouched


def test_branches_lists_refs_with_index_state_and_sharing(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    repo = make_repo(tmp_path / "repo", {f"f{i}.py": f"x = {i}\n" for i in range(20)})
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "f0.py").write_text("x = 'feature'\n")
    git(repo, "commit", "-q", "-am", "feature")
    git(repo, "checkout", "-q", "main")
    index_dir = tmp_path / "index"
    ws = Workspace.open(repo, index_dir=index_dir)
    ws.index("main")
    ws.index("feature")

    def rows() -> dict[str, dict]:
        out = subprocess.run([sys.executable, "-m", "indexer", "branches", "--json",
                              "--repo", str(repo), "--index-dir", str(index_dir)],
                             capture_output=True, text=True, check=True).stdout
        return {r["ref"]: r for r in map(json.loads, out.splitlines())}

    listed = rows()
    assert listed["main"]["state"] == "complete" and listed["main"]["files"] == 20
    assert listed["feature"]["parent"] == listed["main"]["commit"]
    assert listed["feature"]["shared_with_parent"] == 19 / 20
    git(repo, "branch", "old-main")
    (repo / "f1.py").write_text("x = 'moved'\n")
    git(repo, "commit", "-q", "-am", "move main")
    listed = rows()
    assert listed["main"]["state"] == "not indexed"
    assert listed["old-main"]["state"] == "complete"  # still names the indexed commit
    git(repo, "branch", "-q", "-D", "old-main")
    assert rows()["(no ref)"]["state"] == "complete"  # indexed, no longer named by any ref
