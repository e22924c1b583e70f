"""A learned file ranker: LightGBM lambdarank over per-file evidence, instead of weights.

Features per candidate file (what every signal said about its chunks, what query
understanding matched in it, what kind of file it is) and per query (length, identifiers,
traceback...) are scored by a gradient-boosted ranking model. The default model ships in
`indexer/retrieval/models/file_ranker.txt` (trained by `benchmarks/train_ranker.py` on
history-mined gold sets of other repositories, CoSQA dev and the shop set); `codeloupe tune`
fits one per repository from its own history and keeps it in the index folder, where
`SemanticSearcher` finds it first.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from indexer.retrieval.files import FileEvidence, fixed_scores

SIGNAL_FEATURES = ("final", "lexical", "dense", "gloss", "symbol", "regex", "path", "literal",
                   "history")
CANDIDATES = 60  # files per query the model scores (the best by the fixed combination)
DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "file_ranker.txt"
TUNED_NAME = "file_ranker.txt"  # in the repository's index folder, written by `tune`

_VENDORED = re.compile(r"(^|/)(vendor|vendored|third_party|_vendor|node_modules|extern|"
                       r"generated|gen|build|dist)/", re.IGNORECASE)
_TEST = re.compile(r"(^|/)(tests?|testing|testsuite|spec|__tests__)/|(^|/)(test_[^/]*|"
                   r"[^/]*_test\.\w+|conftest\.py|tests?\.py)$", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|\d+")


def feature_names() -> list[str]:
    names = []
    for s in SIGNAL_FEATURES:
        names += [f"{s}_rr", f"{s}_score", f"{s}_count", f"{s}_decayed"]
    names += ["fixed", "fixed_rr", "signals_present", "depth", "is_test", "is_vendored",
              "is_doc", "chunks", "lines", "name_overlap", "routed_idf_sum", "routed_idf_max",
              "routed_defs", "hist_changes", "hist_recency", "q_chars", "q_identifiers",
              "q_routed", "q_traceback", "q_paths", "q_errors", "q_long"]
    return names


@dataclass
class QueryContext:
    """What the features need from the question and its first stage."""

    words: set[str]  # lower-cased words of the question
    chars: int
    identifiers: int
    routed: list  # IdentifierStats of the routed identifiers
    traceback: bool
    paths: int
    errors: int
    long: bool
    lexical_top: float  # the best BM25 score of the query (to normalise)
    history: object = None  # the snapshot's HistoryIndex, when built


def query_context(stage, history=None) -> QueryContext:  # noqa: ANN001 - a FirstStage
    parts = stage.parts
    lexical = stage.hits.get("lexical")
    return QueryContext(
        words={w.lower() for w in _WORD.findall(stage.query)},
        chars=len(stage.query),
        identifiers=len(parts.identifiers) if parts else 0,
        routed=list(stage.identifiers),
        traceback=bool(parts and parts.frames),
        paths=len(parts.paths) if parts else 0,
        errors=len(parts.errors) if parts else 0,
        long=bool(parts and parts.is_long),
        lexical_top=max(lexical.scores[:1], default=0.0) if lexical else 0.0,
        history=history)


def candidates(evidence: dict[str, FileEvidence], limit: int = CANDIDATES
               ) -> tuple[list[str], dict[str, float]]:
    fixed = fixed_scores(evidence)
    order = sorted(fixed, key=lambda p: (-fixed[p], p))[:limit]
    return order, fixed


def features(table, paths: Sequence[str], evidence: dict[str, FileEvidence],  # noqa: ANN001
             fixed: dict[str, float], q: QueryContext) -> np.ndarray:
    rows = []
    for position, path in enumerate(paths, start=1):
        ev = evidence[path]
        row: list[float] = []
        for s in SIGNAL_FEATURES:
            best = ev.final_best if s == "final" else ev.best.get(s, 0)
            score = ev.top_score.get(s, 0.0)
            if s == "lexical" and q.lexical_top:
                score /= q.lexical_top
            count = len(ev.rows) if s == "final" else ev.count.get(s, 0)
            row += [1.0 / best if best else 0.0, score, math.log1p(count),
                    ev.decayed.get(s, 0.0)]
        p = PurePosixPath(path)
        chunk_rows = table.by_path.get(path) or []
        last_line = int(table.lines[chunk_rows[-1]][1]) if chunk_rows else 0
        name_words = {w.lower() for w in _WORD.findall(" ".join(p.with_suffix("").parts))}
        overlap = len(name_words & q.words) / len(name_words) if name_words else 0.0
        idfs = [s.idf for s in q.routed if path in s.lines]
        defs = sum(1 for s in q.routed for r in chunk_rows
                   if table.names[r].split(".")[-1] == s.token)
        row += [fixed.get(path, 0.0), 1.0 / position, float(len(ev.best)),
                float(len(p.parts)), float(bool(_TEST.search(path))),
                float(bool(_VENDORED.search(path))),
                float(p.suffix.lower() in (".md", ".rst", ".txt")),
                math.log1p(len(chunk_rows)), math.log1p(last_line), overlap,
                sum(idfs), max(idfs, default=0.0), float(defs),
                math.log1p(q.history.changes.get(path, 0)) if q.history else 0.0,
                1.0 / (1 + q.history.age[path]) if q.history and path in q.history.age
                else 0.0,
                math.log1p(q.chars), float(q.identifiers), float(len(q.routed)),
                float(q.traceback), float(q.paths), float(q.errors), float(q.long)]
        rows.append(row)
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(feature_names()))


class FileRanker:
    """A LightGBM model over `features`; loaded once per file and shared (thread-safe)."""

    _cache: dict[tuple[str, float], FileRanker] = {}
    _lock = threading.Lock()

    def __init__(self, booster, source: str) -> None:  # noqa: ANN001
        self.booster = booster
        self.source = source

    @classmethod
    def load(cls, path: Path) -> FileRanker | None:
        """The model at `path`, or None when there is none (or lightgbm is missing)."""
        try:
            stamp = path.stat().st_mtime
        except OSError:
            return None
        key = (str(path), stamp)
        with cls._lock:
            found = cls._cache.get(key)
            if found is None:
                try:
                    import lightgbm
                except ImportError:
                    return None
                found = cls._cache[key] = cls(lightgbm.Booster(model_file=str(path)),
                                              str(path))
            return found

    def score(self, matrix: np.ndarray) -> np.ndarray:
        if len(matrix) == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(matrix, num_threads=1), dtype=np.float64)


# A tune adds small, gentle trees on top of the default model: with a few dozen questions,
# 50 more trees of 15 leaves at the default's rate fitted noise (pooled R@5 -0.009 on five
# repositories); 4 leaves at rate 0.02 did +0.011 (docs/semantic.md).
TUNE = {"rounds": 50, "leaves": 4, "learning_rate": 0.02}


def train(groups: list[tuple[np.ndarray, np.ndarray]], *, rounds: int = 150, leaves: int = 15,
          learning_rate: float = 0.05, seed: int = 1,
          init_model: Path | None = None):  # noqa: ANN201 - a lightgbm.Booster
    """Fit a lambdarank model on (features, labels) per query; queries with no relevant
    candidate carry no ranking signal and are skipped. With `init_model` the boosting goes
    on from that model (a repository's few hundred questions refine the default model
    instead of replacing what it learned from many repositories)."""
    import lightgbm

    kept = [(x, y) for x, y in groups if len(y) and y.max() > 0]
    if not kept:
        raise ValueError("no query has a relevant file among its candidates")
    matrix = np.vstack([x for x, _ in kept])
    labels = np.concatenate([y for _, y in kept])
    data = lightgbm.Dataset(matrix, labels, group=[len(y) for _, y in kept],
                            feature_name=feature_names(), free_raw_data=False)
    params = {"objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [1, 5],
              "learning_rate": learning_rate, "num_leaves": leaves, "min_data_in_leaf": 20,
              "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
              "lambdarank_truncation_level": 20, "seed": seed, "deterministic": True,
              "num_threads": 1, "verbose": -1}  # OpenMP spin-waits on busy cores
    return lightgbm.train(params, data, num_boost_round=rounds,
                          init_model=str(init_model) if init_model else None)
