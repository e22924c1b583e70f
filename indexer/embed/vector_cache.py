"""Vectors cached per (model, chunk content hash, view), shared by every snapshot.

Rows live in one append-only float16 file per model (`vectors/<model key>/rows.f16`); the
catalog's SQLite maps (model, hash, view) -> row. A batch is appended and fsynced before its
rows are recorded, so a crash leaves at most unreferenced bytes at the tail, which the next
writer cuts off; readers only ever see rows that were recorded. Writers take a lock of their
own, so embedding in the background never holds up the trigram index's writer.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors(
    model TEXT NOT NULL, content_hash TEXT NOT NULL, view TEXT NOT NULL, row INTEGER NOT NULL,
    PRIMARY KEY(model, view, content_hash));
"""


class VectorCache:
    def __init__(self, catalog_path: Path, directory: Path, model_key: str,
                 dimensions: int) -> None:
        # A connection of its own: the embedder writes from a background thread.
        self.db = sqlite3.connect(catalog_path, timeout=60, isolation_level=None,
                                  check_same_thread=False)
        self.db.executescript(SCHEMA)
        self.model = model_key
        self.dimensions = dimensions
        self.directory = directory / model_key
        self.rows_path = self.directory / "rows.f16"
        self._row_bytes = dimensions * 2
        self._mapped: np.ndarray | None = None

    # --- reading ---
    def rows_for(self, view: str, hashes: Iterable[str] | None = None) -> dict[str, int]:
        """content hash -> row for `view` (all hashes when None)."""
        if hashes is None:
            return dict(self.db.execute(
                "SELECT content_hash, row FROM vectors WHERE model=? AND view=?",
                (self.model, view)))
        wanted = list(hashes)
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 900):
            batch = wanted[start:start + 900]
            marks = ",".join("?" * len(batch))
            found.update(self.db.execute(
                f"SELECT content_hash, row FROM vectors WHERE model=? AND view=? "
                f"AND content_hash IN ({marks})", (self.model, view, *batch)))
        return found

    def count(self, view: str) -> int:
        return self.db.execute("SELECT count(*) FROM vectors WHERE model=? AND view=?",
                               (self.model, view)).fetchone()[0]

    def vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """float32 copies of the given rows."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        mapped = self._map(int(rows.max()) + 1)
        return mapped[rows].astype(np.float32)

    def _map(self, needed_rows: int) -> np.ndarray:
        if self._mapped is None or len(self._mapped) < needed_rows:
            size = self.rows_path.stat().st_size if self.rows_path.exists() else 0
            rows = size // self._row_bytes
            if rows < needed_rows:
                raise RuntimeError(f"vector file {self.rows_path} is shorter than its catalog")
            self._mapped = np.memmap(self.rows_path, dtype=np.float16, mode="r",
                                     shape=(rows, self.dimensions))
        return self._mapped

    # --- writing ---
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the model's writer lock (one embedder per model at a time, across processes)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(self, view: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Append one batch and record it. Caller holds `writing()`."""
        if len(hashes) == 0:
            return
        assert vectors.shape == (len(hashes), self.dimensions)
        data = np.ascontiguousarray(vectors, dtype=np.float16).tobytes()
        with open(self.rows_path, "ab") as out:
            size = out.seek(0, os.SEEK_END)
            whole = size - size % self._row_bytes
            if whole != size:  # a torn tail from a crashed writer: nothing refers to it
                out.truncate(whole)
                out.seek(whole)
            first = whole // self._row_bytes
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES(?,?,?,?)",
                [(self.model, h, view, first + i) for i, h in enumerate(hashes)])
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()
