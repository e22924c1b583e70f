"""Byte windows: a run of byte sets that every match of a pattern holds, so that candidate
lines are found faster than RE2's DFA crawls (~0.7 GB/s a core).

Many patterns hold no literal worth searching for (`[A-Z]{3}_[A-Z]+`, `\\d{4}-\\d{2}-\\d{2}`,
`[0-9]{9,}`) yet pin down a few bytes in a row: three uppercase letters, `_`, one more; a
digit's last byte, `-`, a digit's first byte; nine ASCII digits. A literal is the case where
every set holds one byte. The compiled scanner (`indexer/_linescan.pyx`) tests the rarest
positions of the window 16 at a time with SSE2 range compares, the whole window where they
all hold, and runs RE2 only on the lines where it does: ripgrep's prefilters and
Hyperscan's acceleration work alike.

The analysis is sound by construction: each set holds every byte a match may have there
(a character that may take several UTF-8 bytes ends a window; only the byte next to it is
pinned down, as "ASCII members or any byte >= 0x80"), so the filter over-selects lines, and
never misses one. `tests/test_window.py` checks it against RE2 on generated patterns.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import re2

from indexer.regex.syntax import (
    Alternate,
    AnyChar,
    Assertion,
    CharClass,
    Concat,
    Empty,
    Group,
    Literal,
    Node,
    Repeat,
)
from indexer.regex.translate import to_re2

MAX_WIDTH = 16  # positions checked per candidate (the scanner's limit)
MAX_PROBES = 3  # positions tested 16 at a time
MAX_RANGES = 4  # byte ranges of a probed position (one SSE2 compare pair each)
KEPT = 64  # positions kept of a long fixed part (the best 16 are chosen among them)
WORTH = 1 / 400  # estimated share of positions the whole window may hold at, at most

Sets = tuple[frozenset[int], ...]
_ANY_BYTE = frozenset(range(256)) - {10}
_HIGH = frozenset(range(0x80, 0x100))

# Bytes per 10,000 of source code (measured on 71 MB of the search benchmark's corpus); a
# byte >= 0x80 counts 1% / 128, the rest 0.3.
_FREQUENCY = {
    " ": 2279, "e": 651, "t": 465, "s": 398, "a": 378, "n": 375, "r": 363, "o": 355, "i": 352,
    "\n": 263, "l": 242, "_": 209, "d": 207, "c": 195, "p": 180, "u": 156, "m": 149, "f": 149,
    ".": 136, ",": 136, "h": 124, ")": 105, "(": 105, "0": 100, "g": 98, "=": 86, ":": 84,
    "y": 76, '"': 75, "b": 68, "1": 62, "x": 51, "T": 50, "2": 48, "v": 47, "-": 47, "'": 44,
    "w": 43, "k": 40, ">": 36, "3": 33, "N": 31, "/": 31, "I": 30, "[": 30, "4": 30, "E": 28,
    "]": 27, "A": 27, "5": 27, "R": 26, "#": 25, "6": 25, "8": 24, "`": 24, "S": 24, "*": 23,
    "7": 22, "C": 22, "9": 22, "O": 18, "z": 17, "L": 17, "F": 17, "P": 15, "q": 15, "D": 15,
    "G": 14, "M": 14, "{": 13, "?": 13, "\\": 13, "<": 12, "j": 11, "}": 10, "H": 10, "B": 10,
    "V": 10, "+": 9, "U": 8, ";": 8, "W": 7, "X": 6, "&": 6, "Y": 6, "|": 6, "K": 5, "Z": 5,
    "%": 4, "@": 4, "Q": 4, "\r": 3, "\t": 3, "J": 3, "!": 3, "$": 3, "^": 2, "~": 1,
}
_BYTE_FREQUENCY = tuple(
    (_FREQUENCY.get(chr(b), 0.3) if b < 0x80 else 100 / 128) / 10_000 for b in range(256))


@dataclass(frozen=True)
class Probe:
    offset: int  # position in the window
    ranges: tuple[tuple[int, int], ...]  # inclusive byte ranges
    negated: bool  # the byte is in none of the ranges


@dataclass(frozen=True)
class ByteWindow:
    """A run of byte sets every match holds somewhere (the first one the newline before
    the line, when `at_line_start`: the buffer's start stands in for it)."""

    sets: Sets
    probes: tuple[Probe, ...]  # rarest first: the scanner tests them in this order
    at_line_start: bool
    rate: float  # estimated share of byte positions the whole window holds at

    @functools.cached_property
    def table(self) -> bytes:
        """len(sets) x 256 bytes: 1 where a byte may be at that position."""
        return b"".join(bytes(1 if b in s else 0 for b in range(256)) for s in self.sets)

    def holds_at(self, data: bytes, start: int) -> bool:
        """Whether the window holds at data[start:] (the scanner's check, for tests)."""
        return start + len(self.sets) <= len(data) and all(
            data[start + k] in s for k, s in enumerate(self.sets))


# --- the shape of a node ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    fixed: Sets | None  # every match has exactly len(fixed) bytes, each in its set
    head: Sets = ()  # every match starts with bytes in these sets
    tail: Sets = ()  # ... and ends with bytes in these
    inner: tuple[Sets, ...] = ()  # runs every match holds somewhere

    @property
    def start(self) -> Sets:
        return self.fixed if self.fixed is not None else self.head

    @property
    def end(self) -> Sets:
        return self.fixed if self.fixed is not None else self.tail

    def windows(self) -> list[Sets]:
        return [self.fixed] if self.fixed is not None else [self.head, self.tail, *self.inner]


_EMPTY = _Shape(())
_UNKNOWN = _Shape(None)


def _fixed(sets: Sets) -> _Shape:
    if len(sets) <= KEPT:
        return _Shape(sets)
    return _Shape(None, sets[:KEPT], sets[-KEPT:], (sets[:KEPT],))


def _concat(a: _Shape, b: _Shape) -> _Shape:
    if a.fixed is not None and b.fixed is not None:
        return _fixed(a.fixed + b.fixed)
    head = (a.fixed + b.head) if a.fixed is not None else a.head
    tail = (a.tail + b.fixed) if b.fixed is not None else b.tail
    # a's last bytes are right before b's first: that run is in every match too
    inner = a.inner + b.inner + ((a.end + b.start)[-2 * KEPT:],)
    return _Shape(None, head[:KEPT], tail[-KEPT:], tuple(w for w in inner if w)[-16:])


def _alternate(shapes: list[_Shape]) -> _Shape:
    widths = {len(s.fixed) for s in shapes if s.fixed is not None}
    if len(widths) == 1 and all(s.fixed is not None for s in shapes):
        return _Shape(tuple(frozenset().union(*column)
                            for column in zip(*(s.fixed for s in shapes), strict=True)))
    # the first (last) bytes every alternative has, aligned at its start (end)
    head_width = min(len(s.start) for s in shapes)
    tail_width = min(len(s.end) for s in shapes)
    head = tuple(frozenset().union(*(s.start[k] for s in shapes)) for k in range(head_width))
    tail = tuple(frozenset().union(*(s.end[len(s.end) - tail_width + k] for s in shapes))
                 for k in range(tail_width))
    return _Shape(None, head, tail)


def _repeat(node: Repeat) -> _Shape:
    if node.max == 0:
        return _EMPTY
    if node.min == 0:
        return _UNKNOWN
    one = _shape(node.node)
    if one.fixed is not None and not one.fixed:
        return _EMPTY  # a repeated assertion or empty group
    times = min(node.min, KEPT)
    part = one
    for _ in range(times - 1):
        part = _concat(part, one)
        if part.fixed is None and len(part.head) >= KEPT:
            break
    if node.max == node.min:
        return part
    return _Shape(None, part.start, part.end, tuple(part.windows()))


def _char_set(node: Literal | CharClass | AnyChar) -> _Shape:
    """A single character: its byte if ASCII for sure, else the ASCII members plus any
    byte >= 0x80 next to the (variable-width) character."""
    if isinstance(node, Literal) and not node.fold:
        return _Shape(tuple(frozenset((b,)) for b in node.char.encode("utf-8")))
    if isinstance(node, AnyChar):
        return _Shape(None, (_ANY_BYTE,), (_ANY_BYTE,))
    members = _ascii_members(to_re2(node))
    if isinstance(node, CharClass) and not node.negated and not node.fold and all(
            item.named is None and item.hi < 0x80 for item in node.items):
        return _Shape((members,))
    wide = members | _HIGH
    return _Shape(None, (wide,), (wide,))


@functools.lru_cache(maxsize=256)
def _ascii_members(re2_source: str) -> frozenset[int]:
    """The ASCII bytes (newline aside) a one-character pattern matches, asked of RE2."""
    options = re2.Options()
    options.never_nl = True
    regex = re2.compile(re2_source.encode(), options)
    return frozenset(b for b in range(128) if b != 10 and regex.fullmatch(bytes((b,))))


def _shape(node: Node) -> _Shape:
    if isinstance(node, Literal | CharClass | AnyChar):
        return _char_set(node)
    if isinstance(node, Assertion | Empty):
        return _EMPTY  # zero-width: its neighbours are next to each other
    if isinstance(node, Group):
        return _shape(node.node)
    if isinstance(node, Repeat):
        return _repeat(node)
    if isinstance(node, Concat):
        shape = _EMPTY
        for child in node.nodes:
            shape = _concat(shape, _shape(child))
        return shape
    if isinstance(node, Alternate):
        return _alternate([_shape(child) for child in node.nodes])
    return _UNKNOWN


# --- choosing the window ----------------------------------------------------------------------


def _frequency(s: frozenset[int]) -> float:
    return min(1.0, sum(_BYTE_FREQUENCY[b] for b in s))


def _ranges(s: frozenset[int]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for b in sorted(s):
        if out and out[-1][1] == b - 1:
            out[-1] = (out[-1][0], b)
        else:
            out.append((b, b))
    return tuple(out)


def _probe(offset: int, s: frozenset[int]) -> Probe | None:
    ranges = _ranges(s)
    if len(ranges) <= MAX_RANGES:
        return Probe(offset, ranges, False)
    ranges = _ranges(frozenset(range(256)) - s)
    if len(ranges) <= MAX_RANGES:
        return Probe(offset, ranges, True)
    return None


def _best_in(sets: Sets, at_line_start: bool) -> ByteWindow | None:
    """The best window of at most MAX_WIDTH positions within `sets`."""
    best: ByteWindow | None = None
    starts = [0] if at_line_start else range(max(1, len(sets) - MAX_WIDTH + 1))
    for start in starts:
        part = sets[start:start + MAX_WIDTH]
        rate = 1.0
        for s in part:
            rate *= _frequency(s)
        probes = sorted((p for p in (_probe(k, s) for k, s in enumerate(part)) if p),
                        key=lambda p: _frequency(part[p.offset]))[:MAX_PROBES]
        if not probes:
            continue
        window = ByteWindow(part, tuple(probes), at_line_start, rate)
        if best is None or window.rate < best.rate:
            best = window
    return best


MAX_ALTERNATIVES = 8


def _spelled_out(node: Node) -> _Shape:
    """The shape of a concatenation with its alternations and optional parts spelled out
    (`(?:sin|cos|tan)h?\\(` as six fixed alternatives), merged at the end: the runs across
    them (`[sct][ioa][ns][h(]`) beat what is left when they are not (`[sct][ioa][ns]`)."""
    children = node.nodes if isinstance(node, Concat) else (node,)
    alternatives = [_EMPTY]
    for child in children:
        while isinstance(child, Group):
            child = child.node
        if isinstance(child, Alternate):
            options = [_shape(c) for c in child.nodes]
        elif isinstance(child, Repeat) and child.min == 0 and child.max == 1:
            options = [_EMPTY, _shape(child.node)]
        else:
            options = [_shape(child)]
        if len(alternatives) * len(options) > MAX_ALTERNATIVES:
            options = [_alternate(options)] if len(options) > 1 else options
            if len(alternatives) * len(options) > MAX_ALTERNATIVES:
                alternatives = [_alternate(alternatives)]
        alternatives = [_concat(a, o) for a in alternatives for o in options]
    return alternatives[0] if len(alternatives) == 1 else _alternate(alternatives)


def byte_window(node: Node, worth: float = WORTH) -> ByteWindow | None:
    """The window the scanner should look for first, if one is rare enough to pay (held
    at no more than `worth` of the byte positions, by estimate)."""
    shape = _shape(node)
    candidates = [_best_in(sets, False)
                  for sets in shape.windows() + _spelled_out(node).windows() if sets]
    rest = _after_caret(node)
    line_start = _shape(rest).start if rest is not None else ()
    if line_start:
        # after `^`: the newline before the line (or the buffer's start), then the line's start
        candidates.append(_best_in((frozenset((10,)),) + line_start, True))
    best = min((c for c in candidates if c is not None), key=lambda c: c.rate, default=None)
    if best is None or best.rate > worth:
        return None
    return best


def _after_caret(node: Node) -> Node | None:
    """The rest of a pattern that starts with `^`, or None."""
    while isinstance(node, Group):
        node = node.node
    if isinstance(node, Assertion) and node.kind == "^":
        return Empty()
    if isinstance(node, Concat) and node.nodes:
        rest = _after_caret(node.nodes[0])
        if rest is not None:
            return Concat((rest, *node.nodes[1:]))
    return None
