"""The gloss cache: one row per (chunk content hash, provider, model, prompt version).

A `glosses` table in the catalog's SQLite database, shared by every snapshot (a chunk's gloss
depends only on its content). Rows are written only for answers that passed `validate_gloss`,
each batch in one transaction: a crash leaves whole rows or none. Writers use their own
connection, so a gloss run in a background thread never interleaves with an indexing
transaction on the catalog's connection; SQLite (WAL) serialises the writers.

`glosses_for` is the read side for retrieval: it always has an answer for a chunk it can see
(a model's gloss when cached, else the heuristic one, cached or computed on the spot).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from indexer.gloss.heuristic import HEURISTIC_VERSION, heuristic_gloss
from indexer.gloss.providers import LOCAL_PROMPT_VERSION, PROMPT_VERSION, GlossItem

SCHEMA = """
CREATE TABLE IF NOT EXISTS glosses(
    content_hash TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
    prompt_version TEXT NOT NULL, text TEXT NOT NULL, created REAL NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(content_hash, provider, model, prompt_version)) WITHOUT ROWID;
"""
HEURISTIC_KEY = ("heuristic", "", HEURISTIC_VERSION)
BATCH = 500  # SQLite host parameters per IN (...) query, with room for the key


def current_prompt_version(provider: str) -> str:
    if provider == "llamacpp":
        return LOCAL_PROMPT_VERSION
    return HEURISTIC_VERSION if provider == "heuristic" else PROMPT_VERSION


@dataclass(frozen=True, slots=True)
class Gloss:
    text: str
    provider: str  # who wrote it: the requested provider, or 'heuristic' as the fallback
    model: str


class GlossCache:
    """Reads and writes the `glosses` table. `db` may be shared (reads) or owned (writes)."""

    def __init__(self, db: sqlite3.Connection, *, owned: bool = False) -> None:
        self.db = db
        self.owned = owned
        if owned:
            # Not on a shared catalog connection: it may be inside an indexing transaction,
            # and reads must not take the write lock. Readers cope with a missing table.
            ensure_schema(self.db)

    @classmethod
    def open(cls, path: Path) -> GlossCache:
        """A cache on its own connection to the catalog database at `path` (for writing)."""
        db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return cls(db, owned=True)

    def close(self) -> None:
        if self.owned:
            self.db.close()

    def get_many(self, hashes: Iterable[str], provider: str, model: str,
                 prompt_version: str | None = None) -> dict[str, str]:
        version = prompt_version or current_prompt_version(provider)
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start:start + BATCH]
            marks = ",".join("?" * len(batch))
            try:
                found.update(self.db.execute(
                    f"SELECT content_hash, text FROM glosses WHERE provider=? AND model=? "
                    f"AND prompt_version=? AND content_hash IN ({marks})",
                    (provider, model, version, *batch)).fetchall())
            except sqlite3.OperationalError as err:
                if "no such table" not in str(err):
                    raise
                return {}  # never glossed here yet
        return found

    def put_many(self, provider: str, model: str, prompt_version: str,
                 rows: Sequence[tuple[str, str, int, int]]) -> None:
        """Store (content hash, gloss, input tokens, output tokens) rows in one transaction."""
        if not rows:
            return
        now = time.time()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT OR REPLACE INTO glosses VALUES(?,?,?,?,?,?,?,?)",
                [(h, provider, model, prompt_version, text, now, tin, tout)
                 for h, text, tin, tout in rows])
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def stats(self) -> list[tuple[str, str, str, int]]:
        """(provider, model, prompt version, rows) for every kind of gloss stored."""
        return self.db.execute(
            "SELECT provider, model, prompt_version, COUNT(*) FROM glosses "
            "GROUP BY provider, model, prompt_version ORDER BY 4 DESC").fetchall()


def ensure_schema(db: sqlite3.Connection) -> None:
    """Create the `glosses` table if missing (one statement: no implicit COMMIT)."""
    db.execute(SCHEMA.strip().rstrip(";"))


def stage_heuristic_glosses(db: sqlite3.Connection, rows: Iterable[tuple[str, str]]) -> None:
    """(content hash, heuristic gloss) rows, inserted inside the caller's open transaction —
    for the chunking stage, which can compute `heuristic_gloss` in its workers and commit the
    glosses with the chunks. Existing rows are kept. Call `ensure_schema` once first."""
    now = time.time()
    db.executemany("INSERT OR IGNORE INTO glosses VALUES(?,?,?,?,?,?,0,0)",
                   [(h, *HEURISTIC_KEY, text, now) for h, text in rows])


# --- reading for retrieval ---

def _connection(source) -> tuple[sqlite3.Connection, object | None, bool]:  # noqa: ANN001
    """(database, pack reader or None, whether we opened the connection)."""
    from indexer.store.catalog import Catalog
    from indexer.store.index_store import IndexStore

    if isinstance(source, IndexStore):
        return source.catalog.db, source.packs, False
    if isinstance(source, Catalog):
        return source.db, None, False
    if isinstance(source, sqlite3.Connection):
        return source, None, False
    if hasattr(source, "store") and isinstance(source.store, IndexStore):  # a Workspace
        return source.store.catalog.db, source.store.packs, False
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            path = path / "catalog.sqlite"
        return sqlite3.connect(path, timeout=60, check_same_thread=False), None, True
    raise TypeError(f"glosses_for: cannot read glosses from {type(source).__name__}")


def record_item(db: sqlite3.Connection, packs, record,  # noqa: ANN001 - PackReader, ChunkRecord
                data: bytes | None = None, defines: Sequence[str] | None = None) -> GlossItem:
    """A `GlossItem` for a stored chunk: its text cut from the blob's bytes (when the packs or
    `data` are at hand) and the names it defines (from the symbols table)."""
    if data is None and packs is not None:
        row = db.execute("SELECT pack, offset, length FROM blobs WHERE blob_no=?",
                         (record.blob_no,)).fetchone()
        if row is not None:
            data = packs.read(*row)
    text = ""
    if data is not None:
        # The chunker caps its text at 12,000 bytes; the heuristic reads only the head anyway.
        text = data[record.start_byte:min(record.end_byte, record.start_byte + 12_000)].decode(
            "utf-8", "replace")
    if defines is None:
        rows = db.execute(
            "SELECT name FROM symbols WHERE blob_no=? AND name_line BETWEEN ? AND ? "
            "ORDER BY name_line, name_column", (record.blob_no, record.start_line,
                                                record.end_line)).fetchall()
        defines = [name for (name,) in rows]
    return GlossItem(record.content_hash, record.language, record.kind, record.name,
                     record.qualified_name, record.signature, record.docstring or "", text,
                     tuple(record.breadcrumb), tuple(dict.fromkeys(defines or ())))


def _records_by_hash(db: sqlite3.Connection, hashes: list[str]) -> dict:
    from indexer.store.chunk_store import ChunkRecord

    found: dict[str, ChunkRecord] = {}
    for start in range(0, len(hashes), BATCH):
        batch = hashes[start:start + BATCH]
        marks = ",".join("?" * len(batch))
        try:
            rows = db.execute(f"SELECT * FROM chunks WHERE content_hash IN ({marks})",
                              batch).fetchall()
        except sqlite3.OperationalError:  # no chunks table: nothing was ever chunked
            return found
        for row in rows:
            record = ChunkRecord(*row[:11], json.loads(row[11]), *row[12:])
            found.setdefault(record.content_hash, record)
    return found


def gloss_entries_for(source, chunks: Iterable, provider: str | None = None,  # noqa: ANN001
                      model: str | None = None) -> dict[str, Gloss]:
    """Like `glosses_for`, with who wrote each gloss (to key an embedding of it, say)."""
    db, packs, opened = _connection(source)
    try:
        cache = GlossCache(db)
        provider = (provider or "heuristic").lower()
        model = model or ""
        if provider == "llamacpp":
            model = Path(model).name  # the cache keys local models by file name
        given: dict[str, object] = {}
        for chunk in chunks:
            if isinstance(chunk, str):
                given.setdefault(chunk, None)
            else:
                given.setdefault(chunk.content_hash, chunk)
        out: dict[str, Gloss] = {}
        if provider != "heuristic":
            for h, text in cache.get_many(given, provider, model).items():
                out[h] = Gloss(text, provider, model)
        missing = [h for h in given if h not in out]
        for h, text in cache.get_many(missing, *HEURISTIC_KEY[:2]).items():
            out[h] = Gloss(text, "heuristic", "")
        missing = [h for h in missing if h not in out]
        # Not cached: compute from what we were given, or from the stored chunk.
        lookup = [h for h in missing if given[h] is None or not hasattr(given[h], "text")]
        records = _records_by_hash(db, lookup) if lookup else {}
        for h in missing:
            chunk = given[h]
            if chunk is not None and hasattr(chunk, "text"):
                out[h] = Gloss(heuristic_gloss(chunk), "heuristic", "")
                continue
            record = chunk if chunk is not None else records.get(h)
            if record is None:
                continue  # a hash nobody knows: no gloss to give
            if hasattr(record, "blob_no"):
                record = record_item(db, packs, record)
            out[h] = Gloss(heuristic_gloss(record), "heuristic", "")
        return out
    finally:
        if opened:
            db.close()


def glosses_for(source, chunks: Iterable, provider: str | None = None,  # noqa: ANN001
                model: str | None = None) -> dict[str, str]:
    """content hash -> gloss, for retrieval (lexical text or an embedded view).

    `source`: an `IndexStore` or `Workspace` (best: chunk text is read from the packs for
    on-the-fly heuristic glosses), a `Catalog`, an `sqlite3.Connection`, or the path of an
    index directory / catalog file. `chunks`: content hashes, `ChunkRecord`s, `Chunk`s or
    `GlossItem`s. `provider`/`model`: whose glosses to prefer (default: heuristic only).

    For each chunk: the provider's cached gloss (current prompt version), else the cached
    heuristic gloss, else a heuristic gloss computed now (never written: reads stay reads).
    Every chunk given as a record or a chunk, or whose hash is in the chunks table, gets one.
    """
    return {h: g.text for h, g in gloss_entries_for(source, chunks, provider, model).items()}
