"""CLI commands over chunks: `chunks`, `symbols`, and `search --lexical`."""

from __future__ import annotations

import json
import sys

import click

from indexer.chunking import LSP_SYMBOL_KIND

# LSP SymbolKind numbers -> their names in the specification
KIND_NAMES = dict(enumerate(
    ["", "file", "module", "namespace", "package", "class", "method", "property", "field",
     "constructor", "enum", "interface", "function", "variable", "constant", "string", "number",
     "boolean", "array", "object", "key", "null", "enum-member", "struct", "event", "operator",
     "type-parameter"]))


def _enriched(ws, rev: str | None):  # noqa: ANN001, ANN202
    """The snapshot of `rev`, with chunks and symbols brought up to date first."""
    from indexer.cli.progress import index_progress

    with index_progress(label="chunking") as on_progress:
        ws.enrich(rev, on_progress=on_progress, on_wait=lambda m: click.echo(m, err=True))
    return ws.snapshot(rev, refresh=False)


def run_lexical(ws, query: str, rev: str | None, as_json: bool, k: int) -> int:  # noqa: ANN001
    from indexer.retrieval.lexical import lexical_search

    snapshot = _enriched(ws, rev)
    hits = lexical_search(ws, snapshot, query, k)
    for hit in hits:
        if as_json:
            click.echo(json.dumps(hit.to_dict(), ensure_ascii=False))
        else:
            c = hit.chunk
            click.echo(f"{hit.score:7.2f}  {hit.path}:{c.start_line}-{c.end_line}  {c.title}")
    return 0 if hits else 1


def run_symbols(ws, query: str, rev: str | None, kinds: tuple[str, ...],  # noqa: ANN001
                as_json: bool, limit: int) -> int:
    """Exit 0 with matches, 1 without (as search and ask)."""
    from indexer.retrieval.symbol_search import SymbolIndex

    kind_ids: list[int | None] = []
    for kind in kinds:
        kind_id = LSP_SYMBOL_KIND.get(kind.lower())
        if kind_id is None:
            names = ", ".join(sorted(LSP_SYMBOL_KIND))
            raise click.BadParameter(f"unknown kind {kind!r}; one of: {names}")
        kind_ids.append(kind_id)
    snapshot = _enriched(ws, rev)
    index = SymbolIndex(ws, snapshot)
    found = [hit for kind_id in (kind_ids or [None]) for hit in
             index.search(query, limit, kind_id)]
    if len(kind_ids) > 1:  # one list per kind: merge by score
        found = sorted(found, key=lambda hit: -hit[0])[:limit]
    for score, symbol in found:
        r = symbol.record
        if as_json:
            click.echo(json.dumps({**symbol.to_dict(), "score": score}, ensure_ascii=False))
        else:
            where = f"{symbol.path}:{r.name_line}"
            container = f"  ({r.container_name})" if r.container_name else ""
            # a path's exact bytes, as ripgrep prints a file name that is not UTF-8
            sys.stdout.flush()
            sys.stdout.buffer.write(f"{KIND_NAMES.get(r.kind, r.kind):<10} {r.name:<30} "
                                    f"{where}{container}\n".encode("utf-8", "surrogateescape"))
    return 0 if found else 1


def run_chunks(ws, file: str, rev: str | None, as_json: bool) -> int:  # noqa: ANN001
    from indexer.errors import RepositoryError

    path = ws.relative_path(file)
    snapshot = _enriched(ws, rev)
    manifest = snapshot.manifest
    try:
        i = manifest.paths.index(path)
    except ValueError:
        raise RepositoryError(f"{path} is not in the index of {rev or 'the working tree'} "
                              "(not tracked, ignored, binary or too large)") from None
    records = ws.store.chunks.chunks_of(manifest.blob_nos[i])
    for record in records:
        if as_json:
            click.echo(json.dumps({"path": path, **record.to_dict()}, ensure_ascii=False))
        else:
            name = record.qualified_name or record.name or "-"
            click.echo(f"{record.start_line:>5}-{record.end_line:<5} {record.kind:<10} {name}")
    if not as_json:
        click.echo(f"{len(records)} chunks", err=True)
    sys.stdout.flush()
    return 0
