"""Re-emit a parsed pattern in RE2's dialect, with ripgrep's semantics.

Differences handled here: Unicode-aware `\\w \\d \\s` (RE2's are ASCII), `\\u{...}` escapes,
flags resolved per node (so `(?x)` and `(?U)` need no RE2 support), and line anchors. Newlines
are kept out of every match by RE2's `never_nl` option, as ripgrep searches line by line.
"""

from __future__ import annotations

from indexer.errors import PatternError
from indexer.regex.syntax import (
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
        return "[:^" + item.named[2:]
    # A negated Perl class (\W, \D, \S) inside a bracket has no RE2 spelling.
    raise PatternError("negated Perl classes (\\W, \\D, \\S) inside [...] are not supported",
                       "", 0)


def _class(node: CharClass) -> str:
    body = "".join(_class_item(item) for item in node.items)
    text = f"[{'^' if node.negated else ''}{body}]"
    return f"(?i:{text})" if node.fold else text


def _needs_group(node: Node) -> bool:
    return isinstance(node, Concat | Alternate | Repeat | Empty) or (
        isinstance(node, Literal) and node.fold)


def to_re2(node: Node) -> str:
    """RE2 source for `node` (to be compiled with never_nl)."""
    if isinstance(node, Literal):
        text = _char(ord(node.char))
        if node.fold and node.char.lower() != node.char.upper():
            return f"(?i:{text})"
        return text
    if isinstance(node, CharClass):
        return _class(node)
    if isinstance(node, AnyChar):
        return "."
    if isinstance(node, Assertion):
        return {"^": "(?m:^)", "$": "(?m:$)"}.get(node.kind, node.kind)
    if isinstance(node, Empty):
        return ""
    if isinstance(node, Group):
        # Captures are never read back: a non-capturing group keeps RE2's work and our
        # group numbering (group 1 is the whole-word match) simple.
        return f"(?:{to_re2(node.node)})"
    if isinstance(node, Repeat):
        inner = to_re2(node.node)
        if _needs_group(node.node):
            inner = f"(?:{inner})"
        if node.max is None:
            op = {0: "*", 1: "+"}.get(node.min, f"{{{node.min},}}")
        elif node.min == 0 and node.max == 1:
            op = "?"
        elif node.min == node.max:
            op = f"{{{node.min}}}"
        else:
            op = f"{{{node.min},{node.max}}}"
        return inner + op + ("" if node.greedy else "?")
    if isinstance(node, Concat):
        return "".join(
            f"(?:{to_re2(n)})" if isinstance(n, Alternate) else to_re2(n) for n in node.nodes)
    if isinstance(node, Alternate):
        return "|".join(to_re2(n) for n in node.nodes)
    raise TypeError(f"unknown node {node!r}")


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
        return (not node.negated and len(node.items) == 1
                and node.items[0].named == WORD_CLASS and not node.items[0].negated_named)
    if isinstance(node, Group):
        return _edge_is_word(node.node, first)
    if isinstance(node, Repeat):
        return node.min >= 1 and _edge_is_word(node.node, first)
    if isinstance(node, Concat) and node.nodes:
        return _edge_is_word(node.nodes[0] if first else node.nodes[-1], first)
    if isinstance(node, Alternate):
        return all(_edge_is_word(n, first) for n in node.nodes)
    return False


def edge_word_boundaries(node: Node) -> tuple[Node, bool, bool]:
    """Take `\\b` off the ends of a pattern where it can be spelled with Unicode word classes.

    RE2's `\\b` knows only ASCII word characters, ripgrep's knows Unicode ones. `\\bfoo\\b` is
    the common case: there a boundary next to a word character means "a non-word character or
    the line's end on the other side", which RE2 can express. Returns the inner node and
    whether a leading and a trailing boundary were taken off.
    """
    if not isinstance(node, Concat) or len(node.nodes) < 2:
        return node, False, False
    nodes = list(node.nodes)
    lead = trail = False
    if nodes[0] == Assertion("\\b") and _edge_is_word(nodes[1], True):
        nodes.pop(0)
        lead = True
    if len(nodes) >= 2 and nodes[-1] == Assertion("\\b") and _edge_is_word(nodes[-2], False):
        nodes.pop()
        trail = True
    inner = nodes[0] if len(nodes) == 1 else Concat(tuple(nodes))
    return inner, lead, trail


def bounded(re2_source: str, lead: bool, trail: bool) -> str:
    """Group 1 is the match; the bounding characters are consumed, not reported."""
    return ((f"(?:(?m:^)|{NON_WORD})" if lead else "") + f"({re2_source})"
            + (f"(?:(?m:$)|{NON_WORD})" if trail else ""))
