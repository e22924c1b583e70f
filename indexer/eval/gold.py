"""Gold sets: JSON Lines of queries with the results a good retriever should return.

    {"id": "q01", "query": "how are passwords hashed", "rev": null,
     "expected": [{"path": "shop/auth.py", "symbol": "hash_password", "grade": 2},
                  {"path": "docs/api.md", "lines": [10, 24]}]}

An expected item names a file, optionally narrowed to a symbol (qualified name) and/or a line
range (1-based, inclusive); `grade` (default 1) weighs it in nDCG.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from indexer.errors import CodeloupeError


class GoldSetError(CodeloupeError):
    pass


@dataclass(frozen=True)
class Expected:
    path: str
    symbol: str | None = None
    lines: tuple[int, int] | None = None
    grade: int = 1

    def matches_chunk(self, path: str, name: str, start: int, end: int) -> bool:
        """A retrieved chunk answers this item: same file, and the symbol or lines agree."""
        if path != self.path:
            return False
        if self.symbol is not None and self.lines is None:
            # a chunk split from a large definition keeps its qualified name's prefix
            return name == self.symbol or name.startswith(self.symbol + ".")
        if self.lines is not None:
            return start <= self.lines[1] and self.lines[0] <= end
        return True


@dataclass
class GoldQuery:
    id: str
    query: str
    expected: list[Expected]
    rev: str | None = None
    line_number: int = 0
    problems: list[str] = field(default_factory=list)


def _expected(raw: object, where: str) -> Expected:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        raise GoldSetError(f"{where}: each expected item needs a 'path' string")
    lines = raw.get("lines")
    if lines is not None:
        if (not isinstance(lines, list) or len(lines) != 2
                or not all(isinstance(n, int) and n > 0 for n in lines) or lines[0] > lines[1]):
            raise GoldSetError(f"{where}: 'lines' must be [start, end], 1-based")
        lines = (lines[0], lines[1])
    symbol = raw.get("symbol")
    if symbol is not None and not isinstance(symbol, str):
        raise GoldSetError(f"{where}: 'symbol' must be a string")
    grade = raw.get("grade", 1)
    if not isinstance(grade, int) or grade < 0:
        raise GoldSetError(f"{where}: 'grade' must be a non-negative integer")
    return Expected(raw["path"].removeprefix("./"), symbol or None, lines, grade)


def load_gold(path: Path) -> list[GoldQuery]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise GoldSetError(f"cannot read gold set {path}: {err}") from err
    queries: list[GoldQuery] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as err:
            raise GoldSetError(f"{where}: not JSON ({err.msg})") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("query"), str) \
                or not raw["query"].strip():
            raise GoldSetError(f"{where}: needs a non-empty 'query' string")
        expected = raw.get("expected")
        if not isinstance(expected, list) or not expected:
            raise GoldSetError(f"{where}: needs a non-empty 'expected' list")
        queries.append(GoldQuery(str(raw.get("id", f"line{number}")), raw["query"],
                                 [_expected(e, where) for e in expected], raw.get("rev"),
                                 number))
    if not queries:
        raise GoldSetError(f"gold set {path} has no queries")
    return queries


def write_gold(queries: list[GoldQuery], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for q in queries:
            items = []
            for e in q.expected:
                item: dict = {"path": e.path}
                if e.symbol:
                    item["symbol"] = e.symbol
                if e.lines:
                    item["lines"] = list(e.lines)
                if e.grade != 1:
                    item["grade"] = e.grade
                items.append(item)
            row = {"id": q.id, "query": q.query, "expected": items}
            if q.rev:
                row["rev"] = q.rev
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
