"""A required literal found first, the pattern run only on its lines: same spans as RE2 alone.

`LineFilteredFinder` must report exactly what running the whole pattern over the text
reports, match by match, whether it keeps filtering or goes plain midway, on bytes and on
memoryviews (pack scans hand it one).
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import indexer.search as search
from indexer.regex.required import required_literal
from indexer.regex.syntax import parse
from indexer.search import LineFilteredFinder, SearchOptions, compile_search


def _chars(pattern: str, fold: bool = False) -> str:
    run = required_literal(parse(pattern, fold=fold).node)
    return "" if run is None else "".join(lit.char for lit in run.literals)


@pytest.mark.parametrize(("pattern", "expected"), [
    ("^@dataclass", "@dataclass"),
    (r"^class \w+Error", "class "),
    (r"(async )?def (get|fetch)_\w+", "def "),
    (r"\bfoo(?:bar)baz\b", "foobarbaz"),  # groups and assertions don't break a run
    ("(?:ab)+c", "ab"),
    ("(?:ab)?cd", "cd"),  # optional parts are not required
    ("foo|bar", ""),  # either may match: nothing is required
    (r"\d{4}-\d{2}", ""),  # one character is not worth a search
    (r"σ\w+", "σ"),  # ... unless it takes two bytes
])
def test_required_literal(pattern: str, expected: str) -> None:
    assert _chars(pattern) == expected


def test_required_literal_keeps_case_folding() -> None:
    run = required_literal(parse("^deprecated", fold=True).node)
    assert run is not None and run.at_line_start
    assert "".join(lit.char for lit in run.literals) == "deprecated"
    assert all(lit.fold for lit in run.literals)


@pytest.mark.parametrize(("pattern", "at_line_start"), [
    ("^def test_", True), (r"^\bclass \w+", True), (r"^(?:def) x", True), ("^ *def x", False),
    ("x^def", False), (r"\bdef x", False),
])
def test_required_literal_at_line_start(pattern: str, at_line_start: bool) -> None:
    run = required_literal(parse(pattern).node)
    assert run is not None and run.at_line_start == at_line_start


def test_finders_are_chosen_by_what_pays() -> None:
    def finder(pattern: str, **kw: object) -> object:
        return compile_search(SearchOptions(patterns=(pattern,), **kw)).span_finder()

    assert isinstance(finder("^@dataclass"), LineFilteredFinder)
    assert isinstance(finder("^deprecated", case="ignore"), LineFilteredFinder)
    # RE2 finds a leading literal by itself: no filter in front of it.
    assert not isinstance(finder(r"torch\.(zeros|ones)"), LineFilteredFinder)
    compiled = compile_search(SearchOptions(patterns=("self",), whole_word=True))
    assert isinstance(compiled.span_finder(regex_only=True), LineFilteredFinder)


def _all_spans(find, data, start: int = 0) -> list[tuple[int, int]]:  # noqa: ANN001
    spans, pos = [], start
    while pos <= len(data):
        span = find(data, pos, len(data))
        if span is None:
            break
        spans.append(span)
        pos = span[1] if span[1] > span[0] else span[1] + 1
    return spans


lines = st.lists(st.sampled_from([
    "", "foo", "foo bar", "xfoo", "foo_bar", "bar foo", "FOO bar", "  foo(bar)", "é foo",
    "foofoo bar", "barfoo", "foo\r", "KELVINS", "\u212aelvin\u017f", "kelvins \xff",
    "straße", "STRASSE",
]), max_size=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=lines,
       pattern=st.sampled_from([r"^foo", r"^\s*foo\(", r"(x)?foo bar", r"\bfoo\b", r"foo$",
                                r"(?:bar )?foo", r"[a-z]*foo bar", r"^\s*kelvins",
                                r"\s?stra(?:ß|ss)e"]),
       case=st.sampled_from(["sensitive", "ignore"]), whole_word=st.booleans(),
       trial=st.sampled_from([1, 64]), start=st.integers(0, 20), view=st.booleans())
def test_line_filter_reports_what_re2_reports(lines: list[str], pattern: str, case: str,
                                               whole_word: bool, trial: int, start: int,
                                               view: bool) -> None:
    compiled = compile_search(SearchOptions(patterns=(pattern,), case=case,
                                            whole_word=whole_word))
    if compiled.required is None:  # RE2 alone would find it fast: filter it all the same
        required = search._required(parse(pattern, fold=case == "ignore").node, bare=False)
        compiled = dataclasses.replace(compiled, required=required)
    data = "\n".join(lines).encode()
    start = min(start, len(data))
    match, group = compiled.regex._regexp.Match, compiled.group

    def plain(data, pos, end):  # noqa: ANN001, ANN202
        spans = match(search._UNANCHORED, data, pos, end)
        return None if spans[0][0] < 0 else spans[group]

    expected = _all_spans(plain, data, start)
    search.PREFILTER_TRIAL, saved = trial, search.PREFILTER_TRIAL  # 1: goes plain at once
    try:
        finder = compiled.span_finder(regex_only=True)
        assert isinstance(finder, LineFilteredFinder)
        with memoryview(data) as buf:
            got = _all_spans(finder, buf if view else data, start)
    finally:
        search.PREFILTER_TRIAL = saved
    assert got == expected
