"""Run retrieval pipelines over a gold set and score them side by side."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from indexer.errors import CodeloupeError
from indexer.eval.gold import GoldQuery
from indexer.eval.metrics import (
    KS,
    LEVELS,
    LevelSummary,
    QueryScores,
    Retrieved,
    score_query,
    summarize,
)
from indexer.retrieval.hybrid import SIGNALS
from indexer.retrieval.semantic import AskRequest

# pipeline -> (first-stage signals, re-ranker)
PIPELINES: dict[str, tuple[tuple[str, ...], str]] = {
    "lexical": (("lexical",), "none"),
    "dense": (("dense",), "none"),
    "dense+gloss": (("dense", "gloss"), "none"),
    "hybrid": (("lexical", "dense", "gloss", "symbol", "regex"), "none"),
    "hybrid+rerank": (("lexical", "dense", "gloss", "symbol", "regex"), "dense"),
    # every signal, long questions split and routed (query understanding), re-ranked; files
    # by the fixed combination
    "understood": (SIGNALS, "dense"),
    # the same, files by the learned ranker (tuned for this repository, else the default)
    "files": (SIGNALS, "dense"),
    "files-default": (SIGNALS, "dense"),  # the shipped model even where a tuned one exists
}
UNDERSTANDING = {"understood", "files", "files-default"}  # the others: as before it existed
RANKER = {"files": "auto", "files-default": "default"}  # the others: the fixed combination
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
    queries: list[dict] = field(default_factory=list)  # per query, when asked for

    def to_dict(self) -> dict:
        out = {"pipeline": self.name, "p50_ms": round(self.p50_ms, 1),
                "levels": {level: {"mrr": round(s.mrr, 4), "ndcg@10": round(s.ndcg10, 4),
                                   **{f"recall@{k}": round(v, 4) for k, v in s.recall.items()}}
                           for level, s in self.levels.items()},
                "misses": [m.__dict__ for m in self.misses]}
        if self.queries:
            out["queries"] = self.queries
        return out


def describe(item) -> str:  # noqa: ANN001 - an Expected
    where = item.path + (f"::{item.symbol}" if item.symbol else "")
    return where + (f":{item.lines[0]}-{item.lines[1]}" if item.lines else "")


class EmbeddingIncomplete(CodeloupeError):
    """A dense pipeline was asked to score a snapshot whose chunks are not all embedded:
    its numbers would describe the embedded part only (a dense MRR of 0.000 on a snapshot
    with no vectors, reported without a word, is how this was found)."""


def views_needed(pipelines: Sequence[str]) -> set[str]:
    """The embedded views ('dense', 'gloss') the pipelines read."""
    needed: set[str] = set()
    for name in pipelines:
        signals, rerank = PIPELINES[name]
        needed |= {s for s in signals if s in ("dense", "gloss")}
        if rerank in ("dense", "llm"):
            needed |= {"dense", "gloss"}
    return needed


def check_embedded(searcher, pipelines: Sequence[str]) -> None:  # noqa: ANN001
    """Raise EmbeddingIncomplete when a pipeline needs vectors the snapshot lacks."""
    for view in sorted(views_needed(pipelines)):
        coverage = searcher.dense(view).coverage
        if coverage < 1.0:
            raise EmbeddingIncomplete(
                f"{searcher.snapshot.name[:12]}: only {coverage:.1%} of chunks have a {view} "
                f"vector, so dense pipelines cannot be scored; embed first (`codeloupe eval` "
                f"does unless --no-embed) or pick lexical pipelines")


def evaluate(searcher_for: Callable[[str | None], object], gold: Sequence[GoldQuery],
             pipelines: Sequence[str], *, on_query: Callable[[int, int], None] | None = None,
             levels: Sequence[str] = LEVELS, per_query: bool = False
             ) -> list[PipelineReport]:
    """Score each pipeline on every query; `searcher_for(rev)` gives a SemanticSearcher.

    Raises EmbeddingIncomplete before scoring anything when a pipeline reads vectors that a
    query's snapshot does not fully have. `per_query` keeps each query's scores and top
    results in the report (for JSON output and error analysis)."""
    unknown = [p for p in pipelines if p not in PIPELINES]
    if unknown:
        raise ValueError(f"unknown pipeline(s) {', '.join(unknown)}; "
                         f"use {', '.join(PIPELINES)}")
    bad_levels = [lvl for lvl in levels if lvl not in LEVELS]
    if bad_levels or not levels:
        raise ValueError(f"unknown level(s) {', '.join(bad_levels)}; use {', '.join(LEVELS)}")
    if views_needed(pipelines):
        for rev in dict.fromkeys(q.rev for q in gold):
            check_embedded(searcher_for(rev), pipelines)
    reports = []
    total = len(gold) * len(pipelines)
    done = 0
    for name in pipelines:
        signals, rerank = PIPELINES[name]
        per_level: dict[str, list] = {level: [] for level in levels}
        misses: list[Miss] = []
        latencies: list[float] = []
        records: list[dict] = []
        for q in gold:
            searcher = searcher_for(q.rev)
            started = time.perf_counter()
            response = searcher.ask(AskRequest(q.query, k=DEPTH, pool=DEPTH, rerank=rerank,
                                               signals=signals, files="file" in levels,
                                               understand=name in UNDERSTANDING,
                                               ranker=RANKER.get(name, "fixed")))
            latencies.append((time.perf_counter() - started) * 1000)
            retrieved = [Retrieved(r.path, r.name, r.start_line, r.end_line)
                         for r in response.results]
            # the file level is the engine's file ranking (ask --files), not collapsed chunks
            files = [Retrieved(f.path, "", 0, 0) for f in response.files or ()]
            scores = {level: score_query(files if level == "file" else retrieved, q.expected,
                                         level) for level in levels}
            for level in levels:
                per_level[level].append(scores[level])
            head = scores["chunk" if "chunk" in levels else levels[0]]
            if head.first_hit is None or head.first_hit > 10:
                misses.append(Miss(q.id, q.query, [describe(e) for e in q.expected],
                                   [f"{r.path}::{r.name or r.start_line}" for r in retrieved[:3]]))
            if per_query:
                records.append(query_record(q, scores, files if list(levels) == ["file"]
                                            else retrieved, latencies[-1]))
            done += 1
            if on_query:
                on_query(done, total)
        latencies.sort()
        reports.append(PipelineReport(name, {lvl: summarize(s) for lvl, s in per_level.items()},
                                      misses, latencies[len(latencies) // 2] if latencies else 0,
                                      records))
    return reports


def query_record(q: GoldQuery, scores: dict[str, QueryScores], retrieved: list[Retrieved],
                 ms: float) -> dict:
    return {"id": q.id, "rev": q.rev, "ms": round(ms, 1),
            "expected": [describe(e) for e in q.expected],
            "levels": {level: {"first_hit": s.first_hit, "ndcg@10": round(s.ndcg10, 4),
                               **{f"recall@{k}": round(v, 4) for k, v in s.recall.items()}}
                       for level, s in scores.items()},
            "top": [f"{r.path}:{r.start_line}-{r.end_line}" for r in retrieved[:5]]}


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
