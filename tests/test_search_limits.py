"""Limits and per-file caps hold in both search paths (candidate blobs, and whole-pack scans)."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.search import SearchOptions, SearchStats
from indexer.workspace import Workspace
from tests.conftest import make_repo


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    files = {f"f{i}.txt": "alpha one\nbeta\nalpha two\n" for i in range(5)}
    files["same_blob_copy.txt"] = files["f0.txt"]  # two paths, one blob
    repo = make_repo(tmp_path / "repo", files)
    return Workspace.open(repo, index_dir=tmp_path / "index")


@pytest.mark.parametrize("pattern", ["alpha", r"a\w+a"])  # trigram candidates / scan
@pytest.mark.parametrize(("limit", "max_count", "expected"), [
    (None, None, 12), (3, None, 3), (5, None, 5), (None, 1, 6), (4, 1, 4)])
def test_limit_and_max_count(ws: Workspace, pattern: str, limit: int | None,
                             max_count: int | None, expected: int) -> None:
    stats = SearchStats()
    results = list(ws.search(SearchOptions(patterns=(pattern,), limit=limit,
                                           max_count=max_count), stats=stats))
    assert sum(r.match_count for r in results) == expected == stats.matched_lines
    paths = [r.path for r in results]
    assert paths == sorted(paths)  # path order, deterministic


def test_gc_paused_restores_the_collector_once_the_last_search_ends() -> None:
    import gc
    import threading

    from indexer.gc_pause import gc_paused

    assert gc.isenabled()
    inner_started, outer_may_end = threading.Event(), threading.Event()
    seen: list[bool] = []

    def overlapping() -> None:
        with gc_paused():
            inner_started.set()
            outer_may_end.wait(5)
            seen.append(gc.isenabled())

    with gc_paused():
        worker = threading.Thread(target=overlapping)
        worker.start()
        inner_started.wait(5)
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other search is still building its lines
    outer_may_end.set()
    worker.join(5)
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
