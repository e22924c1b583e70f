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
    ("*a", 0, "repetition operator missing expression"),
    (r"(a)\1", 3, "backreferences are not supported"),
    ("foo(?=bar)", 3, "look-around"),
    ("foo(?<!bar)", 3, "look-around"),
    (r"a{3,2}", 1, "the start must be <= the end"),
    (r"\q", 0, "unrecognized escape"),
    ("[z-a]", 1, "the start must be <= the end"),
    ("(?-u:.)", 3, "(?-u)"),
    # what rg 14.1 refuses, with its words (issue 23: these were accepted)
    ("a{1,", 1, "unclosed counted repetition"),
    ("a{,5}", 2, "repetition quantifier expects a valid decimal"),
    ("x{a}", 2, "repetition quantifier expects a valid decimal"),
    ("{1}", 0, "repetition operator missing expression"),
    ("a{4294967296}", 2, "decimal literal invalid"),
    (r"[\d-z]", 3, "invalid range boundary, must be a literal"),
    ("(?P<n>a)(?P<n>b)", 12, "duplicate capture group name"),
    (r"\b{foo}", 3, "unrecognized special word boundary assertion"),
    (r"\b{start", 2, "special word boundary assertion is either unclosed"),
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
    # rg accepts these; RE2 does not know them (issue 23: they were refused or mistranslated)
    ("a**", "aaa", True),  # stacked repetition
    ("^x{2}{3}$", "xxxxxx", True),
    ("^a{1500}$", "a" * 1500, True),  # counts over RE2's 1000
    ("^a{1500}$", "a" * 1499, False),
    ("^(?:a{100}){20}$", "a" * 2000, True),  # nested counts whose product passes 1000
    ("^.{0,1500}$", "é" * 1500, True),
    ("^[a-z&&[^aeiou]]+$", "bcd", True),  # class set operations, computed
    ("^[a-z&&[^aeiou]]+$", "bad", False),
    (r"^[\w--\d]+$", "héllo", True),
    (r"^[\w--\d]+$", "h3llo", False),
    ("^[a-f~~c-h]+$", "abgh", True),
    ("^[a-f~~c-h]+$", "abc", False),
    ("^[a[xy]]+$", "axy", True),  # nested classes
    (r"^[^\W\d]+$", "héllo", True),  # negated Perl classes inside brackets
    (r"^[^\W\d]+$", "h3", False),
    ("^[[:^digit:]]+$", "abc", True),  # negated POSIX classes (were `[:^^digit:]`)
    ("^[[:^digit:]]+$", "a1", False),
    (r"\Aab", "ab", True),  # \A and \z: each line's start and end, as rg searches lines
    (r"b\z", "ab", True),
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
