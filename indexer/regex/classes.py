"""Character classes as sorted code-point ranges, for what RE2 cannot spell: nested classes
and rg's set operations (`[a-z&&[^aeiou]]`, `[\\w--\\d]`, `[a-f~~c-h]`), `\\W`/`\\D`/`\\S`
inside brackets.

A named member (`\\p{Greek}`, `[:alpha:]`, our Unicode `\\w`) is turned into ranges by RE2
itself: its class is run over every Unicode scalar value once (a 4 MB buffer, tens of
milliseconds, cached per name), so the ranges are exactly what RE2 would match.
"""

from __future__ import annotations

import bisect
from functools import cache
from typing import TYPE_CHECKING

import re2

if TYPE_CHECKING:
    from indexer.regex.syntax import ClassItem

MAX_CODEPOINT = 0x10FFFF
Ranges = list[tuple[int, int]]


# Where each UTF-8 length starts in the buffer of every scalar value: (first code point, its
# byte offset, bytes each), surrogates left out.
_SEGMENTS = ((0, 0, 1), (0x80, 0x80, 2), (0x800, 0x80 + 0x780 * 2, 3),
             (0xE000, 0x80 + 0x780 * 2 + 0xD000 * 3, 3),
             (0x10000, 0x80 + 0x780 * 2 + 0xD000 * 3 + 0x2000 * 3, 4))


@cache
def _all_scalars() -> bytes:
    """Every Unicode scalar value in UTF-8, in order."""
    return ("".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, MAX_CODEPOINT + 1)))
            ).encode("utf-8", "surrogatepass")


def _scalar_at(byte: int) -> int:
    """The code point whose encoding starts at `byte` of `_all_scalars()`."""
    for first, offset, size in reversed(_SEGMENTS):
        if byte >= offset:
            return first + (byte - offset) // size
    return 0


@cache
def named_ranges(re2_class_body: str) -> tuple[tuple[int, int], ...]:
    """The code points RE2's `[body]` matches, as ranges."""
    data = _all_scalars()
    options = re2.Options()
    options.log_errors = False
    regex = re2.compile(f"[{re2_class_body}]+".encode(), options)
    out: Ranges = []
    for match in regex.finditer(data):
        start, end = match.span()
        hi = _scalar_at(end) - 1 if end < len(data) else MAX_CODEPOINT
        if hi == 0xDFFF:  # the run reached the surrogates' gap
            hi = 0xD7FF
        out.append((_scalar_at(start), hi))
    return tuple(normalize(out))


def normalize(ranges: Ranges) -> Ranges:
    """Sorted, merged ranges."""
    out: Ranges = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def complement(ranges: Ranges) -> Ranges:
    out: Ranges = []
    at = 0
    for lo, hi in normalize(ranges):
        if lo > at:
            out.append((at, lo - 1))
        at = hi + 1
    if at <= MAX_CODEPOINT:
        out.append((at, MAX_CODEPOINT))
    return out


def intersect(a: Ranges, b: Ranges) -> Ranges:
    out: Ranges = []
    a, b = normalize(a), normalize(b)
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def set_operation(operator: str, a: Ranges, b: Ranges) -> Ranges:
    """rg's `a&&b` (intersection), `a--b` (difference), `a~~b` (symmetric difference)."""
    if operator == "&&":
        return intersect(a, b)
    if operator == "--":
        return intersect(a, complement(b))
    return normalize(intersect(a, complement(b)) + intersect(b, complement(a)))


def class_ranges(items: list[ClassItem] | tuple[ClassItem, ...], negated: bool,
                 folded: bool = False) -> Ranges:
    """The code points a class of `items` matches (case-folded first if asked, as rg folds
    every operand of a set operation; then negated if asked), as ranges."""
    out: Ranges = []
    for item in items:
        if item.named is None:
            out.append((item.lo, item.hi))
            continue
        ranges = list(named_ranges(item.named))
        out += complement(ranges) if item.negated_named else ranges
    out = fold(out) if folded else normalize(out)
    return complement(out) if negated else out


# Ranges holding every cased character (as in plan.py), for case folding.
_CASED_RANGES = [(0x0041, 0x2C00), (0x2C00, 0x2E00), (0xA640, 0xAC00), (0xFB00, 0xFF80),
                 (0x10400, 0x10600), (0x10C80, 0x10D00), (0x118A0, 0x11900),
                 (0x16E40, 0x16EA0), (0x1E900, 0x1E960)]


@cache
def _fold_orbits() -> tuple[list[int], dict[int, tuple[int, ...]]]:
    """Sorted cased code points, and each one's simple case-folding orbit (the characters
    RE2's and rg's `(?i)` treat as equal to it), from RE2 itself."""
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = False
    groups: dict[str, set[int]] = {}
    for lo, hi in _CASED_RANGES:
        for cp in range(lo, hi):
            c = chr(cp)
            if c.lower() != c or c.upper() != c or c.casefold() != c:
                f = c.casefold()
                key = f if len(f) == 1 else c.lower()
                groups.setdefault(key, set()).add(cp)
    orbits: dict[int, tuple[int, ...]] = {}
    for key, members in groups.items():
        if len(key) == 1:
            members.add(ord(key))
        for cp in list(members):
            for c in (chr(cp).lower(), chr(cp).upper()):
                if len(c) == 1:
                    members.add(ord(c))
        # keep only what RE2's simple folding agrees with
        probe = re2.compile(re2.escape(chr(min(members))), options)
        kept = tuple(sorted(m for m in members if probe.fullmatch(chr(m))))
        for cp in kept:
            orbits[cp] = kept
    return sorted(orbits), orbits


def fold(ranges: Ranges) -> Ranges:
    """`ranges` closed under simple case folding (what `(?i)` makes of a class)."""
    cased, orbits = _fold_orbits()
    out = list(ranges)
    for lo, hi in ranges:
        start = bisect.bisect_left(cased, lo)
        end = bisect.bisect_right(cased, hi)
        out += [(m, m) for cp in cased[start:end] for m in orbits[cp]]
    return normalize(out)
