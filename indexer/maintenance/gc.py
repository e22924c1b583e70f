"""`codeloupe gc`: drop the snapshots nobody needs, then everything only they referenced.

Kept: the working tree, HEAD, every local branch, every pinned revision (pins live in the
catalog), and the N most recently indexed commits. Everything else is removed: its snapshot
row and manifest, then every blob no kept manifest references (its catalog rows in every
blob table, its trigram and lexical documents), then pack space by compaction.

Order is what makes a kill -9 harmless at any moment (each boundary is a `checkpoint`):

1. snapshot rows go in one transaction; their manifests are unlinked after;
2. blob rows go in one transaction, *before* their tantivy documents: a document without a
   row is never a candidate of any snapshot (rows are what manifests are checked against,
   and blob numbers are never reused), whereas a row without its document would make a
   later fork skip storing that blob and miss it in searches;
3. packs whose dead share is high are compacted: live blobs are copied into new packs
   (fsync), manifests pointing at them are rewritten to new files, then one transaction
   (synchronous=FULL) switches blob rows and snapshot rows; only then are old packs and
   manifests unlinked. Pack numbers only grow, so a stale location never names other bytes;
4. files no row names any more are swept (also those a killed run left behind).

Snapshots that stay keep their `updated` time, so recency is unchanged by gc.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field

from indexer.errors import CodeloupeError, RepositoryError
from indexer.maintenance.common import (
    checkpoint,
    delete_blob_rows,
    delete_docs,
    doc_blob_nos,
    rebuild_trigrams,
    sweep_files,
)
from indexer.repo import WORKTREE
from indexer.store.catalog import SnapshotRecord
from indexer.store.index_store import IndexStore
from indexer.store.manifest import Manifest
from indexer.store.packs import PackWriter, pack_numbers, pack_path

DEFAULT_KEEP_RECENT = 10
COMPACT_DEAD_SHARE = 0.25  # rewrite a pack once this share of its bytes is dead
REBUILD_DEAD_SHARE = 0.3  # rebuild the trigram index once this share of its documents is

PINS_SCHEMA = """
CREATE TABLE IF NOT EXISTS pins(rev TEXT PRIMARY KEY, commit_id TEXT NOT NULL,
                                created REAL NOT NULL);
"""


@dataclass(frozen=True)
class Pin:
    rev: str
    commit: str  # what `rev` named when pinned (kept if the ref is later deleted)


@dataclass
class GcPlan:
    keep: dict[str, list[str]]  # snapshot name -> why it stays
    remove: list[SnapshotRecord]


@dataclass
class GcReport:
    plan: GcPlan
    dry_run: bool
    dead_blobs: int = 0
    dead_pack_bytes: int = 0  # bytes of dead blobs in packs (what compaction can free)
    stale_docs: int = 0  # trigram documents of dead blobs or of interrupted runs
    packs_rewritten: int = 0
    moved_bytes: int = 0
    trigram_rebuilt: bool = False
    swept_files: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    seconds: float = 0.0
    pins: list[Pin] = field(default_factory=list)

    @property
    def freed(self) -> int:
        return max(0, self.bytes_before - self.bytes_after)


# --- pins ---------------------------------------------------------------------------------


def _pins_table(store: IndexStore) -> None:
    store.catalog.db.executescript(PINS_SCHEMA)


def list_pins(ws) -> list[Pin]:  # noqa: ANN001 - a Workspace
    _pins_table(ws.store)
    return [Pin(rev, commit) for rev, commit in ws.store.catalog.db.execute(
        "SELECT rev, commit_id FROM pins ORDER BY rev")]


def pin(ws, rev: str) -> Pin:  # noqa: ANN001
    """Keep `rev`'s snapshot through every gc (an unknown revision is refused)."""
    commit = ws.repo.resolve(rev)
    _pins_table(ws.store)
    with ws.store.catalog.transaction():
        ws.store.catalog.db.execute("INSERT OR REPLACE INTO pins VALUES(?,?,?)",
                                    (rev, commit, time.time()))
    return Pin(rev, commit)


def unpin(ws, rev: str) -> None:  # noqa: ANN001
    _pins_table(ws.store)
    with ws.store.catalog.transaction():
        gone = ws.store.catalog.db.execute("DELETE FROM pins WHERE rev=?", (rev,)).rowcount
    if not gone:
        pinned = ", ".join(p.rev for p in list_pins(ws)) or "none"
        raise RepositoryError(f"{rev!r} is not pinned (pinned: {pinned})")


# --- planning -----------------------------------------------------------------------------


def plan_gc(ws, keep_recent: int = DEFAULT_KEEP_RECENT,  # noqa: ANN001
            extra_pins: list[Pin] | None = None) -> GcPlan:
    """Which snapshots stay, and why; the others go."""
    if keep_recent < 0:
        raise CodeloupeError(f"--keep-recent must be 0 or more, not {keep_recent}")
    records = ws.store.catalog.snapshots()  # most recently indexed first
    names = {r.name for r in records}
    keep: dict[str, list[str]] = defaultdict(list)

    def mark(name: str | None, why: str) -> None:
        if name in names:
            keep[name].append(why)

    mark(WORKTREE, "working tree")
    mark(ws.repo.head_commit(), "HEAD")
    out = ws.repo.git("for-each-ref", "--format=%(refname:short)%00%(objectname)",
                      "refs/heads", check=False).stdout.decode()
    for line in out.splitlines():
        ref, _, commit = line.partition("\0")
        mark(commit, f"branch {ref}")
    for p in [*list_pins(ws), *(extra_pins or [])]:
        try:
            commit = ws.repo.resolve(p.rev)
        except RepositoryError:
            commit = p.commit  # the ref is gone: the pin still holds what it named
        mark(commit, f"pinned {p.rev}")
    for record in [r for r in records if r.name != WORKTREE][:keep_recent]:
        mark(record.name, "recent")
    return GcPlan(dict(keep), [r for r in records if r.name not in keep])


# --- collecting ---------------------------------------------------------------------------


def collect(ws, keep_recent: int = DEFAULT_KEEP_RECENT, *,  # noqa: ANN001
            extra_pins: list[Pin] | None = None, dry_run: bool = False,
            on_wait=None) -> GcReport:  # noqa: ANN001
    """Run gc under the write lock (waiting for another writer, telling `on_wait`)."""
    started = time.perf_counter()
    store: IndexStore = ws.store
    with store.write_lock(on_wait=on_wait):
        report = GcReport(plan_gc(ws, keep_recent, extra_pins), dry_run,
                          bytes_before=store.size_bytes())
        report.pins = list_pins(ws) + list(extra_pins or [])
        catalog = store.catalog
        kept = [r for r in catalog.snapshots() if r.name in report.plan.keep]
        live = _live_blobs(store, kept)
        rows = catalog.db.execute("SELECT blob_no, length, pack FROM blobs").fetchall()
        dead = [blob for blob, _, _ in rows if blob not in live]
        report.dead_blobs = len(dead)
        report.dead_pack_bytes = sum(length + 1 for blob, length, pack in rows
                                     if pack > 0 and blob not in live)
        if dry_run:
            report.bytes_after = report.bytes_before
            report.seconds = time.perf_counter() - started
            return report
        # 1. snapshots
        if report.plan.remove:
            with catalog.transaction():
                catalog.db.executemany("DELETE FROM snapshots WHERE name=?",
                                       [(r.name,) for r in report.plan.remove])
            store.bump_generation()  # holders of those snapshots look again
            checkpoint("gc-snapshots-deleted")
            for record in report.plan.remove:
                with contextlib.suppress(FileNotFoundError):
                    store.manifest_path(record.manifest).unlink()
        # 2. blobs: rows first, then documents (see the module docstring)
        delete_blob_rows(store, dead)
        checkpoint("gc-blobs-deleted")
        try:
            report.stale_docs = _prune_trigrams(store, report)
            checkpoint("gc-trigrams-pruned")
            _prune_lexical(store)
            checkpoint("gc-lexical-pruned")
        except ValueError as exc:  # tantivy's word for a damaged index
            raise CodeloupeError(f"a tantivy index cannot be read ({exc}); run `codeloupe "
                                 "doctor --repair`, then gc again") from None
        # 3. packs
        report.packs_rewritten, report.moved_bytes = _compact_packs(store)
        # 4. whatever no row names any more
        report.swept_files, _ = sweep_files(store)
        store.bump_generation()
        with contextlib.suppress(Exception):  # readers may hold the WAL: then next time
            catalog.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        report.bytes_after = store.size_bytes()
    report.seconds = time.perf_counter() - started
    return report


def _live_blobs(store: IndexStore, kept: list[SnapshotRecord]) -> set[int]:
    live: set[int] = set()
    for record in kept:
        try:
            live.update(store.load_manifest(record).blob_nos)
        except (OSError, ValueError) as exc:
            # Never guess what is live: a blob dropped by mistake is a wrong search result.
            raise CodeloupeError(
                f"cannot read the manifest of snapshot {record.name[:12]} ({exc}); run "
                "`codeloupe doctor --repair` first") from None
    return live


def _prune_trigrams(store: IndexStore, report: GcReport) -> int:
    """Drop the trigram documents of blobs the catalog no longer has (dead ones, and those an
    interrupted run committed to tantivy but not to the catalog). Rebuild the index instead
    when many are dead: tantivy only reclaims deleted documents' space when it merges."""
    docs = doc_blob_nos(store.trigrams.index)
    present = {row[0] for row in store.catalog.db.execute("SELECT blob_no FROM blobs")}
    stale = [b for b in docs if b not in present]
    if not stale:
        return 0
    if len(stale) >= REBUILD_DEAD_SHARE * len(docs):
        report.trigram_rebuilt = True
        rebuild_trigrams(store)
    else:
        delete_docs(store.trigrams.index, store.trigrams.schema, stale)
    return len(stale)


def _prune_lexical(store: IndexStore) -> int:
    lexical_dir = store.tantivy_dir("lexical")
    if not lexical_dir.exists():
        return 0
    chunks = store.chunks
    docs = doc_blob_nos(chunks.lexical)
    chunked = {row[0] for row in store.catalog.db.execute("SELECT blob_no FROM chunked")}
    stale = [b for b in set(docs) if b not in chunked]
    return delete_docs(chunks.lexical, chunks.schema, stale)


def _compact_packs(store: IndexStore) -> tuple[int, int]:
    """Copy the live blobs of packs with much dead space into new packs, repoint blob rows and
    manifests in one transaction, then unlink the old packs. Returns (packs, bytes moved)."""
    if not store.pack_dir.exists():
        return 0, 0
    catalog = store.catalog
    rows = catalog.db.execute("SELECT blob_no, pack, offset, length FROM blobs WHERE pack > 0 "
                              "ORDER BY pack, offset").fetchall()
    live_bytes: dict[int, int] = defaultdict(int)
    for _, pack, _, length in rows:
        live_bytes[pack] += length + 1
    numbers = pack_numbers(store.pack_dir)
    victims = set()
    for number in numbers:
        size = pack_path(store.pack_dir, number).stat().st_size
        if size and (size - live_bytes[number]) >= COMPACT_DEAD_SHARE * size:
            victims.add(number)
    if not victims:
        return 0, 0
    moves: dict[int, tuple[int, int]] = {}
    writer = PackWriter(store.pack_dir, fresh=True)  # numbers above every existing pack
    moved = 0
    try:
        for blob, pack, offset, length in rows:
            if pack in victims:
                moves[blob] = writer.append(store.packs.read(pack, offset, length))
                moved += length
    finally:
        writer.close()  # fsync: bytes on disk before anything points at them
    checkpoint("gc-packs-written")
    renamed: list[tuple[str, str, str]] = []  # (snapshot, old manifest, new manifest)
    if moves:
        for record in catalog.snapshots():
            manifest = store.load_manifest(record)
            if _relocate(manifest, moves):
                new_name = _fresh_manifest_name(store, record.manifest)
                manifest.write(store.manifest_path(new_name))
                renamed.append((record.name, record.manifest, new_name))
    checkpoint("gc-manifests-written")
    catalog.db.execute("PRAGMA synchronous=FULL")  # old packs are unlinked right after
    try:
        with catalog.transaction():
            catalog.db.executemany("UPDATE blobs SET pack=?, offset=? WHERE blob_no=?",
                                   [(p, o, b) for b, (p, o) in moves.items()])
            catalog.db.executemany("UPDATE snapshots SET manifest=? WHERE name=? AND manifest=?",
                                   [(new, name, old) for name, old, new in renamed])
    finally:
        catalog.db.execute("PRAGMA synchronous=NORMAL")
    store.bump_generation()  # before the old packs and manifests go
    checkpoint("gc-switched")
    for _, old, _ in renamed:
        with contextlib.suppress(FileNotFoundError):
            store.manifest_path(old).unlink()
    store.packs.close()
    for number in victims:
        with contextlib.suppress(FileNotFoundError):
            pack_path(store.pack_dir, number).unlink()
    return len(victims), moved


def _relocate(manifest: Manifest, moves: dict[int, tuple[int, int]]) -> bool:
    changed = False
    packs, offsets = manifest.packs, manifest.offsets
    for i, blob in enumerate(manifest.blob_nos):
        where = moves.get(blob)
        if where is not None:
            packs[i], offsets[i] = where
            changed = True
    return changed


def _fresh_manifest_name(store: IndexStore, old: str) -> str:
    """A new file name with the old one's prefix (a working tree's prefix is its signature,
    which freshness checks compare)."""
    stem = old[:-3] if old.endswith(".mf") else old
    parts = stem.rsplit("-", 2)
    prefix = parts[0] if len(parts) == 3 else stem
    while True:  # two snapshots of one tree share a prefix: never reuse a name
        name = f"{prefix}-{os.getpid()}-{time.time_ns()}.mf"
        if not store.manifest_path(name).exists():
            return name
