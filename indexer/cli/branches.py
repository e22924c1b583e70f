"""`codeloupe branches`: the indexed snapshots next to the repository's refs."""

from __future__ import annotations

import json

import click

from indexer.repo import WORKTREE


def run_branches(ws, as_json: bool) -> int:  # noqa: ANN001
    """Each local branch and tag with the state of its index, then the working tree and any
    indexed commit no ref names any more."""
    catalog = ws.store.catalog
    records = {r.name: r for r in catalog.snapshots()}
    proc = ws.repo.git("for-each-ref", "--format=%(refname:short)%00%(*objectname)%00"
                       "%(objectname)%00%(objecttype)", "refs/heads", "refs/tags", check=False)
    rows = []
    named: set[str] = set()
    for line in proc.stdout.decode().splitlines():
        ref, peeled, oid, kind = line.split("\0")
        commit = peeled or oid
        if kind not in ("commit", "tag"):
            continue
        named.add(commit)
        rows.append(_row(ref, commit, records.get(commit)))
    worktree = records.get(WORKTREE)
    if worktree is not None:
        row = _row("(working tree)", worktree.commit_id, worktree)
        row["state"] = "complete" if ws.is_fresh(None) else "stale"
        rows.append(row)
    for name, record in records.items():
        if name != WORKTREE and name not in named:
            rows.append(_row("(no ref)", name, record))
    for row in rows:
        parent = records.get(row.get("parent") or "")
        if parent is not None and row["state"] != "not indexed":
            row["shared_with_parent"] = _shared(ws, records[row["snapshot"]], parent)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return 0
    for row in rows:
        commit = (row["commit"] or "")[:12]
        size = f"{row['files']} files, {row['bytes'] / 1e6:.1f} MB" if row["files"] else ""
        extra = ""
        if row.get("shared_with_parent") is not None:
            extra = (f"  forked from {row['parent'][:12]}, "
                     f"{row['shared_with_parent']:.0%} of its blobs shared")
        click.echo(f"{row['ref']:<28} {commit:<12} {row['state']:<12} {size}{extra}")
    return 0


def _row(ref: str, commit: str | None, record) -> dict:  # noqa: ANN001
    if record is None:
        return {"ref": ref, "commit": commit, "state": "not indexed", "files": 0, "bytes": 0,
                "snapshot": None, "parent": None}
    return {"ref": ref, "commit": commit, "state": "complete", "files": record.files,
            "bytes": record.bytes, "snapshot": record.name, "parent": record.parent,
            "updated": record.updated}


def _shared(ws, record, parent) -> float:  # noqa: ANN001
    mine = set(ws.store.load_manifest(record).blob_nos)
    theirs = set(ws.store.load_manifest(parent).blob_nos)
    return len(mine & theirs) / max(len(mine), 1)
