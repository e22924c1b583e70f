"""The literal that every match of a pattern must contain, to find candidate lines fast.

RE2 runs its DFA byte by byte (about 0.7 GB/s here) unless a pattern starts with a literal,
which it then finds with memchr (2-20 GB/s). `^@dataclass`, `^class \\w+Error` or
`(async )?def get_\\w+` start with an assertion or an optional part, so RE2 gets no such help.
Like ripgrep, we find a literal that every match must hold (`@dataclass`, `class `, `def `),
search for that, and run the whole pattern only on the lines where it occurs.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from indexer.regex.syntax import Alternate, Assertion, Concat, Group, Literal, Node, Repeat

# The bytes of source code, most frequent first (measured on 100 MB of the Python corpus the
# search benchmark uses): between runs of one length, the one with the rarest byte is kept.
_COMMON_FIRST = b" etasrnio\nl,pdc_.0fmuh)(\"g1y=b:-2x'v3w4k6[]58`97TN#*A>E/SCIR+zqF"
_RANK = {byte: len(_COMMON_FIRST) - i for i, byte in enumerate(_COMMON_FIRST)}  # higher: commoner


class Run(NamedTuple):
    literals: tuple[Literal, ...]
    # right after `^`: every match holds the run at the start of a line, so a search for a
    # newline followed by it skips the lines that hold it further in (`^def test_`)
    at_line_start: bool = False


def required_literal(node: Node) -> Run | None:
    """The longest run of literal characters present in every match of `node`; None when
    there is none worth searching for (under 2 bytes of UTF-8: `σ` is, `x` is not).
    Starting the search at the run's rarest byte measured no better: a shorter literal turns
    up on more lines."""
    best = max(_runs(node), key=_score, default=None)
    if best is None or len("".join(lit.char for lit in best.literals).encode("utf-8")) < 2:
        return None
    return best


@cache  # a long literal ranks the same few characters many times over
def _rank(lit: Literal) -> int:
    byte = lit.char.encode("utf-8")[0]
    # A folded letter is found in two cases: count both.
    rank = _RANK.get(byte, 0)
    if lit.fold and lit.char.lower() != lit.char.upper():
        rank += _RANK.get(lit.char.swapcase().encode("utf-8")[0], 0)
    return rank


def _score(run: Run) -> tuple[int, int, bool]:
    return (len(run.literals), -min((_rank(lit) for lit in run.literals), default=0),
            run.at_line_start)


def _runs(node: Node) -> list[Run]:
    """Runs of adjacent literals that every match holds (zero-width assertions do not break
    a run: nothing is consumed between their neighbours)."""
    if isinstance(node, Literal):
        return [Run((node,))]
    if isinstance(node, Group):
        return _runs(node.node)
    if isinstance(node, Repeat):
        return _runs(node.node) if node.min >= 1 else []
    if isinstance(node, Alternate):
        return _runs(node.nodes[0]) if len(node.nodes) == 1 else []
    if not isinstance(node, Concat):
        return []
    runs: list[Run] = []
    current: list[Literal] = []
    at_line_start = after_caret = False
    for child in _flatten(node.nodes):
        if isinstance(child, Literal):
            if not current:
                at_line_start = after_caret
            current.append(child)
        elif isinstance(child, Assertion):
            after_caret = after_caret or (child.kind == "^" and not current)
            continue
        else:
            if current:
                runs.append(Run(tuple(current), at_line_start))
                current = []
            runs += _runs(child)
        after_caret = False
    if current:
        runs.append(Run(tuple(current), at_line_start))
    return runs


def _flatten(nodes: tuple[Node, ...]) -> list[Node]:
    """Concatenations inside groups spliced into their parent, so `(?:foo)bar` is one run."""
    out: list[Node] = []
    for child in nodes:
        while isinstance(child, Group):
            child = child.node
        if isinstance(child, Concat):
            out += _flatten(child.nodes)
        else:
            out.append(child)
    return out
