"""The compiled line scanner (indexer/_linescan.pyx): the same lines as RE2 alone.

Plain literals (with and without -w) and literals anchored at a line's start and/or end
(`^$`, `\\):$`) are found by the scanner in C. Every result must equal what the generic path
reports, where RE2 runs the whole pattern and Python builds the lines: line numbers,
offsets, texts and submatches, on bytes and on memoryviews, from any line start, with
max_count, and file by file within a pack.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import indexer.search as search
from indexer.regex.syntax import parse
from indexer.regex.window import byte_window
from indexer.search import (
    AnchoredLiteral,
    CompiledSearch,
    Line,
    SearchOptions,
    compile_search,
    scan_bytes,
)

try:
    from indexer import _linescan
except ImportError:  # pragma: no cover - the build failed: these tests say so
    _linescan = None

needs_scanner = pytest.mark.skipif(
    _linescan is None,
    reason="indexer._linescan is not built (no C compiler at install): searches run the "
           "Python loop")


def test_scanner_is_built() -> None:
    """CI builds it (setup.py): without it, searches matching many lines are ~2x slower."""
    assert _linescan is not None, "indexer._linescan was not built: run `pip install -e .`"
    assert search._literal_lines is not None


@pytest.mark.parametrize(("pattern", "expected"), [
    ("^$", AnchoredLiteral(b"", True, True)),
    (r"\):$", AnchoredLiteral(b"):", False, True)),
    ("^(?:@data)class", AnchoredLiteral(b"@dataclass", True, False)),
    ("^(foo)$", AnchoredLiteral(b"foo", True, True)),
    ("^", None), ("$", None), ("foo", None), ("^fo+", None), ("a$$", None), ("(?i)^ab", None),
])
def test_anchored_literals(pattern: str, expected: AnchoredLiteral | None) -> None:
    assert compile_search(SearchOptions(patterns=(pattern,))).anchored == expected


def _by_re2(data: bytes | memoryview, pos: int, options: SearchOptions) -> list[Line]:
    """The generic path, all Python: RE2 finds every match through its Python binding, a
    Python loop builds the lines (the compiled scanners hidden, no filter)."""
    compiled = dataclasses.replace(compile_search(options), literal=None, anchored=None,
                                   required=None, window=None)
    hidden, search._RegexLines = search._RegexLines, None
    try:
        return scan_bytes(data, pos, compiled, options)
    finally:
        search._RegexLines = hidden


# Newlines, word and non-word ASCII, a word (é) and a non-word (—) non-ASCII character, and a
# stray continuation byte: -w neighbours of every kind.
_ALPHABET = [b"a", b"b", b"ab", b" ", b"_", b"\n", b"\n", b")", b":", "é".encode(),
             "—".encode(), b"\x80"]
_texts = st.lists(st.sampled_from(_ALPHABET), max_size=60).map(b"".join)
_literals = st.lists(st.sampled_from(["a", "b", "ab", ")", ":", "é", " "]), min_size=1,
                     max_size=3).map("".join)


@needs_scanner
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_texts, literal=_literals, form=st.sampled_from(["plain", "-w", "^", "$", "^$"]),
       as_view=st.booleans(), max_count=st.none() | st.integers(1, 3), start_line=st.integers(0, 4))
@example(data=b"ab a_ a", literal="a", form="-w", as_view=False, max_count=None, start_line=0)
@example(data="aé a—a".encode(), literal="a", form="-w", as_view=True, max_count=None,
         start_line=0)
@example(data=b"x):\n):", literal="):", form="$", as_view=False, max_count=None, start_line=0)
def test_scanner_equals_re2(data: bytes, literal: str, form: str, as_view: bool,
                            max_count: int | None, start_line: int) -> None:
    escaped = "".join("\\" + c if c in ")." else c for c in literal)
    pattern = {"plain": escaped, "-w": escaped, "^": "^" + escaped, "$": escaped + "$",
               "^$": "^" + escaped + "$"}[form]
    options = SearchOptions(patterns=(pattern,), whole_word=form == "-w", max_count=max_count)
    compiled = compile_search(options)
    assert search._compiled_scanner(compiled, options) is not None
    pos = 0  # a line start
    for _ in range(start_line):
        nl = data.find(b"\n", pos)
        pos = len(data) if nl < 0 else nl + 1
    haystack = memoryview(data) if as_view else data
    assert scan_bytes(haystack, pos, compiled, options) == _by_re2(haystack, pos, options)


@needs_scanner
@pytest.mark.parametrize("data", [b"", b"\n", b"\n\n", b"a\n\nb\n\n", b"a\n\n\n", b"\n\nx"])
def test_empty_lines(data: bytes) -> None:
    """`^$` (a needle of two newlines): the empty string after a final newline is no line."""
    options = SearchOptions(patterns=("^$",))
    assert scan_bytes(data, 0, compile_search(options), options) == _by_re2(data, 0, options)


@needs_scanner
def test_files_within_a_pack() -> None:
    """One call over many files: lines numbered and offset within each file; the bytes
    between files are never searched; -w judges a file's first and last bytes as edges."""
    files = [b"self\nx = self.y\n", b"no match\n", b"\xc3\xa9self\n  self", b"self"]
    pack = b"#"
    spans = []
    for key, text in enumerate(files):
        spans.append((len(pack), len(pack) + len(text), key))
        pack += text + b"self#"  # a match between files must not be reported
    for whole_word in (False, True):
        options = SearchOptions(patterns=("self",), whole_word=whole_word)
        compiled = compile_search(options)
        got = _linescan.literal_lines_in_spans(memoryview(pack), spans, b"self", False, False,
                                               whole_word, -1, -1, Line, search._word_bounded)
        want = [(k, _by_re2(text, 0, options)) for k, text in enumerate(files)]
        assert got == [(k, lines) for k, lines in want if lines]
        assert scan_bytes(files[2], 0, compiled, options) == want[2][1]
    budgeted = _linescan.literal_lines_in_spans(pack, spans, b"self", False, False, False, -1,
                                                2, Line, search._word_bounded)
    assert [k for k, _ in budgeted] == [0]  # two lines in the first file meet the budget


@needs_scanner
def test_bad_spans_and_forms_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        _linescan.literal_lines_in_spans(b"abc", [(0, 9, 0)], b"a", False, False, False, -1,
                                         -1, Line, search._word_bounded)
    with pytest.raises(ValueError, match="anchor"):
        _linescan.literal_lines(b"abc", 0, b"", False, False, False, -1, Line,
                                search._word_bounded)


# --- any pattern: RE2's matches, lines built in C -------------------------------------------

_PATTERNS = ["a+", r"\bab\b", "^$", "$", "^", "a*", "(?:a|b)$", r"\w+", "é", "[^a ]",
             r"\s*$", "b|", "(?:)", r"\)",
             # with a byte window (indexer/regex/window.py) the scanner filters lines by
             r"\w:", "[ab]{2}", r"a\)", "^ab", r"^\w+:", "[ab]_[ab]", "é:", r"\w\)", "b[^a]",
             "(?:ab|ba):", r"\b_\w", "a(?:b|_)+:"]
_long_texts = st.lists(st.sampled_from(_ALPHABET), max_size=300).map(b"".join)


@pytest.fixture
def eager_filter():
    """The window filter on every span however short, giving up after a few misses."""
    saved = _linescan.filter_costs(short_span=0, trial=512)
    yield
    _linescan.filter_costs(*saved)


def _with_any_window(compiled: CompiledSearch, pattern: str) -> CompiledSearch:
    """The compiled regex path, with the pattern's byte window however common it is."""
    return dataclasses.replace(compiled, literal=None, anchored=None,
                               window=byte_window(parse(pattern).node, worth=1.0))


def _start_of_line(data: bytes, line: int) -> int:
    pos = 0
    for _ in range(line):
        nl = data.find(b"\n", pos)
        pos = len(data) if nl < 0 else nl + 1
    return pos


def test_re2_is_called_from_c() -> None:
    """google-re2's library is bound (indexer/_re2_direct.h): without it, searches that
    meet many matches call RE2 through Python, and threads wait on each other's GIL."""
    assert _linescan is not None and _linescan.re2_bound(), search.RE2_FROM_C_UNAVAILABLE
    compiled = compile_search(SearchOptions(patterns=(r"\w:",)))
    assert search._regex_lines(compiled).direct


@needs_scanner
@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=_long_texts, pattern=st.sampled_from(_PATTERNS), as_view=st.booleans(),
       max_count=st.none() | st.integers(1, 3), start_line=st.integers(0, 3),
       whole_word=st.booleans())
@example(data=b"x\n" * 50 + b"ab\n" + b"x\n" * 50 + b"ab", pattern="^ab", as_view=False,
         max_count=None, start_line=0, whole_word=False)
@example(data=b"b" * 40 + b"\nab:" + b"a" * 40 + b" ab", pattern="a(?:b|_)+:", as_view=True,
         max_count=None, start_line=1, whole_word=False)
def test_regex_lines_equal_the_python_loop(data: bytes, pattern: str, as_view: bool,
                                           max_count: int | None, start_line: int,
                                           whole_word: bool, eager_filter: None) -> None:
    options = SearchOptions(patterns=(pattern,), whole_word=whole_word, max_count=max_count)
    compiled = _with_any_window(compile_search(options), pattern)
    pos = _start_of_line(data, start_line)
    haystack = memoryview(data) if as_view else data
    assert scan_bytes(haystack, pos, compiled, options) == _by_re2(haystack, pos, options)


@needs_scanner
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(files=st.lists(_long_texts, min_size=1, max_size=6), pattern=st.sampled_from(_PATTERNS),
       gaps=st.lists(st.sampled_from([0, 0, 3, 40]), min_size=6, max_size=6),
       run_gap=st.sampled_from([0, 8, 4096]), budget=st.sampled_from([-1, -1, 1, 5]))
@example(files=[b"x\n" * 30 + b"ab", b"ab\n" * 3, b"xab\nab"], pattern="^ab",
         gaps=[0, 40, 0, 0, 0, 0], run_gap=4096, budget=-1)
def test_regex_lines_in_a_pack(files: list[bytes], pattern: str, gaps: list[int],
                               run_gap: int, budget: int, eager_filter: None) -> None:
    """Files in a pack (each followed by a newline, other blobs between some): the same
    lines as each file searched alone, whether RE2 crosses files in runs or not, up to the
    file that meets the budget."""
    options = SearchOptions(patterns=(pattern,))
    compiled = _with_any_window(compile_search(options), pattern)
    pack, spans = b"", []
    for key, (text, gap) in enumerate(zip(files, gaps, strict=False)):
        pack += b"ab:\n" * (gap // 4)  # another snapshot's blobs: never reported
        spans.append((len(pack), len(pack) + len(text), key))
        pack += text + b"\n"
    got = search._regex_lines(compiled).lines_in_spans(memoryview(pack), spans, -1, budget,
                                                        run_gap)
    want = [(k, lines) for k, text in enumerate(files) if (lines := _by_re2(text, 0, options))]
    if budget >= 0:  # up to the file that brings the lines found to the budget
        total, cut = 0, len(want)
        for n, (_, lines) in enumerate(want):
            total += len(lines)
            if total >= budget:
                cut = n + 1
                break
        want = want[:cut]
    assert got == want


@needs_scanner
def test_the_filter_gives_up_where_it_does_not_pay() -> None:
    """A window on nearly every line, a match on none: the filter goes plain (RE2 alone)
    within the first megabyte, and the lines found stay the same."""
    data = b"aa: y\n" * 300_000 + b"ba:\n"
    compiled = compile_search(SearchOptions(patterns=("(?:ab|ba):",)))
    scanner = search._regex_lines(compiled)
    assert compiled.window is not None and scanner.filtering
    lines = scanner.lines(data, 0, -1)
    assert not scanner.filtering
    assert [line.line_number for line in lines] == [300_001]


@needs_scanner
def test_scanner_and_buffer_misuse_is_refused() -> None:
    compiled = compile_search(SearchOptions(patterns=(r"\w:",)))
    scanner = search._regex_lines(compiled)
    with pytest.raises(ValueError, match="outside"):
        scanner.lines_in_spans(b"ab:", [(0, 9, 0)], -1, -1, 0)
    with pytest.raises(RuntimeError, match="no search"):
        scanner.results()
    scanner.search_spans(b"ab:\n", [(0, 3, "k")], -1, -1, 0)
    with pytest.raises(RuntimeError, match="not taken"):
        scanner.search_spans(b"ab:", [(0, 3, 0)], -1, -1, 0)
    assert [k for k, _ in scanner.results()] == ["k"]
