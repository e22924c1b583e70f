"""`codeloupe doctor`: check every part of an index, and with `repair` rebuild only what is bad.

Checks, from the bottom up:

- catalog: SQLite's quick_check, the blob-number counter ahead of every blob;
- packs: every blob's bytes inside its pack file and followed by the separator; a sample
  (all with `full`) re-hashed against the git blob id, or compared with git's own bytes;
- trigram index: opens, and holds a document for exactly the searchable blobs;
- lexical index: opens, and holds a document per chunk row;
- snapshots: each manifest reads, is sorted, every entry names a stored blob at the location
  the catalog gives, its totals match, and its commit still exists in git.

Repair: damaged blobs lose their rows and documents; a broken tantivy index is rebuilt
(trigrams from the pack bytes, exactly; lexical documents by chunking again on next use);
a broken snapshot is dropped and indexed again from git (forked from a healthy neighbour),
the working tree from disk. Healthy snapshots and blobs are left as they are.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from dataclasses import dataclass, field

from indexer.errors import CodeloupeError
from indexer.maintenance.common import (
    TANTIVY_DIR,
    delete_blob_rows,
    delete_docs,
    doc_blob_nos,
    empty_lexical,
    rebuild_trigrams,
    searchable_rows,
    sweep_files,
)
from indexer.repo import WORKTREE, git_blob_id
from indexer.store.content import BlobKind, prepare_content
from indexer.store.index_store import IndexStore
from indexer.store.manifest import Manifest
from indexer.store.packs import SEPARATOR, pack_numbers, pack_path
from indexer.store.trigram_index import TrigramIndex

SPOT_CHECKS = 64  # blobs re-hashed per run without `full`
CHUNK_TABLES = ("chunked", "chunks", "symbols")


@dataclass
class Problem:
    scope: str  # "catalog", "packs", "trigram index", "lexical index", "snapshot <name>", "files"
    message: str
    fatal: bool = True  # False: harmless leftovers (gc sweeps them)
    repair: str | None = None  # what --repair did about it


@dataclass
class SnapshotHealth:
    name: str
    label: str  # refs naming the commit, or "(working tree)"
    files: int
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repair: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class DoctorReport:
    problems: list[Problem] = field(default_factory=list)
    snapshots: list[SnapshotHealth] = field(default_factory=list)
    blobs: int = 0
    spot_checked: int = 0
    repaired: bool = False
    remaining: list[str] = field(default_factory=list)  # after repair: what is still wrong

    @property
    def healthy(self) -> bool:
        """Nothing fatal is wrong (after a repair: the check that followed found nothing)."""
        if self.repaired:
            return not self.remaining
        return not any(p.fatal for p in self.problems) and all(s.ok for s in self.snapshots)


@dataclass
class _Findings:
    """What the checks found, in the form repair needs."""

    bad_blobs: dict[int, str] = field(default_factory=dict)  # blob -> why
    damaged_packs: set[int] = field(default_factory=set)
    trigram_broken: bool = False
    missing_docs: list[int] = field(default_factory=list)
    orphan_docs: list[int] = field(default_factory=list)
    lexical_broken: bool = False
    lexical_missing: list[int] = field(default_factory=list)  # blobs short of documents
    lexical_orphans: list[int] = field(default_factory=list)
    counter_behind: bool = False
    broken_snapshots: dict[str, str | None] = field(default_factory=dict)  # name -> commit


def diagnose(ws, full: bool = False, seed: int = 0) -> tuple[DoctorReport, _Findings]:  # noqa: ANN001
    store: IndexStore = ws.store
    report, found = DoctorReport(), _Findings()
    if not _check_catalog(store, report, found):
        return report, found
    rows = {row[0]: row[1:] for row in store.catalog.db.execute(
        "SELECT blob_no, oid, size, kind, pack, offset, length FROM blobs")}
    report.blobs = len(rows)
    _check_packs(ws, rows, report, found, full, seed)
    _check_trigrams(store, rows, report, found)
    _check_lexical(store, report, found)
    _check_snapshots(ws, rows, report, found)
    _check_files(store, report)
    return report, found


def examine(ws, *, repair: bool = False, full: bool = False,  # noqa: ANN001
            on_wait=None) -> DoctorReport:  # noqa: ANN001
    """Check the index; with `repair`, fix what is bad under the write lock and check again.
    The report lists what was found, what was done about each thing, and what remains."""
    if not repair:
        return diagnose(ws, full)[0]
    with ws.store.write_lock(on_wait=on_wait):
        report, found = diagnose(ws, full)
        if not report.problems and all(s.ok for s in report.snapshots):
            return report
        actions = _repair(ws, found)
        after, _ = diagnose(ws, full)
    report.repaired = True
    for problem in report.problems:
        problem.repair = actions.get(problem.scope) if problem.fatal else "swept"
    for health in report.snapshots:
        if not health.ok:
            health.repair = actions.get(f"snapshot {health.name}")
    report.remaining = [f"{p.scope}: {p.message}" for p in after.problems if p.fatal]
    report.remaining += [f"snapshot {s.name[:12]}: {problem}" for s in after.snapshots
                         for problem in s.problems]
    return report


# --- checks -------------------------------------------------------------------------------


def _check_catalog(store: IndexStore, report: DoctorReport, found: _Findings) -> bool:
    db = store.catalog.db
    try:
        result = [row[0] for row in db.execute("PRAGMA quick_check")]
    except Exception as exc:  # sqlite3.DatabaseError and friends
        result = [str(exc)]
    if result != ["ok"]:
        report.problems.append(Problem("catalog", "SQLite reports damage: " + "; ".join(
            result[:3]) + f" — delete {store.directory} and index again"))
        return False
    row = db.execute("SELECT value FROM meta WHERE key='next_blob_no'").fetchone()
    highest = db.execute("SELECT max(blob_no) FROM blobs").fetchone()[0]
    if highest is not None and (row is None or int(row[0]) <= highest):
        found.counter_behind = True
        report.problems.append(Problem(
            "catalog", f"blob counter {row[0] if row else None} is not above blob {highest}"))
    return True


def _check_packs(ws, rows: dict, report: DoctorReport, found: _Findings,  # noqa: ANN001
                 full: bool, seed: int) -> None:
    store: IndexStore = ws.store
    sizes: dict[int, int] = {}
    for number in pack_numbers(store.pack_dir) if store.pack_dir.exists() else []:
        sizes[number] = pack_path(store.pack_dir, number).stat().st_size
    missing_packs: Counter[int] = Counter()
    short_packs: Counter[int] = Counter()
    intact: list[int] = []
    for blob, (_, _, _, pack, offset, length) in rows.items():
        if pack == 0:
            continue
        size = sizes.get(pack)
        if size is None:
            missing_packs[pack] += 1
            found.bad_blobs[blob] = f"pack {pack} is missing"
        elif offset + length + 1 > size:
            short_packs[pack] += 1
            found.bad_blobs[blob] = f"beyond the end of pack {pack}"
        elif store.packs.read(pack, offset + length, 1) != SEPARATOR:
            short_packs[pack] += 1
            found.bad_blobs[blob] = f"no separator after it in pack {pack}"
        else:
            intact.append(blob)
    for pack, n in sorted(missing_packs.items()):
        found.damaged_packs.add(pack)
        report.problems.append(Problem("packs", f"{pack_path(store.pack_dir, pack).name} is "
                                                f"missing: the bytes of {n} blobs are lost"))
    for pack, n in sorted(short_packs.items()):
        found.damaged_packs.add(pack)
        report.problems.append(Problem("packs", f"{pack_path(store.pack_dir, pack).name}: "
                                                f"{n} blobs out of bounds (truncated?)"))
    sample = intact if full else random.Random(seed).sample(intact, min(SPOT_CHECKS,
                                                                        len(intact)))
    wrong = _spot_check(ws, rows, sample)
    report.spot_checked = len(sample)
    for blob in wrong:
        found.bad_blobs[blob] = "bytes differ from the git blob"
    if wrong:
        report.problems.append(Problem("packs", f"{len(wrong)} of {len(sample)} blobs checked "
                                                "differ from their git blob id"))


def _spot_check(ws, rows: dict, blobs: list[int]) -> list[int]:  # noqa: ANN001
    """Blobs whose stored bytes are not what their git blob id names."""
    store: IndexStore = ws.store
    wrong, ask_git = [], []
    for blob in blobs:
        oid, size, kind, pack, offset, length = rows[blob]
        data = store.packs.read(pack, offset, length)
        if kind == BlobKind.TEXT and oid in (git_blob_id(data),
                                             git_blob_id(b"\xef\xbb\xbf" + data)):
            continue
        ask_git.append(blob)
    if not ask_git:
        return wrong
    with ws.repo.blob_reader() as reader:  # transcoded or binary-prefix bytes: ask git
        by_oid = {rows[b][0]: b for b in ask_git}
        for oid, raw in reader.read_many(list(by_oid)):
            blob = by_oid[oid]
            _, size, kind, pack, offset, length = rows[blob]
            data = store.packs.read(pack, offset, length)
            if raw is None:  # a working-tree blob git never stored: only a hash can tell
                if kind == BlobKind.TEXT:
                    wrong.append(blob)
                continue
            if prepare_content(raw, len(raw) + 1).data != data:
                wrong.append(blob)
    return wrong


def _check_trigrams(store: IndexStore, rows: dict, report: DoctorReport,
                    found: _Findings) -> None:
    path = store.tantivy_dir("trigram")
    searchable = {b for b, row in rows.items() if row[3] > 0}
    if not path.exists():
        if searchable:
            found.trigram_broken = True
            report.problems.append(Problem("trigram index", f"{path.name}/ is missing"))
        return
    try:
        docs = doc_blob_nos(TrigramIndex(path).index)
    except Exception as exc:  # tantivy raises ValueError for corrupt files
        found.trigram_broken = True
        report.problems.append(Problem("trigram index", f"cannot be read: {exc}"))
        return
    have = set(docs)
    found.missing_docs = sorted(searchable - have - set(found.bad_blobs))
    found.orphan_docs = sorted(have - set(rows))
    if found.missing_docs:
        report.problems.append(Problem(
            "trigram index", f"{len(found.missing_docs)} searchable blobs have no document "
                             f"({len(have)} documents for {len(searchable)} blobs)"))
    if found.orphan_docs:
        report.problems.append(Problem(
            "trigram index", f"{len(found.orphan_docs)} documents of blobs the catalog does "
                             "not hold (left by an interrupted run; harmless)", fatal=False))


def _check_lexical(store: IndexStore, report: DoctorReport, found: _Findings) -> None:
    db = store.catalog.db
    store.chunks  # noqa: B018 - the chunk tables exist from here on
    per_blob = dict(db.execute("SELECT blob_no, count(*) FROM chunks GROUP BY blob_no"))
    path = store.tantivy_dir("lexical")
    if not path.exists():
        if per_blob:
            found.lexical_broken = True
            report.problems.append(Problem("lexical index", f"{path.name}/ is missing"))
        return
    try:
        docs = Counter(doc_blob_nos(store.chunks.lexical))
    except Exception as exc:
        found.lexical_broken = True
        report.problems.append(Problem("lexical index", f"cannot be read: {exc}"))
        return
    chunked = {row[0] for row in db.execute("SELECT blob_no FROM chunked")}
    found.lexical_missing = sorted(b for b, n in per_blob.items() if docs.get(b, 0) < n)
    found.lexical_orphans = sorted(b for b in docs if b not in chunked)
    if found.lexical_missing:
        report.problems.append(Problem(
            "lexical index", f"{len(found.lexical_missing)} chunked blobs lack documents"))
    if found.lexical_orphans:
        report.problems.append(Problem(
            "lexical index", f"documents of {len(found.lexical_orphans)} blobs not chunked "
                             "(left by an interrupted run; harmless)", fatal=False))


def _check_snapshots(ws, rows: dict, report: DoctorReport, found: _Findings) -> None:  # noqa: ANN001
    store: IndexStore = ws.store
    labels = _ref_labels(ws)
    records = store.catalog.snapshots()
    commits = [r.name for r in records if r.name != WORKTREE]
    present = _commits_present(ws, commits)
    for record in records:
        label = "(working tree)" if record.name == WORKTREE else labels.get(record.name, "")
        health = SnapshotHealth(record.name, label, record.files)
        report.snapshots.append(health)
        health.problems.extend(_manifest_problems(store, record, rows, found.bad_blobs))
        if record.name != WORKTREE and record.name not in present:
            health.warnings.append("its commit is no longer in the repository")
        if health.problems:
            found.broken_snapshots[record.name] = record.commit_id


def _manifest_problems(store: IndexStore, record, rows: dict,  # noqa: ANN001
                       bad_blobs: dict[int, str]) -> list[str]:
    path = store.manifest_path(record.manifest)
    if not path.exists():
        return [f"manifest {record.manifest} is missing"]
    try:
        manifest = Manifest.read(path)
    except Exception as exc:  # truncated or garbled: any decoding error
        return [f"manifest {record.manifest} cannot be read ({exc.__class__.__name__}: "
                f"{str(exc)[:120]})"]
    problems = []
    count = len(manifest.paths)
    if any(len(column) != count for column in manifest.columns()):
        return [f"manifest {record.manifest} is truncated (columns shorter than {count})"]
    paths = manifest.paths
    if any(paths[i] >= paths[i + 1] for i in range(count - 1)):
        problems.append("manifest paths are not sorted and unique")
    unknown = misplaced = damaged = 0
    files = nbytes = 0
    searchable = {int(k) for k in BlobKind if k.searchable}
    for i, blob in enumerate(manifest.blob_nos):
        row = rows.get(blob)
        if row is None:
            unknown += 1
            continue
        _, size, kind, pack, offset, length = row
        if (manifest.packs[i], manifest.offsets[i], manifest.lengths[i], manifest.sizes[i],
                manifest.kinds[i]) != (pack, offset, length, size, kind):
            misplaced += 1
        if blob in bad_blobs:
            damaged += 1
        if kind in searchable:
            files += 1
            nbytes += length
    if unknown:
        problems.append(f"{unknown} entries name blobs the catalog does not hold")
    if misplaced:
        problems.append(f"{misplaced} entries disagree with the catalog on where a blob is")
    if damaged:
        problems.append(f"{damaged} files whose stored bytes are damaged")
    if not unknown and (files, nbytes) != (record.files, record.bytes):
        problems.append(f"totals {files} files / {nbytes} bytes, the catalog says "
                        f"{record.files} / {record.bytes}")
    return problems


def _check_files(store: IndexStore, report: DoctorReport) -> None:
    """Leftovers of interrupted runs: harmless, listed as notes; gc or --repair sweeps them."""
    named = {row[0] for row in store.catalog.db.execute("SELECT manifest FROM snapshots")}
    stray = [p.name for p in (store.directory / "manifests").iterdir() if p.name not in named]
    live = {store.tantivy_dir("trigram").name, store.tantivy_dir("lexical").name}
    stray += [p.name for p in store.directory.iterdir()
              if p.is_dir() and TANTIVY_DIR.match(p.name) and p.name not in live]
    if stray:
        report.problems.append(Problem("files", f"{len(stray)} files or directories no "
                                                "snapshot or index uses (harmless; gc removes "
                                                "them)", fatal=False))


def _ref_labels(ws) -> dict[str, str]:  # noqa: ANN001
    out = ws.repo.git("for-each-ref", "--format=%(refname:short)%00%(*objectname)%00"
                      "%(objectname)", "refs/heads", "refs/tags", check=False).stdout.decode()
    labels: dict[str, list[str]] = {}
    for line in out.splitlines():
        ref, peeled, oid = line.split("\0")
        labels.setdefault(peeled or oid, []).append(ref)
    return {commit: ", ".join(refs) for commit, refs in labels.items()}


def _commits_present(ws, commits: list[str]) -> set[str]:  # noqa: ANN001
    if not commits:
        return set()
    out = ws.repo.git("cat-file", "--batch-check", check=False,
                      input=("\n".join(commits) + "\n").encode()).stdout.decode()
    return {parts[0] for line in out.splitlines()
            if len(parts := line.split()) == 3 and parts[1] == "commit"}


# --- repair -------------------------------------------------------------------------------


def _repair(ws, found: _Findings) -> dict[str, str]:  # noqa: ANN001
    """Fix what `found` lists; returns scope -> what was done. Caller holds the write lock."""
    from indexer.ingest import SnapshotBuilder

    store: IndexStore = ws.store
    catalog = store.catalog
    actions: dict[str, str] = {}
    if found.counter_behind:
        highest = catalog.db.execute("SELECT max(blob_no) FROM blobs").fetchone()[0] or 0
        with catalog.transaction():
            catalog.db.execute("INSERT OR REPLACE INTO meta VALUES('next_blob_no', ?)",
                               (str(highest + 1),))
        actions["catalog"] = "blob counter moved past every blob"
    if found.bad_blobs:
        _fresh_pack_after(store, found.damaged_packs)
        delete_blob_rows(store, found.bad_blobs)
        actions["packs"] = (f"dropped {len(found.bad_blobs)} damaged blobs (read again from "
                            "git or disk by the snapshots that hold them)")
    # trigram index: rebuilt whole when unreadable; otherwise patched
    if found.trigram_broken:
        rebuild_trigrams(store)
        actions["trigram index"] = "rebuilt from the pack bytes"
    else:
        trigrams = store.trigrams
        stale = set(found.orphan_docs) | set(found.bad_blobs)
        if stale:
            delete_docs(trigrams.index, trigrams.schema, stale)
        if found.missing_docs:
            trigrams.writer(expected_docs=len(found.missing_docs))
            placed = {b: (p, o, n) for b, p, o, n in searchable_rows(store)}
            for blob in found.missing_docs:
                pack, offset, length = placed[blob]
                trigrams.add(blob, store.packs.read(pack, offset, length).decode(
                    "utf-8", "replace"))
            trigrams.close_writer()
            trigrams.index.reload()
            actions["trigram index"] = f"added {len(found.missing_docs)} missing documents"
    # lexical index: its documents are re-made by chunking again (on next use)
    if found.lexical_broken:
        _forget_chunks(store, None)
        empty_lexical(store)
        actions["lexical index"] = ("replaced by an empty one; chunks are made again by the "
                                    "next `codeloupe index` or symbol/lexical query")
    else:
        redo = set(found.lexical_missing) | set(found.bad_blobs)
        if redo or found.lexical_orphans:
            chunks = store.chunks
            delete_docs(chunks.lexical, chunks.schema, redo | set(found.lexical_orphans))
            _forget_chunks(store, redo)
            if found.lexical_missing:
                actions["lexical index"] = (f"{len(found.lexical_missing)} blobs will be "
                                            "chunked again on next use")
    # snapshots: drop the broken ones, then index them again (forked from healthy ones)
    broken = found.broken_snapshots
    if broken:
        with catalog.transaction():
            for name in broken:
                record = catalog.snapshot(name)
                catalog.db.execute("DELETE FROM snapshots WHERE name=?", (name,))
                if record is not None:
                    with contextlib.suppress(FileNotFoundError):
                        store.manifest_path(record.manifest).unlink()
        store.bump_generation()
        builder = SnapshotBuilder(store, ws.repo, max_filesize=ws.max_filesize)
        present = _commits_present(ws, [n for n in broken if n != WORKTREE])
        for name in broken:
            scope = f"snapshot {name}"
            if name == WORKTREE:
                summary = builder.index_worktree()
                actions[scope] = f"indexed again from disk ({summary.new_blobs} files read)"
            elif name in present:
                summary = builder.index_commit(name)
                parent = catalog.snapshot(name)
                base = f", forked from {parent.parent[:12]}" if parent and parent.parent else ""
                actions[scope] = (f"indexed again from git ({summary.new_blobs} blobs "
                                  f"read{base})")
            else:
                actions[scope] = "dropped: its commit is no longer in the repository"
    sweep_files(store)
    store.bump_generation()  # whatever changed: holders of snapshots look again
    return actions


def _fresh_pack_after(store: IndexStore, damaged: set[int]) -> None:
    """Make sure new bytes go to a new pack numbered above every pack ever used, never into a
    damaged one (or a reused number)."""
    used = {row[0] for row in store.catalog.db.execute("SELECT DISTINCT pack FROM blobs")}
    existing = pack_numbers(store.pack_dir) if store.pack_dir.exists() else []
    highest = max([*used, *existing, 0])
    if not existing or existing[-1] < highest or existing[-1] in damaged:
        store.pack_dir.mkdir(parents=True, exist_ok=True)
        pack_path(store.pack_dir, highest + 1).touch()


def _forget_chunks(store: IndexStore, blob_nos: set[int] | None) -> None:
    """Drop chunk rows (all, or those of `blob_nos`) so chunking runs again for them."""
    db = store.catalog.db
    store.chunks  # noqa: B018
    with store.catalog.transaction():
        for table in CHUNK_TABLES:
            if blob_nos is None:
                db.execute(f"DELETE FROM {table}")
            else:
                db.executemany(f"DELETE FROM {table} WHERE blob_no=?",
                               [(b,) for b in blob_nos])


def require_readable_catalog(directory) -> None:  # noqa: ANN001
    """Raise a CodeloupeError naming the fix when the catalog cannot even be opened."""
    import sqlite3

    path = directory / "catalog.sqlite"
    if not path.exists():
        return
    try:
        db = sqlite3.connect(path)
        db.execute("PRAGMA quick_check").fetchall()
        db.close()
    except sqlite3.DatabaseError as exc:
        raise CodeloupeError(f"the catalog {path} is damaged ({exc}); delete {directory} "
                             "and run `codeloupe index`") from None
