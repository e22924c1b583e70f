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
name list, one text blob per view) so that each query is a handful of C-level regex scans and
bisects: well under 20 ms over 100,000 symbols.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

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
# Below this many candidates (names holding every query character) the later tiers test each
# candidate; above it they scan a text blob with one regex.
SMALL_CANDIDATES = 6000

_HUMP = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[^\W\d_A-Za-z]+")
_SEPARATORS = re.compile(r"[\W_]+")


class SymbolLike(Protocol):
    name: str
    path: str


S = TypeVar("S", bound=SymbolLike)


def humps(name: str) -> list[str]:
    """The humps of an identifier: ``getHTTPResponse2`` → get, HTTP, Response, 2."""
    return _HUMP.findall(name)


def _clean(name: str) -> str:
    return name.replace("\n", " ").replace("\r", " ")


class SymbolMatcher:
    """An index over symbols for fast ranked fuzzy lookup."""

    def __init__(self, symbols: Sequence[Any]) -> None:
        self.symbols = list(symbols)
        names = [_clean(str(s.name)) for s in self.symbols]
        lower = [n.lower() for n in names]
        self._names = names
        self._lower = lower
        n = len(names)
        # Tie-break order: path depth, path length, name length, name, path, input order.
        paths = [str(getattr(s, "path", "")) for s in self.symbols]
        order = sorted(
            range(n),
            key=lambda i: (paths[i].count("/"), len(paths[i]), len(names[i]), names[i],
                           paths[i], i),
        )
        rank = [0] * n
        for r, i in enumerate(order):
            rank[i] = r
        self._rank = rank
        exact: dict[str, list[int]] = {}
        for i, low in enumerate(lower):
            exact.setdefault(low, []).append(i)
        self._exact = exact
        by_name = sorted(range(n), key=lower.__getitem__)
        self._sorted_lower = [lower[i] for i in by_name]
        self._sorted_idx = by_name
        # Blobs: "\n" + one line per symbol. _starts[i] is the offset of line i's "\n".
        self._blob = "\n" + "\n".join(lower) + "\n"
        starts = []
        pos = 0
        for low in lower:
            starts.append(pos)
            pos += len(low) + 1
        self._starts = starts
        # Per character, a bitset (a Python int) of the names that contain it: the AND over a
        # query's characters is the candidate set of the hump, substring and fuzzy tiers.
        rows: dict[str, bytearray] = {}
        width = (n + 8) // 8
        for i, low in enumerate(lower):
            byte, bit = i >> 3, 1 << (i & 7)
            for ch in set(low):
                row = rows.get(ch)
                if row is None:
                    row = rows[ch] = bytearray(width)
                row[byte] |= bit
        self._char_bits = {ch: int.from_bytes(row, "little") for ch, row in rows.items()}
        cased_lines = [" ".join(humps(name)) for name in names]
        hump_lines = [line.lower() for line in cased_lines]
        self._hump_lines = hump_lines
        self._cased_hump_lines = cased_lines
        self._hump_blob = "\n" + "\n".join(hump_lines) + "\n"
        hstarts = []
        pos = 0
        for line in hump_lines:
            hstarts.append(pos)
            pos += len(line) + 1
        self._hump_start_to_idx = {p: i for i, p in enumerate(hstarts)}
        self._start_to_idx = {p: i for i, p in enumerate(starts)}

    def __len__(self) -> int:
        return len(self.symbols)

    # -- query -------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 100) -> list[tuple[int, Any]]:
        """The best ``limit`` symbols for ``query`` as (score, symbol), best first."""
        query = _clean(query.strip())[:MAX_QUERY]
        if not query or limit <= 0 or not self.symbols:
            return []
        ql = query.lower()
        mixed = any(c.islower() for c in query) and any(c.isupper() for c in query)
        results: list[tuple[int, int]] = []  # (score, index)
        seen: set[int] = set()

        def take(score: int, candidates: list[int]) -> bool:
            fresh = [i for i in candidates if i not in seen]
            need = limit - len(results)
            best = heapq.nsmallest(need, fresh, key=self._rank.__getitem__)
            seen.update(fresh)
            results.extend((score, i) for i in best)
            return len(results) >= limit

        # 1. exact
        exact = self._exact.get(ql, [])
        same_case = [i for i in exact if self._names[i] == query]
        if take(SCORE_EXACT_CASE, same_case) or take(SCORE_EXACT, exact):
            return self._out(results)
        # 2. prefix (case-sensitive for mixed-case queries; the rest is tier 4)
        lo = bisect_left(self._sorted_lower, ql)
        hi = bisect_left(self._sorted_lower, ql + "\U0010ffff", lo)
        prefixed = self._sorted_idx[lo:hi]
        other_case: list[int] = []
        if mixed:
            names = self._names
            other_case = [i for i in prefixed if not names[i].startswith(query)]
            prefixed = [i for i in prefixed if names[i].startswith(query)]
        if take(SCORE_PREFIX, prefixed):
            return self._out(results)
        # 3. humps
        chars = [c for c in ql if not c.isspace()]
        word_chars = {c for c in chars if not _SEPARATORS.fullmatch(c)}
        hump_bits = self._bits(word_chars)
        all_bits = hump_bits & self._bits(set(chars) - word_chars)
        pattern = _hump_pattern(query, mixed)
        if pattern is not None and hump_bits:
            if hump_bits.bit_count() <= SMALL_CANDIDATES:
                match, lines = re.compile(pattern).match, self._hump_lines
                hits = [i for i in _bit_indices(hump_bits) if match(lines[i])]
            else:
                s2i = self._hump_start_to_idx
                blob_pattern = re.compile("\n" + pattern)
                hits = [s2i[m.start()] for m in blob_pattern.finditer(self._hump_blob)]
            if mixed and hits:
                cased = re.compile(_hump_pattern(query, mixed, cased=True) or "").match
                lines = self._cased_hump_lines
                if take(SCORE_HUMP_CASE, [i for i in hits if cased(lines[i])]):
                    return self._out(results)
            if take(SCORE_HUMP, hits):
                return self._out(results)
        if take(SCORE_PREFIX_OTHER_CASE, other_case):
            return self._out(results)
        if not all_bits or not chars:
            return self._out(results)
        small = all_bits.bit_count() <= SMALL_CANDIDATES
        candidates = _bit_indices(all_bits) if small else []
        # 4. substring
        if small:
            lower = self._lower
            hits = [i for i in candidates if ql in lower[i]]
        else:
            starts = self._starts
            hits = []
            last = -1
            for m in re.finditer(re.escape(ql), self._blob):
                i = bisect_right(starts, m.start() - 1) - 1
                if i != last:
                    hits.append(i)
                    last = i
        if take(SCORE_SUBSTRING, hits):
            return self._out(results)
        # 5. subsequence
        body = "".join(f"[^{re.escape(c)}\\n]*{re.escape(c)}" for c in chars)
        if small:
            match = re.compile(body).match
            lower = self._lower
            hits = [i for i in candidates if match(lower[i])]
        else:
            s2i = self._start_to_idx
            hits = [s2i[m.start()] for m in re.finditer("\n" + body, self._blob)]
        take(SCORE_FUZZY, hits)
        return self._out(results)

    def _bits(self, chars: set[str]) -> int:
        """Bitset of the names containing every char of ``chars`` (all names if empty)."""
        bits = -1
        for ch in chars:
            bits &= self._char_bits.get(ch, 0)
            if not bits:
                return 0
        return bits if bits != -1 else (1 << len(self._lower)) - 1

    def _out(self, results: list[tuple[int, int]]) -> list[tuple[int, Any]]:
        rank = self._rank
        results.sort(key=lambda t: (-t[0], rank[t[1]]))
        return [(score, self.symbols[i]) for score, i in results]


def _bit_indices(bits: int) -> list[int]:
    """Indices of the set bits of ``bits``, ascending."""
    s = bin(bits)
    top = len(s) - 1
    return [top - m.start() for m in re.finditer("1", s)][::-1]


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
