"""Regex and literal search over one snapshot, with ripgrep's semantics.

Pipeline: parse the pattern(s) in ripgrep's dialect → plan a trigram query (Cox) → candidate
blobs from tantivy, kept to the snapshot and the globs → verify with RE2 over the stored bytes
(memory-mapped packs). A plan with no usable trigram, or one that selects most of the
snapshot anyway, scans whole packs in one RE2 pass instead, which is faster than visiting
blobs one by one.
"""

from __future__ import annotations

import bisect
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from operator import itemgetter
from typing import TypeVar

import re2
import stringzilla

from indexer.errors import PatternError
from indexer.gc_pause import gc_paused
from indexer.regex.plan import TrigramPlan, plan
from indexer.regex.required import required_literal
from indexer.regex.syntax import (
    MAX_PATTERN_CHARS,
    Alternate,
    Assertion,
    CharClass,
    Concat,
    Group,
    Literal,
    Node,
    Repeat,
    parse,
)
from indexer.regex.translate import (
    bounded,
    bounded_back,
    edge_word_boundaries,
    to_re2,
    whole_word,
)
from indexer.regex.window import ByteWindow, byte_window
from indexer.scope import FileScope
from indexer.store.content import BlobKind
from indexer.store.index_store import IndexStore
from indexer.store.manifest import Manifest

try:  # the compiled line scanner (setup.py builds it); without it, the same loop in Python
    from indexer._linescan import RegexLines as _RegexLines
    from indexer._linescan import bind_re2 as _bind_re2
    from indexer._linescan import literal_lines as _literal_lines
    from indexer._linescan import literal_lines_in_spans as _literal_lines_in_spans
except ImportError:  # pragma: no cover - exercised by tests that hide it
    _literal_lines = _literal_lines_in_spans = _RegexLines = None
    # why RE2 is not called from C (None: it is)
    RE2_FROM_C_UNAVAILABLE: str | None = "the compiled scanner is not built"
else:
    RE2_FROM_C_UNAVAILABLE = _bind_re2(re2._re2)
    try:  # a build from before RegexLines took `back` (issue 23) would fail on every search
        _RegexLines(re2.compile(b"x")._regexp, 0, False, None, None, tuple, None)
    except TypeError:  # pragma: no cover - a stale build
        _RegexLines = None
        RE2_FROM_C_UNAVAILABLE = ("the compiled scanner is out of date: run "
                                  "`python setup.py build_ext --inplace`")

SCAN_SHARE = 0.3  # above this share of the snapshot's bytes, scan packs instead of blobs
SCAN_THREADS = max(1, min(4, os.cpu_count() or 1))
JOB_BYTES = 8 << 20  # pack bytes per scan job
SCAN_CANDIDATES = 256  # regex verification of more candidate blobs than this: pack runs
RUN_GAP = 4096  # bytes: a gap this small is scanned through rather than skipped
_UNANCHORED = re2._Anchor.UNANCHORED
# StringZilla's SIMD search and count take bytes and memoryviews, with bytes.find's arguments.
_find, _rfind, _count = stringzilla.find, stringzilla.rfind, stringzilla.count
SHORT_SPAN = 256  # bytes: a span this short is searched by RE2 without the filter
# What a line-filtered finder's work costs, in bytes RE2 would crawl in that time
MISS_COST = 8192  # a line that held the literal but no match
FOLDED_SEARCH_COST = 4096  # a case-insensitive StringZilla search (it folds the needle first)
# Bytes RE2 crawls (in two threads) in the time Python checks one occurrence of a -w literal
WORD_CHECK_BYTES = 430
PREFILTER_TRIAL = 64  # misses' worth of cost before the finder judges its gain


# --- options and compiled form ----------------------------------------------------------------


@dataclass(frozen=True)
class SearchOptions:
    patterns: tuple[str, ...]
    fixed_strings: bool = False
    case: str = "sensitive"  # "sensitive", "ignore" or "smart" (as rg -s / -i / -S)
    whole_word: bool = False
    globs: tuple[str, ...] = ()  # rg -g: include, or exclude with a leading "!"
    context_before: int = 0
    context_after: int = 0
    max_count: int | None = None  # matching lines per file
    limit: int | None = None  # matching lines in all
    # PATH arguments, --hidden, -t/-T (None: every file, hidden ones included)
    scope: FileScope | None = None


@dataclass(frozen=True)
class CompiledSearch:
    regex: re2._Regexp
    group: int  # the capture group holding the reported match (1 for whole-word)
    plan: TrigramPlan
    source: str  # the RE2 pattern, for debugging
    case_insensitive: bool
    literal: bytes | None = None  # a plain case-sensitive literal: found with bytes.find
    literal_whole_word: bool = False  # ... that must stand between non-word characters (-w)
    # A literal every match holds, found fast where RE2 alone would crawl: the pattern then
    # runs only on the lines holding it (indexer/regex/required.py).
    required: RequiredLiteral | None = None
    # A case-sensitive literal anchored at a line's start and/or end (`^$`, `\):$`): lines
    # are found by the literal with its newlines, as one needle (compiled scanner only).
    anchored: AnchoredLiteral | None = None
    # A run of byte sets every match holds, rare enough that the compiled scanner finds
    # candidate lines by it faster than RE2 alone (indexer/regex/window.py); case-sensitive
    # patterns only.
    window: ByteWindow | None = None
    # For a pattern whose leading boundary consumes the character before a match: the next
    # match on a line is searched with this from the character before the last one's end
    # (`translate.bounded_back`), so that adjacent matches are found as rg finds them.
    back: re2._Regexp | None = None

    def fresh_regexp(self):  # noqa: ANN201 - re2's compiled pattern type
        """Another RE2 object of the same pattern, with a DFA cache of its own (one per
        thread: threads sharing one take its cache lock on every call)."""
        return re2.compile(self.source.encode(), self.regex.options)._regexp

    def span_finder(self, regex_only: bool = False):  # noqa: ANN201 - a hot-path callable
        """find(data, pos, end) -> (start, end) of the next reported match, or None. `data`
        is bytes or a memoryview (of a pack).

        Calls RE2's extension directly: the Python wrapper costs more than the match itself
        on short spans, and a search with many matching lines makes millions of calls.
        A plain literal is found with StringZilla instead (SIMD, ~20 GB/s here against 1-3
        for bytes.find), unless `regex_only`.
        """
        literal = self.literal
        if literal is not None and not regex_only:
            size = len(literal)
            whole_word = self.literal_whole_word

            def find_literal(data, pos: int, end: int):  # noqa: ANN001, ANN202
                at = _find(data, literal, pos, end)
                while whole_word and at >= 0 and not _bounded(data, at, at + size):
                    at = _find(data, literal, at + 1, end)
                return None if at < 0 else (at, at + size)

            return find_literal
        match = self.regex._regexp.Match
        group = self.group

        def find_regex(data, pos: int, end: int):  # noqa: ANN001, ANN202
            spans = match(_UNANCHORED, data, pos, end)
            return None if spans[0][0] < 0 else spans[group]

        if self.required is None:
            return find_regex
        return LineFilteredFinder(self.required, match, group, find_regex)


class LineFilteredFinder:
    """A span finder that looks for a required literal first and runs the pattern only on
    the lines holding it: matches never span lines, so the first line from `pos` holding
    both the literal and a match holds the first match.

    It keeps a rough account, in bytes of RE2 crawling, of what filtering cost: each line
    that held the literal but no match (a Python round, ~8 KB of crawling) and, for a
    case-insensitive literal, each search (StringZilla folds the needle on every call, ~4 KB).
    When that exceeds the bytes passed over (`def ` for `(async )?def get_\\w+`, or a
    `-i` word on every other line), the finder goes `plain` for the rest of its search."""

    __slots__ = ("search", "text", "at_line_start", "match", "group", "find_regex",
                 "call_cost", "cost", "passed", "plain")

    def __init__(self, required: RequiredLiteral, match, group: int,  # noqa: ANN001
                 find_regex) -> None:  # noqa: ANN001
        # Unicode full case folding finds every match of RE2's simple folding (and more):
        # a superset is all a filter needs. 5-20x faster than RE2's (?i) here.
        self.search = stringzilla.utf8_uncased_search if required.fold else _find
        self.call_cost = FOLDED_SEARCH_COST if required.fold else 0
        # At the start of a line: a newline and the literal, searched as one needle (the
        # newline before `pos` included), and the start of the data checked apart.
        self.at_line_start = required.at_line_start
        self.text = b"\n" + required.text if required.at_line_start else required.text
        self.match, self.group, self.find_regex = match, group, find_regex
        self.cost = self.passed = 0
        self.plain = False

    def __call__(self, data, pos: int, end: int):  # noqa: ANN001, ANN204
        if self.plain or end - pos < SHORT_SPAN:  # the rest of a line: RE2 at once
            return self.find_regex(data, pos, end)
        search, text, match = self.search, self.text, self.match
        start = pos
        while True:
            self.cost += self.call_cost
            if not self.at_line_start:
                hit = search(data, text, pos, end)
            elif pos:
                hit = search(data, text, pos - 1, end)
                hit = hit + 1 if hit >= 0 else -1
            elif search(data, text[1:], 0, end) == 0:
                hit = 0
            else:
                hit = search(data, text, 0, end)
                hit = hit + 1 if hit >= 0 else -1
            if hit < 0:
                self.passed += end - start
                return None
            nl = _rfind(data, b"\n", pos, hit)
            line_end = _find(data, b"\n", hit, end)
            if line_end < 0:
                line_end = end
            spans = match(_UNANCHORED, data, pos if nl < 0 else nl + 1, line_end)
            if spans[0][0] >= 0:
                self.passed += line_end - start
                self.plain = self._too_costly()
                return spans[self.group]
            self.cost += MISS_COST
            pos = line_end + 1
            if pos > end:
                self.passed += end - start
                return None
            if self._too_costly(pos - start):
                self.plain = True
                return self.find_regex(data, pos, end)

    def _too_costly(self, passing: int = 0) -> bool:
        """Filtering has cost more than the bytes passed over (`passing`: this call's)."""
        return self.cost > PREFILTER_TRIAL * MISS_COST and self.cost > self.passed + passing


def _literal_node(text: str, fold: bool) -> Node:
    return Concat(tuple(Literal(c, fold) for c in text))


def compile_search(options: SearchOptions) -> CompiledSearch:
    """Parse, plan and compile; PatternError (with a position) for anything we cannot run."""
    if not options.patterns:
        raise PatternError("no pattern given", "", 0)
    total = sum(len(p) for p in options.patterns)
    if total > MAX_PATTERN_CHARS:  # before any work: planning costs ~4 µs a character
        raise PatternError(
            f"the pattern{'s are' if len(options.patterns) > 1 else ' is'} {total:,} "
            f"characters long, over the limit of {MAX_PATTERN_CHARS:,} characters",
            options.patterns[0], min(len(options.patterns[0]), MAX_PATTERN_CHARS))
    if options.case == "ignore":
        fold = True
    elif options.case == "smart":
        if options.fixed_strings:
            fold = not any(c != c.lower() for p in options.patterns for c in p)
        else:
            fold = not any(parse(p).has_uppercase_literal for p in options.patterns)
    else:
        fold = False
    nodes: list[Node] = []
    for pattern in options.patterns:
        if options.fixed_strings:
            if "\n" in pattern:
                raise PatternError('the literal "\\n" is not allowed in a regex', pattern,
                                   pattern.index("\n"))
            nodes.append(_literal_node(pattern, fold))
            continue
        parsed = parse(pattern, fold=fold)
        if parsed.literal_newline_at is not None:
            raise PatternError('the literal "\\n" is not allowed in a regex (ripgrep searches '
                               "line by line)", pattern, parsed.literal_newline_at)
        nodes.append(parsed.node)
    node = nodes[0] if len(nodes) == 1 else Alternate(tuple(nodes))
    weight = _repetition_weight(node)
    heavy = weight >= HEAVY_REPETITION
    if weight > HEAVY_PROGRAM:  # every repeated character costs an instruction or more
        raise PatternError(f"the compiled pattern exceeds the limit of {HEAVY_PROGRAM:,} RE2 "
                           f"instructions for patterns with large repetition counts (its "
                           f"repetitions alone make {weight:,})", options.patterns[0], 0)
    back_source = None
    try:
        if options.whole_word:
            # -w's own boundaries hold what boundaries at the pattern's edges ask for, unless
            # one asks for a word character beside the match (`-w '\<'`): then never
            inner, lead, trail = edge_word_boundaries(node)
            if "word" in (lead, trail):
                inner = CharClass((), False, False)
            inner_source = to_re2(inner)
            source, group = whole_word(inner_source), 1
            back_source = bounded_back(inner_source, True)
        else:
            inner, lead, trail = edge_word_boundaries(node)
            if lead or trail:
                inner_source = to_re2(inner)
                source, group = bounded(inner_source, lead, trail), 1
                back_source = bounded_back(inner_source, trail, lead) if lead else None
            else:
                source, group = to_re2(node), 0
    except PatternError as exc:  # raised by the translator, which has no pattern text
        if exc.pattern:
            raise
        raise PatternError(exc.reason, options.patterns[0], 0) from None
    re2_options = re2.Options()
    re2_options.never_nl = True  # lines are searched one by one, as in ripgrep
    # Large counted repetitions (`\p{Lu}{1000}`, `(x{50}){40}`) compile to large programs,
    # at ~0.3 µs an instruction, which RE2's DFA has no room for: such patterns are compiled
    # first under a small max_mem (RE2 gives up early) and refused past HEAVY_PROGRAM.
    re2_options.max_mem = HEAVY_MAX_MEM if heavy else 256 << 20
    re2_options.log_errors = False
    try:
        regex = re2.compile(source.encode(), re2_options)
        if heavy:
            # A large program leaves RE2's DFA no room, and its NFA then takes time in
            # proportion to program size times text (seconds a line): refused past
            # HEAVY_PROGRAM; under it, compiled again with the usual room for the DFA.
            size = regex._regexp.ProgramSize()
            if size > HEAVY_PROGRAM:
                raise PatternError(
                    f"the compiled pattern has {size:,} RE2 instructions, over the limit of "
                    f"{HEAVY_PROGRAM:,} for patterns with large repetition counts",
                    options.patterns[0], 0)
            re2_options.max_mem = 256 << 20
            regex = re2.compile(source.encode(), re2_options)
        back = None if back_source is None else re2.compile(back_source.encode(), re2_options)
    except re2.error as exc:
        shown = options.patterns[0]
        if heavy and "too large" in str(exc):
            raise PatternError(f"the compiled pattern exceeds the limit of {HEAVY_PROGRAM:,} "
                               "RE2 instructions for patterns with large repetition counts",
                               shown, 0) from None
        raise PatternError(f"RE2 cannot run this pattern: {exc}", shown, 0) from None
    literal = None
    if not fold and (group == 0 or options.whole_word):
        text = _plain_literal(node)
        if text:
            literal = text.encode("utf-8")
    return CompiledSearch(regex, group, plan(node), source, fold, literal,
                          literal is not None and options.whole_word,
                          _required(node, bare=group == 0),
                          _anchored_literal(node) if group == 0 and not fold else None,
                          byte_window(node) if not fold and literal is None else None,
                          back)


HEAVY_REPETITION = 100  # counted repetitions whose nested counts multiply to this or more
HEAVY_PROGRAM = 50_000  # instructions: over this, RE2's DFA thrashes and its NFA crawls
HEAVY_MAX_MEM = 2 << 20  # RE2's max_mem to compile them: it gives up past ~65k instructions


def _repetition_weight(root: Node) -> int:
    """The largest product of nested repetition counts in `root` (`x{n,m}` counts m, or n
    when unbounded; `*`, `+`, `?` count 1)."""
    heaviest = 1
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, weight = stack.pop()
        if isinstance(node, Repeat):
            count = node.min if node.max is None else node.max
            weight *= max(1, count)
            heaviest = max(heaviest, weight)
            stack.append((node.node, weight))
        elif isinstance(node, Group):
            stack.append((node.node, weight))
        elif isinstance(node, Concat | Alternate):
            stack.extend((child, weight) for child in node.nodes)
    return heaviest


@dataclass(frozen=True)
class AnchoredLiteral:
    """A literal the compiled scanner finds lines by, perhaps anchored at a line's start
    and/or end."""

    text: bytes  # UTF-8; empty only with both anchors (`^$`: empty lines)
    at_start: bool
    at_end: bool
    whole_word: bool = False  # -w (never with anchors)


def _anchored_literal(node: Node) -> AnchoredLiteral | None:
    """`^lit`, `lit$`, `^lit$` or `^$`, with `lit` nothing but case-sensitive literals."""
    parts: list[Node] = []

    def flatten(n: Node) -> None:
        if isinstance(n, Group):
            flatten(n.node)
        elif isinstance(n, Concat):
            for child in n.nodes:
                flatten(child)
        else:
            parts.append(n)

    flatten(node)
    at_start = bool(parts) and isinstance(parts[0], Assertion) and parts[0].kind == "^"
    at_end = len(parts) > at_start and isinstance(parts[-1], Assertion) and parts[-1].kind == "$"
    middle = parts[int(at_start):len(parts) - int(at_end)]
    if not (at_start or at_end) or not all(
            isinstance(n, Literal) and not n.fold for n in middle):
        return None
    if not middle and not (at_start and at_end):
        return None
    return AnchoredLiteral("".join(n.char for n in middle).encode("utf-8"),  # type: ignore[union-attr]
                           at_start, at_end)


@dataclass(frozen=True)
class RequiredLiteral:
    text: bytes  # UTF-8
    fold: bool  # matched case-insensitively
    at_line_start: bool = False  # every match holds it at the start of a line


def _required(node: Node, bare: bool) -> RequiredLiteral | None:
    """The literal to look for first (`LineFilteredFinder`), if it pays: RE2 finds a
    case-sensitive literal that starts a pattern about as fast by itself (memchr), unless
    the pattern is wrapped (`-w`, `\\b`)."""
    run = required_literal(node)
    if run is None:
        return None
    fold = any(lit.fold for lit in run.literals)
    if bare and not fold and not run.at_line_start and _starts_with_literal(node):
        return None
    return RequiredLiteral("".join(lit.char for lit in run.literals).encode("utf-8"), fold,
                           run.at_line_start)


def _starts_with_literal(node: Node) -> bool:
    while True:
        if isinstance(node, Group):
            node = node.node
        elif isinstance(node, Concat) and node.nodes:
            node = node.nodes[0]
        else:
            return isinstance(node, Literal)


def _plain_literal(node: Node) -> str | None:
    """The text of a pattern that is nothing but case-sensitive literal characters."""
    if isinstance(node, Literal):
        return None if node.fold else node.char
    if isinstance(node, Group):
        return _plain_literal(node.node)
    if isinstance(node, Concat):
        parts = [_plain_literal(n) for n in node.nodes]
        return None if any(p is None for p in parts) else "".join(parts)  # type: ignore[arg-type]
    return None


# --- results ----------------------------------------------------------------------------------


class Line(tuple):
    """A matching line (with submatches) or a context line, as ripgrep reports them.

    A tuple (line_number, byte_offset, text, submatches) with named accessors: searches that
    match hundreds of thousands of lines build one per line, and a tuple is built in C.
    """

    __slots__ = ()

    def __new__(cls, line_number: int, byte_offset: int, text: bytes,
                submatches: list[tuple[int, int]] | None = None) -> Line:
        return tuple.__new__(cls, (line_number, byte_offset, text, submatches or []))

    line_number = property(itemgetter(0), doc="1-based line number")
    byte_offset = property(itemgetter(1), doc="offset of the line's first byte in the file")
    text = property(itemgetter(2), doc="the line, including its terminator if any")
    submatches = property(itemgetter(3), doc="byte ranges of the matches within `text`")

    @property
    def is_match(self) -> bool:
        return bool(self[3])

    def utf16_column(self, byte_column: int) -> int:
        """The UTF-16 code-unit column of a byte column (LSP's default position encoding)."""
        prefix = self[2][:byte_column].decode("utf-8", "replace")
        return len(prefix.encode("utf-16-le")) // 2


_new_line = tuple.__new__  # _new_line(Line, (number, offset, text, subs)): the hot-path form


@dataclass(slots=True)
class FileMatches:
    path: str
    lines: list[Line]  # matching and context lines in line order
    counted: int = -1  # matching lines, when the search counted them already
    size: int = 0  # the file's searchable bytes

    @property
    def match_count(self) -> int:
        if self.counted < 0:
            self.counted = sum(1 for line in self.lines if line[3])
        return self.counted


@dataclass
class SearchStats:
    candidates: int = 0  # blobs the trigram plan selected (within the snapshot)
    files_searched: int = 0
    files_in_scope: int = 0  # files the globs, paths and types kept (rg: "searched")
    bytes_searched: int = 0
    matched_lines: int = 0
    matched_files: int = 0
    scanned: bool = False  # whole packs scanned instead of candidate blobs
    plan_seconds: float = 0.0
    seconds: float = 0.0


# --- the search -------------------------------------------------------------------------------


def _truncate(lines: list[Line], max_matches: int) -> list[Line]:
    """The lines up to the `max_matches`-th match (its trailing context dropped)."""
    seen = 0
    for k, line in enumerate(lines):
        if line.submatches:
            seen += 1
            if seen == max_matches:
                return lines[:k + 1]
    return lines


MAX_GLOB_CHARS = 64 * 1024  # a glob's length
MAX_GLOB_ALTERNATIVES = 4096  # the globs one glob's {a,b} alternations spell out


def expand_braces(glob: str, limit: int = MAX_GLOB_ALTERNATIVES) -> list[str]:
    """`*.{py,pyi}` -> [`*.py`, `*.pyi`], nested braces too; escaped or unbalanced braces stay.
    PatternError when there would be more than `limit` (`{a,b}` ten times over is 1,024)."""
    out = _expand_braces(glob, limit)
    if len(out) > limit:
        raise PatternError(f"the glob's {{a,b}} alternations spell out more than {limit:,} "
                           "globs, the limit", glob, 0, "glob")
    return out


def _expand_braces(glob: str, limit: int) -> list[str]:
    depth, start = 0, -1
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                body = glob[start + 1:i]
                parts, level, last = [], 0, 0
                for j, ch in enumerate(body):
                    level += ch == "{"
                    level -= ch == "}"
                    if ch == "," and level == 0:
                        parts.append(body[last:j])
                        last = j + 1
                parts.append(body[last:])
                head, tail = glob[:start], glob[i + 1:]
                out: list[str] = []
                for part in parts:
                    out += _expand_braces(head + part + tail, limit)
                    if len(out) > limit:  # stop before spelling out the rest
                        break
                return out
        i += 1
    return [glob]


def _glob_matcher(regex: str):  # noqa: ANN202 - a function of a path
    """The search function of a glob's regex (pathspec's translation), run by RE2: Python's
    backtracking `re` took minutes on `*a*a*a*a*a*a*a*a*a*a*a*b` against a 40-character path.

    Paths are matched as bytes, one character a byte (RE2's Latin-1 mode; the glob's own
    non-ASCII letters turned into their UTF-8 bytes), as ripgrep's globset does: a file name
    that is not UTF-8 is matched by `*` rather than refused."""
    options = re2.Options()
    options.log_errors = False
    options.encoding = re2.Options.Encoding.LATIN1
    try:
        search = re2.compile(regex.encode("utf-8"), options).search  # bytes read as Latin-1
    except re2.error:  # pragma: no cover - pathspec emits nothing RE2 refuses today
        import re

        search = re.compile(regex.encode("utf-8")).search

    def match(path: str):  # noqa: ANN202 - a match or None
        return search(path.encode("utf-8", "surrogateescape"))

    return match


class GlobFilter:
    """ripgrep's -g: gitignore-style globs, later ones winning; '!' excludes. With any include
    glob, files matching none of the include globs are left out."""

    def __init__(self, globs: Sequence[str]) -> None:
        # pathspec 1.x: Git's own gitignore rules (the older GitWildMatchPattern is deprecated)
        from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

        self.rules: list[tuple[object, bool]] = []
        for glob in globs:
            if len(glob) > MAX_GLOB_CHARS:
                raise PatternError(f"the glob is {len(glob):,} characters long, over the limit "
                                   f"of {MAX_GLOB_CHARS:,}", glob, MAX_GLOB_CHARS, "glob")
            exclude = glob.startswith("!")
            # ripgrep's globs know {a,b} alternation; gitignore syntax does not: expand it.
            for alternative in expand_braces(glob[1:] if exclude else glob):
                regex, include = GitIgnoreSpecPattern.pattern_to_regex(alternative)
                if include is not None and regex is not None:
                    self.rules.append((_glob_matcher(regex), not exclude))
        self.has_includes = any(include for _, include in self.rules)

    def __call__(self, path: str) -> bool:
        decision = self.decision(path)
        return True if decision is None else decision

    def decision(self, path: str) -> bool | None:
        """True or False when a glob decides (or no include glob matches), else None."""
        decision = None
        for match, include in self.rules:
            if match(path) is not None:
                decision = include
        if decision is None and self.has_includes:
            return False
        return decision


def folder_matcher(globs: Sequence[str]) -> Callable[[str], bool | None]:
    """folder -> the last matching glob's verdict (include True, exclude False), None if no
    glob matches it: what rg decides for a folder (an include glob that misses a folder does
    not exclude it). Two filters behind a catch-all first rule, one including and one
    excluding, tell "no glob matched" from "an exclude matched" through GlobFilter's public
    decision alone."""
    if_none_true = GlobFilter(["**", *globs])
    if_none_false = GlobFilter(["!**", *globs])

    def matched(path: str) -> bool | None:
        a, b = if_none_true.decision(path), if_none_false.decision(path)
        return None if a and not b else bool(a)

    return matched


def file_filter(globs: tuple[str, ...], scope: FileScope | None
                ) -> Callable[[str], bool] | None:
    """path -> kept, by -g globs and the scope together (ripgrep's precedence), or None
    when everything is kept."""
    globber = GlobFilter(globs) if globs else None
    if scope is None:
        return globber
    if globber is None and not scope.paths and not scope.types and not scope.types_not:
        # the CLI's everyday case, per file of the snapshot: kept cheap (~0.2 µs, not ~2)
        if scope.hidden:
            return None
        return lambda path: not (path.startswith(".") or "/." in path)
    if globber is None:
        return lambda path: scope.keeps(path, None)
    folder_match = folder_matcher(globs)
    return lambda path: scope.keeps(path, globber.decision(path), folder_match)


class SnapshotSearcher:
    """Searches one snapshot (a loaded manifest) of an index store."""

    def __init__(self, store: IndexStore, manifest: Manifest,
                 max_filesize: int | None = None) -> None:
        self.store = store
        self.manifest = manifest
        # Files larger than this are left out (rg --max-filesize), whatever cap the blobs
        # were stored under: one blob serves snapshots indexed with different caps.
        self.max_filesize = max_filesize
        self._blob_maps: dict[tuple, tuple[dict[int, list[int]], int]] = {}
        self._pack_spans: dict[tuple, list[tuple[int, list[tuple[int, int, int]]]]] = {}
        self._files_in_scope: dict[tuple, int] = {}  # paths `_blob_map` kept, per key

    def search(self, options: SearchOptions, compiled: CompiledSearch | None = None,
               stats: SearchStats | None = None,
               check: Callable[[], None] | None = None) -> Iterator[FileMatches]:
        """The matches of `options`, file by file in path order. `check` (a cancel token's
        `check`) is called before each job of a few MB and each candidate file: it raises to
        stop the work itself, not only the reading of its results."""
        compiled = compiled or compile_search(options)
        stats = stats if stats is not None else SearchStats()
        started = time.perf_counter()
        manifest = self.manifest
        key = (options.globs, options.scope)
        by_blob, wanted_bytes = self._blob_map(key)
        counted = self._files_in_scope.get(key)  # None: another thread just cleared it
        stats.files_in_scope += counted if counted is not None else sum(
            len(v) for v in by_blob.values())
        scan = compiled.plan.is_scan
        candidate_blobs: list[int] = []
        if not scan:
            t = time.perf_counter()
            selected = self.store.trigrams.candidates(compiled.plan.query, compiled.plan.lowered)
            stats.plan_seconds = time.perf_counter() - t
            candidate_blobs = [b for b in selected if b in by_blob]
            lengths = manifest.lengths
            candidate_bytes = sum(lengths[by_blob[b][0]] for b in candidate_blobs)
            # Many candidates: scan them as pack runs, in parallel threads for regexes.
            scan = candidate_bytes > SCAN_SHARE * max(wanted_bytes, 1) or (
                compiled.literal is None and len(candidate_blobs) > SCAN_CANDIDATES)
        stats.scanned = scan
        if scan:
            # only the candidates, skipping the rest (the trigram plan's, when it has one)
            subset = None if compiled.plan.is_scan else set(candidate_blobs)
            stats.candidates = len(by_blob) if subset is None else len(subset)
            jobs = self._jobs(key, subset, stats)
            if check is not None:
                jobs = _checked(jobs, check)
            results = self._scan_packs(compiled, options, by_blob, jobs, stats, check)
        else:
            stats.candidates = len(candidate_blobs)
            results = self._search_candidates(compiled, options, by_blob, candidate_blobs, stats,
                                              check)
        try:
            yield from results
        finally:
            stats.seconds = time.perf_counter() - started

    def _blob_map(self, key: tuple) -> tuple[dict[int, list[int]], int]:
        """blob number -> manifest indexes of the searchable files kept by `key` (globs,
        scope) (several paths may hold one blob), and their total bytes. Cached: a snapshot
        never changes."""
        cached = self._blob_maps.get(key)
        if cached is not None:
            return cached
        manifest = self.manifest
        kinds, blob_nos, lengths = manifest.kinds, manifest.blob_nos, manifest.lengths
        sizes, cap = manifest.sizes, self.max_filesize
        searchable = {int(k) for k in BlobKind if k.searchable}
        keep = file_filter(*key)
        by_blob: dict[int, list[int]] = {}
        total = 0
        for i in range(len(manifest)):
            if kinds[i] not in searchable or (keep is not None and not keep(manifest.paths[i])):
                continue
            if cap is not None and sizes[i] > cap:
                continue
            blob = blob_nos[i]
            entries = by_blob.get(blob)
            if entries is None:
                by_blob[blob] = [i]
                total += lengths[i]
            else:
                entries.append(i)
        if len(self._blob_maps) > 16:
            self._blob_maps.clear()
            self._files_in_scope.clear()
        self._blob_maps[key] = (by_blob, total)
        # counted once here: summing per search costs 2.5 ms at 27k files (timeit, 2 cores)
        self._files_in_scope[key] = sum(len(v) for v in by_blob.values())
        return by_blob, total

    # --- candidate blobs, visited in path order (streams) ---
    def _search_candidates(self, compiled: CompiledSearch, options: SearchOptions,
                           by_blob: dict[int, list[int]], candidate_blobs: list[int],
                           stats: SearchStats, check: Callable[[], None] | None = None
                           ) -> Iterator[FileMatches]:
        manifest = self.manifest
        order = sorted(i for b in candidate_blobs for i in by_blob[b])
        hits: dict[int, list[Line]] = {}
        find = compiled.span_finder()

        def lines_in_path_order() -> Iterator[tuple[int, list[Line]]]:
            for i in order:  # lazily: a limit stops the verification too
                blob = manifest.blob_nos[i]
                if blob not in hits:
                    if check is not None:
                        check()
                    data = self.store.packs.read(manifest.packs[i], manifest.offsets[i],
                                                 manifest.lengths[i])
                    stats.files_searched += 1
                    stats.bytes_searched += len(data)
                    with gc_paused():
                        hits[blob] = scan_bytes(data, 0, compiled, options, find)
                yield i, hits[blob]

        yield from self._emit(lines_in_path_order(), options, stats)

    # --- whole packs in one pass ---
    def _jobs(self, key: tuple, subset: set[int] | None, stats: SearchStats
              ) -> Iterator[tuple[int, list[tuple[int, int, int]]]]:
        """(pack, spans) jobs of about JOB_BYTES each, in pack order: the (start, end, blob)
        spans of the files kept by `key` (of the blobs in `subset`, if given). Lazily: a
        search that stops early (a limit) never looks at the packs after."""
        for pack, spans in self._spans_by_pack(key):
            part: list[tuple[int, int, int]] = []
            size = 0
            for span in spans:
                if subset is not None and span[2] not in subset:
                    continue
                part.append(span)
                size += span[1] - span[0]
                if size >= JOB_BYTES:
                    stats.files_searched += len(part)
                    stats.bytes_searched += size
                    yield pack, part
                    part, size = [], 0
            if part:
                stats.files_searched += len(part)
                stats.bytes_searched += size
                yield pack, part

    def _spans_by_pack(self, key: tuple) -> list[tuple[int, list[tuple[int, int, int]]]]:
        """(pack, sorted (start, end, blob) spans) of the blobs `_blob_map` keeps. Cached
        with it: ~27k files took ~20 ms a search to group and sort."""
        cached = self._pack_spans.get(key)
        if cached is not None:
            return cached
        manifest = self.manifest
        per_pack: dict[int, list[tuple[int, int, int]]] = {}  # pack -> [(offset, end, blob)]
        for blob, indexes in self._blob_map(key)[0].items():
            i = indexes[0]
            start = manifest.offsets[i]
            per_pack.setdefault(manifest.packs[i], []).append(
                (start, start + manifest.lengths[i], blob))
        for spans in per_pack.values():
            spans.sort()
        if len(self._pack_spans) > 16:
            self._pack_spans.clear()
        self._pack_spans[key] = result = sorted(per_pack.items())
        return result

    def _scan_packs(self, compiled: CompiledSearch, options: SearchOptions,
                    by_blob: dict[int, list[int]],
                    jobs: Iterator[tuple[int, list[tuple[int, int, int]]]],
                    stats: SearchStats, check: Callable[[], None] | None = None
                    ) -> Iterator[FileMatches]:
        # Phase 1 finds which blobs hold a match, job by job (a few MB each); phase 2 takes
        # their lines. RE2 releases the GIL, so regex jobs run ahead in parallel threads;
        # literal scans (memmem) are fast enough alone. With a limit, we stop early.
        scanner = _compiled_scanner(compiled, options)
        if scanner is not None:  # a literal's lines, job by job, in C
            yield from self._scan_jobs_compiled(scanner, jobs, by_blob, options, stats)
            return
        if _RegexLines is not None and not (options.context_before or options.context_after):
            yield from self._scan_jobs_regex(compiled, jobs, by_blob, options, stats)
            return
        first = next(jobs, None)
        if first is None:
            return
        jobs = itertools.chain((first,), jobs)
        by_regex = compiled.literal_whole_word and self._inside_words(compiled.literal, first)
        find = compiled.span_finder(regex_only=by_regex)
        find_lines = compiled.span_finder()

        def in_threads() -> bool:
            """Whether the finder spends its time in RE2, which releases the GIL: only then
            do threads help (a literal search is memory-bound, a line-filtered one Python-bound,
            until it goes plain)."""
            if isinstance(find, LineFilteredFinder):
                return find.plain
            return compiled.literal is None or by_regex

        def blobs_with_matches(job: tuple[int, list[tuple[int, int, int]]]
                               ) -> list[tuple[int, int, int, int, int]]:
            pack, spans = job
            with memoryview(self.store.packs.view(pack, spans[-1][1])) as buf:
                return blobs_in(pack, spans, buf)

        def blobs_in(pack: int, spans: list[tuple[int, int, int]], buf: memoryview
                     ) -> list[tuple[int, int, int, int, int]]:
            starts = [s for s, _, _ in spans]
            found_here = []
            first = 0
            while first < len(spans):
                # A run of blobs close together is searched in one call; a wide gap (blobs of
                # other snapshots, or ruled out by the trigram plan) is skipped.
                last = first
                while last + 1 < len(spans) and spans[last + 1][0] - spans[last][1] <= RUN_GAP:
                    last += 1
                pos, stop = spans[first][0], spans[last][1]
                while pos <= stop:
                    span = find(buf, pos, stop)
                    if span is None:
                        break
                    k = bisect.bisect_right(starts, span[0]) - 1
                    start, end, blob = spans[k]
                    if span[0] <= end:
                        found_here.append((pack, start, end, blob, span[0]))
                        pos = end + 1
                    else:  # in a small gap between blobs: move on
                        pos = spans[k + 1][0] if k + 1 <= last else stop + 1
                first = last + 1
            return found_here

        hits: dict[int, list[Line]] = {}
        found = 0
        limit = options.limit
        plain = not options.context_before and not options.context_after
        parts = _in_order(blobs_with_matches, jobs, SCAN_THREADS, in_threads)
        try:
            with gc_paused():  # lines pile up here: see gc_paused
                for part in parts:
                    for pack, start, end, blob, where in part:
                        if check is not None:  # lines of a blob in Python: can be slow
                            check()
                        buf = self.store.packs.view(pack, end)
                        line_start = max(buf.rfind(b"\n", start, where) + 1, start)
                        with memoryview(buf) as whole, whole[start:end] as data:
                            lines = scan_bytes(data, line_start - start, compiled, options,
                                               find_lines)
                        if lines:
                            hits[blob] = lines
                            found += len(by_blob[blob]) * (
                                len(lines) if plain else sum(1 for x in lines if x[3]))
                            if limit is not None and found >= limit:
                                break
                    if limit is not None and found >= limit:
                        break
        finally:
            parts.close()  # stops the threads
        yield from self._emit_hits(hits, by_blob, options, stats)

    def _scan_jobs_compiled(self, scanner: AnchoredLiteral,
                            jobs: Iterable[tuple[int, list[tuple[int, int, int]]]],
                            by_blob: dict[int, list[int]], options: SearchOptions,
                            stats: SearchStats) -> Iterator[FileMatches]:
        """The lines of a literal (or an anchored one) in every file of the jobs: one call
        of the compiled scanner per job, which finds and builds them file by file."""
        hits: dict[int, list[Line]] = {}
        found = 0
        limit = options.limit
        max_count = -1 if options.max_count is None else options.max_count
        with gc_paused():
            for pack, spans in jobs:
                budget = -1 if limit is None else limit - found
                with memoryview(self.store.packs.view(pack, spans[-1][1])) as buf:
                    part = _literal_lines_in_spans(
                        buf, spans, scanner.text, scanner.at_start, scanner.at_end,
                        scanner.whole_word, max_count, budget, Line, _word_bounded)
                for blob, lines in part:
                    hits[blob] = lines
                    found += len(by_blob[blob]) * len(lines)
                if limit is not None and found >= limit:
                    break
        yield from self._emit_hits(hits, by_blob, options, stats)

    def _scan_jobs_regex(self, compiled: CompiledSearch,
                         jobs: Iterator[tuple[int, list[tuple[int, int, int]]]],
                         by_blob: dict[int, list[int]], options: SearchOptions,
                         stats: SearchStats) -> Iterator[FileMatches]:
        """A pattern's lines in every file of the jobs: RE2 finds the matches (one call
        crosses a run of files without one), the compiled scanner builds the lines. Worker
        threads search SCAN_THREADS jobs at once without the GIL, each with its own copy of
        the compiled pattern (RE2 objects share their DFA cache under a lock); this thread
        builds the lines of each job, in job order, meanwhile."""
        limit = options.limit
        max_count = -1 if options.max_count is None else options.max_count
        budget = -1 if limit is None else limit  # per job: enough for any one
        per_thread = threading.local()

        def search(job: tuple[int, list[tuple[int, int, int]]]):  # noqa: ANN202
            """A worker's part: RE2 over the job, without the GIL."""
            pack, spans = job
            regexp = getattr(per_thread, "regexp", None)
            if regexp is None:
                regexp = per_thread.regexp = compiled.fresh_regexp()
            scanner = _regex_lines(compiled, regexp)  # one per job: the filter's account
            # a memoryview: StringZilla (a case-folded literal's filter) takes no mmap
            scanner.search_spans(memoryview(self.store.packs.view(pack, spans[-1][1])), spans,
                                 max_count, budget, RUN_GAP)
            return scanner

        hits: dict[int, list[Line]] = {}
        found = 0
        # SCAN_THREADS jobs run ahead while this thread builds lines
        scanners = _in_order(search, jobs, SCAN_THREADS)
        try:
            with gc_paused():
                for scanner in scanners:
                    for blob, lines in scanner.results():
                        hits[blob] = lines
                        found += len(by_blob[blob]) * len(lines)
                    if limit is not None and found >= limit:
                        break
        finally:
            scanners.close()  # stops the threads
        yield from self._emit_hits(hits, by_blob, options, stats)

    def _inside_words(self, literal: bytes, job: tuple[int, list[tuple[int, int, int]]]
                      ) -> bool:
        """Whether a -w literal turns up so often (inside longer words: `-w _`, `-w x`) that
        RE2 in threads finds the blobs holding it as a word sooner than a Python check of
        each occurrence (`-w id`, `-w self`): judged on the first job's bytes."""
        pack, spans = job
        start, end = spans[0][0], spans[-1][1]
        with memoryview(self.store.packs.view(pack, end)) as buf:
            occurrences = _count(buf, literal, start, end)
        return occurrences * WORD_CHECK_BYTES > end - start

    def _emit_hits(self, hits: dict[int, list[Line]], by_blob: dict[int, list[int]],
                   options: SearchOptions, stats: SearchStats) -> Iterator[FileMatches]:
        """`_emit` for the lines of blobs (`hits`), each at every path that holds it, in
        path order."""
        blob_nos = self.manifest.blob_nos
        order = sorted(i for b in hits for i in by_blob[b])
        yield from self._emit(((i, hits[blob_nos[i]]) for i in order), options, stats)

    def _emit(self, found: Iterable[tuple[int, list[Line]]], options: SearchOptions,
              stats: SearchStats) -> Iterator[FileMatches]:
        """FileMatches for (manifest index, lines) pairs, up to `options.limit` matching
        lines."""
        remaining = options.limit
        all_match = not options.context_before and not options.context_after
        for i, lines in found:
            if not lines:
                continue
            if remaining is not None and len(lines) > remaining:
                lines = lines[:remaining] if all_match else _truncate(lines, remaining)
            result = FileMatches(self.manifest.paths[i], lines, len(lines) if all_match else -1,
                                 self.manifest.lengths[i])
            count = result.match_count
            stats.matched_files += 1
            stats.matched_lines += count
            yield result
            if remaining is not None:
                remaining -= count
                if remaining <= 0:
                    return


def scan_bytes(data: bytes | memoryview, pos: int, compiled: CompiledSearch,
               options: SearchOptions, find=None) -> list[Line]:  # noqa: ANN001 - a span_finder
    """Every matching line of `data` (one file's searchable bytes: a memoryview of a pack
    spares a copy of the file) from `pos` (a line start) on, with context lines if asked
    for. Public: the language server runs it over unsaved editor buffers."""
    end = len(data)
    max_count = options.max_count
    view = not isinstance(data, bytes)
    found: list[tuple[int, int, int, list[tuple[int, int]]]] = []
    line_number = 1
    counted_to = 0
    literal = compiled.literal
    scanner = _compiled_scanner(compiled, options)
    if scanner is not None:
        return _literal_lines(data, pos, scanner.text, scanner.at_start, scanner.at_end,
                              scanner.whole_word, -1 if max_count is None else max_count,
                              Line, _word_bounded)
    plain = not options.context_before and not options.context_after
    if literal is not None:
        # The common case, kept free of calls through the finder: the search for the next
        # occurrence doubles as the search for more occurrences on the same line. With -w,
        # an occurrence with a word character beside it is skipped (checked inline for
        # ASCII neighbours, the usual case).
        size = len(literal)
        whole_word = compiled.literal_whole_word
        out: list = []
        at = _find(data, literal, pos)
        while whole_word and at >= 0 and not _bounded(data, at, at + size):
            at = _find(data, literal, at + 1)
        while at >= 0:
            line_start = _rfind(data, b"\n", 0, at) + 1
            line_end = _find(data, b"\n", at + size)
            if line_end < 0:
                line_end = end
            line_number += _count(data, b"\n", counted_to, line_start)
            counted_to = line_start
            subs = [(at - line_start, at - line_start + size)]
            at = _find(data, literal, at + size)
            while whole_word and at >= 0 and not _bounded(data, at, at + size):
                at = _find(data, literal, at + 1)
            while 0 <= at < line_end:
                subs.append((at - line_start, at - line_start + size))
                at = _find(data, literal, at + size)
                while whole_word and at >= 0 and not _bounded(data, at, at + size):
                    at = _find(data, literal, at + 1)
            if plain:
                text = data[line_start:line_end + 1]
                out.append(_new_line(Line, (line_number, line_start,
                                            text.tobytes() if view else text, subs)))
            else:
                out.append((line_number, line_start, line_end, subs))
            if max_count is not None and len(out) >= max_count:
                break
        return out if plain else _lines(data, out, options)
    if _RegexLines is not None and plain:  # the same loop, compiled
        return _regex_lines(compiled, finder=find).lines(
            data, pos, -1 if max_count is None else max_count)
    find = find or compiled.span_finder()
    can_be_empty = compiled.plan.can_be_empty
    back = compiled.back
    if back is not None:
        back_match, group = back._regexp.Match, compiled.group

        def find_back(data, p: int, line_start: int, line_end: int):  # noqa: ANN001, ANN202
            s = p - 1  # from the character before `p`: see CompiledSearch.back
            while s > line_start and (data[s] & 0xC0) == 0x80:
                s -= 1
            if p <= line_start:
                return find(data, p, line_end)
            spans = back_match(_UNANCHORED, data, s, line_end)
            return None if spans[0][0] < 0 else spans[group]

    # The empty string after a final newline is not a line (ripgrep never reports it).
    last = end - 1 if end and data[end - 1] == 10 else end
    span = find(data, pos, end)
    while span is not None:
        ms, me = span
        if ms > last or (ms == last and end == 0):
            break
        line_start = _rfind(data, b"\n", 0, ms) + 1
        line_end = _find(data, b"\n", me)
        if line_end < 0:
            line_end = end
        line_number += _count(data, b"\n", counted_to, line_start)
        counted_to = line_start
        subs = [(ms - line_start, me - line_start)]
        p = me if me > ms else _next_char(data, me, line_end)
        prev_end = me if me > ms else -1
        # further matches on the same line (none starts at its end unless it can be empty)
        while p < line_end or (p == line_end and can_be_empty):
            more = find(data, p, line_end) if back is None else find_back(data, p, line_start,
                                                                          line_end)
            if more is None:
                break
            if more[0] == more[1] == prev_end:
                # As rg (Rust's regex iterator): no empty match right where the last match
                # ended; search again one character on.
                if prev_end >= line_end:
                    break
                p, prev_end = _next_char(data, prev_end, line_end), -1
                continue
            subs.append((more[0] - line_start, more[1] - line_start))
            prev_end = more[1] if more[1] > more[0] else -1
            p = more[1] if more[1] > more[0] else _next_char(data, more[1], line_end)
        if line_end == end and len(subs) > 1 and subs[-1][0] == subs[-1][1] == end - line_start:
            # rg reports no empty match at the end of a file without a final newline (a line
            # with nothing else keeps it: a matching line holds a submatch here)
            subs.pop()
        found.append((line_number, line_start, line_end, subs))
        if (max_count is not None and len(found) >= max_count) or line_end >= end:
            break
        span = find(data, line_end + 1, end)
    return _lines(data, found, options)


def _regex_lines(compiled: CompiledSearch, regexp=None, finder=None):  # noqa: ANN001, ANN202
    """The compiled scanner of a pattern's lines (`regexp`: a copy of the compiled pattern
    for this thread). A case-folded required literal filters lines through
    `LineFilteredFinder` (`finder` if it is one: its account goes on); otherwise the
    scanner looks for the pattern's byte window, if it has one, in C."""
    required = compiled.required
    if required is not None and required.fold:
        if not isinstance(finder, LineFilteredFinder):
            finder = compiled.span_finder()
    else:
        finder = None
    return _RegexLines(compiled.regex._regexp if regexp is None else regexp, compiled.group,
                       compiled.plan.can_be_empty, compiled.window, finder, Line,
                       None if compiled.back is None else compiled.back._regexp)


def _compiled_scanner(compiled: CompiledSearch, options: SearchOptions
                      ) -> AnchoredLiteral | None:
    """The literal the compiled scanner finds lines by, where it can: a plain (or -w)
    case-sensitive literal, or an anchored one, without context lines."""
    if _literal_lines is None or options.context_before or options.context_after:
        return None
    if compiled.anchored is not None:
        return compiled.anchored
    if compiled.literal is not None:
        return AnchoredLiteral(compiled.literal, False, False, compiled.literal_whole_word)
    return None


def _lines(data: bytes | memoryview, found: list[tuple[int, int, int, list[tuple[int, int]]]],
           options: SearchOptions) -> list[Line]:
    if not found:
        return []
    if options.context_before or options.context_after:
        return _with_context(data, found, options.context_before, options.context_after)
    if isinstance(data, bytes):
        return [_new_line(Line, (n, ls, data[ls:le + 1], subs)) for n, ls, le, subs in found]
    return [_new_line(Line, (n, ls, data[ls:le + 1].tobytes(), subs))
            for n, ls, le, subs in found]


def _next_char(data: bytes, pos: int, limit: int) -> int:
    """The position after an empty match: one byte on, as rg steps (it reports empty
    matches inside a multi-byte character: `a*` on `éa` gives columns 0, 1 and 2)."""
    return pos + 1


def _with_context(data: bytes | memoryview,
                  found: list[tuple[int, int, int, list[tuple[int, int]]]],
                  before: int, after: int) -> list[Line]:
    lines: list[Line] = []
    last_emitted = 0  # highest line number emitted so far
    for idx, (number, ls, le, subs) in enumerate(found):
        ctx: list[Line] = []
        p, n = ls, number
        while len(ctx) < before and n - 1 > last_emitted and p > 0:
            prev_start = _rfind(data, b"\n", 0, p - 1) + 1
            n -= 1
            ctx.append(Line(n, prev_start, bytes(data[prev_start:p])))
            p = prev_start
        lines.extend(reversed(ctx))
        lines.append(Line(number, ls, bytes(data[ls:le + 1]), subs))
        last_emitted = number
        next_number = found[idx + 1][0] if idx + 1 < len(found) else None
        p, n = le + 1, number
        for _ in range(after):
            if p >= len(data) or (next_number is not None and n + 1 >= next_number):
                break
            nl = _find(data, b"\n", p)
            line_end = len(data) if nl < 0 else nl + 1
            n += 1
            lines.append(Line(n, p, bytes(data[p:line_end])))
            last_emitted = n
            p = line_end
    return lines


_Job = TypeVar("_Job")


def _checked(jobs: Iterator[_Job], check: Callable[[], None]) -> Iterator[_Job]:
    """`jobs`, calling `check` before each (it raises to stop the search)."""
    for job in jobs:
        check()
        yield job


def _in_order(work, jobs: Iterable, threads: int,  # noqa: ANN001 - any callable
              parallel=lambda: True) -> Iterator:  # noqa: ANN001
    """work(job) for each job, in job order; while `parallel()` says threads pay (work that
    releases the GIL), up to `threads` run ahead in a pool. Closing the generator stops it
    and the pool (jobs not started are cancelled)."""
    pool: ThreadPoolExecutor | None = None
    pending: deque[Future] = deque()
    try:
        for job in jobs:
            if pool is None and threads > 1 and parallel():
                pool = ThreadPoolExecutor(max_workers=threads)
            if pool is None:
                yield work(job)
                continue
            pending.append(pool.submit(work, job))
            if len(pending) >= threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


_ASCII_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _is_word_char(c: str) -> bool:
    """ripgrep's Unicode \\w: letters, marks, decimal and letter numbers, connectors, ZWJ/ZWNJ."""
    import unicodedata

    category = unicodedata.category(c)
    return category[0] in "LM" or category in ("Nd", "Nl", "Pc") or c in "\u200c\u200d"


_NOT_BOUNDARY = bytes(1 if b in _ASCII_WORD or b >= 0x80 else 0 for b in range(256))


def _bounded(data: bytes, start: int, end: int) -> bool:
    """`_word_bounded`, with the usual case (ASCII neighbours) decided here: one table
    lookup per side instead of a call and set tests per occurrence."""
    before = data[start - 1] if start else 10
    after = data[end] if end < len(data) else 10
    if not (_NOT_BOUNDARY[before] or _NOT_BOUNDARY[after]):
        return True
    if (before < 0x80 and _NOT_BOUNDARY[before]) or (after < 0x80 and _NOT_BOUNDARY[after]):
        return False  # an ASCII word character beside it
    return _word_bounded(data, start, end)  # a non-ASCII neighbour: decode it


def _word_bounded(data: bytes, start: int, end: int) -> bool:
    """No word character right before `start` nor right after `end` (line ends count as
    non-word): ripgrep's -w, `(?:^|\\W)pattern(?:$|\\W)`. An invalid UTF-8 neighbour is not a
    boundary: `\\W` matches characters, never stray bytes."""
    if start > 0:
        b = data[start - 1]
        if b >= 0x80:
            k = start - 1
            while k > 0 and start - k < 4 and (data[k] & 0xC0) == 0x80:
                k -= 1
            try:
                if _is_word_char(str(data[k:start], "utf-8")[-1]):
                    return False
            except UnicodeDecodeError:
                return False
        elif b in _ASCII_WORD:
            return False
    if end < len(data):
        b = data[end]
        if b >= 0x80:
            size = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
            try:
                if _is_word_char(str(data[end:end + size], "utf-8")):
                    return False
            except UnicodeDecodeError:
                return False
        elif b in _ASCII_WORD:
            return False
    return True
