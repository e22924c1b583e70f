"""Signals fed by the parsed parts of a question (indexer/retrieval/query_parse.py).

- `path`: chunks of files a path, a module name or a traceback frame points at (a frame's
  line picks its chunk);
- `symbol` / `regex` for long questions: definitions named like an identifier, and chunks
  where identifiers occur, each identifier weighted by its specificity in the snapshot
  (inverse document frequency over files, from the trigram index), so a question full of
  `self`, `value` or `get_config` cannot flood them;
- `literal`: chunks holding a quoted error message verbatim (trigram index);
- `lexical` for long questions: BM25 over the question's most specific terms (BM25 reads at
  most 64 distinct terms; the first 64 of a long report are mostly filler).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np

from indexer.retrieval.chunk_table import ChunkTable
from indexer.retrieval.hybrid import SignalHits, _row_at, lexical_rows
from indexer.retrieval.query_parse import QueryParts
from indexer.search import SearchOptions

MAX_TERMS = 64
COMMON_SHARE = 0.25  # an identifier in more than this share of files says little
MAX_LINES = 2000  # per identifier search


@dataclass
class IdentifierStats:
    token: str
    files: int  # files of the snapshot containing it
    idf: float
    lines: dict[str, list[int]]  # path -> matching line numbers


def module_paths(table: ChunkTable) -> dict[str, list[str]]:
    """Dotted module suffixes of two or more parts -> paths (pkg/sub/mod.py -> sub.mod...)."""
    out: dict[str, list[str]] = {}
    for path in table.by_path:
        p = PurePosixPath(path)
        if p.suffix not in (".py", ".pyi", ".pyx"):
            continue
        parts = list(p.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        for i in range(len(parts) - 1):
            out.setdefault(".".join(parts[i:]), []).append(path)
    return out


def path_signal(table: ChunkTable, parts: QueryParts, mask: np.ndarray | None,
                depth: int, modules: dict[str, list[str]] | None = None) -> SignalHits:
    scored: dict[int, float] = {}

    def credit(path: str, strength: float, line: int | None, function: str | None) -> None:
        rows = table.by_path.get(path) or []
        rows = [r for r in rows if mask is None or mask[r]]
        if not rows:
            return
        pick = None
        if line is not None:
            pick = _row_at(table, path, line)
        if pick is None and function:
            pick = next((r for r in rows if table.names[r].split(".")[-1] == function), None)
        if pick is None:
            pick = rows[0]
        scored[pick] = scored.get(pick, 0.0) + strength + (0.5 if line is not None else 0.0)

    lines = {f.path: (f.line, f.function) for f in parts.frames}
    all_paths = list(table.by_path)
    for written in parts.paths:
        clean = written.lstrip("./")
        line, function = lines.get(written, (None, None))
        exact = [p for p in all_paths if p == clean or p.endswith("/" + clean)]
        if exact:
            for path in exact:
                credit(path, 2.0 / len(exact), line, function)
            continue
        # a frame's absolute path (site-packages/pkg/mod.py): the longest suffix that matches
        pieces = clean.split("/")
        for start in range(1, len(pieces)):
            suffix = "/".join(pieces[start:])
            found = [p for p in all_paths if p == suffix or p.endswith("/" + suffix)]
            if found and (len(pieces) - start >= 2 or len(found) <= 2):
                for path in found:
                    credit(path, 1.5 / len(found), line, function)
                break
    if parts.dotted:
        modules = modules if modules is not None else module_paths(table)
        for dotted in parts.dotted:
            names = dotted.split(".")
            for cut in range(len(names), 1, -1):  # a.b.c.attr: the longest module prefix
                found = modules.get(".".join(names[:cut]))
                if found:
                    attr = names[cut] if cut < len(names) else None
                    for path in found:
                        credit(path, 1.0 / len(found), None, attr)
                    break
    ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0]))[:depth]
    return SignalHits([r for r, _ in ranked], [s for _, s in ranked])


def identifier_stats(searcher, table: ChunkTable, tokens: list[str]  # noqa: ANN001
                     ) -> list[IdentifierStats]:
    """Each identifier's file frequency and matching lines in the snapshot (verbatim)."""
    n_files = max(len(table.by_path), 1)
    out = []
    for token in tokens:
        options = SearchOptions(patterns=(token,), fixed_strings=True, case="sensitive",
                                whole_word=True, limit=MAX_LINES)
        lines: dict[str, list[int]] = {}
        for file in searcher.search(options):
            if file.path in table.by_path:
                lines[file.path] = [line.line_number for line in file.lines if line.is_match]
        if not lines:
            continue
        out.append(IdentifierStats(token, len(lines), math.log((n_files + 1) / len(lines)),
                                   lines))
    return out


def specific(stats: list[IdentifierStats], n_files: int) -> list[IdentifierStats]:
    """Identifiers specific enough to route: not in more than COMMON_SHARE of files (unless
    the snapshot is tiny), most specific first."""
    keep = [s for s in stats if n_files < 8 or s.files <= COMMON_SHARE * n_files]
    return sorted(keep, key=lambda s: (-s.idf, s.token))


def occurrence_signal(table: ChunkTable, stats: list[IdentifierStats],
                      mask: np.ndarray | None, depth: int) -> SignalHits:
    """Chunks where specific identifiers occur: the sum of their IDFs (each once per chunk)."""
    scores: Counter[int] = Counter()
    for s in stats:
        seen: set[int] = set()
        for path, numbers in s.lines.items():
            for number in numbers:
                row = _row_at(table, path, number)
                if row is not None and row not in seen and (mask is None or mask[row]):
                    seen.add(row)
                    scores[row] += s.idf
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:depth]
    return SignalHits([r for r, _ in ranked], [float(v) for _, v in ranked])


def definition_signal(symbol_index, table: ChunkTable, stats: list[IdentifierStats],  # noqa: ANN001
                      mask: np.ndarray | None, depth: int) -> SignalHits:
    """Chunks defining a specific identifier, scored by its IDF (exact names only)."""
    from indexer.symbols import SCORE_EXACT

    scored: dict[int, float] = {}
    for s in stats:
        for score, symbol in symbol_index.search(s.token, limit=10):
            if score < SCORE_EXACT or symbol.record.name != s.token:
                continue
            row = _row_at(table, symbol.path, symbol.record.name_line)
            if row is not None and (mask is None or mask[row]):
                scored[row] = max(scored.get(row, 0.0), s.idf)
    ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0]))[:depth]
    return SignalHits([r for r, _ in ranked], [v for _, v in ranked])


def _fragments(message: str) -> list[str]:
    """Literal pieces of an error message: split where values get formatted in."""
    pieces = re.split(r"'[^']*'|\"[^\"]*\"|<[^>]*>|\b0x[0-9a-f]+\b|\b\d+(?:\.\d+)?\b", message)
    return [p.strip(" :,.") for p in pieces if len(p.strip(" :,.")) >= 12]


def literal_signal(searcher, table: ChunkTable, errors: list[str],  # noqa: ANN001
                   mask: np.ndarray | None, depth: int) -> SignalHits:
    """Chunks holding an error message (or its longest literal pieces) verbatim."""
    scores: Counter[int] = Counter()
    for message in errors[:8]:
        for piece in sorted(_fragments(message), key=len, reverse=True)[:2]:
            options = SearchOptions(patterns=(piece,), fixed_strings=True, case="sensitive",
                                    limit=200)
            for file in searcher.search(options):
                for line in file.lines:
                    if line.is_match:
                        row = _row_at(table, file.path, line.line_number)
                        if row is not None and (mask is None or mask[row]):
                            scores[row] += len(piece) / 20
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:depth]
    return SignalHits([r for r, _ in ranked], [float(v) for _, v in ranked])


def specific_terms(chunks, text: str, limit: int = MAX_TERMS) -> list[str]:  # noqa: ANN001
    """A long question's most specific BM25 terms (lowest document frequency in the body
    field, terms in no document dropped), at most `limit`, in the question's order."""
    from indexer.code_tokens import tokenize_query

    tokens = tokenize_query(text)
    if len(tokens) <= limit:
        return tokens
    searcher = chunks.lexical.searcher()
    total = max(searcher.num_docs, 1)
    freq = {}
    for token in tokens:
        df = searcher.doc_freq("body", token) + searcher.doc_freq("name", token)
        if df:
            freq[token] = df
    keep = set(sorted(freq, key=lambda t: (freq[t] / total, tokens.index(t)))[:limit])
    return [t for t in tokens if t in keep]


def lexical_terms_signal(chunks, table: ChunkTable, terms: list[str],  # noqa: ANN001
                         mask: np.ndarray | None, depth: int) -> SignalHits:
    """BM25 over the given analysed terms (no further analysis), this snapshot's chunks."""
    return lexical_rows(lambda fetch: chunks.lexical_search_terms(terms, fetch), table, mask,
                        depth)
