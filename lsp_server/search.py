"""`codeloupe/search`: the engine's regex search, plus unsaved buffers, shaped for LSP.

Per folder: the engine searches the snapshot; open buffers whose text differs from the
indexed bytes are searched in memory instead and merged in path order. Results stop at
`maxResults` matching lines (`limitHit` says whether more exist); a cancellation flag is
checked between files; partial results are streamed through a callback when asked for.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from indexer.ingest import CancelToken
from indexer.repo import WORKTREE
from indexer.search import CompiledSearch, GlobFilter, Line, SearchOptions, SearchStats
from indexer.store.content import BlobKind
from indexer.workspace import Snapshot
from lsp_server.overlay import Buffer, scan_buffer, searchable_bytes
from lsp_server.positions import UTF8, columns
from lsp_server.repos import Folder, Repo

try:  # file results' JSON written in C (setup.py builds it); without it, line_json for each line
    from lsp_server._result_json import lines_json as _lines_json
except ImportError:  # pragma: no cover - exercised by tests that hide it
    _lines_json = None

PARTIAL_EVERY_SECONDS = 0.1
PARTIAL_EVERY_FILES = 200


@dataclass
class Target:
    """One folder to search, with the repository-relative path prefixes to keep."""

    folder: Folder
    repo: Repo
    scopes: list[str]  # [''] keeps everything

    def keeps(self, path: str) -> bool:
        for scope in self.scopes:
            if not scope or path == scope or path.startswith(scope + "/"):
                return True
        return False

    @property
    def restricted(self) -> bool:
        return any(self.scopes) or not self.scopes


@dataclass
class Totals:
    files_searched: int = 0
    bytes_searched: int = 0
    candidates: int = 0
    matched_files: int = 0
    matched_lines: int = 0
    overlay_files: int = 0
    scanned: bool = False
    seconds: float = 0.0

    def add(self, stats: SearchStats) -> None:
        self.files_searched += stats.files_searched
        self.bytes_searched += stats.bytes_searched
        self.candidates += stats.candidates
        self.scanned = self.scanned or stats.scanned

    def to_json(self) -> dict[str, Any]:
        return {"filesSearched": self.files_searched, "bytesSearched": self.bytes_searched,
                "candidates": self.candidates, "matchedFiles": self.matched_files,
                "matchedLines": self.matched_lines, "overlayFiles": self.overlay_files,
                "scanned": self.scanned, "seconds": round(self.seconds, 4)}


@dataclass
class Collector:
    """Keeps file results up to `max_results` matching lines; streams them if asked."""

    max_results: int
    encoding: str
    partial: Callable[[list[str]], None] | None = None
    results: list[str] = field(default_factory=list)  # file results, serialised (JSON)
    count: int = 0
    limit_hit: bool = False
    totals: Totals = field(default_factory=Totals)
    seen: set[tuple[Path, str]] = field(default_factory=set)  # two folders, one repository
    _pending: list[str] = field(default_factory=list)
    _last_flush: float = field(default_factory=time.monotonic)

    @property
    def full(self) -> bool:
        return self.limit_hit

    @property
    def remaining(self) -> int:
        return self.max_results - self.count

    def add(self, target: Target, path: str, lines: list[Line], matching: int = -1) -> None:
        """Add one file's lines (`matching` of them matches, if known); sets `limit_hit` when
        a match beyond the limit shows up."""
        if matching < 0:
            matching = sum(1 for line in lines if line[3])
        if not matching or (target.repo.root, path) in self.seen:
            return
        self.seen.add((target.repo.root, path))
        if self.count >= self.max_results:
            self.limit_hit = True
            return
        if self.count + matching > self.max_results:
            lines = first_matches(lines, self.max_results - self.count)
            matching = self.max_results - self.count
            self.limit_hit = True
        self.count += matching
        self.totals.matched_files += 1
        self.totals.matched_lines += matching
        item = file_result_json(target, path, lines, self.encoding)
        if self.partial is None:
            self.results.append(item)
            return
        self._pending.append(item)
        now = time.monotonic()
        if len(self._pending) >= PARTIAL_EVERY_FILES or \
                now - self._last_flush >= PARTIAL_EVERY_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.partial is not None and self._pending:
            batch, self._pending = self._pending, []
            self._last_flush = time.monotonic()
            self.partial(batch)


def scope_globs(scopes: list[str]) -> tuple[str, ...]:
    """Repository-relative scopes (files or folders) as include globs ('' is everything)."""
    return tuple(g for scope in scopes if scope for g in (f"/{scope}", f"/{scope}/**"))


def first_matches(lines: list[Line], matches: int) -> list[Line]:
    """The lines up to and including the `matches`-th matching one."""
    seen = 0
    for k, line in enumerate(lines):
        if line[3]:
            seen += 1
            if seen == matches:
                return lines[:k + 1]
    return lines


def _display_path(path: str) -> str:
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


_quote = json.encoder.encode_basestring_ascii  # C: a JSON string literal, as json.dumps


class FileJson(NamedTuple):
    """A file's URI and the constant parts of the JSON answers that name it."""

    uri: str
    search_head: str  # a fileResult up to its matches
    symbol_location: str  # a WorkspaceSymbol's location, up to its range
    symbol_data: str  # a WorkspaceSymbol's data, up to its full range


# (folder URI, path) -> FileJson, built once: pathlib and JSON quoting cost more than the rest
# of a one-line file result or a symbol
_FILE_JSON: dict[tuple[str, str], FileJson] = {}
_FILE_JSON_LOCK = threading.Lock()
MAX_FILE_JSON = 200_000


def file_json(target: Target, path: str) -> FileJson:
    key = (target.folder.uri, path)
    found = _FILE_JSON.get(key)
    if found is None:
        uri = target.folder.file_uri(path)
        folder = target.folder.quoted_uri
        found = FileJson(
            uri,
            f'{{"uri":{_quote(uri)},"path":{_quote(_display_path(path))},"folder":{folder},'
            f'"matches":[',
            f',"location":{{"uri":{_quote(uri)},"range":{{"start":{{"line":',
            f',"data":{{"folder":{folder},"rev":"{WORKTREE}","path":{_quote(path)},'
            f'"fullRange":{{"start":{{"line":')
        with _FILE_JSON_LOCK:
            if len(_FILE_JSON) > MAX_FILE_JSON:
                _FILE_JSON.clear()
            _FILE_JSON[key] = found
    return found


def file_result_json(target: Target, path: str, lines: list[Line], encoding: str) -> str:
    """One file's result (`fileResult` in docs/protocol.md) as JSON text, written directly:
    thousands of lines go out without a dict per line and a second pass to serialise them
    (by compiled code where it was built: ~1 µs a line in Python)."""
    if _lines_json is not None:
        body = _lines_json(lines, functools.partial(line_json, encoding=encoding))
    else:
        body = ",".join(line_json(line, encoding) for line in lines)
    return f'{file_json(target, path).search_head}{body}]}}'


def line_json(line: Line, encoding: str) -> str:
    """One line of a file result as JSON text."""
    number, _, text, subs = line
    row = str(number - 1)
    # the line for display: decoded leniently, without its terminator (and any other
    # carriage return at its end: rstrip is one C call, comparisons and slices were two)
    shown = _quote(text.decode("utf-8", "replace").rstrip("\r\n"))
    if not subs:
        return f'{{"line":{row},"text":{shown},"ranges":[],"context":true}}'
    if not (encoding == UTF8 or text.isascii()):
        subs = columns(text, subs, encoding)
    head = f'{{"start":{{"line":{row},"character":'
    mid = f'}},"end":{{"line":{row},"character":'
    ranges = ",".join(f'{head}{a}{mid}{b}}}}}' for a, b in subs)
    return f'{{"line":{row},"text":{shown},"ranges":[{ranges}]}}'


def indexed_bytes(repo: Repo, snap: Snapshot, path: str) -> bytes | None:
    """The searchable bytes the snapshot holds for `path`, or None."""
    manifest = snap.manifest
    i = bisect_left(manifest.paths, path)
    if i >= len(manifest.paths) or manifest.paths[i] != path:
        # manifests of the working tree are sorted; fall back to a scan for others
        try:
            i = manifest.paths.index(path)
        except ValueError:
            return None
    if not BlobKind(manifest.kinds[i]).searchable:
        return None
    return bytes(repo.ws.store.packs.read(manifest.packs[i], manifest.offsets[i],
                                          manifest.lengths[i]))


def search_target(target: Target, snap: Snapshot, options: SearchOptions,
                  compiled: CompiledSearch, buffers: list[Buffer], out: Collector,
                  cancel: CancelToken) -> None:
    """Search one folder's snapshot (and, on the working tree, its unsaved buffers)."""
    repo = target.repo
    restricted = target.restricted
    keep_glob = GlobFilter(options.globs) if options.globs else None
    overlay_hits: dict[str, list[Line]] = {}
    skip: set[str] = set()
    if snap.name == WORKTREE:
        for buf in buffers:
            if restricted and not target.keeps(buf.path):
                continue
            indexed = indexed_bytes(repo, snap, buf.path)
            data = None if buf.data is None else searchable_bytes(buf.data,
                                                                  repo.ws.max_filesize)
            if indexed is None and (data is None or not buf.dirty):
                continue  # gone and not indexed, or an unedited file the index does not know
            if data == indexed:
                continue  # the index already holds this text
            skip.add(buf.path)
            out.totals.overlay_files += 1
            if data is None or (keep_glob is not None and not keep_glob(buf.path)):
                continue
            lines = scan_buffer(data, compiled, options)
            if lines:
                overlay_hits[buf.path] = lines
    overlay_order = sorted(overlay_hits)
    if not overlay_order and not skip and not restricted:
        # The usual case, in one pass: nothing to merge in or leave out.
        stats = SearchStats()
        try:
            for fm in snap.searcher.search(replace(options, limit=out.remaining + 1), compiled,
                                           stats, cancel.check):
                cancel.check()
                out.add(target, fm.path, fm.lines, fm.match_count)
                if out.limit_hit:
                    return
        finally:
            out.totals.add(stats)
        return
    emitted: set[str] = set()

    def engine(limit: int | None, state: dict[str, int]
               ) -> Iterator[tuple[str, list[Line], int]]:
        stats = SearchStats()
        try:
            for fm in snap.searcher.search(replace(options, limit=limit), compiled, stats,
                                           cancel.check):
                cancel.check()
                n = fm.match_count
                state["produced"] += n
                if fm.path in skip or fm.path in emitted or (
                        restricted and not target.keeps(fm.path)):
                    state["skipped"] += n
                    continue
                yield fm.path, fm.lines, n
        finally:
            out.totals.add(stats)

    def merged(limit: int | None, state: dict[str, int]
               ) -> Iterator[tuple[str, list[Line], int]]:
        k = 0
        for path, lines, n in engine(limit, state):
            while k < len(overlay_order) and overlay_order[k] < path:
                if overlay_order[k] not in emitted:
                    yield overlay_order[k], overlay_hits[overlay_order[k]], -1
                k += 1
            yield path, lines, n
        for path in overlay_order[k:]:
            if path not in emitted:
                yield path, overlay_hits[path], -1

    limit: int | None = out.remaining + 1
    while True:
        state = {"produced": 0, "skipped": 0}
        for path, lines, n in merged(limit, state):
            cancel.check()
            emitted.add(path)
            out.add(target, path, lines, n)
            if out.full:
                return
        # The engine stopped at its limit, but some of those matches were not ours (buffers
        # or paths outside the scope): search again without a limit, skipping what we have.
        if limit is not None and state["produced"] >= limit and state["skipped"]:
            limit = None
            continue
        return


def run_search(targets: list[Target], snapshot_for: Callable[[Target], Snapshot],
               options: SearchOptions, compiled: CompiledSearch,
               buffers: dict[Path, list[Buffer]], out: Collector,
               cancel: CancelToken) -> list[dict[str, Any]]:
    """Search every target in turn; returns the snapshot each was searched in."""
    started = time.perf_counter()
    used = []
    try:
        for target in targets:
            if out.full:
                break
            snap = snapshot_for(target)
            used.append({"folder": target.folder.uri, "snapshot": snap.name,
                         "commit": snap.commit})
            search_target(target, snap, options, compiled,
                          buffers.get(target.repo.root, []), out, cancel)
    finally:
        out.totals.seconds = time.perf_counter() - started
    out.flush()
    return used
