"""Chunks, symbols and the lexical (BM25) index, computed once per blob.

Chunk and symbol metadata live in the catalog's SQLite database (tables created here); chunk
text is not copied: it is the blob's bytes in the pack, cut by the chunk's byte range. The
BM25 index is a second tantivy index with one document per chunk, keyed by (blob, ordinal).
tantivy cannot run a Python tokenizer, so text is split with `indexer.code_tokens` (camelCase,
snake_case, digits, and whole words) before indexing and fed through a whitespace tokenizer.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy

from indexer.code_tokens import lexical_tokens, tokenize_query

SCHEMA = """
CREATE TABLE IF NOT EXISTS chunked(blob_no INTEGER PRIMARY KEY, language TEXT, parsed INTEGER);
CREATE TABLE IF NOT EXISTS chunks(
    blob_no INTEGER NOT NULL, ordinal INTEGER NOT NULL, kind TEXT, name TEXT,
    qualified_name TEXT, signature TEXT, docstring TEXT, start_line INTEGER, end_line INTEGER,
    start_byte INTEGER, end_byte INTEGER, breadcrumb TEXT, title TEXT, content_hash TEXT,
    language TEXT, PRIMARY KEY(blob_no, ordinal));
CREATE TABLE IF NOT EXISTS symbols(
    blob_no INTEGER NOT NULL, name TEXT NOT NULL, kind INTEGER, definition_kind TEXT,
    container_name TEXT, qualified_name TEXT, name_line INTEGER, name_column INTEGER,
    name_end_line INTEGER, name_end_column INTEGER, start_line INTEGER, end_line INTEGER,
    signature TEXT);
CREATE INDEX IF NOT EXISTS symbols_by_blob ON symbols(blob_no);
"""

# Bump when lexical documents are analysed differently: chunks are then recomputed.
LEXICAL_VERSION = "3"  # 2: Snowball stems; 3: a gloss field
# field -> boost: a name or title hit says more than one word deep in a body
LEXICAL_FIELDS = {"name": 3.0, "title": 2.0, "docstring": 1.5, "gloss": 1.0, "path": 1.0,
                  "body": 1.0}
TOKENS = "code_tokens"


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    blob_no: int
    ordinal: int
    kind: str
    name: str
    qualified_name: str
    signature: str
    docstring: str
    start_line: int
    end_line: int
    start_byte: int
    end_byte: int
    breadcrumb: list[str]
    title: str
    content_hash: str
    language: str

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class SymbolRecord:
    blob_no: int
    name: str
    kind: int  # LSP SymbolKind
    definition_kind: str
    container_name: str
    qualified_name: str
    name_line: int
    name_column: int  # byte column, 0-based
    name_end_line: int
    name_end_column: int
    start_line: int
    end_line: int
    signature: str


def lexical_fields(path: str, chunk, gloss: str = "") -> dict[str, str]:  # noqa: ANN001 - a Chunk
    """The BM25 document of a chunk: each field's text already split into code tokens.

    Pure and picklable, so the chunking worker processes do this work, not the writer."""
    return {
        "gloss": " ".join(lexical_tokens(gloss)),
        "name": " ".join(lexical_tokens(f"{chunk.qualified_name} {chunk.name}")),
        "title": " ".join(lexical_tokens(chunk.title)),
        "docstring": " ".join(lexical_tokens(chunk.docstring or "")),
        "path": " ".join(lexical_tokens(path)),
        "body": " ".join(lexical_tokens(chunk.text)),
    }


def _lexical_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("blob_no", stored=False, indexed=True, fast=True)
    builder.add_unsigned_field("ordinal", stored=False, indexed=False, fast=True)
    for name in LEXICAL_FIELDS:
        builder.add_text_field(name, tokenizer_name=TOKENS, index_option="freq")
    return builder.build()


class ChunkStore:
    def __init__(self, db: sqlite3.Connection, lexical_dir: Path) -> None:
        self.db = db
        self.db.executescript(SCHEMA)
        self.lexical_dir = lexical_dir
        self._lexical: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self.schema = _lexical_schema()

    # --- lexical index ---
    @property
    def lexical(self) -> tantivy.Index:
        if self._lexical is None:
            self.lexical_dir.mkdir(parents=True, exist_ok=True)
            index = tantivy.Index(self.schema, path=str(self.lexical_dir), reuse=True)
            index.register_tokenizer(TOKENS, tantivy.TextAnalyzerBuilder(
                tantivy.Tokenizer.whitespace()).build())
            self._lexical = index
        return self._lexical

    # --- writing ---
    def ensure_lexical_version(self) -> None:
        """Drop chunks and BM25 documents made by an older analysis, so the next enrich
        recomputes them. Caller holds the write lock."""
        row = self.db.execute("SELECT value FROM meta WHERE key='lexical_version'").fetchone()
        if row is not None and row[0] == LEXICAL_VERSION:
            return
        self.db.execute("BEGIN IMMEDIATE")
        for table in ("chunked", "chunks", "symbols"):
            self.db.execute(f"DELETE FROM {table}")
        self.db.execute("INSERT OR REPLACE INTO meta VALUES('lexical_version', ?)",
                        (LEXICAL_VERSION,))
        # the schema may have changed too: a new index directory (readers that hold the old
        # one keep their open files until they reload)
        self._lexical = None
        shutil.rmtree(self.lexical_dir, ignore_errors=True)
        self.db.execute("COMMIT")

    def unchunked(self, blob_nos: Iterable[int]) -> list[int]:
        wanted = list(blob_nos)
        done: set[int] = set()
        for start in range(0, len(wanted), 500):
            batch = wanted[start:start + 500]
            marks = ",".join("?" * len(batch))
            done.update(row[0] for row in self.db.execute(
                f"SELECT blob_no FROM chunked WHERE blob_no IN ({marks})", batch))
        return [b for b in wanted if b not in done]

    def add(self, blob_no: int, language: str, parsed: bool, chunks: Sequence,
            symbols: Sequence, lexical_docs: Sequence[dict[str, str]]) -> None:
        """Stage one blob's chunks, symbols and lexical documents (see `lexical_fields`);
        committed by `commit`."""
        if self._writer is None:
            self._writer = self.lexical.writer(heap_size=128_000_000, num_threads=1)
        rows = []
        for ordinal, (chunk, fields) in enumerate(zip(chunks, lexical_docs, strict=True)):
            rows.append((blob_no, ordinal, chunk.kind, chunk.name, chunk.qualified_name,
                         chunk.signature, chunk.docstring, chunk.start_line, chunk.end_line,
                         chunk.start_byte, chunk.end_byte, json.dumps(chunk.breadcrumb),
                         chunk.title, chunk.content_hash, chunk.language))
            doc = tantivy.Document(**fields)
            doc.add_unsigned("blob_no", blob_no)
            doc.add_unsigned("ordinal", ordinal)
            self._writer.add_document(doc)
        self.db.executemany("INSERT OR REPLACE INTO chunks VALUES"
                            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        self.db.executemany(
            "INSERT INTO symbols VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(blob_no, s.name, s.kind, s.definition_kind, s.container_name, s.qualified_name,
              s.name_start_line, s.name_start_column, s.name_end_line, s.name_end_column,
              s.start_line, s.end_line, s.signature) for s in symbols])
        self.db.execute("INSERT OR REPLACE INTO chunked VALUES(?,?,?)",
                        (blob_no, language, int(parsed)))

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """tantivy first, then SQLite: a blob counts as chunked only once both hold it."""
        if self._writer is not None:
            self._writer.commit()
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self._writer is not None:
            self._writer.rollback()
        # an interrupt may land between a COMMIT and the next BEGIN: nothing to roll back then
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def close_writer(self) -> None:
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None
            self.lexical.reload()

    # --- reading ---
    def chunks_of(self, blob_no: int) -> list[ChunkRecord]:
        rows = self.db.execute("SELECT * FROM chunks WHERE blob_no=? ORDER BY ordinal",
                               (blob_no,)).fetchall()
        return [ChunkRecord(*r[:11], json.loads(r[11]), *r[12:]) for r in rows]

    def chunk(self, blob_no: int, ordinal: int) -> ChunkRecord | None:
        row = self.db.execute("SELECT * FROM chunks WHERE blob_no=? AND ordinal=?",
                              (blob_no, ordinal)).fetchone()
        return None if row is None else ChunkRecord(*row[:11], json.loads(row[11]), *row[12:])

    def symbols_of(self, blob_nos: Iterable[int]) -> list[SymbolRecord]:
        wanted = list(blob_nos)
        out: list[SymbolRecord] = []
        for start in range(0, len(wanted), 900):
            batch = wanted[start:start + 900]
            marks = ",".join("?" * len(batch))
            out.extend(SymbolRecord(*row) for row in self.db.execute(
                f"SELECT * FROM symbols WHERE blob_no IN ({marks})", batch))
        return out

    def lexical_search(self, text: str, limit: int) -> list[tuple[float, int, int]]:
        """(BM25 score, blob, ordinal) of the best chunks for a free-text query."""
        return self.lexical_search_terms(tokenize_query(text)[:64], limit)

    def lexical_search_terms(self, terms: list[str], limit: int
                             ) -> list[tuple[float, int, int]]:
        """`lexical_search` over terms already analysed as the index analyses them."""
        if not terms:
            return []
        schema = self.schema
        clauses = []
        for field, boost in LEXICAL_FIELDS.items():
            for token in terms:
                term = tantivy.Query.term_query(schema, field, token)
                clauses.append((tantivy.Occur.Should,
                                tantivy.Query.boost_query(term, boost) if boost != 1 else term))
        searcher = self.lexical.searcher()
        if searcher.num_docs == 0:
            return []
        result = searcher.search(tantivy.Query.boolean_query(clauses),
                                 limit=min(limit, searcher.num_docs))
        addresses = [address for _, address in result.hits]
        blobs = searcher.fast_field_values("blob_no", addresses)
        ordinals = searcher.fast_field_values("ordinal", addresses)
        return [(score, blob, ordinal)
                for (score, _), blob, ordinal in zip(result.hits, blobs, ordinals, strict=True)]
