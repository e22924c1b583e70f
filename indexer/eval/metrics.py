"""Ranking metrics at three levels: chunk, symbol and file.

A ranked list of retrieved chunks is judged against a query's expected items. At chunk level
each retrieved chunk is relevant if it answers an expected item; at symbol and file level the
list is first collapsed to distinct (path, symbol) or paths, keeping first positions. Recall
is over expected items (an item is found once any retrieved entry answers it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from indexer.eval.gold import Expected

KS = (1, 5, 10, 50, 300)
LEVELS = ("chunk", "symbol", "file")


@dataclass(frozen=True)
class Retrieved:
    path: str
    name: str  # qualified name ('' for a module-level or text chunk)
    start_line: int
    end_line: int


def collapse(results: Sequence[Retrieved], level: str) -> list[Retrieved]:
    if level == "chunk":
        return list(results)
    seen: set = set()
    out = []
    for r in results:
        key = r.path if level == "file" else (r.path, r.name)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _answers(item: Expected, r: Retrieved, level: str) -> bool:
    if level == "file":
        return r.path == item.path
    return item.matches_chunk(r.path, r.name, r.start_line, r.end_line)


@dataclass
class QueryScores:
    first_hit: int | None  # 1-based rank of the first relevant result
    recall: dict[int, float]
    ndcg10: float


def score_query(results: Sequence[Retrieved], expected: Sequence[Expected],
                level: str) -> QueryScores:
    ranked = collapse(results, level)
    if level == "file":  # "which file": an expected file counts once, however many hunks
        best: dict[str, Expected] = {}
        for item in expected:
            if item.path not in best or (item.grade or 1) > (best[item.path].grade or 1):
                best[item.path] = Expected(item.path, grade=item.grade)
        expected = list(best.values())
    found_at: dict[int, int] = {}  # expected item -> first rank answering it
    gains: list[float] = []
    first_hit = None
    credited: set[int] = set()  # expected items whose gain is already counted
    for rank, r in enumerate(ranked, start=1):
        # An expected item earns its gain once: a second chunk answering the same item adds
        # nothing to DCG (so nDCG stays <= 1); an entry earns its best uncredited item's grade.
        fresh = None
        for i, item in enumerate(expected):
            if _answers(item, r, level):
                found_at.setdefault(i, rank)
                if first_hit is None:
                    first_hit = rank
                if i not in credited and (fresh is None
                                          or (item.grade or 1) > (expected[fresh].grade or 1)):
                    fresh = i
        if fresh is not None:
            credited.add(fresh)
        gains.append(float(expected[fresh].grade or 1) if fresh is not None else 0.0)
    recall = {k: sum(1 for r in found_at.values() if r <= k) / len(expected) for k in KS}
    dcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:10]))
    ideal = sorted(((item.grade or 1) for item in expected), reverse=True)[:10]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return QueryScores(first_hit, recall, dcg / idcg if idcg else 0.0)


@dataclass
class LevelSummary:
    mrr: float = 0.0
    ndcg10: float = 0.0
    recall: dict[int, float] = field(default_factory=dict)
    queries: int = 0


def summarize(per_query: Sequence[QueryScores]) -> LevelSummary:
    n = len(per_query)
    if n == 0:
        return LevelSummary()
    return LevelSummary(
        mrr=sum(1 / s.first_hit for s in per_query if s.first_hit) / n,
        ndcg10=sum(s.ndcg10 for s in per_query) / n,
        recall={k: sum(s.recall[k] for s in per_query) / n for k in KS},
        queries=n,
    )
