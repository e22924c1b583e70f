"""The catalog: which blobs are stored where, and which snapshots exist.

SQLite in WAL mode: one writer (serialised by the store's write lock), readers in other
processes never blocked, and every change a transaction — a crash leaves the last committed
state.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs(
    blob_no INTEGER PRIMARY KEY,
    oid TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    pack INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots(
    name TEXT PRIMARY KEY,      -- a commit id, or 'worktree'
    commit_id TEXT,             -- the commit (for the working tree: HEAD at the time)
    manifest TEXT NOT NULL,     -- file name under manifests/
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    skipped TEXT NOT NULL,      -- JSON {reason: count}
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dirty_files(   -- stat cache of modified/untracked files
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, inode INTEGER, oid TEXT
);
CREATE TABLE IF NOT EXISTS worktree_overlay(  -- the working tree's paths that differ from HEAD
    path TEXT PRIMARY KEY, oid TEXT              -- oid NULL: the path is gone
);
"""


@dataclass(frozen=True, slots=True)
class BlobRecord:
    blob_no: int
    oid: str
    size: int
    kind: int
    pack: int
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    name: str
    commit_id: str | None
    manifest: str
    files: int
    bytes: int
    skipped: dict[str, int]
    updated: float
    parent: str | None = None  # the snapshot this one was forked from (patched by a diff)


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(snapshots)")}
        if "parent" not in columns:  # catalogs written before forking existed
            self.db.execute("ALTER TABLE snapshots ADD COLUMN parent TEXT")

    def close(self) -> None:
        self.db.close()

    # --- blobs ---
    def find_blobs(self, oids: Sequence[str]) -> dict[str, BlobRecord]:
        found: dict[str, BlobRecord] = {}
        for start in range(0, len(oids), 500):
            batch = oids[start:start + 500]
            marks = ",".join("?" * len(batch))
            for row in self.db.execute(
                    f"SELECT blob_no, oid, size, kind, pack, offset, length FROM blobs "
                    f"WHERE oid IN ({marks})", batch):
                found[row[1]] = BlobRecord(*row)
        return found

    def reserve_blob_numbers(self, count: int) -> int:
        """First of `count` fresh blob numbers; never reused, even after a crash."""
        with self.transaction():
            row = self.db.execute("SELECT value FROM meta WHERE key='next_blob_no'").fetchone()
            first = int(row[0]) if row else 1
            self.db.execute("INSERT OR REPLACE INTO meta VALUES('next_blob_no', ?)",
                            (str(first + count),))
        return first

    def add_blobs(self, records: Iterable[BlobRecord]) -> None:
        """Store new blobs. A record with the number of a blob already stored under its id
        replaces it (a file once skipped as too large, stored now that a larger cap asks
        for it); any other record for a stored id is ignored."""
        with self.transaction():
            self.db.executemany(
                "INSERT INTO blobs VALUES(?,?,?,?,?,?,?) ON CONFLICT(oid) DO UPDATE SET "
                "size=excluded.size, kind=excluded.kind, pack=excluded.pack, "
                "offset=excluded.offset, length=excluded.length "
                "WHERE blobs.blob_no=excluded.blob_no",
                [(r.blob_no, r.oid, r.size, r.kind, r.pack, r.offset, r.length)
                 for r in records])

    def oids_of(self, blob_nos: Sequence[int]) -> dict[int, str]:
        """blob number -> blob id, for the numbers stored."""
        found: dict[int, str] = {}
        for start in range(0, len(blob_nos), 500):
            batch = list(blob_nos[start:start + 500])
            marks = ",".join("?" * len(batch))
            found.update(self.db.execute(
                f"SELECT blob_no, oid FROM blobs WHERE blob_no IN ({marks})", batch))
        return found

    # --- snapshots ---
    def snapshot(self, name: str) -> SnapshotRecord | None:
        row = self.db.execute(
            "SELECT name, commit_id, manifest, files, bytes, skipped, updated, parent "
            "FROM snapshots WHERE name=?", (name,)).fetchone()
        if row is None:
            return None
        return SnapshotRecord(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6],
                              row[7])

    def manifest_of(self, name: str) -> str | None:
        """The manifest file of snapshot `name`, if there is one (a cheap staleness check)."""
        row = self.db.execute("SELECT manifest FROM snapshots WHERE name=?", (name,)).fetchone()
        return None if row is None else row[0]

    def snapshots(self) -> list[SnapshotRecord]:
        rows = self.db.execute("SELECT name FROM snapshots ORDER BY updated DESC").fetchall()
        return [s for (name,) in rows if (s := self.snapshot(name)) is not None]

    def put_snapshot(self, name: str, commit_id: str | None, manifest: str, files: int,
                     nbytes: int, skipped: dict[str, int],
                     dirty_files: Iterable[tuple[str, int, int, int, str]] | None = None,
                     parent: str | None = None,
                     overlay: Iterable[tuple[str, str | None]] | None = None) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO snapshots(name, commit_id, manifest, files, bytes, "
                "skipped, updated, parent) VALUES(?,?,?,?,?,?,?,?)",
                (name, commit_id, manifest, files, nbytes, json.dumps(skipped), time.time(),
                 parent))
            if dirty_files is not None:
                self.db.execute("DELETE FROM dirty_files")
                self.db.executemany("INSERT INTO dirty_files VALUES(?,?,?,?,?)", dirty_files)
            if overlay is not None:  # replaced with the working tree's snapshot, atomically
                self.db.execute("DELETE FROM worktree_overlay")
                self.db.executemany("INSERT INTO worktree_overlay VALUES(?,?)", overlay)

    def dirty_files(self) -> dict[str, tuple[int, int, int, str]]:
        return {row[0]: row[1:] for row in self.db.execute("SELECT * FROM dirty_files")}

    def worktree_overlay(self) -> dict[str, str | None]:
        """path -> blob id (None: gone) of the working tree's last snapshot, relative to HEAD."""
        return dict(self.db.execute("SELECT path, oid FROM worktree_overlay"))

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
