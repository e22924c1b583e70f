"""File-level answers: "which file do I change?", ranked by the evidence of its chunks.

A question about a bug or a feature is answered by a file more often than by one chunk: the
evidence is spread (a class in one chunk, the method that fails in another, the error string
in a third). Each first-stage signal ranks chunks; a file takes, per signal, its best chunk's
rank and score and how many of its chunks the signal found; the final chunk ranking adds its
best positions. A learned ranker (indexer/retrieval/ranker.py) scores files from those
features when a model is available; otherwise a fixed combination does (reciprocal ranks of
the file's best chunks, decayed, per signal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from indexer.retrieval.hybrid import SignalHits

FILE_RRF_K = 10  # files are few: a small constant keeps the head's margin
DECAY = (1.0, 0.5, 0.25)  # a file's best, second and third chunk in one ranking
EVIDENCE = 3  # chunks shown per file


@dataclass
class FileEvidence:
    """What the signals say about one file, before it is scored."""

    path: str
    best: dict[str, int] = field(default_factory=dict)  # signal -> best chunk rank (1-based)
    top_score: dict[str, float] = field(default_factory=dict)  # signal -> best chunk score
    count: dict[str, int] = field(default_factory=dict)  # signal -> chunks of it found
    decayed: dict[str, float] = field(default_factory=dict)  # signal -> decayed RR sum
    rows: list[int] = field(default_factory=list)  # its chunks in final order, best first
    final_best: int = 0  # best position in the final chunk ranking (0: absent)


def gather(table, hits: dict[str, SignalHits], final_rows: Sequence[int]  # noqa: ANN001
           ) -> dict[str, FileEvidence]:
    """Per-file evidence from each signal's ranked chunks and the final chunk ranking."""
    files: dict[str, FileEvidence] = {}

    def of(path: str) -> FileEvidence:
        found = files.get(path)
        if found is None:
            found = files[path] = FileEvidence(path)
        return found

    for signal, got in hits.items():
        for rank, (row, score) in enumerate(zip(got.rows, got.scores, strict=True), start=1):
            ev = of(table.paths[row])
            n = ev.count.get(signal, 0)
            if n == 0:
                ev.best[signal] = rank
                ev.top_score[signal] = float(score)
            if n < len(DECAY):
                ev.decayed[signal] = ev.decayed.get(signal, 0.0) + DECAY[n] / (FILE_RRF_K + rank)
            ev.count[signal] = n + 1
    for position, row in enumerate(final_rows, start=1):
        ev = of(table.paths[row])
        if not ev.rows:
            ev.final_best = position
        ev.rows.append(int(row))
        n = len(ev.rows) - 1
        if n < len(DECAY):
            ev.decayed["final"] = ev.decayed.get("final", 0.0) + DECAY[n] / (FILE_RRF_K + position)
    return files


# Without a learned model: the final (fused, re-ranked) chunk ranking leads; each signal's
# own ranking adds its decayed reciprocal ranks, so a file several signals agree on rises.
DEFAULT_WEIGHTS = {"final": 1.0, "lexical": 0.5, "dense": 0.5, "gloss": 0.1, "symbol": 0.3,
                   "regex": 0.2, "path": 0.6, "literal": 0.4, "history": 0.3}


def fixed_scores(files: dict[str, FileEvidence]) -> dict[str, float]:
    return {path: sum(DEFAULT_WEIGHTS.get(s, 0.2) * v for s, v in ev.decayed.items())
            for path, ev in files.items()}
