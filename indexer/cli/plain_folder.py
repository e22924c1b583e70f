"""`codeloupe search` in a folder that is no git repository: read directly, as rg would.

There is nothing to index against (no blob ids, no history), so the files are walked and
searched in place with the engine's own pieces: the same file preparation as at ingest
(binary cut, UTF-16 transcoded, --max-filesize), the same line scanner, the same rules for
globs, types and hidden names. The walk is rg's `--sort path` order: each folder's entries by
name, folders entered where they fall; hidden folders are not entered without --hidden
(or a -g glob naming them);
symbolic links are not followed. Outside a git repository rg reads no .gitignore, and neither
does this (rg's .ignore/.rgignore files are not read: a known difference).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from indexer.cli.search_command import (
    EXIT_MATCH,
    EXIT_NO_MATCH,
    PathArgument,
    _limited,
    _max_filesize,
    _search_unindexed,
    print_results,
    promote_trailing_matches,
)


def _walk(root: str, relative: str, enter: Callable[[str, str], bool]) -> Iterator[str]:
    """Files under `relative` (a folder of `root`), root-relative, in rg's sorted order;
    `enter(path, name)` says whether a folder is walked."""
    folder = os.path.join(root, relative)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return  # unreadable: rg reports it; nothing to search here either
    for entry in entries:
        path = f"{relative}/{entry.name}" if relative else entry.name
        if entry.is_symlink():
            continue
        if entry.is_dir():
            if enter(path, entry.name):
                yield from _walk(root, path, enter)
        elif entry.is_file():
            yield path


def search_plain_folder(root: str, path_args: list[PathArgument], options, compiled,  # noqa: ANN001
                        params: dict, stats, printer, out,  # noqa: ANN001
                        display: Callable[[str], str]) -> int | None:
    """Search (or list, with --files) the folder `root` and the PATHs in it; returns the exit
    code of --files, else None (the caller judges from `stats`)."""
    from indexer.search import file_filter, folder_matcher

    keep = file_filter(options.globs, options.scope)
    folder_match = folder_matcher(options.globs) if options.globs else None
    hidden = options.scope.hidden

    def enter(path: str, name: str) -> bool:
        # a hidden folder only with --hidden, or when a -g glob names it (rg's precedence)
        return hidden or not name.startswith(".") or (
            folder_match is not None and folder_match(path) is True)

    candidates: list[str] = []
    for argument in path_args or [PathArgument("", "")]:
        full = os.path.join(root, argument.relative)
        if os.path.isfile(full):
            candidates.append(argument.relative)  # a file named is always searched
            continue
        candidates += [p for p in _walk(root, argument.relative, enter)
                       if keep is None or keep(p)]
    limit = _max_filesize(params)
    if params.get("list_files"):
        listed = [p for p in candidates if _size(os.path.join(root, p)) <= limit]
        for path in listed:
            out.write(display(path).encode("utf-8", "surrogateescape") + b"\n")
        out.flush()
        return EXIT_MATCH if listed else EXIT_NO_MATCH
    results = _limited(_search_unindexed(root, candidates, compiled, options, limit, stats),
                       options.limit)
    if options.max_count and options.context_after:
        results = promote_trailing_matches(results, compiled, options, stats)
    print_results(results, printer, params, stats)
    return None


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
