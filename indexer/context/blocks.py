"""Blocks of a context pack: line ranges of one file, merged, de-duplicated and trimmed.

Pure functions over plain data, so each rule (merge adjacent ranges, drop near-duplicates,
trim to signature and docstring) can be tested alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SHINGLE = 5  # tokens per shingle for near-duplicate detection
NEAR_DUPLICATE = 0.85  # Jaccard similarity of shingle sets above which two blocks are twins
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass
class Block:
    path: str
    start_line: int  # 1-based, inclusive
    end_line: int
    text: str  # the lines start_line..end_line, each ending in "\n"
    language: str = ""
    symbol: str = ""
    reasons: list[str] = field(default_factory=list)
    score: float = 0.0
    priority: int = 1  # 0: the editor's own state (selection, cursor, definitions); 1: recall
    content_hash: str = ""
    trimmed: bool = False

    @property
    def lines(self) -> range:
        return range(self.start_line, self.end_line + 1)


def slice_lines(source: str, start: int, end: int) -> str:
    lines = source.splitlines(keepends=True)[start - 1:end]
    text = "".join(lines)
    return text if text.endswith("\n") or not text else text + "\n"


def merge_blocks(blocks: list[Block], sources: dict[str, str]) -> list[Block]:
    """Overlapping or adjacent ranges of one file become one block (its best placement and
    every reason kept); order is by the best member's position."""
    by_path: dict[str, list[tuple[int, Block]]] = {}
    for position, block in enumerate(blocks):
        by_path.setdefault(block.path, []).append((position, block))
    merged: list[tuple[int, Block]] = []
    grown: set[int] = set()  # ids of blocks that absorbed another: their text is re-read
    for members in by_path.values():
        members.sort(key=lambda item: (item[1].start_line, item[1].end_line))
        current_pos, current = members[0]
        current = _copy(current)
        for position, block in members[1:]:
            if block.start_line <= current.end_line + 1:
                grown.add(id(current))
                current.end_line = max(current.end_line, block.end_line)
                fresh = [r for r in block.reasons if r not in current.reasons]
                # the editor's own reasons (selection, cursor, definitions) read first
                current.reasons = (fresh + current.reasons if block.priority < current.priority
                                   else current.reasons + fresh)
                current.symbol = ", ".join(s for s in dict.fromkeys(
                    (current.symbol + ", " + block.symbol).split(", ")) if s)
                current.priority = min(current.priority, block.priority)
                current.score = max(current.score, block.score)
                current.trimmed = False
                current_pos = min(current_pos, position)
            else:
                merged.append((current_pos, current))
                current_pos, current = position, _copy(block)
        merged.append((current_pos, current))
    for _, block in merged:
        if id(block) in grown and (path_source := sources.get(block.path)):
            block.text = slice_lines(path_source, block.start_line, block.end_line)
    merged.sort(key=lambda item: item[0])
    return [block for _, block in merged]


def _copy(block: Block) -> Block:
    return Block(block.path, block.start_line, block.end_line, block.text, block.language,
                 block.symbol, list(block.reasons), block.score, block.priority,
                 block.content_hash, block.trimmed)


def shingles(text: str) -> set[int]:
    tokens = _TOKEN.findall(text)
    if len(tokens) < SHINGLE:
        return {hash(tuple(tokens))}
    return {hash(tuple(tokens[i:i + SHINGLE])) for i in range(len(tokens) - SHINGLE + 1)}


def near_duplicates(blocks: list[Block]) -> dict[int, int]:
    """index -> index of the better-placed block it duplicates (exact or near twin)."""
    seen_hash: dict[str, int] = {}
    seen_shingles: list[tuple[int, set[int]]] = []
    twins: dict[int, int] = {}
    for i, block in enumerate(blocks):
        normalized = " ".join(block.text.split())
        key = block.content_hash or normalized
        if key in seen_hash:
            twins[i] = seen_hash[key]
            continue
        seen_hash[key] = i
        mine = shingles(normalized)
        for j, theirs in seen_shingles:
            overlap = len(mine & theirs) / max(1, len(mine | theirs))
            if overlap >= NEAR_DUPLICATE:
                twins[i] = j
                break
        else:
            seen_shingles.append((i, mine))
    return twins


def signature_and_docstring(text: str, max_lines: int = 12) -> str | None:
    """The head of a definition — leading comments, signature, then its docstring or comment
    block — in whole lines, with a marker for the elided body; None when that is not shorter.
    """
    lines = text.splitlines(keepends=True)
    end = 1  # past the signature: the first line ending like a header (':', '{', '=>')
    for i, line in enumerate(lines[:max_lines]):
        if line.rstrip().endswith((":", "{", "=>")):
            end = i + 1
            break
    j = end
    if j < len(lines):
        first = lines[j].strip()
        if first.startswith(('"""', "'''")):
            quote = first[:3]
            j += 1
            if first.count(quote) < 2 or first == quote:  # runs over several lines
                while j < len(lines) and j < end + max_lines and quote not in lines[j]:
                    j += 1
                j += 1
        else:
            while j < len(lines) and lines[j].strip().startswith(("#", "//", "*", "/*")):
                j += 1
    head = lines[:j]
    if len(head) >= len(lines) - 1:
        return None
    body = lines[j]
    indent = body[:len(body) - len(body.lstrip())]
    return "".join(head) + f"{indent}... ({len(lines) - len(head)} lines elided)\n"
