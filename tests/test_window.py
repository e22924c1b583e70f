"""Byte windows (indexer/regex/window.py) are sound: every match holds its pattern's window.

The compiled scanner runs RE2 only on the lines where the window holds, so a window that a
match can lack would lose results. Generated patterns (the trigram planner's property test
makes them: literals, classes, alternation, repetition, anchors, non-ASCII characters) and
generated texts; RE2 over each text is the truth.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from indexer.regex.syntax import parse
from indexer.regex.window import ByteWindow, byte_window
from indexer.search import SearchOptions, compile_search
from tests.test_planner_property import ALPHABET, patterns


def _holds_for(window: ByteWindow, data: bytes, start: int, end: int) -> bool:
    """Whether the match data[start:end] holds the window."""
    if window.at_line_start:  # the newline before the line (or the text's start), then more
        if start == 0:
            rest = window.sets[1:]
            return len(rest) <= len(data) and all(data[k] in s for k, s in enumerate(rest))
        return window.holds_at(data, start - 1)
    return any(window.holds_at(data, s) for s in range(start, end - len(window.sets) + 1))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=patterns, text=st.text(alphabet=ALPHABET + "0-:", max_size=60),
       whole_word=st.booleans())
@example(pattern=r"(?:ab|ba)_\w", text="xba_é", whole_word=False)
@example(pattern="^(?:é)+a", text="b\néa", whole_word=False)
def test_every_match_holds_the_window(pattern: str, text: str, whole_word: bool) -> None:
    window = byte_window(parse(pattern).node, worth=1.0)
    if window is None:
        return
    compiled = compile_search(SearchOptions(patterns=(pattern,), whole_word=whole_word))
    find = compiled.span_finder()
    data = text.encode()
    pos = 0
    while pos <= len(data) and (span := find(data, pos, len(data))) is not None:
        assert _holds_for(window, data, *span), (pattern, text, span, window)
        pos = max(span[1], span[0] + 1)


def test_windows_of_patterns_without_a_literal() -> None:
    """What the scanner looks for where no literal is worth it (the patterns that were
    slower than ripgrep: RE2's DFA crawled every byte)."""
    def sets(pattern: str) -> list[str]:
        window = byte_window(parse(pattern).node)
        assert window is not None, pattern
        return ["".join(sorted(chr(b) for b in s if b < 0x80)) + ("+" if 0x80 in s else "")
                for s in window.sets]

    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert sets(r"[A-Z]{3}_[A-Z]+") == [upper, upper, upper, "_", upper]
    assert sets(r"\d{4}-\d{2}-\d{2}") == ["0123456789+", "-", "0123456789+"]
    assert sets("[0-9]{9,}") == ["0123456789"] * 9
    assert sets("ValueError|TypeError|KeyError")[3:] == list("Error")
    assert sets(r"^def test_\w+")[:5] == ["\n", "d", "e", "f", " "]
    assert byte_window(parse(r"\w+").node) is None  # nothing rare enough to pay
    assert byte_window(parse("a*b?").node) is None  # may be empty: nothing every match holds
