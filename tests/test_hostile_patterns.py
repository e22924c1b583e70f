"""Hostile patterns and globs (issue 23): huge ones plan in linear time or are refused at once
with the limit named; none stalls a search."""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from indexer.errors import PatternError
from indexer.regex.syntax import MAX_PATTERN_CHARS, parse
from indexer.search import GlobFilter, SearchOptions, compile_search
from indexer.workspace import Workspace
from tests.conftest import make_repo

T = TypeVar("T")
CAP_S = 30.0  # only against a hang: the work itself takes well under a second


def bounded(work: Callable[[], T]) -> T:
    """work() in a thread; fail (rather than hang the suite) past CAP_S seconds."""
    out: list = []

    def run() -> None:
        try:
            out.append(("ok", work()))
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out.append(("error", exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(CAP_S)
    assert not thread.is_alive(), f"still running after {CAP_S} s"
    kind, value = out[0]
    if kind == "error":
        raise value
    return value


def _text(n: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters) for _ in range(n))


@pytest.fixture
def long_line_ws(tmp_path: Path) -> tuple[Workspace, str]:
    needle = _text(100_000)
    files = {"big.txt": "before\n" + "x" + needle + "y\nafter\n",
             "near.txt": needle[:50_000] + "\n", "other.txt": "nothing here\n"}
    repo = make_repo(tmp_path / "repo", files)
    return Workspace.open(repo, index_dir=tmp_path / "index"), needle


@pytest.mark.parametrize("fixed", [True, False])
@pytest.mark.parametrize("case", ["sensitive", "ignore"])
def test_a_100k_literal_plans_and_searches(long_line_ws: tuple[Workspace, str], fixed: bool,
                                           case: str) -> None:
    # Before: the planner's AND removed duplicates by list search at every step (1,200
    # characters took 14.6 s, 100 kB would take hours).
    ws, needle = long_line_ws
    ws.index()
    options = SearchOptions(patterns=(needle,), fixed_strings=fixed, case=case)
    results = bounded(lambda: list(ws.search(options)))
    assert [(r.path, [line.line_number for line in r.lines]) for r in results] == [
        ("big.txt", [2])]
    assert results[0].lines[0].submatches == [(1, 1 + len(needle))]


def test_the_plan_of_a_long_literal_stays_small() -> None:
    compiled = bounded(lambda: compile_search(SearchOptions(patterns=(_text(100_000),),
                                                            fixed_strings=True)))
    assert not compiled.plan.is_scan
    assert len(str(compiled.plan.query)) < 2000


def test_many_alternatives_plan_quickly() -> None:
    pattern = "|".join(_text(6, seed) for seed in range(20_000))
    compiled = bounded(lambda: compile_search(SearchOptions(patterns=(pattern,))))
    assert compiled.plan.is_scan  # too wide an OR to be worth a lookup: sound, not a stall


def test_a_huge_pattern_is_refused_with_the_limit() -> None:
    huge = "a" * (10 << 20)
    with pytest.raises(PatternError) as info:
        bounded(lambda: compile_search(SearchOptions(patterns=(huge,), fixed_strings=True)))
    message = str(info.value)
    assert f"{MAX_PATTERN_CHARS:,}" in message
    assert len(message) < 1000  # the error does not repeat 10 MB of pattern


def test_nesting_past_ripgreps_limit_is_refused() -> None:
    parse("(" * 249 + "a" + ")" * 249)  # rg 14.1 accepts 249 (its own group makes 250)
    with pytest.raises(PatternError, match="nested parentheses/brackets \\(250\\)"):
        parse("(" * 250 + "a" + ")" * 250)
    with pytest.raises(PatternError, match="nested"):  # and never a RecursionError
        bounded(lambda: parse("(" * 100_000))
    with pytest.raises(PatternError, match="nested"):  # ripgrep counts concatenations too
        parse("(a" * 125 + "b" + ")" * 125)


def test_backtracking_globs_do_not_stall() -> None:
    # Python's re took about 300 s on this pair (pathspec's translation, backtracking).
    keep = bounded(lambda: GlobFilter(["*a*a*a*a*a*a*a*a*a*a*a*a*b"]))
    assert bounded(lambda: keep("a" * 40)) is False
    assert keep("aaaaaaaaaaaaab") is True


def test_huge_globs_are_refused_with_the_limit() -> None:
    with pytest.raises(PatternError, match="65,536"):
        bounded(lambda: GlobFilter(["*" * (1 << 20)]))
    with pytest.raises(PatternError, match="4,096"):
        bounded(lambda: GlobFilter(["{a,b}" * 30]))  # 2**30 globs if spelled out
    assert GlobFilter(["*.{py,pyi}", "!tests/**"])("src/a.pyi")


@pytest.mark.parametrize("pattern", [
    r"\p{Lu}{5000}", r"\w{1000}", "a{100000}",
    # the fuzz probe's hang: its search crawled for over 10 s on one 26 kB line
    r".\#(?s:(\S[9\w]βМ){1,1500}.)*(?:[[0]&&[b]](?x:ς)\+\]|\^([^0[:digit:]]f){2,3}|Σ)",
])
def test_huge_programs_are_refused_at_once(pattern: str) -> None:
    with pytest.raises(PatternError, match="50,000 RE2 instructions"):
        bounded(lambda: compile_search(SearchOptions(patterns=(pattern,))))


def test_large_counts_that_stay_small_run() -> None:
    for pattern in ("a{1500}", ".{0,1500}", "(?:a{100}){20}", "[a-z]{200}"):
        assert bounded(lambda p=pattern: compile_search(SearchOptions(patterns=(p,))))
