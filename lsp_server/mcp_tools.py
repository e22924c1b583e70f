"""`codeloupe mcp`: the engine as Model Context Protocol tools, over stdio, for AI agents.

One repository per server (the one around the working directory, or `--repo`). Tools:

- `search`: regex or literal search with ripgrep's semantics (case, whole word, globs, paths,
  context, limits) on the working tree or any revision;
- `symbols`: fuzzy "Go to Symbol" over the syntax-tree definitions of a revision;
- `ask`, `context`: registered, answering a tool error until the engine's semantic layer is
  wired in (`EngineTools.ask` / `EngineTools.context` are the two functions to fill in).

Like the language server this is a thin adapter: `EngineTools` calls `indexer` and shapes
JSON; the MCP SDK validates arguments against each tool's schema (a bad argument is a tool
error naming the field) and runs the tools in worker threads. Expected failures (a bad
pattern, an unknown revision, a path outside the repository) are tool errors with a message;
the server goes on serving. docs/mcp.md documents the tools.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import anyio
from pydantic import Field

from indexer.chunking import LSP_SYMBOL_KIND
from indexer.enrich import enrich_snapshot, snapshot_blobs
from indexer.errors import CodeloupeError, IndexBusyError, PatternError
from indexer.ingest import Cancelled, CancelToken, TimeLimitExceeded
from indexer.repo import WORKTREE
from indexer.retrieval.symbol_search import SymbolIndex
from indexer.search import SearchOptions, SearchStats, compile_search
from indexer.workspace import Snapshot, Workspace
from lsp_server.params import MAX_ITEM, MAX_LIST, MAX_STRING, request_time_limit
from lsp_server.search import first_matches, scope_globs

try:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
except ImportError:  # mcp 1.x: the same API under its old name
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef]
    from mcp.server.fastmcp.exceptions import ToolError  # type: ignore[no-redef]

logger = logging.getLogger("codeloupe.mcp")

MAX_LINE_CHARS = 500  # a longer line (minified code) is cut, and says so
KIND_IDS = dict(LSP_SYMBOL_KIND)  # kind names (with synonyms: trait, struct…) -> LSP SymbolKind
KIND_NAMES = dict(enumerate(  # LSP SymbolKind -> its name in the specification
    ["", "file", "module", "namespace", "package", "class", "method", "property", "field",
     "constructor", "enum", "interface", "function", "variable", "constant", "string",
     "number", "boolean", "array", "object", "key", "null", "enum-member", "struct", "event",
     "operator", "type-parameter"]))

INSTRUCTIONS = (
    "Code search over one git repository, on the working tree or any branch, tag or commit "
    "(without checking it out). `search` finds lines by regex or literal with ripgrep's "
    "semantics; `symbols` finds definitions by fuzzy name (camelCase / snake_case humps). "
    "Paths are relative to the repository root; lines are 1-based.")


class NotAvailable(ToolError):
    """A tool whose engine side does not exist yet."""


T = TypeVar("T")


class EngineTools:
    """The engine side of the tools: one repository's Workspace, kept open between calls.
    Calls are serialised (the SDK runs tools in threads; the Workspace is not shared). Each
    call carries a CancelToken: the client's cancellation and the time limit
    (CODELOUPE_REQUEST_TIME_LIMIT_S) stop the work itself, and the wait for the lock."""

    def __init__(self, ws: Workspace, time_limit_s: float | None = None) -> None:
        self.ws = ws
        self.lock = threading.Lock()
        self._symbols: dict[str, SymbolIndex] = {}
        self.time_limit_s = time_limit_s or request_time_limit()

    def new_token(self) -> CancelToken:
        return CancelToken(time_limit_s=self.time_limit_s)

    @contextmanager
    def _locked(self, cancel: CancelToken) -> Iterator[None]:
        """The lock, waited for cancellably (a slow call ahead ends by its time limit)."""
        while not self.lock.acquire(timeout=0.05):
            cancel.check()
        try:
            yield
        finally:
            self.lock.release()

    @classmethod
    def open(cls, repo: str | Path | None = None, index_dir: Path | None = None
             ) -> EngineTools:
        return cls(Workspace.open(repo, index_dir=index_dir))

    def close(self) -> None:
        self.ws.close()

    # --- tools ---
    def search(self, query: str, *, regex: bool = False, case: str = "smart",
               whole_word: bool = False, globs: list[str] | None = None,
               paths: list[str] | None = None, rev: str | None = None, limit: int = 100,
               max_per_file: int | None = None, context: int = 0,
               cancel: CancelToken | None = None) -> dict[str, Any]:
        cancel = cancel or self.new_token()
        if not query:
            raise ToolError("search: 'query' must not be empty")
        for glob in globs or []:
            if not glob.strip() or "\n" in glob:
                raise ToolError(f"search: invalid glob {glob!r}")
        scopes = self._scopes("search", paths or [])
        options = SearchOptions(patterns=(query,), fixed_strings=not regex, case=case,
                                whole_word=whole_word, globs=tuple(globs or ()),
                                context_before=context, context_after=context,
                                max_count=max_per_file, limit=None if scopes else limit + 1)
        try:
            compiled = compile_search(options)
        except PatternError as exc:
            raise ToolError(f"search: {exc}") from None
        with self._locked(cancel):
            snap, stale = self._snapshot(rev, cancel)
            stats = SearchStats()
            files: list[dict[str, Any]] = []
            count = 0
            limit_hit = False
            for fm in snap.searcher.search(options, compiled, stats, cancel.check):
                cancel.check()
                if scopes and not _under(fm.path, scopes):
                    continue
                lines = fm.lines
                matching = sum(1 for line in lines if line[3])
                if count + matching > limit:
                    limit_hit = True
                    lines = first_matches(lines, limit - count)
                    matching = limit - count
                if matching:
                    files.append({"path": _text(fm.path.encode("utf-8", "surrogateescape")),
                                  "lines": [_line_json(line) for line in lines]})
                    count += matching
                if limit_hit:
                    break
        return {"rev": rev or WORKTREE, "commit": snap.commit, "files": files,
                "matchedLines": count, "limitHit": limit_hit, "staleIndex": stale,
                "filesSearched": stats.files_searched}

    def symbols(self, query: str, *, kinds: list[str] | None = None,
                paths: list[str] | None = None, rev: str | None = None, limit: int = 50,
                cancel: CancelToken | None = None) -> dict[str, Any]:
        cancel = cancel or self.new_token()
        if not query.strip():
            raise ToolError("symbols: 'query' must not be empty")
        kind_ids = set()
        for kind in kinds or []:
            if kind.lower() not in KIND_IDS:
                raise ToolError(f"symbols: unknown kind {kind!r}; one of: "
                                f"{', '.join(sorted(KIND_IDS))}")
            kind_ids.add(KIND_IDS[kind.lower()])
        scopes = self._scopes("symbols", paths or [])
        with self._locked(cancel):
            snap, stale = self._snapshot(rev, cancel)
            index = self._symbol_index(snap, cancel)
            hits = index.search(query, limit, kinds=kind_ids or None, scopes=scopes or None)
        out = []
        for score, symbol in hits:
            r = symbol.record
            out.append({"name": r.name, "kind": KIND_NAMES.get(r.kind) or str(r.kind),
                        "definitionKind": r.definition_kind or None,
                        "qualifiedName": r.qualified_name or r.name,
                        "container": r.container_name or None, "path": symbol.path,
                        "line": r.name_line, "endLine": r.end_line, "startLine": r.start_line,
                        "signature": r.signature or None, "score": score})
        return {"rev": rev or WORKTREE, "commit": snap.commit, "symbols": out,
                "complete": index.complete, "staleIndex": stale}

    def ask(self, question: str, *, k: int = 10, rev: str | None = None,
            paths: list[str] | None = None, files: bool = False,
            cancel: CancelToken | None = None) -> dict[str, Any]:
        """Ranked code chunks (or files, with their best chunks) for a question in plain
        words (hybrid recall + re-ranking)."""
        from indexer.retrieval.semantic import AskRequest

        cancel = cancel or self.new_token()
        globs = scope_globs(self._scopes("ask", paths or []))
        with self._locked(cancel):
            searcher, busy = self.ws.semantic_now(rev)  # never waits behind another writer
            searcher.embed_small_backlog()
            response = searcher.ask(AskRequest(question, globs=globs, k=k, files=files))
        response.notes[:0] = busy
        return {"rev": rev or WORKTREE, "commit": searcher.snapshot.commit,
                **response.to_dict()}

    def context(self, query: str, *, budget_tokens: int = 4000, rev: str | None = None,
                paths: list[str] | None = None, cancel: CancelToken | None = None
                ) -> dict[str, Any]:
        """A packed, deduplicated context for a task, under a token budget."""
        from indexer.context.pack import ContextRequest, pack_context

        cancel = cancel or self.new_token()
        globs = scope_globs(self._scopes("context", paths or []))
        with self._locked(cancel):
            searcher, busy = self.ws.semantic_now(rev)
            searcher.embed_small_backlog()
            pack = pack_context(searcher, ContextRequest(query, budget=budget_tokens,
                                                         globs=globs))
            pack.notes[:0] = busy
        return pack.to_dict()

    # --- helpers ---
    def _scopes(self, tool: str, paths: list[str]) -> list[str]:
        """Repository-relative path prefixes; anything outside the repository is refused."""
        scopes = []
        for value in paths:
            try:
                rel = self.ws.relative_path(value)
            except CodeloupeError as exc:
                raise ToolError(f"{tool}: {exc}") from None
            rel = "" if rel == "." else rel
            if rel == ".git" or rel.startswith(".git/"):
                raise ToolError(f"{tool}: path {value} is inside .git; refused")
            scopes.append(rel)
        return [] if "" in scopes else scopes

    def _snapshot(self, rev: str | None, cancel: CancelToken | None = None
                  ) -> tuple[Snapshot, bool]:
        """The snapshot of `rev`, brought up to date first (only changed files are read);
        stale=True when another process is writing the index and the last one is served."""
        try:
            self.ws.index(rev, wait=False)
            stale = False
        except IndexBusyError:
            stale = True
        except CodeloupeError as exc:
            raise ToolError(str(exc)) from None
        try:
            return self.ws.snapshot(rev, refresh=False), stale
        except CodeloupeError as exc:
            raise ToolError(str(exc)) from None
        finally:
            if cancel is not None:
                cancel.restart_clock()  # the limit is the query's, not the indexing's

    def _symbol_index(self, snap: Snapshot, cancel: CancelToken) -> SymbolIndex:
        store = self.ws.store
        if store.chunks.unchunked(sorted(snapshot_blobs(snap.manifest))):
            try:
                with store.write_lock(wait=False):
                    enrich_snapshot(store, snap.manifest)
            except IndexBusyError:
                pass  # another process is writing: its symbols so far (complete: false)
            cancel.restart_clock()
        cached = self._symbols.get(snap.name)
        if cached is not None and cached.snapshot.manifest is snap.manifest:
            return cached
        previous = cached or self._symbols.get(WORKTREE)
        index = SymbolIndex(self.ws, snap, previous=previous, cancel=cancel)
        if len(self._symbols) >= 4:
            self._symbols.pop(next(k for k in self._symbols if k != WORKTREE), None)
        self._symbols[snap.name] = index
        return index


def _under(path: str, scopes: list[str]) -> bool:
    return any(path == s or path.startswith(s + "/") for s in scopes)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _line_json(line: Any) -> dict[str, Any]:
    number, _, raw, subs = line
    if raw.endswith(b"\n"):
        raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
    text = _text(raw)
    item: dict[str, Any] = {"line": number}
    if subs:  # character offsets into `text`
        item["ranges"] = [[len(_text(raw[:a])), len(_text(raw[:b]))] for a, b in subs]
    else:
        item["context"] = True
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS]
        item["truncated"] = True
        if "ranges" in item:
            item["ranges"] = [r for r in item["ranges"] if r[0] < MAX_LINE_CHARS]
    item["text"] = text
    return item


async def _in_thread(tools: EngineTools, fn: Callable[..., T], **kwargs: Any) -> T:
    """fn(**kwargs, cancel=token) in a worker thread. The client cancelling the call cancels
    the token (the work stops at its next check); the time limit stops it too, as a tool
    error. Engine failures that are not tool errors yet become one, without a traceback."""
    token = tools.new_token()
    try:
        return await anyio.to_thread.run_sync(functools.partial(fn, cancel=token, **kwargs),
                                              abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        token.cancel()
        raise
    except TimeLimitExceeded as exc:
        raise ToolError(f"{exc} (CODELOUPE_REQUEST_TIME_LIMIT_S); narrow the query") from None
    except Cancelled:
        raise ToolError("cancelled") from None
    except ToolError:
        raise
    except CodeloupeError as exc:
        raise ToolError(str(exc)) from None


Query = Annotated[str, Field(min_length=1, max_length=MAX_STRING)]
Item = Annotated[str, Field(max_length=MAX_ITEM)]
Items = Annotated[list[Item] | None, Field(max_length=MAX_LIST)]


def build_server(tools: EngineTools) -> MCPServer:
    """The MCP server with every tool registered on `tools`."""
    server = MCPServer("codeloupe", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(description="Find lines matching a regex (ripgrep's dialect) or a literal, "
                             "with ripgrep's semantics, in the working tree or at any "
                             "revision. Returns files with their matching lines (1-based) "
                             "and the character ranges of each match.")
    async def search(
        query: Annotated[str, Field(min_length=1, max_length=MAX_STRING,
                                    description="the pattern, or a literal when regex is "
                                                "false")],
        regex: Annotated[bool, Field(description="treat query as a regex")] = False,
        case: Annotated[Literal["smart", "sensitive", "ignore"], Field(
            description="smart: case-insensitive unless the query has a capital")] = "smart",
        whole_word: Annotated[bool, Field(description="whole words only (rg -w)")] = False,
        globs: Annotated[list[Item] | None, Field(
            max_length=MAX_LIST,
            description="gitignore-style globs (rg -g); a leading ! excludes")] = None,
        paths: Annotated[list[Item] | None, Field(
            max_length=MAX_LIST,
            description="files or directories to search within, relative to the "
                        "repository root")] = None,
        rev: Annotated[str | None, Field(
            max_length=MAX_ITEM,
            description="branch, tag or commit; default: the working tree")] = None,
        limit: Annotated[int, Field(ge=1, le=10_000,
                                    description="matching lines in all")] = 100,
        max_per_file: Annotated[int | None, Field(
            ge=1, description="matching lines per file (rg -m)")] = None,
        context: Annotated[int, Field(ge=0, le=20,
                                      description="context lines around each match")] = 0,
    ) -> dict[str, Any]:
        return await _in_thread(tools, tools.search, query=query, regex=regex, case=case,
                                whole_word=whole_word, globs=globs, paths=paths, rev=rev,
                                limit=limit, max_per_file=max_per_file, context=context)

    @server.tool(description="Find definitions (functions, classes, methods, …) by fuzzy "
                             "name: exact, prefix, camelCase/snake_case humps (gTS finds "
                             "getTextSize), substring, subsequence; best first.")
    async def symbols(
        query: Annotated[str, Field(min_length=1, max_length=1000,
                                    description="the name or part of it")],
        kinds: Annotated[list[Item] | None, Field(
            max_length=MAX_LIST,
            description="only these kinds: class, function, method, interface, …")] = None,
        paths: Annotated[list[Item] | None, Field(
            max_length=MAX_LIST,
            description="only under these paths, relative to the repository root")] = None,
        rev: Annotated[str | None, Field(
            max_length=MAX_ITEM,
            description="branch, tag or commit; default: the working tree")] = None,
        limit: Annotated[int, Field(ge=1, le=1000)] = 50,
    ) -> dict[str, Any]:
        return await _in_thread(tools, tools.symbols, query=query, kinds=kinds, paths=paths,
                                rev=rev, limit=limit)

    @server.tool(description="Ranked code chunks for a question in plain words: BM25, "
                             "embeddings of code and glosses, symbol names and identifiers, "
                             "fused and re-ranked; each with its anchor and per-signal scores.")
    async def ask(
        question: Query,
        k: Annotated[int, Field(ge=1, le=100)] = 10,
        rev: Item | None = None,
        paths: Items = None,
        files: Annotated[bool, Field(
            description="rank files by their chunks' evidence, each with its best chunks")
        ] = False,
    ) -> dict[str, Any]:
        return await _in_thread(tools, tools.ask, question=question, k=k, rev=rev, paths=paths,
                                files=files)

    @server.tool(description="The best context for a task under a token budget (cl100k): "
                             "recalled, re-ranked, de-duplicated, diversified chunks with "
                             "anchors and why each was chosen, plus what was dropped.")
    async def context(
        query: Query,
        budget_tokens: Annotated[int, Field(ge=100, le=200_000)] = 4000,
        rev: Item | None = None,
        paths: Items = None,
    ) -> dict[str, Any]:
        return await _in_thread(tools, tools.context, query=query, budget_tokens=budget_tokens,
                                rev=rev, paths=paths)

    return server


def main(repo: str | None = None, index_dir: str | None = None) -> int:
    """Serve MCP over stdin/stdout until the client closes them."""
    try:
        tools = EngineTools.open(repo, Path(index_dir) if index_dir else None)
    except CodeloupeError as exc:
        logger.error("codeloupe mcp: %s", exc)
        return 2
    try:
        build_server(tools).run("stdio")
    finally:
        tools.close()
    return 0
