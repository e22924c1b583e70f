"""Russ Cox's trigram query planning ("Regular Expression Matching with a Trigram Index").

For each AST node we compute what any match must look like: whether it can be empty, its exact
set of strings (when small), the sets of possible prefixes and suffixes, and a boolean trigram
query that every document holding a match satisfies. The plan is sound: it may select documents
without a match (RE2 verifies them), never the other way round.

Case-insensitive literals are planned against the lower-cased trigram field: each character
becomes the set of lower-cased members of its Unicode case-folding orbit (so `s` also looks for
the long s `ſ`, which RE2 folds to `s` but which does not lower-case to it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

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

MAX_EXACT = 7  # exact sets larger than this turn into prefix/suffix + trigram query
MAX_SET = 20  # prefix/suffix sets larger than this get trimmed
MAX_CLASS = 100  # classes with more characters than this are treated as "any character"


# --- trigram queries: immutable boolean trees ------------------------------------------------


# Bounds on a query's breadth, so that planning stays linear in the pattern's size (a 100 kB
# literal once planned in minutes: every AND step copied and searched all the terms so far).
# Dropping AND terms only widens the plan; an OR that grows too wide becomes ALL. Either way
# the plan stays sound, and a few dozen trigrams select as well as thousands.
MAX_AND = 64
MAX_OR = 64


@dataclass(frozen=True, slots=True)
class Query:
    op: str  # "all", "none", "and", "or", "tri" (3 chars), "pair" (2 chars: any trigram holding it)
    args: tuple[Query, ...] = ()
    text: str = ""
    # Computed once: queries are deduplicated by hash, and a nested query's hash would
    # otherwise be recomputed from its whole tree at every lookup.
    _hash: int = field(default=0, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.op, self.args, self.text)))

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        if self.op in ("all", "none"):
            return self.op.upper()
        if self.op in ("tri", "pair"):
            return repr(self.text)
        joiner = " AND " if self.op == "and" else " OR "
        return "(" + joiner.join(str(a) for a in self.args) + ")"


ALL = Query("all")
NONE = Query("none")


def _merged(op: str, a: Query, b: Query, cap: int) -> list[Query] | None:
    """The distinct terms of `a op b`, flattened; None when there are more than `cap`."""
    seen: dict[Query, None] = {}
    for q in (a, b):
        for sub in q.args if q.op == op else (q,):
            seen[sub] = None
            if len(seen) > cap:
                return None
    return list(seen)


def q_and(a: Query, b: Query) -> Query:
    if a.op == "none" or b.op == "none":
        return NONE
    if a.op == "all":
        return b
    if b.op == "all" or (a.op == "and" and len(a.args) >= MAX_AND):
        return a  # (full: what b adds would be dropped)
    args = _merged("and", a, b, MAX_AND)
    if args is None:  # keep the first terms: fewer conjuncts only widen the plan
        args = list(dict.fromkeys(
            sub for q in (a, b) for sub in (q.args if q.op == "and" else (q,))))[:MAX_AND]
    return args[0] if len(args) == 1 else Query("and", tuple(args))


def q_or(a: Query, b: Query) -> Query:
    if a.op == "all" or b.op == "all":
        return ALL
    if a.op == "none":
        return b
    if b.op == "none":
        return a
    args = _merged("or", a, b, MAX_OR)
    if args is None:  # too many alternatives to be worth a lookup: any document
        return ALL
    return args[0] if len(args) == 1 else Query("or", tuple(args))


def trigrams_of(s: str) -> Query:
    q = ALL
    for i in range(len(s) - 2):
        q = q_and(q, Query("tri", text=s[i:i + 3]))
    return q


def and_trigrams(q: Query, strings: set[str], allow_pairs: bool = False) -> Query:
    """q AND (one of `strings` occurs), when every string is long enough to say something."""
    if not strings:
        return q
    shortest = min(len(s) for s in strings)
    if shortest < (2 if allow_pairs else 3):
        return q
    alt = NONE
    for s in sorted(strings):
        alt = q_or(alt, Query("pair", text=s) if len(s) == 2 else trigrams_of(s))
    return q_and(q, alt)


# --- case folding -----------------------------------------------------------------------------

# Ranges holding every cased character (everything else has no case variants).
_CASED_RANGES = [(0x0041, 0x2C00), (0x2C00, 0x2E00), (0xA640, 0xAC00), (0xFB00, 0xFF80),
                 (0x10400, 0x10600), (0x10C80, 0x10D00), (0x118A0, 0x11900),
                 (0x16E40, 0x16EA0), (0x1E900, 0x1E960)]


def _fold_key(c: str) -> str:
    f = c.casefold()
    return f if len(f) == 1 else c.lower()


@cache
def _irregular_orbits() -> dict[str, frozenset[str]]:
    """Characters whose case-folding orbit lower-cases to more than one character."""
    groups: dict[str, set[str]] = {}
    for lo, hi in _CASED_RANGES:
        for cp in range(lo, hi):
            c = chr(cp)
            if c.lower() != c or c.upper() != c or c.casefold() != c:
                groups.setdefault(_fold_key(c), set()).add(c)
    table: dict[str, frozenset[str]] = {}
    for key, members in groups.items():
        members.add(key)
        lowered = frozenset(m.lower() for m in members)
        if len(lowered) > 1:
            for m in members:
                table[m] = lowered
    return table


def lowered_variants(c: str, fold: bool) -> frozenset[str] | None:
    """Characters of the lower-cased field that `c` can appear as; None if not one character."""
    if fold:
        irregular = _irregular_orbits().get(c)
        variants = irregular if irregular is not None else frozenset({c.lower(), c.upper().lower()})
    else:
        variants = frozenset({c.lower()})
    if any(len(v) != 1 for v in variants):
        return None  # e.g. 'İ' lower-cases to two characters: trigram alignment is lost
    return variants


# --- analysis ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Info:
    can_empty: bool
    exact: set[str] | None
    prefix: set[str]
    suffix: set[str]
    match: Query

    def copy(self) -> Info:
        return Info(self.can_empty, None if self.exact is None else set(self.exact),
                    set(self.prefix), set(self.suffix), self.match)


def _any_match() -> Info:
    return Info(True, None, {""}, {""}, ALL)


def _any_char() -> Info:
    return Info(False, None, {""}, {""}, ALL)


def _empty_string() -> Info:
    return Info(True, {""}, set(), set(), ALL)


def _exact(chars: frozenset[str] | set[str]) -> Info:
    return Info(False, set(chars), set(), set(), ALL)


def _cross(a: set[str], b: set[str]) -> set[str]:
    return {x + y for x in a for y in b}


def _add_exact(info: Info) -> None:
    if info.exact is not None:
        info.match = and_trigrams(info.match, info.exact)


def _clean(strings: set[str], is_suffix: bool) -> set[str]:
    """Drop strings made redundant by a shorter one that is their prefix (suffix)."""
    result: set[str] = set()
    for s in sorted(strings, key=len):
        if any((s.endswith(t) if is_suffix else s.startswith(t)) for t in result):
            continue
        result.add(s)
    return result


def _simplify_set(info: Info, strings: set[str], is_suffix: bool) -> set[str]:
    """AND the set into the query, then shorten it to two characters (and fewer if large)."""
    t = _clean(strings, is_suffix)
    info.match = and_trigrams(info.match, t)
    n = 3
    while n == 3 or len(t) > MAX_SET:
        keep = n - 1
        t = _clean({(s[len(s) - keep:] if is_suffix else s[:keep]) if len(s) >= n else s
                    for s in t}, is_suffix)
        n -= 1
        if keep == 0:
            break
    return t


def _simplify(info: Info, force: bool) -> None:
    if info.exact is not None:
        shortest = min((len(s) for s in info.exact), default=0)
        if len(info.exact) > MAX_EXACT or (force and shortest >= 3) or shortest >= 4:
            _add_exact(info)
            for s in info.exact:
                if len(s) < 3:
                    info.prefix.add(s)
                    info.suffix.add(s)
                else:
                    info.prefix.add(s[:2])
                    info.suffix.add(s[-2:])
            info.exact = None
    if info.exact is None:
        info.prefix = _simplify_set(info, info.prefix, False)
        info.suffix = _simplify_set(info, info.suffix, True)


def _concat(x: Info, y: Info) -> Info:
    xy = Info(x.can_empty and y.can_empty, None, set(), set(), q_and(x.match, y.match))
    if x.exact is not None and y.exact is not None:
        xy.exact = _cross(x.exact, y.exact)
    else:
        if x.exact is not None:
            xy.prefix = _cross(x.exact, y.prefix)
        else:
            xy.prefix = set(x.prefix)
            if x.can_empty:
                xy.prefix |= y.prefix
        if y.exact is not None:
            xy.suffix = _cross(x.suffix, y.exact)
        else:
            xy.suffix = set(y.suffix)
            if y.can_empty:
                xy.suffix |= x.suffix
    if (x.exact is None and y.exact is None and len(x.suffix) <= MAX_SET
            and len(y.prefix) <= MAX_SET and x.suffix and y.prefix
            and min(map(len, x.suffix)) + min(map(len, y.prefix)) >= 3):
        xy.match = and_trigrams(xy.match, _cross(x.suffix, y.prefix))
    _simplify(xy, False)
    return xy


def _alternate(x: Info, y: Info) -> Info:
    x, y = x.copy(), y.copy()
    xy = Info(x.can_empty or y.can_empty, None, set(), set(), ALL)
    if x.exact is not None and y.exact is not None:
        xy.exact = x.exact | y.exact
    elif x.exact is not None:
        xy.prefix = x.exact | y.prefix
        xy.suffix = x.exact | y.suffix
        _add_exact(x)
    elif y.exact is not None:
        xy.prefix = x.prefix | y.exact
        xy.suffix = x.suffix | y.exact
        _add_exact(y)
    else:
        xy.prefix = x.prefix | y.prefix
        xy.suffix = x.suffix | y.suffix
    xy.match = q_or(x.match, y.match)
    _simplify(xy, False)
    return xy


LONG_RUN = 8  # literal characters in a row analysed in one step (`_literal_run`)


def _literal_run(head: list[frozenset[str] | None], tail: list[frozenset[str] | None]) -> Info:
    """What a long run of literal characters requires, in one pass: the trigrams of its first
    windows (`head`: the sets of variants of its first characters; None where a character has
    no one-character spelling), its first two characters as prefixes and its last two
    (`tail`) as suffixes. Character by character, each step's sets and queries cost a few
    dozen microseconds: a 100 kB literal took seconds."""
    terms: dict[Query, None] = {}
    for i in range(len(head) - 2):
        a, b, c = head[i], head[i + 1], head[i + 2]
        if a is None or b is None or c is None or len(a) * len(b) * len(c) > MAX_OR:
            continue  # too many spellings to list: this window says nothing
        alt = NONE
        for x in sorted(a):
            for y in sorted(b):
                for z in sorted(c):
                    alt = q_or(alt, Query("tri", text=x + y + z))
        terms[alt] = None
        if len(terms) >= MAX_AND:
            break
    match = ALL
    for term in terms:
        match = q_and(match, term)
    prefix = suffix = {""}  # "" : nothing known
    if head[0] is not None and head[1] is not None:
        prefix = _cross(set(head[0]), set(head[1]))
    if tail[0] is not None and tail[1] is not None:
        suffix = _cross(set(tail[0]), set(tail[1]))
    if len(prefix) > MAX_SET:
        prefix = {""}
    if len(suffix) > MAX_SET:
        suffix = {""}
    return Info(False, None, prefix, suffix, match)


class _Analyzer:
    def __init__(self, lowered: bool) -> None:
        self.lowered = lowered  # plan against the lower-cased field

    def chars(self, node: Literal | CharClass) -> frozenset[str] | None:
        if isinstance(node, Literal):
            if not self.lowered:
                return frozenset({node.char})
            return lowered_variants(node.char, node.fold)
        small = node.small_set(MAX_CLASS)
        if small is None:
            return None
        if not self.lowered:
            return small
        out: set[str] = set()
        for c in small:
            variants = lowered_variants(c, node.fold)
            if variants is None:
                return None
            out |= variants
        return frozenset(out) if len(out) <= MAX_CLASS else None

    def analyze(self, node: Node) -> Info:
        if isinstance(node, Literal | CharClass):
            chars = self.chars(node)
            if chars is None:
                return _any_char()
            if not chars:
                return Info(False, None, set(), set(), NONE)
            info = _exact(chars)
            _simplify(info, False)
            return info
        if isinstance(node, AnyChar):
            return _any_char()
        if isinstance(node, Assertion | Empty):
            return _empty_string()
        if isinstance(node, Group):
            return self.analyze(node.node)
        if isinstance(node, Concat):
            info = _empty_string()
            run: list[Literal] = []  # consecutive literal characters, analysed at once
            for sub in node.nodes:
                if isinstance(sub, Literal):
                    run.append(sub)
                    continue
                info = self._flush_run(info, run)
                info = _concat(info, self.analyze(sub))
            return self._flush_run(info, run)
        if isinstance(node, Alternate):
            info = self.analyze(node.nodes[0])
            for sub in node.nodes[1:]:
                info = _alternate(info, self.analyze(sub))
            return info
        if isinstance(node, Repeat):
            return self.repeat(node)
        raise TypeError(f"unknown node {node!r}")

    def _flush_run(self, info: Info, run: list[Literal]) -> Info:
        """`info` followed by the literal characters of `run` (emptied)."""
        if len(run) < LONG_RUN:
            for lit in run:
                info = _concat(info, self.analyze(lit))
        else:
            # Only the characters the summary uses are looked at (case variants cost ~8 µs).
            head = [self.chars(lit) for lit in run[:MAX_AND + 2]]
            info = _concat(info, _literal_run(head, [self.chars(lit) for lit in run[-2:]]))
        run.clear()
        return info

    def repeat(self, node: Repeat) -> Info:
        if node.min == 0:
            if node.max == 1:
                return _alternate(self.analyze(node.node), _empty_string())
            return _any_match()
        sub = self.analyze(node.node)
        if node.min == 1 and node.max is None:  # x+: prefixes and suffixes stay the same
            info = sub.copy()
            if info.exact is not None:
                info.prefix, info.suffix, info.exact = set(info.exact), set(info.exact), None
            return info
        info = _empty_string()
        for _ in range(min(node.min, 3)):
            info = _concat(info, sub.copy())
        if node.max is None or node.max > node.min or node.min > 3:
            info = _concat(info, _any_match())
        return info


def _has_fold(node: Node) -> bool:
    if isinstance(node, Literal | CharClass):
        return node.fold
    if isinstance(node, Group | Repeat):
        return _has_fold(node.node)
    if isinstance(node, Concat | Alternate):
        return any(_has_fold(n) for n in node.nodes)
    return False


@dataclass(frozen=True, slots=True)
class TrigramPlan:
    query: Query
    lowered: bool  # query terms are for the lower-cased trigram field
    can_be_empty: bool = True  # some match may be the empty string (`^$`, `x*`, `\b`)

    @property
    def is_scan(self) -> bool:
        return self.query.op == "all"


def plan(node: Node) -> TrigramPlan:
    """The trigram query that every document containing a match of `node` satisfies."""
    lowered = _has_fold(node)
    info = _Analyzer(lowered).analyze(node)
    _simplify(info, True)
    _add_exact(info)
    query = info.match
    if query.op == "all":
        # Short literals (2 characters) still narrow the search: any document longer than two
        # characters holding "ab" holds a trigram "ab?" or "?ab".
        for strings in (info.exact, info.prefix, info.suffix):
            if strings:
                query = and_trigrams(query, strings, allow_pairs=True)
                if query.op != "all":
                    break
    return TrigramPlan(query, lowered, info.can_empty)
