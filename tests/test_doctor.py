"""`codeloupe doctor`: damage done to real index files (a truncated manifest, a deleted pack,
garbled tantivy metadata, changed bytes) is found, reported per snapshot, and repaired by
rebuilding only what is broken; the other commits keep their manifests untouched."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.maintenance.common import KILL_ENV
from indexer.maintenance.doctor import examine
from indexer.repo import WORKTREE
from indexer.search import SearchOptions
from indexer.store.packs import PackWriter, pack_numbers, pack_path
from indexer.workspace import Workspace
from tests.conftest import git, make_repo

PATTERNS = ("def \\w+", "release", "extra_token", "worktree_token")
REVS = ("main~2", "main~1", "main", "feature", None)


def _results(ws: Workspace, rev: str | None) -> dict[str, set]:
    snapshot = ws.snapshot(rev, refresh=False)
    return {p: {(r.path, line.line_number)
                for r in snapshot.searcher.search(SearchOptions(patterns=(p,)))
                for line in r.lines} for p in PATTERNS}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory):
    """Commits A (main~2) in pack 1; B (main~1), C (main), feature and the working tree
    add their new blobs to pack 2."""
    root = tmp_path_factory.mktemp("doctor")
    repo = make_repo(root / "repo", {f"lib/m{i:02d}.py": f"def g{i}():\n    return {i}\n"
                                     for i in range(30)}, "A")
    ws = Workspace.open(repo, index_dir=root / "index")
    ws.index("HEAD")
    PackWriter(ws.store.pack_dir, fresh=True).close()  # the next blobs start pack 2
    for n in (1, 2):
        (repo / f"lib/m{n:02d}.py").write_text(f"def g{n}():\n    return 'release {n}'\n")
        (repo / f"lib/extra{n}.py").write_text(f"extra_token = {n}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"release {n}")
    git(repo, "checkout", "-q", "-b", "feature", "HEAD~1")
    (repo / "lib/feature.py").write_text("def feature():\n    return 'release feature'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature")
    git(repo, "checkout", "-q", "main")
    (repo / "lib/m05.py").write_text("def g5():\n    return 'worktree_token'\n")
    for rev in REVS:
        ws.index(rev)
    ws.enrich(None)
    expected = {rev: _results(ws, rev) for rev in REVS}
    manifests = {r.name: r.manifest for r in ws.store.catalog.snapshots()}
    ws.close()
    return repo, root / "index", expected, manifests


def _copy(template, tmp_path: Path) -> tuple[Workspace, dict, dict]:
    repo, index, expected, manifests = template
    shutil.copytree(index, tmp_path / "index")
    return Workspace.open(repo, index_dir=tmp_path / "index"), expected, manifests


def _doctor(ws: Workspace, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", "doctor", "--repo", str(ws.root),
                           "--index-dir", str(ws.store.directory), *args],
                          capture_output=True, text=True)


def _all_answer_as_before(ws: Workspace, expected: dict) -> None:
    for rev in REVS:
        assert _results(ws, rev) == expected[rev], rev


def test_a_healthy_index_is_reported_healthy(template, tmp_path: Path) -> None:
    ws, _, _ = _copy(template, tmp_path)
    proc = _doctor(ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("healthy")
    assert proc.stdout.count("\nok ") + proc.stdout.startswith("ok ") == len(REVS)
    report = json.loads(_doctor(ws, "--json", "--full").stdout)
    assert report["healthy"] and 0 < report["spot_checked"] <= report["blobs"]
    assert all(s["ok"] for s in report["snapshots"])


@pytest.mark.parametrize("damage", ["truncate", "delete", "garble"])
def test_a_damaged_manifest_is_rebuilt_from_git_and_nothing_else_is_touched(
        template, tmp_path: Path, damage: str) -> None:
    ws, expected, manifests = _copy(template, tmp_path)
    victim = ws.resolve("main~1")[0]
    path = ws.store.manifest_path(manifests[victim])
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[:len(data) // 2])
    elif damage == "delete":
        path.unlink()
    else:
        path.write_bytes(data[:20] + b"\xff" * 40 + data[60:])
    report = examine(ws)
    assert not report.healthy
    broken = {s.name for s in report.snapshots if not s.ok}
    assert broken == {victim}
    proc = _doctor(ws)
    assert proc.returncode == 1 and "BROKEN" in proc.stdout
    generation = ws.store.generation()
    repaired = examine(ws, repair=True)
    assert repaired.repaired and repaired.healthy, repaired.remaining
    assert ws.store.generation() != generation  # holders of snapshots check them again
    health = {s.name: s for s in repaired.snapshots}
    assert "indexed again from git" in (health[victim].repair or "")
    record = ws.store.catalog.snapshot(victim)
    assert record is not None and record.parent is not None  # forked from a healthy one
    for record in ws.store.catalog.snapshots():
        if record.name != victim:  # the others were not rewritten
            assert record.manifest == manifests[record.name]
    _all_answer_as_before(ws, expected)
    assert examine(ws).healthy


def test_a_deleted_pack_loses_only_its_blobs_and_they_are_read_again(
        template, tmp_path: Path) -> None:
    ws, expected, manifests = _copy(template, tmp_path)
    assert pack_numbers(ws.store.pack_dir) == [1, 2]
    pack_path(ws.store.pack_dir, 2).unlink()
    ws.store.packs.close()
    report = examine(ws)
    assert any(p.scope == "packs" and "pack-000002.bin is missing" in p.message
               for p in report.problems)
    first = ws.resolve("main~2")[0]
    assert {s.name for s in report.snapshots if s.ok} == {first}  # A lives in pack 1 only
    repaired = examine(ws, repair=True)
    assert repaired.healthy, repaired.remaining
    assert ws.store.catalog.snapshot(first).manifest == manifests[first]  # type: ignore[union-attr]
    assert max(pack_numbers(ws.store.pack_dir)) > 2  # pack 2's number is never reused
    _all_answer_as_before(ws, expected)


def test_garbled_tantivy_metadata_is_rebuilt(template, tmp_path: Path) -> None:
    ws, expected, manifests = _copy(template, tmp_path)
    (ws.store.directory / "trigram" / "meta.json").write_text("{ garbled")
    (ws.store.directory / "lexical" / "meta.json").write_bytes(b"\0\1\2")
    ws.close()
    ws = Workspace.open(ws.root, index_dir=tmp_path / "index")
    report = examine(ws)
    scopes = {p.scope for p in report.problems if p.fatal}
    assert scopes == {"trigram index", "lexical index"}
    assert all(s.ok for s in report.snapshots)  # manifests are fine: nothing to re-index
    proc = _doctor(ws, "--repair")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "rebuilt from the pack bytes" in proc.stdout
    ws = Workspace.open(ws.root, index_dir=tmp_path / "index")
    assert ws.store.tantivy_dir("trigram").name.startswith("trigram-")
    assert not (ws.store.directory / "trigram").exists()
    assert {r.name: r.manifest for r in ws.store.catalog.snapshots()} == manifests
    _all_answer_as_before(ws, expected)
    ws.enrich(None)  # chunks are made again, and the lexical index answers
    from indexer.retrieval.lexical import lexical_search

    hits = lexical_search(ws, ws.snapshot(None, refresh=False), "feature release", 5)
    assert hits
    assert examine(ws).healthy


def test_changed_bytes_in_a_pack_fail_the_git_hash_check(template, tmp_path: Path) -> None:
    ws, expected, _ = _copy(template, tmp_path)
    manifest = ws.snapshot("main~2", refresh=False).manifest
    i = manifest.paths.index("lib/m07.py")
    pack = pack_path(ws.store.pack_dir, manifest.packs[i])
    data = bytearray(pack.read_bytes())
    at = manifest.offsets[i] + manifest.lengths[i] - 3  # same length, other bytes
    data[at:at + 2] = b"99"
    pack.write_bytes(bytes(data))
    ws.store.packs.close()
    report = examine(ws, full=True)
    assert any("differ from their git blob id" in p.message for p in report.problems)
    assert not report.healthy
    repaired = examine(ws, repair=True, full=True)
    assert repaired.healthy, repaired.remaining
    _all_answer_as_before(ws, expected)


def test_kill_9_while_repairing_leaves_a_readable_index(template, tmp_path: Path) -> None:
    ws, expected, _ = _copy(template, tmp_path)
    (ws.store.directory / "trigram" / "meta.json").write_text("{ garbled")
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    proc = subprocess.run([sys.executable, "-m", "indexer", "doctor", "--repair", "--repo",
                           str(ws.root), "--index-dir", str(ws.store.directory)],
                          env={**env, KILL_ENV: "trigram-swapped"}, capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    ws = Workspace.open(ws.root, index_dir=tmp_path / "index")
    _all_answer_as_before(ws, expected)  # the new index was swapped in whole
    assert examine(ws, repair=True).healthy  # the old directory is swept
    assert {p.name for p in ws.store.directory.iterdir() if p.name.startswith("trigram")} \
        == {"trigram.current", ws.store.tantivy_dir("trigram").name}
    assert ws.store.catalog.snapshot(WORKTREE) is not None


def test_a_damaged_catalog_is_named_with_the_way_out(template, tmp_path: Path) -> None:
    ws, _, _ = _copy(template, tmp_path)
    ws.close()
    for name in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
        (tmp_path / "index" / name).unlink(missing_ok=True)
    (tmp_path / "index" / "catalog.sqlite").write_bytes(b"this is not SQLite" * 100)
    proc = subprocess.run([sys.executable, "-m", "indexer", "doctor", "--repo", str(ws.root),
                           "--index-dir", str(tmp_path / "index")], capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert "is damaged" in proc.stderr and "codeloupe index" in proc.stderr
