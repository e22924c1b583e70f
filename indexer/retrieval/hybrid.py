"""Hybrid recall: several first-stage signals over one snapshot, fused by weighted RRF.

Signals, each a ranked list of chunk rows (see ChunkTable):
- `lexical`: BM25 over chunk names, titles, docstrings, paths and bodies;
- `dense`: cosine of the query with each chunk's code view (title + source);
- `gloss`: cosine with the chunk's plain-language gloss;
- `symbol`: definitions whose name matches an identifier in the query;
- `regex`: chunks containing an identifier of the query verbatim (trigram index), ranked by
  how often it occurs (for long questions: by the identifiers' specificity);
- `path`, `literal`: chunks of the files a path, module or traceback frame names, and chunks
  holding a quoted error message (indexer/retrieval/routes.py).
Only signals with something to say take part; fusion weights were tuned on the gold sets
(benchmarks/bench_semantic.py) and are overridable.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from indexer.retrieval.chunk_table import ChunkTable
from indexer.retrieval.filters import ChunkFilter
from indexer.search import SearchOptions

RRF_K = 60
SIGNAL_DEPTH = 200  # candidates each signal contributes before fusion
SIGNALS = ("lexical", "dense", "gloss", "symbol", "regex", "path", "literal", "history")

# An identifier a user typed on purpose: snake_case, camelCase, dotted, call syntax or quoted.
_CODE_TOKEN = re.compile(
    r"`([^`]{2,80})`|\b([A-Za-z_][A-Za-z0-9]*(?:[._][A-Za-z0-9_]+)+|[a-z]+[A-Z][A-Za-z0-9]*|"
    r"[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*|[A-Za-z_][A-Za-z0-9_]{2,}(?=\())")


@dataclass(frozen=True)
class FusionWeights:
    """Tuned by benchmarks/tune_fusion.py on the shop gold set and half of CoSQA (each set
    weighing the same); symbol and regex tie over their grid and keep the stronger values."""

    lexical: float = 0.1
    dense: float = 1.0
    gloss: float = 0.15
    symbol: float = 1.0
    regex: float = 0.5
    # query understanding's routes (indexer/retrieval/routes.py): a path or frame the
    # question names, an error message found verbatim
    path: float = 1.0
    literal: float = 0.7
    # files past commits like the question changed (history_signal.py): file-level evidence
    # only, kept out of the chunk fusion
    history: float = 0.0

    def of(self, signal: str) -> float:
        return getattr(self, signal)


def code_tokens_in(query: str) -> list[str]:
    """Identifiers and quoted code in a query, in order, without duplicates."""
    found = []
    for quoted, bare in _CODE_TOKEN.findall(query):
        token = (quoted or bare).strip()
        if token and token not in found:
            found.append(token)
    return found


@dataclass
class SignalHits:
    rows: list[int]
    scores: list[float]


@dataclass
class Candidate:
    row: int
    fused: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)


def fuse(signals: dict[str, SignalHits], weights: FusionWeights, pool: int) -> list[Candidate]:
    """Weighted reciprocal rank fusion; ties go to the lower row (path order)."""
    by_row: dict[int, Candidate] = {}
    for name, hits in signals.items():
        weight = weights.of(name)
        if weight <= 0:
            continue
        for rank, (row, score) in enumerate(zip(hits.rows, hits.scores, strict=True), start=1):
            candidate = by_row.get(row)
            if candidate is None:
                candidate = by_row[row] = Candidate(row)
            candidate.fused += weight / (RRF_K + rank)
            candidate.ranks[name] = rank
            candidate.scores[name] = score
    ranked = sorted(by_row.values(), key=lambda c: (-c.fused, c.row))
    return ranked[:pool]


def lexical_signal(chunks, table: ChunkTable, query: str, mask: np.ndarray | None,  # noqa: ANN001
                   depth: int) -> SignalHits:
    """BM25 hits of this snapshot for a free-text query."""
    return lexical_rows(lambda fetch: chunks.lexical_search(query, fetch), table, mask, depth)


def lexical_rows(search, table: ChunkTable, mask: np.ndarray | None,  # noqa: ANN001
                 depth: int) -> SignalHits:
    """The first `depth` rows of this snapshot among `search(fetch)`'s (score, blob, ordinal)
    hits. The lexical index spans every snapshot: over-fetch, and fetch more while short."""
    fetch = depth * 4
    while True:
        found = search(fetch)
        rows, scores, seen = [], [], set()
        for score, blob, ordinal in found:
            row = table.by_key.get((blob, ordinal))
            if row is None or row in seen or (mask is not None and not mask[row]):
                continue
            seen.add(row)
            rows.append(row)
            scores.append(float(score))
            if len(rows) == depth:
                return SignalHits(rows, scores)
        if len(found) < fetch or fetch >= 50_000:
            return SignalHits(rows, scores)
        fetch *= 4


def symbol_signal(symbol_index, table: ChunkTable, tokens: Sequence[str],  # noqa: ANN001
                  mask: np.ndarray | None, depth: int) -> SignalHits:
    """Chunks defining a symbol named like a code token of the query (exact, then prefix)."""
    from indexer.symbols import SCORE_PREFIX

    rows: list[int] = []
    scores: list[float] = []
    for token in tokens:
        name = re.split(r"[.(]", token.strip("`"))[-1] or token
        for score, symbol in symbol_index.search(name, limit=20):
            if score < SCORE_PREFIX:
                break
            row = _row_at(table, symbol.path, symbol.record.name_line)
            if row is not None and row not in rows and (mask is None or mask[row]):
                rows.append(row)
                scores.append(float(score))
    return SignalHits(rows[:depth], scores[:depth])


def regex_signal(searcher, table: ChunkTable, tokens: Sequence[str],  # noqa: ANN001
                 mask: np.ndarray | None, depth: int) -> SignalHits:
    """Chunks containing the query's identifiers verbatim, most occurrences first."""
    counts: Counter[int] = Counter()
    for token in tokens:
        options = SearchOptions(patterns=(token,), fixed_strings=True, case="smart",
                                limit=2000)
        for file in searcher.search(options):
            for line in file.lines:
                if line.is_match:
                    row = _row_at(table, file.path, line.line_number)
                    if row is not None and (mask is None or mask[row]):
                        counts[row] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:depth]
    return SignalHits([r for r, _ in ranked], [float(c) for _, c in ranked])


def _row_at(table: ChunkTable, path: str, line: int) -> int | None:
    """The chunk of `path` holding `line` (chunks of a file tile its lines)."""
    rows = table.by_path.get(path)
    if not rows:
        return None
    for row in rows:
        start, end = table.lines[row]
        if start <= line <= end:
            return row
    return None


def filter_mask(table: ChunkTable, filters: ChunkFilter) -> np.ndarray | None:
    return filters.mask(table) if filters.active else None
