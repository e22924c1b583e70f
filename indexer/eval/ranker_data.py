"""Training data for the file ranker: per gold query, its candidate files' features and
whether each is an expected file. Shared by `codeloupe tune` and benchmarks/train_ranker.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.eval.gold import GoldQuery
from indexer.retrieval.hybrid import SIGNALS
from indexer.retrieval.semantic import AskRequest


@dataclass
class QueryGroup:
    query_id: str
    features: np.ndarray  # (candidates, features)
    labels: np.ndarray  # 1 for an expected file, else 0
    paths: list[str]
    expected: int  # expected files (some may be missing from the candidates)


def collect(searcher_for: Callable[[str | None], object], gold: Sequence[GoldQuery],
            on_query: Callable[[int, int], None] | None = None) -> list[QueryGroup]:
    groups = []
    for i, q in enumerate(gold, start=1):
        searcher = searcher_for(q.rev)
        request = AskRequest(q.query, k=50, signals=SIGNALS, rerank="dense", files=True)
        stage, _, ranked = searcher.ranked_pool(request)
        _, paths, _, matrix = searcher.file_candidates(stage, ranked)
        wanted = {e.path for e in q.expected}
        labels = np.asarray([1.0 if p in wanted else 0.0 for p in paths])
        groups.append(QueryGroup(q.id, matrix, labels, list(paths), len(wanted)))
        if on_query:
            on_query(i, len(gold))
    return groups


def save(groups: list[QueryGroup], path) -> None:  # noqa: ANN001
    np.savez_compressed(path, ids=np.asarray([g.query_id for g in groups]),
                        sizes=np.asarray([len(g.labels) for g in groups]),
                        expected=np.asarray([g.expected for g in groups]),
                        features=np.vstack([g.features for g in groups]) if groups
                        else np.zeros((0, 0)),
                        labels=np.concatenate([g.labels for g in groups]) if groups
                        else np.zeros(0))


def load(path) -> list[QueryGroup]:  # noqa: ANN001
    data = np.load(path)
    out, start = [], 0
    for qid, size, expected in zip(data["ids"], data["sizes"], data["expected"], strict=True):
        end = start + int(size)
        out.append(QueryGroup(str(qid), data["features"][start:end], data["labels"][start:end],
                              [], int(expected)))
        start = end
    return out
