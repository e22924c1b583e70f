"""Run retrieval pipelines over a gold set and score them side by side."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from indexer.eval.gold import GoldQuery
from indexer.eval.metrics import KS, LEVELS, LevelSummary, Retrieved, score_query, summarize
from indexer.retrieval.semantic import AskRequest

# pipeline -> (first-stage signals, re-ranker)
PIPELINES: dict[str, tuple[tuple[str, ...], str]] = {
    "lexical": (("lexical",), "none"),
    "dense": (("dense",), "none"),
    "dense+gloss": (("dense", "gloss"), "none"),
    "hybrid": (("lexical", "dense", "gloss", "symbol", "regex"), "none"),
    "hybrid+rerank": (("lexical", "dense", "gloss", "symbol", "regex"), "dense"),
}
DEPTH = max(KS)


@dataclass
class Miss:
    query_id: str
    query: str
    expected: list[str]
    got: list[str]  # the top 3


@dataclass
class PipelineReport:
    name: str
    levels: dict[str, LevelSummary]
    misses: list[Miss] = field(default_factory=list)  # queries with nothing relevant in top 10
    p50_ms: float = 0.0

    def to_dict(self) -> dict:
        return {"pipeline": self.name, "p50_ms": round(self.p50_ms, 1),
                "levels": {level: {"mrr": round(s.mrr, 4), "ndcg@10": round(s.ndcg10, 4),
                                   **{f"recall@{k}": round(v, 4) for k, v in s.recall.items()}}
                           for level, s in self.levels.items()},
                "misses": [m.__dict__ for m in self.misses]}


def describe(item) -> str:  # noqa: ANN001 - an Expected
    where = item.path + (f"::{item.symbol}" if item.symbol else "")
    return where + (f":{item.lines[0]}-{item.lines[1]}" if item.lines else "")


def evaluate(searcher_for: Callable[[str | None], object], gold: Sequence[GoldQuery],
             pipelines: Sequence[str], *, on_query: Callable[[int, int], None] | None = None
             ) -> list[PipelineReport]:
    """Score each pipeline on every query; `searcher_for(rev)` gives a SemanticSearcher."""
    unknown = [p for p in pipelines if p not in PIPELINES]
    if unknown:
        raise ValueError(f"unknown pipeline(s) {', '.join(unknown)}; "
                         f"use {', '.join(PIPELINES)}")
    reports = []
    total = len(gold) * len(pipelines)
    done = 0
    for name in pipelines:
        signals, rerank = PIPELINES[name]
        per_level: dict[str, list] = {level: [] for level in LEVELS}
        misses: list[Miss] = []
        latencies: list[float] = []
        for q in gold:
            searcher = searcher_for(q.rev)
            started = time.perf_counter()
            response = searcher.ask(AskRequest(q.query, k=DEPTH, pool=DEPTH, rerank=rerank,
                                               signals=signals))
            latencies.append((time.perf_counter() - started) * 1000)
            retrieved = [Retrieved(r.path, r.name, r.start_line, r.end_line)
                         for r in response.results]
            for level in LEVELS:
                per_level[level].append(score_query(retrieved, q.expected, level))
            chunk_scores = per_level["chunk"][-1]
            if chunk_scores.first_hit is None or chunk_scores.first_hit > 10:
                misses.append(Miss(q.id, q.query, [describe(e) for e in q.expected],
                                   [f"{r.path}::{r.name or r.start_line}" for r in retrieved[:3]]))
            done += 1
            if on_query:
                on_query(done, total)
        latencies.sort()
        reports.append(PipelineReport(name, {lvl: summarize(s) for lvl, s in per_level.items()},
                                      misses, latencies[len(latencies) // 2] if latencies else 0))
    return reports


def check_gold(searcher, gold: Sequence[GoldQuery]) -> list[str]:  # noqa: ANN001
    """Problems per line: expected paths not in the snapshot, symbols no chunk defines."""
    table = searcher.table
    problems = []
    for q in gold:
        for item in q.expected:
            rows = table.by_path.get(item.path)
            if not rows:
                problems.append(f"line {q.line_number} ({q.id}): {item.path} is not in the "
                                f"indexed snapshot")
            elif item.symbol and not any(
                    item.matches_chunk(item.path, table.names[r], *map(int, table.lines[r]))
                    for r in rows):
                problems.append(f"line {q.line_number} ({q.id}): no chunk of {item.path} "
                                f"defines {item.symbol}")
    return problems
