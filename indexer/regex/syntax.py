"""Parse ripgrep's regex dialect (Rust `regex` syntax) into a small AST.

One parse serves two consumers: the trigram planner (which needs literals and structure) and
the RE2 translator (which re-emits the pattern in RE2's dialect). Parsing ourselves gives errors
with a position in the user's pattern, and lets us follow ripgrep where RE2 differs
(`\\u{...}`, Unicode `\\w`, `(?x)`, the ban on a literal newline).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from indexer.errors import PatternError
from indexer.regex.classes import class_ranges, set_operation

MAX_CODEPOINT = 0x10FFFF
MAX_REPEAT = 1000  # RE2's own limit on counted repetition (translate.py spells out more)
MAX_COUNT = 2**32 - 1  # rg's: a count must fit 32 bits
# Refused before any work: planning and compiling cost time in proportion to a pattern's size
# (about 4 µs a character here), and a request must not stall the server. ripgrep's own limits
# are on the compiled program (--regex-size-limit) and on nesting (250, its wrapping group
# included); ours are on the text, and the nesting as ripgrep counts it.
MAX_PATTERN_CHARS = 256 * 1024
NEST_LIMIT = 250

# The parser, the planner and the translator recurse once or a few times per level of
# nesting: the nesting limit keeps them far below this.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))


# --- AST --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    char: str
    fold: bool  # case-insensitive at this position


@dataclass(frozen=True, slots=True)
class ClassItem:
    """One member of a character class: a range, or a named class kept as RE2 text."""

    lo: int = 0
    hi: int = -1
    named: str | None = None  # RE2 syntax, e.g. "\\p{Greek}" or "[:alpha:]" (already translated)
    negated_named: bool = False


@dataclass(frozen=True, slots=True)
class CharClass:
    items: tuple[ClassItem, ...]
    negated: bool
    fold: bool
    depth: int = 0  # bracketed: 1 plus the classes and set operations nested in it

    def small_set(self, limit: int) -> frozenset[str] | None:
        """The characters this class matches, if positive, made of ranges and at most `limit`."""
        if self.negated or any(item.named is not None for item in self.items):
            return None
        size = sum(item.hi - item.lo + 1 for item in self.items)
        if size > limit:
            return None
        return frozenset(chr(c) for item in self.items for c in range(item.lo, item.hi + 1))


@dataclass(frozen=True, slots=True)
class AnyChar:
    pass


@dataclass(frozen=True, slots=True)
class Assertion:
    # "^", "$", "\\A", "\\z", "\\b", "\\B", "\\b{start}", "\\b{end}", "\\b{start-half}",
    # "\\b{end-half}" (`\\<` and `\\>` are the first two)
    kind: str


@dataclass(frozen=True, slots=True)
class Group:
    node: Node
    capture: bool
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Repeat:
    node: Node
    min: int
    max: int | None  # None = unbounded
    greedy: bool


@dataclass(frozen=True, slots=True)
class Concat:
    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Alternate:
    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Empty:
    pass


Node = Literal | CharClass | AnyChar | Assertion | Group | Repeat | Concat | Alternate | Empty


# --- named classes ----------------------------------------------------------------------------

# ripgrep's \w, \d and \s are Unicode-aware; RE2's are ASCII-only, so spell them out.
WORD_CLASS = r"\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\x{200C}\x{200D}"
DIGIT_CLASS = r"\p{Nd}"
SPACE_CLASS = (r"\t\n\x0B\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}"
               r"\x{202F}\x{205F}\x{3000}")
PERL_CLASSES = {"w": WORD_CLASS, "d": DIGIT_CLASS, "s": SPACE_CLASS}
POSIX_CLASSES = {
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
}
# Long Unicode property names that ripgrep accepts and RE2 spells with the short name.
UNICODE_ALIASES = {
    "letter": "L", "lowercase_letter": "Ll", "uppercase_letter": "Lu", "titlecase_letter": "Lt",
    "mark": "M", "number": "N", "decimal_number": "Nd", "digit": "Nd", "punctuation": "P",
    "symbol": "S", "separator": "Z", "other": "C", "control": "Cc", "space_separator": "Zs",
    "connector_punctuation": "Pc", "math_symbol": "Sm", "currency_symbol": "Sc",
    "letter_number": "Nl", "other_number": "No", "nonspacing_mark": "Mn",
}

SIMPLE_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
META_CHARS = set("\\.+*?()|[]{}^$#&-~ ")


@dataclass
class Flags:
    fold: bool = False
    multi_line: bool = True  # ripgrep searches lines: ^ and $ are line anchors
    dot_nl: bool = False
    swap_greed: bool = False
    verbose: bool = False

    def copy(self) -> Flags:
        return Flags(self.fold, self.multi_line, self.dot_nl, self.swap_greed, self.verbose)


@dataclass
class ParsedPattern:
    node: Node
    has_uppercase_literal: bool  # for smart case
    captures: int = 0
    literal_newline_at: int | None = None
    notes: list[str] = field(default_factory=list)


class _Parser:
    def __init__(self, pattern: str, fold: bool) -> None:
        self.p = pattern
        self.i = 0
        self.flags = Flags(fold=fold)
        self.has_upper = False
        self.captures = 0
        self.newline_at: int | None = None
        self.depth = 0  # open groups and classes
        self.names: set[str] = set()  # capture group names so far

    # --- helpers ---
    def error(self, message: str, pos: int | None = None) -> PatternError:
        return PatternError(message, self.p, self.i if pos is None else pos)

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.p[j] if j < len(self.p) else None

    def eof(self) -> bool:
        return self.i >= len(self.p)

    def skip_verbose(self) -> None:
        while self.flags.verbose and not self.eof():
            c = self.p[self.i]
            if c.isspace():
                self.i += 1
            elif c == "#":
                end = self.p.find("\n", self.i)
                self.i = len(self.p) if end < 0 else end + 1
            else:
                return

    # --- grammar ---
    def enter(self, start: int) -> None:
        """One more open group or class: refused past ripgrep's nesting limit (which counts
        the group ripgrep wraps every pattern in) before the recursion goes deeper."""
        self.depth += 1
        if self.depth >= NEST_LIMIT:
            raise self.error(f"exceed the maximum number of nested parentheses/brackets "
                             f"({NEST_LIMIT})", start)

    def parse(self) -> ParsedPattern:
        if len(self.p) > MAX_PATTERN_CHARS:
            raise PatternError(
                f"the pattern is {len(self.p):,} characters long, over the limit of "
                f"{MAX_PATTERN_CHARS:,} characters", self.p, MAX_PATTERN_CHARS)
        node = self.parse_alternation()
        if not self.eof():
            raise self.error("unopened group: ')' without a matching '('")
        if _nesting(node) >= NEST_LIMIT:  # as ripgrep counts: its wrapping group is one more
            raise self.error(f"exceed the maximum number of nested parentheses/brackets "
                             f"({NEST_LIMIT})", 0)
        return ParsedPattern(node, self.has_upper, self.captures, self.newline_at)

    def parse_alternation(self) -> Node:
        branches = [self.parse_concat()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.parse_concat())
        return branches[0] if len(branches) == 1 else Alternate(tuple(branches))

    def parse_concat(self) -> Node:
        items: list[Node] = []
        while True:
            self.skip_verbose()
            c = self.peek()
            if c is None or c == "|" or c == ")":
                break
            atom = self.parse_atom()
            if atom is None:  # a bare flag group like (?i): changes flags for the rest
                continue
            items.append(self.parse_repetition(atom))
        # A bare (?i) lasts until the end of the enclosing group: parse_group restores flags.
        if not items:
            return Empty()
        return items[0] if len(items) == 1 else Concat(tuple(items))

    def parse_repetition(self, atom: Node) -> Node:
        while True:
            self.skip_verbose()
            c = self.peek()
            start = self.i
            if c in ("*", "+", "?"):
                self.i += 1
                lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
            elif c == "{":  # in rg's dialect `{` after an expression always counts
                lo, hi = self._parse_counted()
            else:
                return atom
            if isinstance(atom, Empty):
                raise self.error("repetition operator missing expression", start)
            greedy = True
            if self.peek() == "?":
                self.i += 1
                greedy = False
            if self.flags.swap_greed:
                greedy = not greedy
            if isinstance(atom, Repeat):
                # Stacked repetition (`a**`, `x{2}{3}`): rg repeats the repetition.
                atom = Group(atom, False)
            atom = Repeat(atom, lo, hi, greedy)

    def _decimal(self) -> int | None:
        """A decimal number at the position (spaces around it skipped, as rg does), or None."""
        while self.peek() == " " or (self.flags.verbose and (self.peek() or "x").isspace()):
            self.i += 1
        j = self.i
        while self.i < len(self.p) and self.p[self.i] in "0123456789":
            self.i += 1
        digits = self.p[j:self.i]
        while self.peek() == " " or (self.flags.verbose and (self.peek() or "x").isspace()):
            self.i += 1
        if not digits:
            return None
        value = int(digits)
        if value > MAX_COUNT:
            raise self.error("decimal literal invalid", j)
        return value

    def _parse_counted(self) -> tuple[int, int | None]:
        start = self.i
        self.i += 1
        lo = self._decimal()
        if lo is None:
            if self.eof():
                raise self.error("unclosed counted repetition", start)
            raise self.error("repetition quantifier expects a valid decimal", self.i)
        hi: int | None = lo
        if self.peek() == ",":
            self.i += 1
            hi = self._decimal()
        if self.peek() != "}":
            if self.eof():
                raise self.error("unclosed counted repetition", start)
            raise self.error("repetition quantifier expects a valid decimal", self.i)
        self.i += 1
        if hi is not None and hi < lo:
            raise self.error("invalid repetition count range, the start must be <= the end",
                             start)
        return lo, hi

    def parse_atom(self) -> Node | None:
        c = self.p[self.i]
        start = self.i
        if c == "(":
            return self.parse_group()
        if c == "[":
            return self.parse_class()
        if c == ".":
            self.i += 1
            return AnyChar()
        if c == "^":
            self.i += 1
            return Assertion("^")
        if c == "$":
            self.i += 1
            return Assertion("$")
        if c == "\\":
            return self.parse_escape()
        if c in "*+?{":
            raise self.error("repetition operator missing expression", start)
        self.i += 1
        return self.literal(c, start)

    def literal(self, c: str, pos: int) -> Literal:
        if c == "\n" and self.newline_at is None:
            self.newline_at = pos
        if c != c.lower():
            self.has_upper = True
        return Literal(c, self.flags.fold)

    def parse_group(self) -> Node | None:
        start = self.i
        self.i += 1
        name: str | None = None
        capture = True
        outer_flags = self.flags.copy()
        if self.peek() == "?":
            self.i += 1
            c = self.peek()
            if c in ("=", "!") or (c == "<" and self.peek(1) in ("=", "!")):
                raise self.error(
                    "look-around, including look-ahead and look-behind, is not supported", start)
            if c == "P" and self.peek(1) == "<" or c == "<":
                self.i += 2 if c == "P" else 1
                end = self.p.find(">", self.i)
                if end < 0:
                    raise self.error("unclosed capture group name", start)
                name = self.p[self.i:end]
                if not name or not all(ch.isalnum() or ch in "_[]." for ch in name) or (
                        name[0].isdigit()):
                    raise self.error(f"invalid capture group name {name!r}", self.i)
                if name in self.names:
                    raise self.error("duplicate capture group name", self.i)
                self.names.add(name)
                self.i = end + 1
            else:
                # Flags: (?flags) or (?flags:...)
                on = True
                flags = self.flags.copy()
                while True:
                    ch = self.peek()
                    if ch is None:
                        raise self.error("unclosed group", start)
                    self.i += 1
                    if ch == "-":
                        on = False
                    elif ch in "imsUxu":
                        if ch == "i":
                            flags.fold = on
                        elif ch == "m":
                            flags.multi_line = True  # lines are searched one at a time anyway
                        elif ch == "s":
                            flags.dot_nl = on
                        elif ch == "U":
                            flags.swap_greed = on
                        elif ch == "x":
                            flags.verbose = on
                        elif ch == "u" and not on:
                            raise self.error(
                                "the (?-u) flag (byte-oriented matching) is not supported",
                                self.i - 1)
                    elif ch == ")":
                        self.flags = flags  # bare flag group: applies to the rest of this group
                        return None
                    elif ch == ":":
                        capture = False
                        self.flags = flags
                        break
                    elif ch == "R":
                        raise self.error("the CRLF flag (?R) is not supported", self.i - 1)
                    else:
                        raise self.error(f"unrecognized flag {ch!r}", self.i - 1)
        if capture:
            self.captures += 1
        self.enter(start)
        node = self.parse_alternation()
        if self.peek() != ")":
            raise self.error("unclosed group", start)
        self.i += 1
        self.depth -= 1
        self.flags = outer_flags
        return Group(node, capture, name)

    def parse_escape(self) -> Node:
        start = self.i
        self.i += 1
        c = self.peek()
        if c is None:
            raise self.error("incomplete escape sequence at the end of the pattern", start)
        self.i += 1
        if c in "123456789":
            raise self.error("backreferences are not supported", start)
        if c == "b":
            return Assertion(self._special_word_boundary(start))
        if c == "B":
            return Assertion("\\B")
        if c == "A":
            return Assertion("\\A")
        if c == "z":
            return Assertion("\\z")
        if c == "<":
            return Assertion("\\b{start}")
        if c == ">":
            return Assertion("\\b{end}")
        if c.lower() in PERL_CLASSES:
            return CharClass((ClassItem(named=PERL_CLASSES[c.lower()]),), c.isupper(), False)
        if c in ("p", "P"):
            item = self.parse_unicode_class(start)
            # (?i) folds Unicode classes too: `(?i)\p{Lu}` matches lower-case letters
            return CharClass((item,), c == "P", self.flags.fold)
        cp = self.parse_escaped_codepoint(c, start)
        return self.literal(chr(cp), start)

    def _special_word_boundary(self, start: int) -> str:
        """`\\b`, or `\\b{start}`, `\\b{end}`, `\\b{start-half}`, `\\b{end-half}` (rg's
        rule: a `{` followed by a letter or `-` opens a special boundary, else a count)."""
        if self.peek() != "{":
            return "\\b"
        j = self.i + 1
        while self.flags.verbose and j < len(self.p) and self.p[j].isspace():
            j += 1
        if j >= len(self.p) or not (self.p[j].isascii() and (self.p[j].isalpha()
                                                             or self.p[j] == "-")):
            return "\\b"
        k = j
        while k < len(self.p) and self.p[k].isascii() and (self.p[k].isalpha()
                                                           or self.p[k] == "-"):
            k += 1
        name_end = k
        while self.flags.verbose and k < len(self.p) and self.p[k].isspace():
            k += 1
        if k >= len(self.p) or self.p[k] != "}":
            raise self.error("special word boundary assertion is either unclosed or contains "
                             "an invalid character", self.i)
        name = self.p[j:name_end]
        if name not in ("start", "end", "start-half", "end-half"):
            raise self.error("unrecognized special word boundary assertion, valid choices are: "
                             "start, end, start-half or end-half", j)
        self.i = k + 1
        return f"\\b{{{name}}}"

    def parse_escaped_codepoint(self, c: str, start: int) -> int:
        """The code point of a single-character escape (already past the letter `c`)."""
        if c in SIMPLE_ESCAPES:
            return ord(SIMPLE_ESCAPES[c])
        if c in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[c]
            if self.peek() == "{":
                end = self.p.find("}", self.i)
                if end < 0:
                    raise self.error("unclosed hexadecimal escape", start)
                digits = self.p[self.i + 1:end]
                self.i = end + 1
            else:
                digits = self.p[self.i:self.i + width]
                self.i += len(digits)
                if len(digits) != width:
                    raise self.error(f"\\{c} needs exactly {width} hexadecimal digits", start)
            try:
                cp = int(digits, 16)
            except ValueError as exc:
                raise self.error(f"invalid hexadecimal digits {digits!r}", start) from exc
            if cp > MAX_CODEPOINT or 0xD800 <= cp <= 0xDFFF:
                raise self.error(f"invalid Unicode scalar value {digits}", start)
            return cp
        if c == "0":
            raise self.error("octal escapes are not supported", start)
        if c.isalnum():
            raise self.error(f"unrecognized escape sequence \\{c}", start)
        return ord(c)  # escaped punctuation or space: the character itself

    def parse_unicode_class(self, start: int) -> ClassItem:
        if self.peek() == "{":
            end = self.p.find("}", self.i)
            if end < 0:
                raise self.error("unclosed Unicode class", start)
            name = self.p[self.i + 1:end].strip()
            self.i = end + 1
        else:
            name = self.peek() or ""
            self.i += 1
        negated = False
        if name.startswith("^"):
            negated, name = True, name[1:]
        if "=" in name or ":" in name:
            raise self.error(f"Unicode property values ({name}) are not supported", start)
        key = name.lower().replace(" ", "_").replace("-", "_")
        name = UNICODE_ALIASES.get(key, name)
        return ClassItem(named=f"\\p{{{name}}}", negated_named=negated)

    def parse_class(self) -> CharClass:
        start = self.i
        negated, items, computed, depth = self._class_body()
        for item in items:
            if item.named is None:
                for cp in (item.lo, item.hi):
                    if chr(cp) != chr(cp).lower():
                        self.has_upper = True
        if (not negated and len(items) == 1 and items[0].named is None
                and items[0].lo == items[0].hi == 10 and self.newline_at is None):
            self.newline_at = start
        del computed
        return CharClass(tuple(items), negated, self.flags.fold, depth)

    def _class_body(self) -> tuple[bool, list[ClassItem], bool, int]:
        """A bracketed class from its `[`: (negated, items, whether they were computed, its
        nesting depth). Nested classes and set operations (`&&`, `--`, `~~`), which RE2
        lacks, are computed here into plain ranges (`classes.py`); other classes keep their
        named members for RE2."""
        start = self.i
        self.enter(start)
        self.i += 1
        negated = False
        if self.peek() == "^":
            negated = True
            self.i += 1
        items: list[ClassItem] = []
        operator: str | None = None  # the last set operator seen, and the result before it
        result: list[tuple[int, int]] = []
        complex_ = False
        inner_depth = 0
        first = True
        while True:
            c = self.peek()
            if c is None:
                raise self.error("unclosed character class", start)
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "[":
                if self.p.startswith("[:", self.i):
                    end = self.p.find(":]", self.i + 2)
                    name = self.p[self.i + 2:end] if end > 0 else ""
                    neg = name.startswith("^")
                    if end > 0 and name.removeprefix("^") in POSIX_CLASSES:
                        self.i = end + 2
                        items.append(ClassItem(named=f"[:{name.removeprefix('^')}:]",
                                               negated_named=neg))
                        continue
                nested_negated, nested, _, nested_depth = self._class_body()
                inner_depth = max(inner_depth, nested_depth)
                ranges = class_ranges(nested, nested_negated, self.flags.fold)
                items.extend(ClassItem(lo, hi) for lo, hi in ranges)
                complex_ = True
                continue
            if self.p.startswith(("&&", "--", "~~"), self.i):
                # rg's set operations, left to right: the union so far, then the operator
                ranges = class_ranges(items, False, self.flags.fold)
                result = ranges if operator is None else set_operation(operator, result, ranges)
                operator = self.p[self.i:self.i + 2]
                self.i += 2
                items = []
                complex_ = True
                continue
            range_start = self.i
            lo_item = self.parse_class_atom(start)
            if isinstance(lo_item, ClassItem):
                if self.peek() == "-" and self.peek(1) not in (None, "]") and (
                        not self.p.startswith("--", self.i)):
                    raise self.error("invalid range boundary, must be a literal", self.i)
                if lo_item.negated_named and lo_item.named is not None and (
                        lo_item.named in PERL_CLASSES.values()):
                    complex_ = True  # \W, \D, \S inside [...]: no RE2 spelling
                items.append(lo_item)
                continue
            lo = lo_item
            if self.peek() == "-" and self.peek(1) not in (None, "]") and (
                    not self.p.startswith("--", self.i)):
                self.i += 1
                if self.p.startswith("[:", self.i):
                    raise self.error("invalid character class range, the start must be <= "
                                     "the end", range_start)
                hi_item = self.parse_class_atom(start)
                if isinstance(hi_item, ClassItem):
                    raise self.error("invalid range boundary, must be a literal", self.i - 1)
                if hi_item < lo:
                    raise self.error("invalid character class range, the start must be <= "
                                     "the end", range_start)
                items.append(ClassItem(lo, hi_item))
            else:
                items.append(ClassItem(lo, lo))
        self.depth -= 1
        depth = 1 + inner_depth
        if not complex_:
            return negated, items, False, depth
        ranges = class_ranges(items, False, self.flags.fold)
        if operator is not None:
            ranges = set_operation(operator, result, ranges)
            depth += 1
        return negated, [ClassItem(lo, hi) for lo, hi in ranges], True, depth

    def parse_class_atom(self, class_start: int) -> int | ClassItem:
        c = self.p[self.i]
        start = self.i
        self.i += 1
        if c != "\\":
            return ord(c)
        c = self.peek()
        if c is None:
            raise self.error("unclosed character class", class_start)
        self.i += 1
        if c.lower() in PERL_CLASSES:
            return ClassItem(named=PERL_CLASSES[c.lower()], negated_named=c.isupper())
        if c in ("p", "P"):
            item = self.parse_unicode_class(start)
            if c == "P":
                item = ClassItem(named=item.named, negated_named=not item.negated_named)
            return item
        return self.parse_escaped_codepoint(c, start)


def _nesting(root: Node) -> int:
    """The depth of `root` as ripgrep's parser counts it against its nesting limit: groups,
    repetitions, alternations, concatenations and bracketed classes (with what nests inside
    them) each add a level. Iterative: the tree may be deep."""
    deepest = 0
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, CharClass):
            deepest = max(deepest, depth + node.depth)
        elif isinstance(node, Group | Repeat):
            stack.append((node.node, depth + 1))
        elif isinstance(node, Concat | Alternate):
            stack.extend((child, depth + 1) for child in node.nodes)
        else:
            deepest = max(deepest, depth)
    return deepest


def parse(pattern: str, *, fold: bool = False) -> ParsedPattern:
    """Parse `pattern` (ripgrep dialect); raise PatternError with a position on bad input."""
    return _Parser(pattern, fold).parse()
