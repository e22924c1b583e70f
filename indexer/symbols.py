"""Symbol search the way "Go to Symbol in Workspace" users expect it.

Matching is case-insensitive, with camelCase / snake_case humps: ``gTS`` and ``gts`` find
``getTextSize``, ``get_ts`` finds ``get_text_size``. Matches are ranked by tier::

    exact (same case first) > prefix > hump > prefix with other case > substring > subsequence

then definitions in shorter paths first (fewer directories, then fewer characters), then
shorter names, then name, path and input order (deterministic).

Smart case: a query with both lower- and upper-case letters treats each upper-case letter as
the start of a hump (``gTS`` wants get|Text|Size) and its prefix tier compares case-sensitively,
so ``gTS`` ranks ``getTextSize`` above ``gtsValue``. All-lower and all-upper queries ignore case.

``SymbolMatcher(symbols)`` precomputes everything once (lower-cased names, hump strings, a sorted
name list, one text blob per view, a bitset of names per character) with the symbols renumbered
in rank order. Every tier then produces its matches best first, so a query stops as soon as it
has ``limit`` of them: a handful of C-level regex scans, bisects and bitset ANDs, well under
20 ms over 450,000 symbols for most queries.
"""

from __future__ import annotations

import heapq
import re
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any, Protocol, TypeVar

import numpy as np

SCORE_EXACT_CASE = 100
SCORE_EXACT = 95
SCORE_PREFIX = 80
SCORE_HUMP_CASE = 65  # mixed-case query whose capitals meet capitals (gTS: getTextSize)
SCORE_HUMP = 60
SCORE_PREFIX_OTHER_CASE = 50
SCORE_SUBSTRING = 40
SCORE_FUZZY = 20

MAX_HUMP_QUERY = 24
MAX_QUERY = 200
# A later tier tests its candidates (names holding every query character) one by one when
# there are at most this many, or this share of all names; otherwise one regex scans a text
# blob of every name (C speed per name, but every name).
SMALL_CANDIDATES = 6000
CANDIDATE_SHARE = 4  # 1/4 of the names: a Python-level test costs ~4 names of blob scan

# A build may run in a worker thread while the same process answers requests: each C-level
# call over every name (a sort, a join, a lower-casing) holds the GIL throughout (50-90 ms at
# 200k names), so building works in slices of this many names, a few ms each.
SLICE = 16_384

_HUMP = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[^\W\d_A-Za-z]+")
_SEPARATORS = re.compile(r"[\W_]+")


class SymbolLike(Protocol):
    name: str
    path: str


S = TypeVar("S", bound=SymbolLike)
T = TypeVar("T")


def humps(name: str) -> list[str]:
    """The humps of an identifier: ``getHTTPResponse2`` → get, HTTP, Response, 2."""
    return _HUMP.findall(name)


def _clean(name: str) -> str:
    return name.replace("\n", " ").replace("\r", " ")


def rank_key(name: str, path: str) -> tuple[int, int, int, str, str]:
    """The tie-break order within a tier: path depth, path length, name length, name, path.
    (Matchers add input order; `rank_key` lets results of several matchers be merged.)"""
    name = _clean(name)
    return path.count("/"), len(path), len(name), name, path


_pacing = threading.local()  # .pace: called between slices by the thread building a matcher


def _slices(items: Sequence[T]) -> Iterator[Sequence[T]]:
    pace = getattr(_pacing, "pace", None)
    for start in range(0, len(items), SLICE):
        if pace is not None and start:
            pace()
        yield items[start:start + SLICE]


def _joined(lines: Sequence[str]) -> str:
    """"\\n".join(lines), a slice at a time (see SLICE)."""
    return "\n".join(["\n".join(part) for part in _slices(lines)])


def _lower_lines(names: Sequence[str]) -> list[str]:
    """Each name lower-cased (a slice at a time: see SLICE)."""
    out: list[str] = []
    for part in _slices(names):
        out += "\n".join(part).lower().split("\n")
    return out


def _lengths(values: Sequence[str]) -> np.ndarray:
    return np.concatenate([np.fromiter(map(len, part), np.int64, len(part))
                           for part in _slices(values)]) if values else np.zeros(0, np.int64)


def _ranks(values: Sequence[str]) -> np.ndarray:
    """Each value's rank among the distinct values in code-point order (equal values tie).
    Sorted a slice at a time, then merged (see SLICE)."""
    runs = [sorted(set(part)) for part in _slices(values)]
    rank: dict[str, int] = {}
    for value in heapq.merge(*runs) if len(runs) > 1 else (runs[0] if runs else ()):
        if value not in rank:
            rank[value] = len(rank)
    if not values:
        return np.zeros(0, np.int64)
    return np.concatenate([np.fromiter(map(rank.__getitem__, part), np.int64, len(part))
                           for part in _slices(values)])


def _rank_order(names: list[str], paths: list[str]) -> list[int]:
    """Input indices sorted by `rank_key`, then input order (np.lexsort is stable)."""
    n = len(names)
    if n == 0:
        return []
    shape = {p: (p.count("/"), len(p)) for p in set(paths)}
    depth = np.fromiter((shape[p][0] for p in paths), np.int64, n)
    plen = np.fromiter((shape[p][1] for p in paths), np.int64, n)
    nlen = _lengths(names)
    keys = (_ranks(paths), _ranks(names), nlen, plen, depth)  # last key sorts first
    return np.lexsort(keys).tolist()


def _pack(indices: np.ndarray | list[int], n: int) -> int:
    """A bitset (Python int) with the given bits set."""
    mask = np.zeros(n, dtype=bool)
    mask[indices] = True
    return int.from_bytes(np.packbits(mask, bitorder="little").tobytes(), "little")


def _char_bitsets(lower: list[str]) -> dict[str, int]:
    """Per character, the bitset of the names (in `lower`) that contain it."""
    n = len(lower)
    if n == 0:
        return {}
    blob = _joined(lower)
    wide = not blob.isascii()
    codes = np.frombuffer(blob.encode("utf-32-le" if wide else "ascii"),
                          np.uint32 if wide else np.uint8)
    lengths = _lengths(lower)
    owner = np.repeat(np.arange(n), lengths + 1)[:len(codes)]  # each char's name (and "\n")
    keep = codes != 10
    codes, owner = codes[keep], owner[keep]
    out: dict[str, int] = {}
    if wide:  # rare characters: group their (char, name) pairs by sorting them
        other = codes >= 128
        pairs = np.unique(codes[other].astype(np.int64) * n + owner[other])
        chars, names = pairs // n, pairs % n
        bounds = np.flatnonzero(np.diff(chars)) + 1
        for group in np.split(np.arange(len(pairs)), bounds):
            if len(group):
                out[chr(int(chars[group[0]]))] = _pack(names[group], n)
        codes, owner = codes[~other].astype(np.uint8), owner[~other]
    present = np.flatnonzero(np.bincount(codes, minlength=128))
    row = np.zeros(256, np.int64)
    row[present] = np.arange(len(present))
    table = np.zeros((len(present), n), dtype=bool)  # one row per ASCII character present
    table[row[codes], owner] = True
    for r, code in enumerate(present.tolist()):
        out[chr(code)] = int.from_bytes(
            np.packbits(table[r], bitorder="little").tobytes(), "little")
    return out


def _line_starts(lines: list[str]) -> array:
    """Offsets of the "\\n" before each line in "\\n" + "\\n".join(lines) + "\\n"."""
    return array("q", accumulate((len(line) + 1 for line in lines[:-1]), initial=0)) \
        if lines else array("q")


def _bit_indices(bits: int, n: int) -> list[int]:
    """Indices of the set bits of ``bits``, ascending."""
    data = np.frombuffer(bits.to_bytes((n + 7) // 8, "little"), np.uint8)
    return np.flatnonzero(np.unpackbits(data, bitorder="little")).tolist()


class SymbolMatcher:
    """An index over symbols for fast ranked fuzzy lookup.

    ``SymbolMatcher(symbols)`` takes objects with ``name`` and ``path``;
    ``SymbolMatcher.from_names(names, paths)`` takes the two columns (for callers that keep
    their symbols as columns) and answers through ``search_indices``.

    Memory per symbol: the name, its lower-case and hump strings (in two text blobs), and a
    few machine ints (arrays, not Python ints).
    """

    def __init__(self, symbols: Sequence[Any] = (), *, names: Sequence[str] | None = None,
                 paths: Sequence[str] | None = None,
                 pace: Callable[[], None] | None = None) -> None:
        """`pace`: called between slices of the build (a cancel check, a yield to requests)."""
        _pacing.pace = pace
        try:
            self._build(symbols, names, paths)
        finally:
            _pacing.pace = None

    def _build(self, symbols: Sequence[Any], names: Sequence[str] | None,
               paths: Sequence[str] | None) -> None:
        self.symbols = list(symbols)
        if names is None:
            names = [str(s.name) for s in self.symbols]
            paths = [str(getattr(s, "path", "")) for s in self.symbols]
        assert paths is not None and len(paths) == len(names)
        joined = _joined(names)
        if "\r" in joined or joined.count("\n") != max(0, len(names) - 1):
            names = [_clean(str(x)) for x in names]
        n = self._n = len(names)
        # Renumber in rank order: every candidate list below is then best first.
        order = _rank_order(list(names), list(paths))
        self._order = array("q", order)
        names = self._names = [names[i] for i in order]
        lower = _lower_lines(names)
        by_name = np.argsort(_ranks(lower), kind="stable") if n else np.zeros(0, np.int64)
        self._sorted_lower = [lower[i] for i in by_name.tolist()]
        self._sorted_idx = array("q", by_name.tobytes())
        # Blobs: "\n" + one line per symbol + "\n"; _starts[i] is the offset of line i's "\n".
        self._blob = "\n" + _joined(lower) + "\n"
        self._starts = _line_starts(lower)
        self._char_bits = _char_bitsets(lower)
        del lower
        hump_of = {name: " ".join(humps(name)) for name in set(names)}
        hump_lines = _lower_lines([hump_of[name] for name in names])
        self._hump_blob = "\n" + _joined(hump_lines) + "\n"
        self._hump_starts = _line_starts(hump_lines)
        # Hump matches start at a name's first hump: bitsets by that hump's first character.
        firsts: dict[str, list[int]] = {}
        for i, line in enumerate(hump_lines):
            if line:
                firsts.setdefault(line[0], []).append(i)
        self._first_bits = {ch: _pack(idx, n) for ch, idx in firsts.items()}

    @classmethod
    def from_names(cls, names: Sequence[str], paths: Sequence[str],
                   pace: Callable[[], None] | None = None) -> SymbolMatcher:
        return cls(names=names, paths=paths, pace=pace)

    def __len__(self) -> int:
        return self._n

    # -- query -------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 100) -> list[tuple[int, Any]]:
        """The best ``limit`` symbols for ``query`` as (score, symbol), best first."""
        return [(score, self.symbols[i]) for score, i in self.search_indices(query, limit)]

    def search_indices(self, query: str, limit: int = 100) -> list[tuple[int, int]]:
        """The best ``limit`` matches as (score, input index), best first."""
        query = _clean(query.strip())[:MAX_QUERY]
        if not query or limit <= 0 or not self._n:
            return []
        order = self._order
        return [(score, order[i]) for score, i in self._search(query, limit)]

    def _search(self, query: str, limit: int) -> list[tuple[int, int]]:
        ql = query.lower()
        mixed = any(c.islower() for c in query) and any(c.isupper() for c in query)
        results: list[tuple[int, int]] = []  # (score, rank)
        seen: set[int] = set()

        def take(score: int, candidates: Iterable[int]) -> bool:
            """Add the first unseen candidates (they come best first) up to the limit."""
            need = limit - len(results)
            for i in candidates:
                if i not in seen:
                    seen.add(i)
                    results.append((score, i))
                    need -= 1
                    if not need:
                        return True
            return False

        # 1. exact
        sorted_lower, sorted_idx, names = self._sorted_lower, self._sorted_idx, self._names
        lo = bisect_left(sorted_lower, ql)
        exact = sorted(sorted_idx[lo:bisect_right(sorted_lower, ql, lo)])
        if take(SCORE_EXACT_CASE, (i for i in exact if names[i] == query)) or \
                take(SCORE_EXACT, exact):
            return results
        # 2. prefix (case-sensitive for mixed-case queries; the rest is tier 4)
        prefixed = sorted(sorted_idx[lo:bisect_left(sorted_lower, ql + "\U0010ffff", lo)])
        other_case: list[int] = []
        if mixed:
            other_case = [i for i in prefixed if not names[i].startswith(query)]
            prefixed = [i for i in prefixed if names[i].startswith(query)]
        if take(SCORE_PREFIX, prefixed):
            return results
        # 3. humps
        chars = [c for c in ql if not c.isspace()]
        word_chars = {c for c in chars if not _SEPARATORS.fullmatch(c)}
        word_bits = self._bits(word_chars)
        pattern = _hump_pattern(query, mixed)
        if pattern is not None and word_bits:
            first = next(c for c in query if not _SEPARATORS.fullmatch(c)).lower()
            bits = word_bits & self._first_bits.get(first, 0)
            hits = self._matches(bits, pattern, self._hump_blob, self._hump_starts)
            if mixed:
                if self._take_cased(query, hits, take, limit - len(results), seen):
                    return results
            elif take(SCORE_HUMP, hits):
                return results
        if take(SCORE_PREFIX_OTHER_CASE, other_case):
            return results
        all_bits = word_bits & self._bits(set(chars) - word_chars)
        if not all_bits or not chars:
            return results
        # 4. substring
        if take(SCORE_SUBSTRING, self._substrings(ql, all_bits)):
            return results
        # 5. subsequence
        body = "".join(f"[^{re.escape(c)}\\n]*{re.escape(c)}" for c in chars)
        take(SCORE_FUZZY, self._matches(all_bits, body, self._blob, self._starts))
        return results

    def _take_cased(self, query: str, hits: Iterator[int], take: Any, need: int,
                    seen: set[int]) -> bool:
        """Hump matches of a mixed-case query: those whose capitals meet capitals first."""
        cased = re.compile(_hump_pattern(query, True, cased=True) or "").match
        names = self._names
        best: list[int] = []
        rest: list[int] = []  # only the first `need` can ever be taken
        for i in hits:
            if i in seen:
                continue
            if cased(" ".join(humps(names[i]))):
                best.append(i)
                if len(best) >= need:
                    break
            elif len(rest) < need:
                rest.append(i)
        return take(SCORE_HUMP_CASE, best) or take(SCORE_HUMP, rest)

    def _small(self, bits: int, share: int = CANDIDATE_SHARE) -> bool:
        return bits.bit_count() <= max(SMALL_CANDIDATES, self._n // share)

    def _matches(self, bits: int, pattern: str, blob: str, starts: Sequence[int]
                 ) -> Iterator[int]:
        """The names (best first) whose line of `blob` matches `pattern` (which never crosses
        a line) at its start, among the candidates in `bits`."""
        if not bits:
            return
        if self._small(bits):
            match = re.compile(pattern).match
            for i in _bit_indices(bits, self._n):
                if match(blob, starts[i] + 1):
                    yield i
        else:
            for m in re.finditer("\n" + pattern, blob):
                yield bisect_left(starts, m.start())

    def _substrings(self, ql: str, bits: int) -> Iterator[int]:
        blob, starts, n = self._blob, self._starts, self._n
        if self._small(bits, 2 * CANDIDATE_SHARE):
            end = len(blob) - 1
            for i in _bit_indices(bits, n):
                if blob.find(ql, starts[i] + 1, starts[i + 1] if i + 1 < n else end) >= 0:
                    yield i
            return
        last = -1
        for m in re.finditer(re.escape(ql), blob):
            i = bisect_right(starts, m.start() - 1) - 1
            if i != last:
                yield i
                last = i

    def _bits(self, chars: set[str]) -> int:
        """Bitset of the names containing every char of ``chars`` (all names if empty)."""
        bits = -1
        for ch in chars:
            bits &= self._char_bits.get(ch, 0)
            if not bits:
                return 0
        return bits if bits != -1 else (1 << self._n) - 1


def _hump_pattern(query: str, mixed: bool, cased: bool = False) -> str | None:
    """A regex over the hump blob: each query char continues the current hump or starts a
    later one; upper-case chars of a mixed-case query and chars after a separator must start
    a hump. The first char starts the first hump. ``cased``: for the original-case humps,
    upper-case query chars must meet upper-case name chars."""
    steps: list[tuple[str, bool]] = []
    new_hump = True
    for ch in query:
        if _SEPARATORS.fullmatch(ch):
            new_hump = True
            continue
        steps.append((ch, new_hump or (mixed and ch.isupper())))
        new_hump = False
    if not steps or len(steps) > MAX_HUMP_QUERY:
        return None

    def one(ch: str) -> str:
        if not cased:
            return re.escape(ch.lower())
        if ch.isupper():
            return re.escape(ch)
        return f"[{re.escape(ch.lower())}{re.escape(ch.upper())}]" if ch.isalpha() else \
            re.escape(ch)

    parts = [one(steps[0][0])]
    for ch, must_start in steps[1:]:
        c = one(ch)
        jump = f"[^ \\n]* (?:[^ \\n]* )*?{c}"
        parts.append(jump if must_start else f"(?:{c}|{jump})")
    return "".join(parts)


def rank_symbols(query: str, symbols: Sequence[S], limit: int = 100) -> list[tuple[int, S]]:
    """One-shot ranking. Build a ``SymbolMatcher`` once to run many queries."""
    return SymbolMatcher(symbols).search(query, limit)
