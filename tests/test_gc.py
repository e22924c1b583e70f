"""`codeloupe gc`: what stays (working tree, HEAD, branches, pins, recent commits), what goes
(other snapshots, then every blob only they held: rows, documents, pack space), and a kill -9
at every step leaving the visible indexes readable."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.maintenance import gc
from indexer.maintenance.common import KILL_ENV, doc_blob_nos
from indexer.maintenance.doctor import examine
from indexer.repo import WORKTREE
from indexer.search import SearchOptions
from indexer.store.packs import pack_numbers
from indexer.workspace import Workspace
from tests.conftest import git, make_repo

PATTERNS = ("def f\\d+", "bulk line", "feature_token", "dirty_token", "version")
REVS = ("v1", "main~2", "main~1", "main", "feature", None)


def _history(root: Path) -> Path:
    """c1 (tag v1): 60 modules and 20 bulky data files; c2 rewrites 40 modules and drops the
    data; c3, c4 small edits (main); feature: one file off c2; a dirty working tree."""
    files: dict[str, str | bytes] = {
        f"pkg/m{i:02d}.py": f"def f{i}():\n    return 'version 1 of {i}'\n" for i in range(60)}
    files.update({f"data/d{i:02d}.txt": "".join(f"bulk line {i}.{j} {'x' * 60}\n"
                                                 for j in range(300)) for i in range(20)})
    repo = make_repo(root, files, "c1")
    git(repo, "tag", "v1")
    for i in range(40):
        (repo / f"pkg/m{i:02d}.py").write_text(f"def f{i}():\n    return 'version 2 of {i}'\n")
    git(repo, "rm", "-q", "-r", "data")
    git(repo, "commit", "-q", "-am", "c2")
    git(repo, "branch", "feature")
    for n in (3, 4):
        (repo / "pkg/m00.py").write_text(f"def f0():\n    return 'version {n}'\n")
        git(repo, "commit", "-q", "-am", f"c{n}")
    git(repo, "checkout", "-q", "feature")
    (repo / "pkg/feature.py").write_text("feature_token = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature")
    git(repo, "checkout", "-q", "main")
    (repo / "pkg/m01.py").write_text("def f1():\n    return 'dirty_token'\n")
    return repo


def _results(ws: Workspace, rev: str | None, refresh: bool = False) -> dict[str, set]:
    snapshot = ws.snapshot(rev, refresh=refresh)
    return {p: {(r.path, line.line_number)
                for r in snapshot.searcher.search(SearchOptions(patterns=(p,)))
                for line in r.lines} for p in PATTERNS}


def _index_everything(ws: Workspace) -> dict[str | None, dict[str, set]]:
    for rev in REVS:
        ws.index(rev)
    ws.enrich("v1")  # chunk and symbol rows for blobs that gc will drop
    ws.enrich(None)
    return {rev: _results(ws, rev) for rev in REVS}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory):
    """A repository and a complete index of every revision, built once (copied per test)."""
    root = tmp_path_factory.mktemp("gc")
    repo = _history(root / "repo")
    ws = Workspace.open(repo, index_dir=root / "index")
    expected = _index_everything(ws)
    ws.close()
    return repo, root / "index", expected


def _copy(template, tmp_path: Path) -> tuple[Workspace, dict]:
    repo, index, expected = template
    shutil.copytree(index, tmp_path / "index")
    return Workspace.open(repo, index_dir=tmp_path / "index"), expected


def test_gc_keeps_what_is_needed_and_drops_every_trace_of_the_rest(template,
                                                                   tmp_path: Path) -> None:
    ws, expected = _copy(template, tmp_path)
    store = ws.store
    names = {rev: ws.resolve(rev)[0] for rev in REVS}
    manifests = {r.name: set(store.load_manifest(r).blob_nos)
                 for r in store.catalog.snapshots()}
    kept = {names["main"], names["feature"], WORKTREE}
    live = set().union(*(manifests[n] for n in kept))
    dead = set().union(*manifests.values()) - live
    assert dead and len(dead) > 40
    old_packs = pack_numbers(store.pack_dir)
    held = ws.snapshot("main", refresh=False)  # as a long-lived server would keep it
    assert ws.is_current(held)
    assert ws.current(held) is held  # checked once; then a stat per request
    generation = store.generation()

    report = gc.collect(ws, keep_recent=0)

    assert store.generation() != generation  # tells holders to check again

    assert set(report.plan.keep) == kept
    assert report.plan.keep[names["main"]] == ["HEAD", "branch main"]
    assert {r.name for r in report.plan.remove} == {names["v1"], names["main~2"],
                                                    names["main~1"]}
    assert {r.name for r in store.catalog.snapshots()} == kept
    assert report.dead_blobs == len(dead)
    db = store.catalog.db
    assert {b for (b,) in db.execute("SELECT blob_no FROM blobs")} == live
    for table in ("chunked", "chunks", "symbols"):
        left = {b for (b,) in db.execute(f"SELECT DISTINCT blob_no FROM {table}")}
        assert left and not left & dead, table
    searchable = {b for (b,) in db.execute("SELECT blob_no FROM blobs WHERE pack > 0")}
    assert set(doc_blob_nos(store.trigrams.index)) == searchable
    assert set(doc_blob_nos(store.chunks.lexical)) <= live
    # pack space: the dead data files made the pack worth rewriting; numbers only grow
    assert report.packs_rewritten >= 1 and report.freed > 0
    assert min(pack_numbers(store.pack_dir)) > max(old_packs)
    assert not ws.is_current(held)  # its blobs moved: reload it
    assert ws.is_current(ws.snapshot("main", refresh=False))
    reloaded = ws.current(held)  # what a server or the daemon does per request
    assert reloaded is not held and ws.is_current(reloaded) and reloaded.rev == "main"
    assert ws.current(reloaded) is reloaded
    assert {(r.path, line.line_number) for r in reloaded.searcher.search(
        SearchOptions(patterns=("def f\\d+",))) for line in r.lines} == expected["main"][
        "def f\\d+"]
    assert report.bytes_after == store.size_bytes()
    assert sorted(p.name for p in (store.directory / "manifests").iterdir()) == sorted(
        r.manifest for r in store.catalog.snapshots())
    # what stays answers as before; what went is indexed again from git on demand
    for rev in ("main", "feature", None):
        assert _results(ws, rev) == expected[rev], rev
    assert _results(ws, "v1", refresh=True) == expected["v1"]
    assert examine(ws).healthy
    # and indexing goes on: new blobs land in the newest pack
    (ws.root / "pkg/after_gc.py").write_text("def f999():\n    return 'version after'\n")
    ws.index(None)
    assert ("pkg/after_gc.py", 1) in _results(ws, None)["def f\\d+"]
    ws.close()


def test_pins_recent_and_dry_run(template, tmp_path: Path) -> None:
    ws, _ = _copy(template, tmp_path)
    store = ws.store
    before = sorted(r.name for r in store.catalog.snapshots())
    files = _data_files(store.directory)
    v1 = ws.resolve("v1")[0]
    dry = gc.collect(ws, keep_recent=0, extra_pins=[gc.Pin("v1", v1)], dry_run=True)
    assert v1 in dry.plan.keep and dry.dead_blobs > 0
    assert sorted(r.name for r in store.catalog.snapshots()) == before
    assert gc.list_pins(ws) == []  # a dry run stores no pin
    assert _data_files(store.directory) == files
    gc.pin(ws, "v1")
    git(ws.root, "tag", "-d", "v1")  # the pin still holds what v1 named
    report = gc.collect(ws, keep_recent=1)
    assert report.plan.keep[v1] == ["pinned v1"]
    recent = [r.name for r in ws.store.catalog.snapshots() if r.name != WORKTREE]
    assert v1 in recent and ws.resolve("main~1")[0] not in recent
    gc.unpin(ws, "v1")
    with pytest.raises(Exception, match="not pinned"):
        gc.unpin(ws, "v1")
    with pytest.raises(Exception, match="unknown revision"):
        gc.pin(ws, "no-such-branch")
    git(ws.root, "tag", "v1", v1)
    ws.close()


def test_gc_command_line(template, tmp_path: Path) -> None:
    ws, _ = _copy(template, tmp_path)
    repo, index = str(ws.root), str(tmp_path / "index")
    ws.close()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "indexer", "gc", "--repo", repo,
                               "--index-dir", index, *args], capture_output=True, text=True)

    dry = run("--dry-run", "--keep-recent", "0", "--pin", "v1")
    assert dry.returncode == 0 and "nothing changed" in dry.stdout
    assert "keep" in dry.stdout and "would remove" in dry.stdout
    bad = run("--pin", "no-such-tag")
    assert bad.returncode == 2 and "unknown revision 'no-such-tag'" in bad.stderr
    done = run("--keep-recent", "0", "--pin", "v1", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["freed"] > 0 and report["pins"][0]["rev"] == "v1"
    assert len(report["removed"]) == 2
    unpinned = run("--unpin", "v1", "--keep-recent", "0", "--json")
    assert json.loads(unpinned.stdout)["removed"] == [report["pins"][0]["commit"]]


GC_STEPS = ["gc-snapshots-deleted", "gc-blobs-deleted", "trigram-swapped",
            "gc-trigrams-pruned", "gc-lexical-pruned", "gc-packs-written",
            "gc-manifests-written", "gc-switched"]


@pytest.mark.parametrize("step", GC_STEPS)
def test_kill_9_at_every_gc_step_leaves_the_visible_indexes_readable(
        template, tmp_path: Path, step: str) -> None:
    ws, expected = _copy(template, tmp_path)
    repo, index = str(ws.root), str(tmp_path / "index")
    ws.close()
    proc = subprocess.run([sys.executable, "-m", "indexer", "gc", "--repo", repo,
                           "--index-dir", index, "--keep-recent", "0"],
                          env={**_env(), KILL_ENV: step}, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr  # it did die at that step
    ws = Workspace.open(repo, index_dir=Path(index))
    for rev in ("main", "feature", None):  # never removed: readable as they were
        assert _results(ws, rev) == expected[rev], (step, rev)
    for rev in ("v1", "main~1"):  # possibly removed: still answers right, from git if need be
        assert _results(ws, rev, refresh=True) == expected[rev], (step, rev)
    gc.collect(ws, keep_recent=0)  # the next run finishes the job
    assert examine(ws).healthy
    for rev in ("main", "feature", None):
        assert _results(ws, rev) == expected[rev], (step, rev)
    ws.close()


def _data_files(directory: Path) -> dict[str, int]:
    """Manifests, packs and tantivy files with their sizes (not SQLite's WAL or the lock)."""
    return {str(p.relative_to(directory)): p.stat().st_size for p in directory.rglob("*")
            if p.is_file() and not p.name.startswith(("catalog.sqlite", "write.lock"))}


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != KILL_ENV}
