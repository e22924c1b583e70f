"""Question answering over one snapshot: hybrid recall, re-ranking, and embedding upkeep.

`SemanticSearcher` holds what a snapshot's semantic queries share (its chunk table, dense
indexes per view, the symbol index, the embedder) and is cached per snapshot by the
workspace. `ask` is the engine API behind `codeloupe ask`, the language server's
`codeloupe/ask` and the MCP `ask` tool.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from indexer.config import Settings
from indexer.embed.job import EmbedReport, embed_view
from indexer.embed.texts import CODE_VIEW, GLOSS_VIEW, chunk_sources, code_view_text
from indexer.embed.vector_cache import VectorCache
from indexer.errors import CodeloupeError
from indexer.ingest import CancelToken, ProgressCallback
from indexer.repo import path_fields
from indexer.retrieval.chunk_table import ChunkTable
from indexer.retrieval.dense import DenseIndex
from indexer.retrieval.filters import ChunkFilter
from indexer.retrieval.hybrid import (
    SIGNAL_DEPTH,
    SIGNALS,
    Candidate,
    FusionWeights,
    SignalHits,
    code_tokens_in,
    fuse,
    lexical_signal,
    regex_signal,
    symbol_signal,
)
from indexer.retrieval.query_parse import QueryParts, parse_query
from indexer.retrieval.rerank import RERANKERS, RerankWeights, dense_rerank
from indexer.retrieval.routes import (
    IdentifierStats,
    definition_signal,
    identifier_stats,
    lexical_terms_signal,
    literal_signal,
    occurrence_signal,
    path_signal,
    specific,
    specific_terms,
)

MAX_QUERY_CHARS = 8000  # bug reports run to a few thousand; query understanding splits them
# chunks: a backlog this small is embedded before answering (a few seconds on 2 cores);
# a bigger one is the background worker's, and the answer uses what is embedded
AUTO_EMBED = 400
VIEWS = ("dense", "gloss")  # signal name == the embedded view it reads
VIEW_NAMES = {"dense": CODE_VIEW, "gloss": GLOSS_VIEW}


class QueryError(CodeloupeError):
    pass


@dataclass
class AskRequest:
    query: str
    globs: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    k: int = 10
    pool: int = 300
    rerank: str | None = None  # None: the settings' choice
    rerank_depth: int = 40
    signals: tuple[str, ...] = SIGNALS  # the first-stage signals to use (eval compares sets)
    files: bool = False  # also rank files by their chunks' evidence (AskResponse.files)
    understand: bool = True  # split long questions and route their parts (query_parse.py)
    ranker: str = "auto"  # files: "auto" (tuned, else default model), "default", "fixed"


@dataclass
class RankedChunk:
    row: int
    path: str
    start_line: int
    end_line: int
    name: str
    kind: str
    language: str
    score: float
    signals: dict[str, float]  # raw score per signal (cosine, BM25, match count...)
    ranks: dict[str, int]  # rank per first-stage signal
    content_hash: str = ""

    def to_dict(self) -> dict:
        return {**path_fields(self.path), "start_line": self.start_line, "end_line": self.end_line,
                "name": self.name, "kind": self.kind, "language": self.language,
                "score": round(self.score, 6),
                "signals": {k: round(v, 6) for k, v in self.signals.items()},
                "ranks": self.ranks}


@dataclass
class RankedFile:
    path: str
    score: float
    evidence: list[RankedChunk]  # its best chunks, best first
    ranks: dict[str, int]  # best chunk rank per signal

    def to_dict(self) -> dict:
        return {"path": self.path, "score": round(self.score, 6), "ranks": self.ranks,
                "evidence": [r.to_dict() for r in self.evidence]}


@dataclass
class AskResponse:
    query: str
    results: list[RankedChunk]
    embedded: float  # share of the snapshot's chunks with a code vector
    candidates: int  # size of the fused pool
    rerank: str
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    files: list[RankedFile] | None = None  # when the request asked for files

    def to_dict(self) -> dict:
        out = {"query": self.query, "embedded": round(self.embedded, 4),
               "candidates": self.candidates, "rerank": self.rerank, "notes": self.notes,
               "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
               "results": [r.to_dict() for r in self.results]}
        if self.files is not None:
            out["files"] = [f.to_dict() for f in self.files]
        return out


@dataclass
class FirstStage:
    query: str  # normalized and capped
    rerank: str
    hits: dict[str, SignalHits]
    query_vector: np.ndarray | None
    notes: list[str]
    timings: dict[str, float]
    parts: QueryParts | None = None
    identifiers: list[IdentifierStats] = field(default_factory=list)  # routed (long queries)


class SemanticSearcher:
    def __init__(self, ws, snapshot, settings: Settings) -> None:  # noqa: ANN001
        self.ws = ws
        self.snapshot = snapshot
        self.settings = settings
        self.table = ChunkTable.build(ws.store.chunks, snapshot.manifest)
        self._lock = threading.RLock()
        self._embedder = None
        self._cache: VectorCache | None = None
        self._dense: dict[str, DenseIndex] = {}
        self._dense_stamp = -1
        self._symbols = None
        self._glosses: dict[str, str] | None = None
        self._gloss_keys: list[str] | None = None
        self._modules: dict[str, list[str]] | None = None
        self._history = None
        # tuned on the gold sets (benchmarks/tune_fusion.py); replaceable per searcher
        self.fusion_weights = FusionWeights()
        self.rerank_weights = RerankWeights()

    # --- shared parts, built on first use ---
    @property
    def embedder(self):  # noqa: ANN201
        if self._embedder is None:
            from indexer.embed.model import load_embedder

            self._embedder = load_embedder(self.settings)
        return self._embedder

    @property
    def cache(self) -> VectorCache:
        if self._cache is None:
            store = self.ws.store
            self._cache = VectorCache(store.catalog.path, store.directory / "vectors",
                                      self.embedder.key, self.embedder.dimensions)
        return self._cache

    def dense(self, signal: str) -> DenseIndex:
        with self._lock:
            stamp = self.cache.db.execute("SELECT max(rowid) FROM vectors").fetchone()[0] or 0
            if stamp != self._dense_stamp:  # the cache grew (embedding in progress): reload
                self._dense.clear()
                self._dense_stamp = stamp
            if signal not in self._dense:
                self._dense[signal] = DenseIndex(self.table, self.cache, VIEW_NAMES[signal],
                                                 self.view_keys(signal))
            return self._dense[signal]

    @property
    def symbols(self):  # noqa: ANN201
        if self._symbols is None:
            from indexer.retrieval.symbol_search import SymbolIndex

            self._symbols = SymbolIndex(self.ws, self.snapshot)
        return self._symbols

    def glosses(self) -> dict[str, str]:
        """content hash -> gloss: the configured provider's where cached, else heuristic."""
        if self._glosses is None:
            from indexer.gloss.cache import glosses_for

            self._glosses = glosses_for(self.ws.store, dict.fromkeys(self.table.content_hashes),
                                        self.settings.gloss_provider, self.settings.gloss_model)
        return self._glosses

    def history(self):  # noqa: ANN201 - a HistoryIndex
        """Past commits of this snapshot's commit (built once): messages and the files each
        changed, churn and recency."""
        if self._history is None:
            from indexer.retrieval.history_signal import HistoryIndex

            commit = self.snapshot.commit or self.ws.repo.head_commit()
            self._history = HistoryIndex.build(self.ws.repo.root, commit,
                                               set(self.table.by_path))
        return self._history

    def module_paths(self) -> dict[str, list[str]]:
        """Dotted module suffixes -> paths, for the path signal (built once)."""
        if self._modules is None:
            from indexer.retrieval.routes import module_paths

            self._modules = module_paths(self.table)
        return self._modules

    def gloss_of(self, row: int) -> str:
        return self.glosses().get(self.table.content_hashes[row], "")

    def view_keys(self, signal: str) -> list[str] | None:
        """Cache keys of a view's vectors. Gloss vectors are keyed by the gloss text's digest:
        when a model's gloss replaces the heuristic one, its vector is a new entry, never a
        stale one."""
        if signal != "gloss":
            return None
        if self._gloss_keys is None:
            digests: dict[str, str] = {}
            for digest, text in self.glosses().items():
                digests[digest] = hashlib.sha1(text.encode()).hexdigest()
            self._gloss_keys = [digests.get(h, "") for h in self.table.content_hashes]
        return self._gloss_keys

    # --- embedding upkeep ---
    def embed(self, *, views: tuple[str, ...] = VIEWS, limit: int | None = None,
              cancel: CancelToken | None = None,
              on_progress: ProgressCallback | None = None,
              order: Callable[[list[int]], list[int]] | None = None) -> list[EmbedReport]:
        reports = []
        for signal in views:
            text_of = (lambda row, record, source: self.gloss_of(row)) \
                if signal == "gloss" else None
            reports.append(embed_view(
                self.ws.store, self.snapshot.manifest, self.table, self.embedder, self.cache,
                VIEW_NAMES[signal], text_of=text_of, keys=self.view_keys(signal), limit=limit,
                cancel=cancel, on_progress=on_progress, order=order))
        return reports

    def backlog_order(self, rows: list[int], focus: set[str] | frozenset[str] = frozenset()
                      ) -> list[int]:
        """The backlog by value, most useful first: the `focus` paths (files open in an
        editor) and files changed in the working tree (what the user works on), then public
        definitions, then private ones, then module-level code; path order within each."""
        from indexer.repo import WORKTREE

        names, kinds, paths = self.table.names, self.table.kinds, self.table.paths
        changed: set[str] = set(focus)
        if self.snapshot.name == WORKTREE:
            changed.update(self.ws.store.catalog.worktree_overlay())

        def rank(row: int) -> tuple[bool, int]:
            name = names[row].rsplit(".", 1)[-1]
            if not name or kinds[row] in ("module", "block", "lines", "imports"):
                value = 2
            else:
                value = 1 if name.startswith("_") and not name.startswith("__") else 0
            return paths[row] not in changed, value

        return sorted(rows, key=rank)

    def embed_small_backlog(self, max_pending: int = AUTO_EMBED,
                            on_progress: ProgressCallback | None = None,
                            on_start: Callable[[int], None] | None = None) -> bool:
        """Embed what is missing when it is little (a branch with a few changed files), so
        the answer uses every chunk, telling `on_start(n)` first; a big backlog is left to
        the background worker (a small one is done here even while the worker runs: at
        full priority it takes seconds, the worker may need minutes to reach it). Whether
        it embedded anything."""
        from indexer.embed.job import pending_rows

        todo, _ = pending_rows(self.table, self.cache, VIEW_NAMES["dense"])
        if not 0 < len(todo) <= max_pending:
            return False
        if on_start is not None:
            on_start(len(todo))
        self.embed(on_progress=on_progress)
        return True

    def backlog_note(self, coverage: float) -> str:
        """What the answer's dense signals cover, and what happens to the rest."""
        from indexer.embed.backlog import read_status

        status = read_status(self.ws.store.directory) or {}
        if status.get("running"):
            rest = f"the rest is being embedded in the background (pid {status['running']}"
            if status.get("rate") and status.get("eta_s") is not None:
                rest += f", about {max(1, round(status['eta_s'] / 60))} min left"
            rest += "; `codeloupe status`)"
        else:
            rest = "run `codeloupe index` to embed the rest"
        return (f"{coverage:.0%} of {len(self.table)} chunks embedded so far; dense signals "
                f"cover those, lexical and symbols cover all; {rest}")

    def coverage(self) -> float:
        return self.dense("dense").coverage

    # --- questions ---
    def ranked_pool(self, request: AskRequest
                    ) -> tuple[FirstStage, list[Candidate], list[tuple[Candidate, float]]]:
        """First stage, fused pool and re-ranked pool: what `ask` answers from (and what the
        file ranker's training data is collected from)."""
        stage = self.first_stage(request)
        clock = time.perf_counter()
        pool = fuse({k: v for k, v in stage.hits.items() if v.rows}, self.fusion_weights,
                    max(request.pool, request.k))
        ranked = self._rerank(stage.rerank, stage.query_vector, pool, request, stage.notes)
        stage.timings["fuse+rerank"] = (time.perf_counter() - clock) * 1000
        return stage, pool, ranked

    def ask(self, request: AskRequest) -> AskResponse:
        stage, pool, ranked = self.ranked_pool(request)
        wants_vectors = stage.query_vector is not None
        coverage = self.coverage() if wants_vectors else 0.0
        if wants_vectors and coverage < 1.0:
            stage.notes.append(self.backlog_note(coverage))
        results = [self._result(c, score) for c, score in ranked[:request.k]]
        response = AskResponse(stage.query, results, coverage, len(pool), stage.rerank,
                               stage.notes, stage.timings)
        if request.files:
            clock = time.perf_counter()
            response.files = self.rank_files(stage, ranked, request.k, request.ranker)
            stage.timings["files"] = (time.perf_counter() - clock) * 1000
        return response

    def file_ranker(self, choice: str = "auto"):  # noqa: ANN201 - a FileRanker or None
        """The model that ranks files: this repository's tuned one (`codeloupe tune`), else
        the shipped default; None for the fixed combination."""
        from indexer.retrieval.ranker import DEFAULT_MODEL, TUNED_NAME, FileRanker

        if choice == "fixed":
            return None
        if choice == "auto":
            tuned = FileRanker.load(self.ws.store.directory / TUNED_NAME)
            if tuned is not None:
                return tuned
        return FileRanker.load(DEFAULT_MODEL)

    def file_candidates(self, stage: FirstStage, ranked: list[tuple[Candidate, float]]):  # noqa: ANN201
        """(evidence per file, candidate paths, fixed scores, feature matrix) for a ranked
        pool: what the file ranker scores, and what `tune` trains on."""
        from indexer.retrieval.files import gather
        from indexer.retrieval.ranker import candidates, features, query_context

        evidence = gather(self.table, stage.hits, [c.row for c, _ in ranked])
        paths, fixed = candidates(evidence)
        history = self.history() if "history" in stage.hits else None
        matrix = features(self.table, paths, evidence, fixed, query_context(stage, history))
        return evidence, paths, fixed, matrix

    def rank_files(self, stage: FirstStage, ranked: list[tuple[Candidate, float]], k: int,
                   ranker: str = "auto") -> list[RankedFile]:
        """Files ranked by their chunks' evidence, each with its best chunks."""
        from indexer.retrieval.files import EVIDENCE, fixed_scores, gather

        if ranker not in ("auto", "default", "fixed"):
            raise QueryError(f"unknown file ranker {ranker!r}; use auto, default or fixed")
        model = self.file_ranker(ranker)
        if model is None:
            evidence = gather(self.table, stage.hits, [c.row for c, _ in ranked])
            scores = fixed_scores(evidence)
            order = sorted(scores, key=lambda path: (-scores[path], path))[:k]
        else:
            evidence, paths, fixed, matrix = self.file_candidates(stage, ranked)
            learned = model.score(matrix)
            # the model orders its candidates; any file beyond them keeps the fixed order
            top = max(fixed.values(), default=0.0) + 1.0
            scores = {p: float(v) + 1e3 for p, v in zip(paths, learned, strict=True)}
            for path, value in fixed.items():
                scores.setdefault(path, value - top)
            order = sorted(scores, key=lambda path: (-scores[path], path))[:k]
        by_row = {c.row: (c, score) for c, score in ranked}
        out = []
        for path in order:
            ev = evidence[path]
            chunks = [self._result(*by_row[row]) for row in ev.rows[:EVIDENCE]]
            if not chunks:  # found by a signal but past the fused pool: its best chunk
                best = min(ev.best, key=lambda s: ev.best[s])
                row = stage.hits[best].rows[ev.best[best] - 1]
                chunks = [self._result(Candidate(row, ranks={best: ev.best[best]}),
                                       ev.top_score[best])]
            out.append(RankedFile(path, scores[path], chunks, dict(ev.best)))
        return out

    def first_stage(self, request: AskRequest) -> FirstStage:
        """Validate the request and run each first-stage signal (fusion comes after)."""
        notes: list[str] = []
        query = " ".join(request.query.split())
        if not query:
            raise QueryError("the question is empty")
        if len(query) > MAX_QUERY_CHARS:
            notes.append(f"query capped at {MAX_QUERY_CHARS} of {len(query)} characters")
            query = query[:MAX_QUERY_CHARS]
        rerank = request.rerank or self.settings.rerank
        if rerank not in RERANKERS:
            raise QueryError(f"unknown re-ranker {rerank!r}; use one of {', '.join(RERANKERS)}")
        unknown = set(request.signals) - set(SIGNALS)
        if unknown:
            raise QueryError(f"unknown signal(s) {', '.join(sorted(unknown))}; "
                             f"use {', '.join(SIGNALS)}")
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[name] = (now - clock) * 1000
            clock = now

        filters = ChunkFilter.of(request.globs, request.languages, request.kinds)
        mask = filters.mask(self.table) if filters.active else None
        # long, messy questions are split and each part routed to the signal that fits it;
        # short ones go to every signal as typed (what the gold-set floors were set on)
        parts = parse_query(request.query[:MAX_QUERY_CHARS] if request.understand else "")
        long = request.understand and parts.is_long
        lap("parse")
        hits: dict[str, SignalHits] = {}
        query_vector = None
        routed: list[IdentifierStats] = []
        if "lexical" in request.signals:
            if long:
                terms = specific_terms(self.ws.store.chunks,
                                       parts.prose + " " + " ".join(parts.identifiers))
                hits["lexical"] = lexical_terms_signal(self.ws.store.chunks, self.table, terms,
                                                       mask, SIGNAL_DEPTH)
            else:
                hits["lexical"] = lexical_signal(self.ws.store.chunks, self.table, query, mask,
                                                 SIGNAL_DEPTH)
            lap("lexical")
        if any(s in request.signals for s in VIEWS) or rerank in ("dense", "llm"):
            query_vector = self.embedder.encode_query(parts.dense_text() if long
                                                      else query)
            lap("embed_query")
        for signal in VIEWS:
            if signal in request.signals:
                rows, scores = self.dense(signal).search(query_vector, SIGNAL_DEPTH, mask)
                hits[signal] = SignalHits(rows.tolist(), scores.tolist())
                lap(signal)
        if long and parts.identifiers and (
                "symbol" in request.signals or "regex" in request.signals):
            routed = specific(identifier_stats(self.snapshot.searcher, self.table,
                                               parts.identifiers), len(self.table.by_path))
            lap("identifiers")
            if routed and "symbol" in request.signals:
                hits["symbol"] = definition_signal(self.symbols, self.table, routed, mask,
                                                   SIGNAL_DEPTH)
                lap("symbol")
            if routed and "regex" in request.signals:
                hits["regex"] = occurrence_signal(self.table, routed, mask, SIGNAL_DEPTH)
                lap("regex")
        elif not long:
            tokens = code_tokens_in(query)
            if tokens and "symbol" in request.signals:
                hits["symbol"] = symbol_signal(self.symbols, self.table, tokens, mask,
                                               SIGNAL_DEPTH)
                lap("symbol")
            if tokens and "regex" in request.signals:
                hits["regex"] = regex_signal(self.snapshot.searcher, self.table, tokens, mask,
                                             SIGNAL_DEPTH)
                lap("regex")
        if "path" in request.signals and (parts.paths or parts.dotted):
            hits["path"] = path_signal(self.table, parts, mask, SIGNAL_DEPTH,
                                       self.module_paths())
            lap("path")
        if "literal" in request.signals and parts.errors:
            hits["literal"] = literal_signal(self.snapshot.searcher, self.table, parts.errors,
                                             mask, SIGNAL_DEPTH)
            lap("literal")
        if "history" in request.signals and request.understand:
            votes = self.history().similar_files(query)
            ranked_files = sorted(votes, key=lambda path: (-votes[path], path))
            rows, scores = [], []
            for path in ranked_files:
                first = next((r for r in self.table.by_path.get(path, ())
                              if mask is None or mask[r]), None)
                if first is not None:
                    rows.append(first)
                    scores.append(votes[path])
            hits["history"] = SignalHits(rows[:SIGNAL_DEPTH], scores[:SIGNAL_DEPTH])
            lap("history")
        return FirstStage(query, rerank, hits, query_vector, notes, timings, parts, routed)

    def _rerank(self, rerank: str, query_vector: np.ndarray | None, pool: list[Candidate],
                request: AskRequest, notes: list[str]) -> list[tuple[Candidate, float]]:
        if rerank == "none" or not pool:
            return [(c, c.fused) for c in pool]
        head, tail = pool[:request.rerank_depth], pool[request.rerank_depth:]
        assert query_vector is not None
        rows = np.asarray([c.row for c in head], dtype=np.int64)
        code_cos = self._cosines(query_vector, rows, "dense")
        gloss_cos = self._cosines(query_vector, rows, "gloss")
        for c in head:
            c.scores.setdefault("dense", code_cos.get(c.row, 0.0))
        reranked = dense_rerank(head, code_cos, gloss_cos, self.rerank_weights)
        if rerank == "llm":
            from indexer.retrieval.llm_rerank import llm_rerank

            reranked = llm_rerank(self, request.query, reranked, notes)
        floor = min((s for _, s in reranked), default=0.0)
        return reranked + [(c, floor - 1 - i * 1e-6) for i, c in enumerate(tail)]

    def _cosines(self, query_vector: np.ndarray, rows: np.ndarray, signal: str
                 ) -> dict[int, float]:
        """Cosines for rows; chunks not embedded yet are embedded now (a few dozen at most)."""
        found = self.dense(signal).scores_for(query_vector, rows)
        missing = [int(r) for r in rows if int(r) not in found]
        if missing:
            texts = []
            for row, record, source in chunk_sources(self.ws.store, self.snapshot.manifest,
                                                     self.table, sorted(missing)):
                texts.append((row, code_view_text(record, source) if signal == "dense"
                              else self.gloss_of(row)))
            vectors = self.embedder.encode([t for _, t in texts])
            for (row, _), vector in zip(texts, vectors, strict=True):
                found[row] = float(vector @ query_vector)
        return found

    def _result(self, c: Candidate, score: float) -> RankedChunk:
        t = self.table
        start, end = (int(x) for x in t.lines[c.row])
        return RankedChunk(c.row, t.paths[c.row], start, end, t.names[c.row], t.kinds[c.row],
                           t.languages[c.row], float(score), dict(c.scores), dict(c.ranks),
                           t.content_hashes[c.row])
