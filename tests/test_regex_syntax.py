"""The ripgrep-dialect parser: errors with positions, unsupported constructs, translation."""

from __future__ import annotations

import pytest
import re2

from indexer.errors import PatternError
from indexer.regex.syntax import parse
from indexer.regex.translate import to_re2
from indexer.search import SearchOptions, compile_search


@pytest.mark.parametrize(("pattern", "position", "reason"), [
    ("(abc", 0, "unclosed group"),
    ("abc)", 3, "unopened group"),
    ("[abc", 0, "unclosed character class"),
    ("a**", 2, "repetition"),
    ("*a", 0, "repetition operator missing expression"),
    (r"(a)\1", 3, "backreferences are not supported"),
    ("foo(?=bar)", 3, "look-around"),
    ("foo(?<!bar)", 3, "look-around"),
    (r"a{3,2}", 1, "minimum exceeds the maximum"),
    (r"\q", 0, "unrecognized escape"),
    ("[z-a]", 1, "start exceeds end"),
    ("[a&&b]", 2, "set operations"),
    ("(?-u:.)", 3, "(?-u)"),
])
def test_invalid_patterns_name_reason_and_position(pattern: str, position: int,
                                                   reason: str) -> None:
    with pytest.raises(PatternError) as info:
        parse(pattern)
    assert reason in info.value.reason
    assert info.value.position == position
    assert "^" in str(info.value)  # the message points at the problem


def test_literal_newline_is_refused_like_ripgrep() -> None:
    with pytest.raises(PatternError) as info:
        compile_search(SearchOptions(patterns=(r"foo\nbar",)))
    assert "literal" in info.value.reason and info.value.position == 3


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    (r"\u{48}\x{49}\u004A", "HIJ", True),  # ripgrep's escapes, which RE2 lacks
    (r"\w+", "héllo", True),
    (r"^\w$", "é", True),  # Unicode \w (RE2's is ASCII)
    (r"^\d$", "٣", True),  # Unicode \d
    (r"^\s$", "\u2003", True),  # Unicode \s
    ("(?x) a b  # comment", "ab", True),  # verbose mode, resolved by our parser
    ("(?i)straße", "STRASSE", False),  # simple case folding only, as in rg
    ("(?i)σ", "Σ", True),
    ("[[:alpha:]]+", "abc", True),
    (r"\p{Greek}", "λ", True),
    (r"\pL", "x", True),
])
def test_translation_keeps_ripgrep_semantics(pattern: str, text: str, matches: bool) -> None:
    options = re2.Options()
    options.never_nl = True
    regex = re2.compile(to_re2(parse(pattern).node), options)
    assert (regex.search(text) is not None) is matches


def test_smart_case_detects_uppercase_literals_only() -> None:
    assert parse("Foo").has_uppercase_literal
    assert not parse(r"foo\W\S").has_uppercase_literal
    insensitive = compile_search(SearchOptions(patterns=("foo",), case="smart"))
    sensitive = compile_search(SearchOptions(patterns=("Foo",), case="smart"))
    assert insensitive.case_insensitive and not sensitive.case_insensitive
