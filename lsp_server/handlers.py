"""The LSP methods the codeloupe server answers: each validates its params on the event loop,
then hands the engine work to a worker thread (`CodeloupeServer.in_thread`).

Custom methods receive plain JSON; docs/protocol.md documents each with JSON Schemas.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from lsprotocol import types

from indexer.errors import CodeloupeError
from indexer.ingest import CancelToken
from indexer.repo import WORKTREE
from indexer.search import SearchOptions, compile_search
from lsp_server.overlay import Buffer
from lsp_server.params import Params
from lsp_server.positions import path_to_uri, uri_to_path
from lsp_server.repos import Repo, enrich_repo, index_repo, update_symbols
from lsp_server.search import Collector, Target, run_search
from lsp_server.semantic import register as register_semantic
from lsp_server.server import (
    SAVE_DEBOUNCE,
    VERSION,
    WORKSPACE_SYMBOL_LIMIT,
    CodeloupeServer,
    RawJSON,
    iso_time,
)
from lsp_server.symbols import (
    Positions,
    SymbolHit,
    overlay_files,
    symbol_json,
    workspace_symbol_text,
)

MAX_SYMBOL_QUERY = 1000  # characters: longer than any symbol name


def _snapshot_json(record: Any) -> dict[str, Any]:
    return {"name": record.name, "commit": record.commit_id, "files": record.files,
            "bytes": record.bytes, "skipped": record.skipped, "updated": iso_time(record.updated)}


def register(ls: CodeloupeServer) -> CodeloupeServer:  # noqa: C901 - one place for handlers
    """Register every handler on `ls`."""
    @ls.feature(types.INITIALIZE)
    def initialize(ls: CodeloupeServer, params: types.InitializeParams) -> None:
        folders = [(f.uri, f.name) for f in params.workspace_folders or []]
        if not folders:
            root = params.root_uri or (path_to_uri(params.root_path) if params.root_path
                                       else None)
            if root:
                folders = [(root, None)]
        for uri, name in folders:
            ls.add_folder(uri, name)

    @ls.feature(types.INITIALIZED)
    async def initialized(ls: CodeloupeServer, params: types.InitializedParams) -> None:
        if ls.loop is None:
            ls.start(asyncio.get_running_loop())

    @ls.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: CodeloupeServer,
                        params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed or []:
            ls.remove_folder(removed.uri)
        for added in params.event.added or []:
            ls.add_folder(added.uri, added.name)

    # --- documents ---
    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CodeloupeServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.buffers[params.text_document.uri] = False

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CodeloupeServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.buffers[params.text_document.uri] = True

    @ls.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: CodeloupeServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in ls.buffers:
            ls.buffers[uri] = False
        try:
            found = ls.repo_of_path(uri_to_path(uri))
        except (ValueError, OSError):
            return
        if found is not None:
            found[0].mark_dirty(found[1])  # searched from disk until the re-index is done
            ls.debounce_reindex(found[0], SAVE_DEBOUNCE, force=True)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CodeloupeServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.buffers.pop(params.text_document.uri, None)

    # --- progress ---
    @ls.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancel(ls: CodeloupeServer,
                        params: types.WorkDoneProgressCancelParams) -> None:
        token = ls.progress_cancels.get(params.token)
        if token is not None:
            token.cancel()

    # --- symbols ---
    converters: dict[str, Positions] = {}  # by position encoding (negotiated at initialize)

    def find_symbols(cancel: CancelToken, targets: list[Target], rev: str | None, query: str,
                     limit: int, kinds: frozenset[int] | None,
                     buffers: dict[Path, list[Buffer]]) -> list[SymbolHit]:
        positions = converters.get(ls.encoding)
        if positions is None:
            positions = converters.setdefault(ls.encoding, Positions(ls.encoding))
        hits: list[SymbolHit] = []
        seen: set[tuple[int, str, tuple[int, int, int, int], str]] = set()
        several = len(targets) > 1  # one folder (the usual case): no twins, already in order
        for target in targets:
            repo = target.repo
            snap = ls.snapshot_for(repo, rev, cancel)
            if snap.name != WORKTREE:
                enrich_repo(ls, repo, snap, title=f"Symbols of {rev}", cancel=cancel)
            index = repo.symbol_index(snap, cancel)
            overlay = None
            if snap.name == WORKTREE:
                files = overlay_files(repo, index, snap, buffers.get(repo.root, []))
                overlay = index.overlay(files) if files else None
            for score, symbol in index.search(query, limit, kinds=kinds,
                                              scopes=target.scopes, overlay=overlay):
                name_range, full_range = positions.ranges(index, symbol, overlay)
                if several:
                    key = (id(repo), symbol.path, name_range, symbol.name)  # one repo, twice
                    if key in seen:
                        continue
                    seen.add(key)
                hits.append(SymbolHit(score, symbol, target, snap, name_range, full_range))
        if several:
            hits.sort(key=lambda h: -h.score)  # stable: each folder's own order within a score
        return hits[:limit]

    @ls.feature(types.WORKSPACE_SYMBOL, types.WorkspaceSymbolOptions(resolve_provider=True))
    async def workspace_symbol(ls: CodeloupeServer, params: types.WorkspaceSymbolParams
                               ) -> Any:
        query = params.query or ""
        if not query.strip() or len(query) > MAX_SYMBOL_QUERY:
            return []  # no symbol is named by a query this long: nothing to search for
        partial = params.partial_result_token
        buffers = ls.buffers_by_repo()

        def work(cancel: CancelToken) -> RawJSON:
            targets = ls.resolve_targets("workspace/symbol", cancel, None, [])
            hits = find_symbols(cancel, targets, None, query, WORKSPACE_SYMBOL_LIMIT, None,
                                buffers)
            texts = [workspace_symbol_text(h) for h in hits]
            items = "[" + ",".join(texts) + "]"
            if partial is not None and hits:
                ls.send_partial(partial, items)
                return RawJSON("[]")
            return RawJSON(items)

        return await ls.in_thread(work)

    @ls.feature(types.WORKSPACE_SYMBOL_RESOLVE)
    def workspace_symbol_resolve(ls: CodeloupeServer, item: types.WorkspaceSymbol
                                 ) -> types.WorkspaceSymbol:
        data = item.data if isinstance(item.data, dict) else {}
        full = data.get("fullRange")
        try:
            rng = ls.protocol._converter.structure(full, types.Range) if full else None
        except Exception:
            rng = None
        if rng is not None:
            item.location = types.Location(uri=item.location.uri, range=rng)
        return item

    @ls.feature("codeloupe/symbols")
    async def codeloupe_symbols(ls: CodeloupeServer, raw: Any) -> RawJSON:
        p = Params("codeloupe/symbols", raw)
        query = p.string("query", required=True, max_length=MAX_SYMBOL_QUERY)
        rev = p.string("rev", allow_empty=False)
        folder = p.string("folder")
        kinds = p.integers("kinds")
        bad = [k for k in kinds if not 1 <= k <= 26]
        if bad:
            raise p.error(f"'kinds' holds values that are not LSP SymbolKinds (1-26): {bad}")
        limit = p.integer("limit", 100, minimum=1, maximum=10_000)
        paths = p.strings("paths")

        buffers = ls.buffers_by_repo()

        def work(cancel: CancelToken) -> dict[str, Any]:
            targets = ls.resolve_targets(p.method, cancel, folder, paths)
            hits = find_symbols(cancel, targets, rev, query or "", limit or 100,
                                frozenset(kinds) or None, buffers)
            return {"rev": rev or WORKTREE, "symbols": [symbol_json(hit) for hit in hits]}

        return await ls.in_thread_json(work)

    # --- search ---
    @ls.feature("codeloupe/search")
    async def codeloupe_search(ls: CodeloupeServer, raw: Any) -> RawJSON:
        p = Params("codeloupe/search", raw)
        query = p.string("query", required=True, allow_empty=False)
        assert query is not None
        is_regex = p.boolean("isRegex")
        case = "sensitive" if p.boolean("isCaseSensitive") else (
            "smart" if p.boolean("smartCase") else "ignore")
        whole_word = p.boolean("isWordMatch")
        includes = p.strings("includes")
        excludes = p.strings("excludes")
        for glob in includes + excludes:
            if not glob.strip() or "\n" in glob:
                raise p.error(f"invalid glob {glob!r}")
        rev = p.string("rev", allow_empty=False)
        folder = p.string("folder")
        paths = p.strings("paths")
        max_results = p.integer("maxResults", 20_000, minimum=1, maximum=1_000_000)
        before, after = _context(p)
        max_per_file = p.integer("maxResultsPerFile", None, minimum=1)
        token = raw.get("partialResultToken") if isinstance(raw, dict) else None
        if token is not None and (isinstance(token, bool) or
                                  not isinstance(token, (str, int))):
            raise p.error("'partialResultToken' must be a string or an integer")
        globs = tuple(includes) + tuple(g if g.startswith("!") else "!" + g for g in excludes)
        options = SearchOptions(patterns=(query,), fixed_strings=not is_regex, case=case,
                                whole_word=whole_word, globs=globs, context_before=before,
                                context_after=after, max_count=max_per_file)
        buffers = ls.buffers_by_repo()
        send_partial = None
        if token is not None:
            def send_partial(batch: list[str]) -> None:
                value = f'{{"results":[{",".join(batch)}]}}'
                ls.send_partial(token, value)

        def work(cancel: CancelToken) -> RawJSON:
            compiled = compile_search(options)
            targets = ls.resolve_targets(p.method, cancel, folder, paths)
            out = Collector(max_results or 20_000, ls.encoding, send_partial)
            texts = dict(buffers)

            def snapshot_for(target: Target) -> Any:
                snap = ls.snapshot_for(target.repo, rev, cancel)
                if snap.name == WORKTREE and target.repo.root not in disk_read:
                    disk_read.add(target.repo.root)
                    texts[target.repo.root] = with_disk_files(target.repo, snap,
                                                              buffers.get(target.repo.root, []))
                return snap

            disk_read: set[Path] = set()
            used = run_search(targets, snapshot_for, options, compiled, texts, out, cancel)
            head = json.dumps({"rev": rev or WORKTREE, "snapshots": used,
                               "limitHit": out.limit_hit, "stats": out.totals.to_json()})
            return RawJSON(f'{head[:-1]},"results":[{",".join(out.results)}]}}')

        return await ls.in_thread(work, heavy=True)

    # --- status, branches, reindex ---
    @ls.feature("codeloupe/status")
    async def codeloupe_status(ls: CodeloupeServer, raw: Any) -> dict[str, Any]:
        p = Params("codeloupe/status", raw)
        folder = p.string("folder")
        check_fresh = p.boolean("checkFresh", True)
        chosen = [ls._folder_for(p.method, folder)[0]] if folder else list(ls.folders.values())

        def work(cancel: CancelToken) -> dict[str, Any]:
            out = []
            for f in chosen:
                repo = f.repo
                entry: dict[str, Any] = {"folder": f.uri, "name": f.name, "path": str(f.path)}
                if repo is None:
                    entry.update(state="error" if f.error else "opening", error=f.error)
                    out.append(entry)
                    continue
                job = repo.status_job()
                state = "indexing" if job else ("ready" if repo.worktree else (
                    "error" if repo.error else "opening"))
                fresh = None
                if check_fresh and repo.worktree is not None:
                    try:
                        fresh = repo.ws.is_fresh()
                    except CodeloupeError:
                        fresh = None
                records = repo.ws.store.catalog.snapshots()
                entry.update(
                    root=str(repo.root), prefix=f.prefix, state=state,
                    error=repo.error, fresh=fresh, indexing=job,
                    indexDir=str(repo.ws.store.directory), watching=repo.watcher is not None,
                    embedding=ls.embeds.state(repo),
                    snapshots=[_snapshot_json(r) for r in records])
                out.append(entry)
            return {"folders": out, "positionEncoding": ls.encoding,
                    "openBuffers": len(ls.buffers), "version": VERSION}

        return await ls.in_thread(work)

    @ls.feature("codeloupe/branches")
    async def codeloupe_branches(ls: CodeloupeServer, raw: Any) -> dict[str, Any]:
        p = Params("codeloupe/branches", raw)
        folder = p.string("folder")

        def work(cancel: CancelToken) -> dict[str, Any]:
            targets = ls.resolve_targets(p.method, cancel, folder, [])
            out = [_branches(target, target.repo) for target in _one_per_repository(targets)]
            return {"folders": out}

        return await ls.in_thread(work)

    @ls.feature("codeloupe/reindex")
    async def codeloupe_reindex(ls: CodeloupeServer, raw: Any) -> dict[str, Any]:
        p = Params("codeloupe/reindex", raw)
        folder = p.string("folder")
        rev = p.string("rev", allow_empty=False)

        def work(cancel: CancelToken) -> dict[str, Any]:
            targets = ls.resolve_targets(p.method, cancel, folder, [])
            results = []
            for target in _one_per_repository(targets):
                repo = target.repo
                target_rev = None if rev in (None, WORKTREE) else rev
                summary = index_repo(ls, repo, target_rev,
                                     title=f"Indexing {rev or repo.root.name}", cancel=cancel,
                                     reason="reindexed")
                if target_rev is None:
                    repo.error = None
                    repo.ready.set()
                    update_symbols(ls, repo, cancel)
                else:
                    snap = repo.snapshot_named(summary.name)
                    if snap is not None:
                        enrich_repo(ls, repo, snap, title=f"Symbols of {rev}", cancel=cancel)
                results.append({
                    "folder": target.folder.uri, "rev": rev or WORKTREE,
                    "snapshot": summary.name, "commit": summary.commit,
                    "files": summary.files, "bytes": summary.bytes,
                    "newBlobs": summary.new_blobs, "skipped": summary.skipped,
                    "upToDate": summary.up_to_date, "seconds": round(summary.seconds, 3)})
            return {"results": results}

        return await ls.in_thread(work, pool=ls.index_pool)

    # --- the semantic layer ---
    register_semantic(ls)

    # --- lifecycle ---
    @ls.feature(types.SHUTDOWN)
    async def shutdown(ls: CodeloupeServer, params: Any) -> None:
        ls.stop_timers()
        await asyncio.to_thread(ls.close)

    @ls.feature(types.EXIT)
    def exit_(ls: CodeloupeServer, params: Any) -> None:
        ls.exit_code = 0 if ls.protocol._shutdown else 1  # the spec's exit codes
        ls.stop_timers()
        ls.close()

    return ls


def with_disk_files(repo: Repo, snap: Any, buffers: list[Buffer]) -> list[Buffer]:
    """The buffers, plus the files changed on disk since the last index run (read now), so a
    search sees a saved edit before the re-index does."""
    disk = repo.disk_texts(snap)
    if not disk:
        return buffers
    open_paths = {b.path for b in buffers}
    extra = [Buffer(path_to_uri(repo.root / rel), rel, data, True)
             for rel, data in disk.items() if rel not in open_paths]
    return buffers + extra


def _context(p: Params) -> tuple[int, int]:
    value = p.raw.get("context")
    if value is None:
        return 0, 0
    if isinstance(value, int) and not isinstance(value, bool):
        n = p.integer("context", 0, minimum=0, maximum=100) or 0
        return n, n
    if isinstance(value, dict):
        sub = Params(p.method, value)
        return (sub.integer("before", 0, minimum=0, maximum=100) or 0,
                sub.integer("after", 0, minimum=0, maximum=100) or 0)
    raise p.error("'context' must be an integer or {before, after}")


def _branches(target: Target, repo: Repo) -> dict[str, Any]:
    ws = repo.ws
    records = ws.store.catalog.snapshots()
    indexed = {r.name for r in records}
    proc = ws.repo.git("for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)",
                       check=False)
    refs = []
    by_commit: dict[str, list[str]] = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\0")
        if len(parts) < 3:
            continue
        full, obj, peeled = parts[0], parts[1], parts[2]
        commit = peeled or obj
        if full.startswith("refs/heads/"):
            kind, name = "branch", full[len("refs/heads/"):]
        elif full.startswith("refs/remotes/"):
            kind, name = "remote", full[len("refs/remotes/"):]
            if name.endswith("/HEAD"):
                continue
        elif full.startswith("refs/tags/"):
            kind, name = "tag", full[len("refs/tags/"):]
        else:
            continue
        refs.append({"name": name, "kind": kind, "commit": commit,
                     "indexed": commit in indexed})
        by_commit.setdefault(commit, []).append(name)
    head = ws.repo.head_commit()
    branch = ws.repo.git("symbolic-ref", "--short", "-q", "HEAD", check=False).stdout
    snapshots = []
    for record in records:
        item = _snapshot_json(record)
        item["refs"] = by_commit.get(record.name, []) if record.name != WORKTREE else []
        snapshots.append(item)
    return {"folder": target.folder.uri, "root": str(repo.root),
            "head": {"commit": head, "branch": branch.decode().strip() or None},
            "refs": refs, "snapshots": snapshots}




def _one_per_repository(targets: list) -> list:
    """The first target of each repository: folders of one repository share one index."""
    seen: set[Path] = set()
    unique = []
    for target in targets:
        if target.repo.root not in seen:
            seen.add(target.repo.root)
            unique.append(target)
    return unique
