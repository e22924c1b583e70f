"""`codeloupe/ask` and `codeloupe/context`: thin adapters over the engine's semantic layer.

Requests name files by URI; the engine wants repository paths, so this module converts (and
refuses anything outside the workspace) and turns results back into URIs. A small backlog of
unembedded chunks is embedded first; a large one is the background indexer's job, and the
response says what share is embedded.
"""

from __future__ import annotations

import contextlib
from typing import Any

from indexer.context.pack import ContextRequest, pack_context
from indexer.enrich import snapshot_blobs
from indexer.errors import CodeloupeError, IndexBusyError
from indexer.repo import WORKTREE
from indexer.retrieval.semantic import AskRequest
from lsp_server.params import Params, RequestFailed
from lsp_server.positions import path_to_uri, to_path
from lsp_server.search import scope_globs


def _rev(value: str | None) -> str | None:
    return None if value in (None, WORKTREE) else value


def _repo_path(p: Params, ws, value: str, key: str) -> str:  # noqa: ANN001 - a Workspace
    try:
        return ws.relative_path(to_path(value))
    except (ValueError, CodeloupeError) as exc:
        raise p.error(f"'{key}': {exc}") from None


def _searcher(ls, target, rev: str | None, cancel):  # noqa: ANN001, ANN202
    """The engine's SemanticSearcher of `rev`, reached without waiting on the index's write
    lock uncancellably: the snapshot and its chunks come through the server's own pipeline
    (cancellable, and bounded by the request's time limit), so another process writing the
    index, or an indexing under way, cannot hold a request worker for minutes."""
    from lsp_server.repos import enrich_repo

    repo = target.repo
    snap = ls.snapshot_for(repo, rev, cancel)
    store = repo.ws.store
    # Chunk what the snapshot lacks, waiting (cancellably) for the server's own indexing; but
    # while that waits for another process writing the index, answer from the chunks there
    # are: the pipeline chunks the rest after.
    while store.chunks.unchunked(sorted(snapshot_blobs(snap.manifest))):
        if repo.writer_elsewhere.is_set():
            break
        if repo.index_lock.acquire(timeout=0.1):
            repo.index_lock.release()
            # another process writing the index: the chunks there are
            with contextlib.suppress(IndexBusyError):
                enrich_repo(ls, repo, snap, title=f"Chunks of {rev or repo.root.name}",
                            lazy_progress=True, cancel=cancel, wait_for_others=False)
            break
        cancel.check()
    cancel.check()
    return repo.ws.semantic(_rev(rev), refresh=False)


def _busy_notes(target) -> list[str]:  # noqa: ANN001
    """What an answer says when another process was writing the index meanwhile."""
    if target.repo.writer_elsewhere.is_set():
        return ["another codeloupe process is writing the index: answering from the last "
                "complete index, which may miss the newest changes"]
    return []


def register(ls) -> None:  # noqa: ANN001 - the CodeloupeServer
    @ls.feature("codeloupe/ask")
    async def codeloupe_ask(ls, raw: Any) -> dict[str, Any]:  # noqa: ANN001
        p = Params("codeloupe/ask", raw)
        query = p.string("query", required=True, allow_empty=False)
        folder = p.string("folder")
        rev = p.string("rev", allow_empty=False)
        globs = p.strings("globs")
        languages = p.strings("languages")
        k = p.integer("k", 10, minimum=1, maximum=300)
        files = p.boolean("files")

        def work(cancel) -> dict[str, Any]:  # noqa: ANN001
            results: list[dict[str, Any]] = []
            ranked_files: list[dict[str, Any]] = []
            embedded, notes = [], []
            for target in ls.resolve_targets(p.method, cancel, folder, []):
                ws = target.repo.ws
                try:
                    # never waits behind another process writing the index: says so instead
                    searcher = _searcher(ls, target, rev, cancel)
                    busy = _busy_notes(target)
                    searcher.embed_small_backlog()
                    response = searcher.ask(AskRequest(
                        query, globs=(*globs, *scope_globs(target.scopes)),
                        languages=tuple(languages), k=k, files=files))
                except CodeloupeError as exc:
                    raise RequestFailed(message=f"{p.method}: {exc}") from None
                embedded.append(response.embedded)
                notes += busy + response.notes
                for f in response.files or ():
                    ranked_files.append({"uri": path_to_uri(ws.root / f.path),
                                         "folder": target.folder.uri, **f.to_dict()})
                chunks = ws.store.chunks
                for r in response.results:
                    record = searcher.table.record(chunks, r.row)
                    results.append({"uri": path_to_uri(ws.root / r.path),
                                    "folder": target.folder.uri, **r.to_dict(),
                                    "preview": record.signature or record.title})
            results.sort(key=lambda r: -r["score"])  # several folders: best first overall
            out = {"rev": rev or WORKTREE, "embedded": min(embedded, default=1.0),
                   "notes": notes, "results": results[:k]}
            if files:
                ranked_files.sort(key=lambda f: -f["score"])
                out["files"] = ranked_files[:k]
            return out

        return await ls.in_thread(work, heavy=True)

    @ls.feature("codeloupe/context")
    async def codeloupe_context(ls, raw: Any) -> dict[str, Any]:  # noqa: ANN001
        p = Params("codeloupe/context", raw)
        task = p.string("task", required=True, allow_empty=False)
        folder = p.string("folder")
        rev = p.string("rev", allow_empty=False)
        budget = p.integer("budget", None, minimum=1, maximum=1_000_000)
        file = p.string("file")
        line = p.integer("line", None, minimum=0)
        fmt = p.string("format", "markdown")
        instructions = p.string("instructions", "") or ""
        open_files = p.strings("open")
        selection = raw.get("selection") if isinstance(raw, dict) else None
        selected: tuple[str, int, int] | None = None
        if selection is not None:  # checked here, on the loop: a bad one is InvalidParams
            if not (isinstance(selection, dict) and isinstance(selection.get("uri"), str)):
                raise p.error("'selection' must be {uri, range}")
            (start_line, _), (end_line, end_char) = p.range(selection.get("range"),
                                                            "selection.range")
            first, last = start_line + 1, end_line + 1
            if last > first and end_char == 0:
                last -= 1  # a selection ending at column 0 does not include that line
            try:
                to_path(selection["uri"])
            except ValueError as exc:
                raise p.error(f"'selection.uri': {exc}") from None
            selected = (selection["uri"], first, last)

        def work(cancel) -> dict[str, Any]:  # noqa: ANN001
            target = ls.resolve_targets(p.method, cancel, folder, [])[0]
            ws = target.repo.ws
            chosen = None
            if selected is not None:
                chosen = (_repo_path(p, ws, selected[0], "selection"), selected[1], selected[2])
            request = ContextRequest(
                task, budget=budget or ws.settings.context_budget,
                file=_repo_path(p, ws, file, "file") if file else None,
                line=None if line is None else line + 1, selection=chosen,
                open_files=tuple(_repo_path(p, ws, f, "open") for f in open_files),
                format=fmt or "markdown", instructions=instructions,
                globs=scope_globs(target.scopes))
            try:
                searcher = _searcher(ls, target, rev, cancel)
                busy = _busy_notes(target)
                searcher.embed_small_backlog()
                pack = pack_context(searcher, request)
                pack.notes[:0] = busy
            except CodeloupeError as exc:
                raise RequestFailed(message=f"{p.method}: {exc}") from None
            return {**pack.to_dict(), "folder": target.folder.uri}

        return await ls.in_thread(work, heavy=True)
