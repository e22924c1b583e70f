"""Re-emit a parsed pattern in RE2's dialect, with ripgrep's semantics.

Differences handled here: Unicode-aware `\\w \\d \\s` (RE2's are ASCII), `\\u{...}` escapes,
flags resolved per node (so `(?x)` and `(?U)` need no RE2 support), and line anchors. Newlines
are kept out of every match by RE2's `never_nl` option, as ripgrep searches line by line.
"""

from __future__ import annotations

from indexer.errors import PatternError
from indexer.regex.classes import class_ranges, intersect, named_ranges
from indexer.regex.syntax import (
    MAX_REPEAT,
    WORD_CLASS,
    Alternate,
    AnyChar,
    Assertion,
    CharClass,
    ClassItem,
    Concat,
    Empty,
    Group,
    Literal,
    Node,
    Repeat,
)

_RE2_META = set("\\.+*?()|[]{}^$-&~#")


def _char(cp: int, in_class: bool = False) -> str:
    c = chr(cp)
    if c.isalnum() and cp < 128:
        return c
    if cp < 128 and c.isprintable() and c != " ":
        return "\\" + c if c in _RE2_META else c
    return f"\\x{{{cp:X}}}"


def _class_item(item: ClassItem) -> str:
    if item.named is None:
        if item.lo == item.hi:
            return _char(item.lo, True)
        return f"{_char(item.lo, True)}-{_char(item.hi, True)}"
    if not item.negated_named:
        return item.named
    if item.named.startswith("\\p{"):
        return "\\P" + item.named[2:]
    if item.named.startswith("[:"):
        return "[:^" + item.named[2:].removeprefix("^")
    # A negated Perl class (\W, \D, \S) inside a bracket has no RE2 spelling.
    raise PatternError("negated Perl classes (\\W, \\D, \\S) inside [...] are not supported",
                       "", 0)


def _class(node: CharClass) -> str:
    if not node.items:  # a set operation left nothing (`[a&&b]`)
        return "[\\x00-\\x{10FFFF}]" if node.negated else NEVER
    body = "".join(_class_item(item) for item in node.items)
    text = f"[{'^' if node.negated else ''}{body}]"
    return f"(?i:{text})" if node.fold else text


def _needs_group(node: Node) -> bool:
    return isinstance(node, Concat | Alternate | Repeat | Empty | Assertion) or (
        isinstance(node, Literal) and node.fold)


MAX_RE2_SOURCE = 4 << 20  # characters of RE2 source a pattern may spell out (counts > 1000)
NEVER = "[^\\x00-\\x{10FFFF}]"  # matches nothing


def to_re2(node: Node) -> str:
    """RE2 source for `node` (to be compiled with never_nl)."""
    return _emit(node)[0]


def _emit(node: Node) -> tuple[str, int]:
    """(RE2 source, the product of the counted repetitions nested in it). RE2 refuses a count
    over 1000, and nested counts whose product passes 1000; rg has no such limits."""
    if isinstance(node, Literal):
        text = _char(ord(node.char))
        if node.fold and node.char.lower() != node.char.upper():
            return f"(?i:{text})", 1
        return text, 1
    if isinstance(node, CharClass):
        return _class(node), 1
    if isinstance(node, AnyChar):
        return ".", 1
    if isinstance(node, Assertion):
        if node.kind.startswith("\\b{"):
            return _boundary(node.kind, None, None), 1
        # rg searches line by line: \A and \z hold at each line's start and end.
        return {"^": "(?m:^)", "$": "(?m:$)", "\\A": "(?m:^)", "\\z": "(?m:$)"}.get(
            node.kind, node.kind), 1
    if isinstance(node, Empty):
        return "", 1
    if isinstance(node, Group):
        # Captures are never read back: a non-capturing group keeps RE2's work and our
        # group numbering (group 1 is the whole-word match) simple.
        inner, product = _emit(node.node)
        return f"(?:{inner})", product
    if isinstance(node, Repeat):
        return _repeat(node)
    if isinstance(node, Concat):
        parts, product = [], 1
        for k, n in enumerate(node.nodes):
            if isinstance(n, Assertion) and n.kind.startswith("\\b{"):
                parts.append(_boundary(n.kind, node.nodes[k - 1] if k else None,
                                       node.nodes[k + 1] if k + 1 < len(node.nodes) else None))
                continue
            text, sub = _emit(n)
            parts.append(f"(?:{text})" if isinstance(n, Alternate) else text)
            product = max(product, sub)
        return "".join(parts), product
    if isinstance(node, Alternate):
        emitted = [_emit(n) for n in node.nodes]
        return "|".join(t for t, _ in emitted), max(p for _, p in emitted)
    raise TypeError(f"unknown node {node!r}")


def _repeat(node: Repeat) -> tuple[str, int]:
    inner, product = _emit(node.node)
    if isinstance(node.node, Assertion) and node.node.kind.startswith("\\b{"):
        inner = _boundary(node.node.kind, None, None)
    if _needs_group(node.node):
        inner = f"(?:{inner})"
    lazy = "" if node.greedy else "?"
    if node.max is None and node.min <= 1:
        return inner + ("*" if node.min == 0 else "+") + lazy, product
    if node.min == 0 and node.max == 1:
        return inner + "?" + lazy, product
    count = node.min if node.max is None else node.max
    if count * product <= MAX_REPEAT:
        if node.max is None:
            op = f"{{{node.min},}}"
        elif node.min == node.max:
            op = f"{{{node.min}}}"
        else:
            op = f"{{{node.min},{node.max}}}"
        return inner + op + lazy, max(product, count * product)
    # Spelled out in runs RE2 accepts: x{1500} is x{1000}x{500}, x{0,1500} x{0,1000}x{0,500}
    # (the same strings, tried in the same order).
    chunk = max(1, MAX_REPEAT // product)
    runs = node.min // chunk + (0 if node.max is None else (node.max - node.min) // chunk) + 2
    if runs * (len(inner) + 12) > MAX_RE2_SOURCE:
        raise PatternError(f"the repetition spells out more than the size limit of "
                           f"{MAX_RE2_SOURCE:,} characters of compiled pattern", "", 0)
    parts: list[str] = []
    left = node.min
    while left > 0:
        k = min(left, chunk)
        parts.append(inner if k == 1 else f"{inner}{{{k}}}{lazy}")
        left -= k
    if node.max is None:
        parts.append(f"{inner}*{lazy}")
    else:
        left = node.max - node.min
        while left > 0:
            k = min(left, chunk)
            parts.append(f"{inner}?{lazy}" if k == 1 else f"{inner}{{0,{k}}}{lazy}")
            left -= k
    return "(?:" + "".join(parts) + ")", min(MAX_REPEAT, chunk * product)


def _edge_is_nonword(node: Node | None, first: bool) -> bool:
    """Whether every match of `node` starts (ends) with a non-word character."""
    if isinstance(node, Literal):
        return not _edge_is_word(node, first)
    if isinstance(node, Group):
        return _edge_is_nonword(node.node, first)
    if isinstance(node, Repeat):
        return node.min >= 1 and _edge_is_nonword(node.node, first)
    if isinstance(node, Concat) and node.nodes:
        return _edge_is_nonword(node.nodes[0] if first else node.nodes[-1], first)
    if isinstance(node, Alternate):
        return all(_edge_is_nonword(n, first) for n in node.nodes)
    return False


def _boundary(kind: str, before: Node | None, after: Node | None) -> str:
    """rg's special word boundaries inside a pattern, where a neighbour decides them:
    `\\b{start}` before a word character is `\\b`, `\\b{start-half}` before a non-word one
    `\\B`, and so on (RE2's `\\b` is ASCII, as for `\\b` itself inside a pattern). At a
    pattern's edges `edge_word_boundaries` spells them exactly."""
    word_after = after is not None and _edge_is_word(after, True)
    word_before = before is not None and _edge_is_word(before, False)
    nonword_after = _edge_is_nonword(after, True)
    nonword_before = _edge_is_nonword(before, False)
    if kind == "\\b{start}":
        if word_after:
            return "\\b"
        if nonword_after or word_before:
            return NEVER
    elif kind == "\\b{end}":
        if word_before:
            return "\\b"
        if nonword_before or word_after:
            return NEVER
    elif kind == "\\b{start-half}":
        if word_after:
            return "\\b"
        if nonword_after:
            return "\\B"
        if word_before:
            return NEVER
        if nonword_before:
            return ""
    elif kind == "\\b{end-half}":
        if word_before:
            return "\\b"
        if nonword_before:
            return "\\B"
        if word_after:
            return NEVER
        if nonword_after:
            return ""
    raise PatternError(f"{kind} is supported at the start or end of a pattern, or next to a "
                       "character known to be a word or a non-word character", "", 0)


NON_WORD = f"[^{WORD_CLASS}]"


def whole_word(re2_source: str) -> str:
    """ripgrep's -w: the match must be bounded by non-word characters or line ends.

    Group 1 is the reported match; the surrounding characters are consumed but not reported.
    """
    return bounded(re2_source, True, True)


def _edge_is_word(node: Node, first: bool) -> bool:
    """Whether every match of `node` starts (ends) with a word character."""
    if isinstance(node, Literal):
        return node.char.isalnum() or node.char == "_"
    if isinstance(node, CharClass):
        if (not node.negated and len(node.items) == 1
                and node.items[0].named == WORD_CLASS and not node.items[0].negated_named):
            return True
        ranges = class_ranges(node.items, node.negated, node.fold)
        return bool(ranges) and intersect(ranges, list(named_ranges(WORD_CLASS))) == ranges
    if isinstance(node, Group):
        return _edge_is_word(node.node, first)
    if isinstance(node, Repeat):
        return node.min >= 1 and _edge_is_word(node.node, first)
    if isinstance(node, Concat) and node.nodes:
        return _edge_is_word(node.nodes[0] if first else node.nodes[-1], first)
    if isinstance(node, Alternate):
        return all(_edge_is_word(n, first) for n in node.nodes)
    return False


def _can_be_empty(node: Node) -> bool:
    if isinstance(node, Literal | CharClass | AnyChar):
        return False
    if isinstance(node, Group):
        return _can_be_empty(node.node)
    if isinstance(node, Repeat):
        return node.min == 0 or _can_be_empty(node.node)
    if isinstance(node, Concat):
        return all(_can_be_empty(n) for n in node.nodes)
    if isinstance(node, Alternate):
        return any(_can_be_empty(n) for n in node.nodes)
    return True  # assertions, the empty pattern


def _word_only(node: Node, first: bool) -> Node | None:
    """`node` with its first (last) character restricted to word characters, so that RE2 can
    check what `\\b{start}` (`\\b{end}`) asks of the character inside a match; None where that
    cannot be spelled (an edge that may be empty or an assertion)."""
    if isinstance(node, Literal):
        return node if _edge_is_word(node, first) else CharClass((), False, False)
    if isinstance(node, CharClass | AnyChar):
        word = named_ranges(WORD_CLASS)
        if isinstance(node, AnyChar):
            ranges = list(word)
        else:
            ranges = intersect(class_ranges(node.items, node.negated, node.fold), list(word))
        fold = isinstance(node, CharClass) and node.fold
        return CharClass(tuple(ClassItem(lo, hi) for lo, hi in ranges), False, fold)
    if isinstance(node, Group):
        inner = _word_only(node.node, first)
        return None if inner is None else Group(inner, node.capture, node.name)
    if isinstance(node, Alternate):
        branches = [_word_only(n, first) for n in node.nodes]
        return None if any(b is None for b in branches) else Alternate(tuple(branches))
    if isinstance(node, Concat) and node.nodes:
        edge = node.nodes[0] if first else node.nodes[-1]
        if _can_be_empty(edge):
            return None
        restricted = _word_only(edge, first)
        if restricted is None:
            return None
        rest = node.nodes[1:] if first else node.nodes[:-1]
        return Concat((restricted, *rest) if first else (*rest, restricted))
    if isinstance(node, Repeat) and node.min >= 1 and not _can_be_empty(node.node):
        one = _word_only(node.node, first)
        if one is None:
            return None
        more = Repeat(node.node, node.min - 1, None if node.max is None else node.max - 1,
                      node.greedy)
        return Concat((one, more) if first else (more, one))
    return None


_LEADING = ("\\b{start}", "\\b{start-half}")
_TRAILING = ("\\b{end}", "\\b{end-half}")


def edge_word_boundaries(node: Node) -> tuple[Node, bool | str, bool | str]:
    """Take word boundaries off the ends of a pattern where they can be spelled with Unicode
    word classes, by consuming the character beside the match (`bounded`).

    RE2's `\\b` knows only ASCII word characters, ripgrep's knows Unicode ones; RE2 has no
    `\\b{start}`, `\\b{end}`, `\\b{start-half}`, `\\b{end-half}` (`\\<`, `\\>`). At a pattern's
    start, "no word character before" is a non-word character or the line's start on that
    side, which RE2 can express; `\\b` next to a word character, and `\\b{start}` before one,
    mean just that. `\\b{start}` before what may not be a word character keeps RE2's `\\b`
    (after a non-word character it holds before an ASCII word character). Likewise at the
    end. Returns the inner node and whether a leading and a trailing boundary were taken off
    (True: a non-word character or the line's edge; "word": a word character).
    """
    nodes = list(node.nodes) if isinstance(node, Concat) else [node]
    lead = trail = False
    first = nodes[0]
    if isinstance(first, Assertion) and (
            first.kind in _LEADING or (first.kind == "\\b" and len(nodes) > 1
                                       and _edge_is_word(nodes[1], True))):
        nodes.pop(0)
        lead = True
    last = nodes[-1] if nodes else None
    if isinstance(last, Assertion) and (
            last.kind in _TRAILING or (last.kind == "\\b" and len(nodes) > 1
                                       and _edge_is_word(nodes[-2], False))):
        nodes.pop()
        trail = True
    never = CharClass((), False, False)
    if lead and first.kind == "\\b{start}" and not (nodes and _edge_is_word(nodes[0], True)):
        rest = _word_only(Concat(tuple(nodes)), True) if nodes else None
        if rest is not None:
            nodes = [rest]
        elif not nodes:  # `\<` alone: a word character follows, consumed, not reported
            nodes, trail = ([never], trail) if trail else ([], "word")
        else:
            nodes = [Assertion("\\b"), *nodes]
    if trail is True and last.kind == "\\b{end}" and not (
            nodes and _edge_is_word(nodes[-1], False)):
        rest = _word_only(Concat(tuple(nodes)), False) if nodes else None
        if rest is not None:
            nodes = [rest]
        elif not nodes:  # `\>` alone: a word character before, consumed, not reported
            nodes, lead = ([never], lead) if lead else ([], "word")
        else:
            nodes = [*nodes, Assertion("\\b")]
    if not (lead or trail):
        return node, False, False
    inner = Empty() if not nodes else nodes[0] if len(nodes) == 1 else Concat(tuple(nodes))
    return inner, lead, trail


def _side(kind: bool | str) -> str:
    """What a boundary consumes beside the match: a non-word character (or the line's edge),
    or a word character."""
    return f"[{WORD_CLASS}]" if kind == "word" else ""


def bounded(re2_source: str, lead: bool | str, trail: bool | str) -> str:
    """Group 1 is the match; the bounding characters are consumed, not reported."""
    before = _side(lead) or (f"(?:(?m:^)|{NON_WORD})" if lead else "")
    after = _side(trail) or (f"(?:(?m:$)|{NON_WORD})" if trail else "")
    return f"{before}({re2_source}){after}"


def bounded_back(re2_source: str, trail: bool | str, lead: bool | str = True) -> str:
    """`bounded` with a leading boundary, for the next match on a line: searched from the
    character before the last match's end, which it consumes as the boundary (a non-word
    character: the line's start is behind). See `RegexLines` in indexer/_linescan.pyx."""
    after = _side(trail) or (f"(?:(?m:$)|{NON_WORD})" if trail else "")
    return f"{_side(lead) or NON_WORD}({re2_source}){after}"
