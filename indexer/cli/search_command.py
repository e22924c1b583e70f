"""`codeloupe search`: ripgrep's everyday interface over the index.

The same click command parses the arguments in-process and in the search daemon
(indexer/cli/daemon.py); `run_search` does the work for both and returns the exit code:
0 a match (or a file listed), 1 none, 2 an error — ripgrep's meanings, and its messages
where ripgrep has one ("No files were searched…", bad globs, unknown types, missing paths).
"""

from __future__ import annotations

import bisect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import click

from indexer.cli import (
    EXIT_ERROR,
    EXIT_MATCH,
    EXIT_NO_MATCH,
    index_dir_option,
    max_filesize_option,
    repo_option,
    rev_option,
)
from indexer.errors import CodeloupeError

NO_FILES_SEARCHED = ("No files were searched, which means ripgrep probably applied a filter "
                     "you didn't expect.\nRunning with --debug will show why files are being "
                     "skipped.")
_NON_NEGATIVE = click.IntRange(min=0)


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from importlib.metadata import version

        click.echo(f"codeloupe {version('codeloupe')}")
        ctx.exit()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("args", nargs=-1, metavar="PATTERN [PATH]...")
@click.option("-e", "--regexp", "extra_patterns", multiple=True, metavar="PATTERN",
              help="A pattern to search for (repeatable; matches any). With -e, every "
                   "positional argument is a PATH.")
@click.option("-F", "--fixed-strings", is_flag=True, help="Treat patterns as literal strings.")
@click.option("-i", "--ignore-case", is_flag=True, help="Case-insensitive search.")
@click.option("-S", "--smart-case", is_flag=True,
              help="Case-insensitive unless the pattern has an uppercase letter.")
@click.option("-s", "--case-sensitive", is_flag=True, help="Case-sensitive search (default).")
@click.option("-w", "--word-regexp", is_flag=True, help="Only matches surrounded by word bounds.")
@click.option("-g", "--glob", "globs", multiple=True, metavar="GLOB",
              help="Include files matching GLOB; a leading ! excludes. Repeatable.")
@click.option("-t", "--type", "types", multiple=True, metavar="TYPE",
              help="Only files of this type (rg's names: py, rust, js, …). Repeatable.")
@click.option("-T", "--type-not", "types_not", multiple=True, metavar="TYPE",
              help="No files of this type. Repeatable.")
@click.option("--hidden", is_flag=True,
              help="Search hidden files and folders (names starting with '.'), as rg.")
@click.option("--no-ignore", is_flag=True,
              help="Also search files git ignores (read now: they are not indexed).")
@click.option("-l", "--files-with-matches", is_flag=True,
              help="Print only the paths of files with a match.")
@click.option("-c", "--count", is_flag=True, help="Print PATH:N, matching lines per file.")
@click.option("--files", "list_files", is_flag=True,
              help="Print the files that would be searched (no pattern).")
@click.option("-C", "--context", type=_NON_NEGATIVE, default=0, metavar="NUM",
              help="Lines of context around matches.")
@click.option("-B", "--before-context", type=_NON_NEGATIVE, default=None, metavar="NUM",
              help="Lines of context before matches.")
@click.option("-A", "--after-context", type=_NON_NEGATIVE, default=None, metavar="NUM",
              help="Lines of context after matches.")
@click.option("-m", "--max-count", type=_NON_NEGATIVE, default=None, metavar="NUM",
              help="Matching lines per file.")
@click.option("--limit", type=_NON_NEGATIVE, default=None, metavar="NUM",
              help="Matching lines in all.")
@click.option("-n", "--line-number", is_flag=True, help="Accepted (lines are always numbered).")
@click.option("--vimgrep", is_flag=True, help="Accepted (the default output is rg --vimgrep's).")
@click.option("--sort", type=click.Choice(["path", "none"]), default=None,
              help="path: rg's order (each folder's entries by name). Default: plain path "
                   "order, streamed.")
@click.option("--json", "as_json", is_flag=True, help="ripgrep's JSON Lines output.")
@click.option("--lexical", is_flag=True, help="Rank chunks for a free-text query (BM25).")
@repo_option
@rev_option
@index_dir_option
@max_filesize_option
@click.option("--no-refresh", is_flag=True, help="Search the index as it is, without updating.")
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_version, help="Show the version and exit.")
def search(**params: object) -> None:
    """Search like ripgrep (same flags, output and exit codes), on any revision.

    PATHs (files or folders inside the repository) narrow the search; without any, the
    whole repository is searched, whatever the current folder."""
    params["cwd"] = os.getcwd()
    try:
        code = run_search(params, sys.stdout.buffer,
                          lambda message: click.echo(message, err=True))
    except BrokenPipeError:  # `| head -1`
        from indexer.cli.entry import closed_pipe

        code = closed_pipe()
    sys.exit(code)


class NotInRepository(CodeloupeError):
    """The folder is in no git repository: `search` reads it directly (no index)."""


@dataclass(frozen=True)
class PathArgument:
    typed: str  # as the user wrote it: printed paths start with it, as rg's do
    relative: str  # inside the repository ("" = its root)

    def display(self, path: str) -> str:
        base = self.typed.rstrip("/") or self.typed
        if not self.relative:
            return path if base == "" else f"{base}/{path}"
        return base + path[len(self.relative):]


def _resolve_paths(typed: tuple[str, ...], cwd: str, root: str, worktree: bool,
                   err: Callable[[str], None], what: str = "repository"
                   ) -> tuple[list[PathArgument], bool] | None:
    """PATH arguments inside the repository, and whether one was missing (rg reports it and
    goes on; the exit code is then 2). None: one lies outside the repository (refused)."""
    found: list[PathArgument] = []
    missing = False
    real_root = os.path.realpath(root)
    for text in typed:
        absolute = os.path.realpath(os.path.join(cwd, text))
        relative = os.path.relpath(absolute, real_root)
        if relative == ".." or relative.startswith("../") or os.path.isabs(relative):
            err(f"codeloupe: {text}: outside the {what} {root} (only its files are "
                "searched; run codeloupe from the other folder, or use --repo)")
            return None
        if worktree and not os.path.lexists(os.path.join(cwd, text)):
            err(f"codeloupe: {text}: No such file or directory (os error 2)")
            missing = True
            continue
        found.append(PathArgument(text, "" if relative == "." else relative))
    return found, missing


def _discover_root(repo: str | None, cwd: str, paths: tuple[str, ...]) -> str:
    """The repository: --repo, else the one around the current folder, else the one around
    the first PATH (so that `codeloupe search x ~/src/proj` works from anywhere)."""
    from indexer.errors import RepositoryError
    from indexer.repo import GitRepo

    start = repo or cwd
    try:
        return str(GitRepo.discover(start).root)
    except RepositoryError:
        if repo is None and paths:
            first = os.path.join(cwd, paths[0])
            folder = first if os.path.isdir(first) else os.path.dirname(first) or cwd
            try:
                return str(GitRepo.discover(folder).root)
            except RepositoryError:
                pass
        where = os.path.realpath(start)
        if os.path.isdir(where):
            raise NotInRepository(
                f"{where}: not a git repository (or any parent): codeloupe indexes git "
                "repositories (run `git init` there to search it, or use rg)") from None
        raise


def run_search(params: dict, out, err, workspaces=None) -> int:  # noqa: ANN001, C901, PLR0912
    """The `search` command on parsed parameters; returns the exit code.

    `out` takes bytes (stdout, or the daemon's socket); `err(message)` reports problems;
    `workspaces` (the daemon's) supplies warm workspaces and snapshots; `params["cwd"]` is
    the folder of the user who asked.
    """
    from indexer.cli import _open_workspace
    from indexer.errors import CodeloupeError

    cwd = params.get("cwd") or os.getcwd()
    args = tuple(params.get("args") or ())
    extra = tuple(params["extra_patterns"])
    list_files = params.get("list_files", False)
    if list_files:
        patterns, typed_paths = (), args
    elif extra:
        patterns, typed_paths = extra, args  # rg: with -e, positionals are paths
    else:
        patterns, typed_paths = args[:1], args[1:]
    if not patterns and not list_files:
        err("codeloupe: no pattern given (usage: codeloupe search [OPTIONS] PATTERN [PATH]...)")
        return EXIT_ERROR
    repo, rev, index_dir = params["repo"], params["rev"], params["index_dir"]
    if params["lexical"]:
        from indexer.cli.semantic_commands import run_lexical

        try:
            ws = _open_workspace(repo or cwd, index_dir, params["max_filesize"])
            # free text: every word is the query (`--lexical retry with backoff`)
            return run_lexical(ws, " ".join((*extra, *args)), rev, params["as_json"],
                               params["limit"] or 10)
        except CodeloupeError as exc:
            err(f"codeloupe: {exc}")
            return EXIT_ERROR
    from indexer.cli.output import CountPrinter, JsonPrinter, PathPrinter, VimgrepPrinter
    from indexer.scope import FileScope, check_glob
    from indexer.search import SearchOptions, SearchStats, compile_search

    case = "ignore" if params["ignore_case"] else "smart" if params["smart_case"] else "sensitive"
    if params["case_sensitive"]:
        case = "sensitive"
    context = params["context"]
    before, after = params["before_context"], params["after_context"]
    files_with_matches = bool(params.get("files_with_matches"))
    count = bool(params.get("count")) and not files_with_matches
    stats = SearchStats()
    missing = False
    try:
        for glob in params["globs"]:
            check_glob(glob)
        try:
            root, plain = _discover_root(repo, cwd, typed_paths), False
        except NotInRepository:
            if repo is not None or rev is not None:
                raise
            # not a git repository: search the folder as rg would, reading it directly
            root, plain = os.path.realpath(cwd), True
        resolved = _resolve_paths(typed_paths, cwd, root, rev is None, err,
                                  "folder" if plain else "repository")
        if resolved is None:
            return EXIT_ERROR
        path_args, missing = resolved
        if typed_paths and not path_args:
            return EXIT_ERROR  # every PATH was missing (already reported)
        scope = FileScope(paths=tuple(p.relative for p in path_args),
                          hidden=bool(params.get("hidden")),
                          types=tuple(params.get("types") or ()),
                          types_not=tuple(params.get("types_not") or ()))
        scope.validate()
        no_lines = files_with_matches or count  # context lines would only cost time
        options = SearchOptions(
            patterns=patterns or ("",), fixed_strings=params["fixed_strings"], case=case,
            whole_word=params["word_regexp"], globs=tuple(params["globs"]),
            context_before=0 if no_lines else before if before is not None else context,
            context_after=0 if no_lines else after if after is not None else context,
            max_count=1 if files_with_matches else params["max_count"],
            limit=params["limit"], scope=scope)
        compiled = None if list_files else compile_search(options)  # before any indexing

        def make_printer(display: Callable[[str], str], single_file: bool):  # noqa: ANN202
            if files_with_matches:
                return PathPrinter(out, display)
            if count:
                return CountPrinter(out, display, with_path=not single_file)
            if params["as_json"]:
                return JsonPrinter(out, display)
            return VimgrepPrinter(out, options.context_before > 0 or options.context_after > 0,
                                  display)

        single_file = len(path_args) == 1 and not os.path.isdir(
            os.path.join(cwd, path_args[0].typed)) and rev is None

        def display(path: str) -> str:
            if not path_args:
                return path
            argument = path_args[[p.relative for p in path_args].index(scope.root_of(path))]
            return argument.display(path)

        if plain:
            from indexer.cli.plain_folder import search_plain_folder

            listed = search_plain_folder(root, path_args, options, compiled, params, stats,
                                         make_printer(display, single_file), out, display)
            if listed is not None:  # --files
                return listed
        else:
            listed = _search_index(root, path_args, scope, options, compiled, params, stats,
                                   out, make_printer(display, single_file), display,
                                   workspaces, err)
            if listed is not None:  # --files
                return listed
        out.flush()
    except CodeloupeError as exc:
        err(f"codeloupe: {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    if stats.files_in_scope == 0:
        err(f"codeloupe: {NO_FILES_SEARCHED}")
        return EXIT_ERROR
    if missing:
        return EXIT_ERROR
    return EXIT_MATCH if stats.matched_lines else EXIT_NO_MATCH


def _search_index(root: str, path_args: list[PathArgument], scope, options,  # noqa: ANN001
                  compiled, params: dict, stats, out, printer,  # noqa: ANN001
                  display: Callable[[str], str], workspaces, err: Callable[[str], None]  # noqa: ANN001
                  ) -> int | None:
    """Search (or list, --files: then the exit code) through the repository's index, brought
    up to date first; files the index does not hold that rg would search are read now."""
    from indexer.cli import _open_workspace

    rev, index_dir = params["rev"], params["index_dir"]
    if workspaces is not None:
        snapshot = workspaces.snapshot(root, index_dir, params["max_filesize"], rev,
                                       refresh=not params["no_refresh"], on_wait=err)
    else:
        from indexer.cli.progress import index_progress

        ws = _open_workspace(root, index_dir, params["max_filesize"])
        with index_progress(label="indexing") as on_progress:
            snapshot = ws.snapshot(rev, refresh=not params["no_refresh"],
                                   on_progress=on_progress, on_wait=err)
    unindexed = _unindexed_paths(root, snapshot, path_args, bool(params.get("no_ignore")),
                                 options) if rev is None else []
    if params.get("list_files"):
        return _list_files(snapshot, options, display, out, path_args, scope, unindexed,
                           params.get("sort"))
    results = snapshot.searcher.search(options, compiled, stats)
    if unindexed:
        # files git ignores are not indexed: read them now, merged in path order
        results = _limited(sorted([*results, *_search_unindexed(
            root, unindexed, compiled, options, _max_filesize(params), stats)],
            key=lambda r: r.path), options.limit)
    if options.max_count and options.context_after:
        results = promote_trailing_matches(results, compiled, options, stats)
    if len(path_args) > 1 or params.get("sort") == "path":
        key = _sort_key(path_args, scope, params.get("sort") == "path")
        results = sorted(results, key=lambda r: key(r.path))
    print_results(results, printer, params, stats)
    return None


def _sort_key(path_args: list[PathArgument], scope, by_folder: bool  # noqa: ANN001
              ) -> Callable[[str], tuple]:
    """rg's order: its PATH arguments in the order given; with --sort path, each folder's
    entries by name (`a/b.txt` before `a.txt`: rg walks folder `a` where it falls, while the
    index is in plain path order, which puts `a.txt` first). Sorting holds every result
    before the first is printed, so it is done only when asked."""
    order = {p.relative: k for k, p in enumerate(path_args)}

    def key(path: str) -> tuple:
        return (order[scope.root_of(path)] if len(path_args) > 1 else 0,
                path.split("/") if by_folder else ())

    return key


def promote_trailing_matches(results, compiled, options, stats):  # noqa: ANN001, ANN201
    """rg's -m with trailing context: after the last counted match its context lines are
    still printed, and one that matches is printed (and counted) as a match. The engine
    stops matching at -m; the few lines after are matched here."""
    from indexer.search import Line

    find = compiled.span_finder()
    for result in results:
        seen, promoted = 0, 0
        for k, line in enumerate(result.lines):
            if line.submatches:
                seen += 1
                continue
            if seen < options.max_count:
                continue  # leading context, or context between counted matches
            text = line.text[:-1] if line.text.endswith(b"\n") else line.text
            subs, at = [], 0
            while at <= len(text):
                span = find(text, at, len(text))
                if span is None or (span[0] == span[1] == len(text) and text):
                    break
                subs.append(span)
                at = span[1] if span[1] > span[0] else span[1] + 1
            if subs:
                result.lines[k] = Line(line.line_number, line.byte_offset, line.text, subs)
                promoted += 1
        if promoted:
            result.counted = -1
            stats.matched_lines += promoted
        yield result


def print_results(results, printer, params: dict, stats) -> None:  # noqa: ANN001
    if params["max_count"] == 0 or params["limit"] == 0:  # rg -m 0: nothing, exit 1
        for _ in results:  # the search still runs: its stats say whether files were seen
            pass
        stats.matched_lines = 0
        return
    for result in results:
        printer.file(result)
    printer.finish(stats)


def _max_filesize(params: dict) -> int:
    from indexer.cli import _parse_size
    from indexer.store.content import DEFAULT_MAX_FILESIZE

    return _parse_size(params["max_filesize"]) if params["max_filesize"] else \
        DEFAULT_MAX_FILESIZE


def _unindexed_paths(root: str, snapshot, path_args: list[PathArgument],  # noqa: ANN001
                     no_ignore: bool, options) -> list[str]:  # noqa: ANN001 - SearchOptions
    """Working-tree files the index does not hold that rg would search: with --no-ignore,
    those git ignores (kept by the same globs, PATHs, types and hiddenness); and a file named
    on the command line, which rg searches even when ignored. Symbolic links are left out, as
    rg follows none by default."""
    from indexer.search import file_filter

    found: set[str] = set()
    paths = snapshot.manifest.paths  # sorted: a bisect per named file, not a set per search
    for argument in path_args:
        full = os.path.join(root, argument.relative)
        if argument.relative and os.path.isfile(full) and not os.path.islink(full):
            at = bisect.bisect_left(paths, argument.relative)
            if at == len(paths) or paths[at] != argument.relative:
                found.add(argument.relative)
    if no_ignore:
        keep = file_filter(options.globs, options.scope)
        for path in _git_ignored(root):
            if (keep is None or keep(path)) and not os.path.islink(os.path.join(root, path)):
                found.add(path)
    return sorted(found)


def _git_ignored(root: str) -> list[str]:
    """Every file git ignores in the working tree (one walk of it: only for --no-ignore)."""
    import subprocess

    listed = subprocess.run(["git", "-C", root, "ls-files", "-z", "--others", "--ignored",
                             "--exclude-standard"], capture_output=True, check=False).stdout
    return [raw.decode("utf-8", "surrogateescape") for raw in listed.split(b"\0") if raw]


def _search_unindexed(root: str, paths: list[str], compiled, options,  # noqa: ANN001
                      max_filesize: int, stats) -> list:  # noqa: ANN001 - SearchStats
    """Read and search files the index does not hold, as the indexer would prepare them
    (binary cut, UTF-16 transcoded, too large skipped)."""
    from indexer.search import FileMatches, scan_bytes
    from indexer.store.content import prepare_content

    found = []
    for path in paths:
        try:
            with open(os.path.join(root, path), "rb") as handle:
                prepared = prepare_content(handle.read(max_filesize + 1), max_filesize)
        except OSError:
            continue  # vanished or unreadable since git listed it
        if not prepared.kind.searchable:
            continue
        stats.files_in_scope += 1
        stats.files_searched += 1
        stats.bytes_searched += len(prepared.data)
        lines = scan_bytes(prepared.data, 0, compiled, options)
        if lines:
            result = FileMatches(path, lines, -1, len(prepared.data))
            stats.matched_files += 1
            stats.matched_lines += result.match_count
            found.append(result)
    return found


def _limited(results: list, limit: int | None) -> list:
    """--limit over merged results: matching lines in all."""
    if limit is None:
        return results
    from indexer.search import _truncate

    kept = []
    for result in results:
        if limit <= 0:
            break
        if result.match_count > limit:
            result.lines = _truncate(result.lines, limit)
            result.counted = -1
        limit -= result.match_count
        kept.append(result)
    return kept


def _list_files(snapshot, options, display, out, path_args, scope,  # noqa: ANN001
                extra: list[str], params_sort: str | None) -> int:
    """rg --files: every file the search would look at, binary ones too (not those over
    --max-filesize), in path order; exit 1 when there is none (rg says nothing then)."""
    from indexer.search import file_filter
    from indexer.store.content import BlobKind

    manifest = snapshot.manifest
    keep = file_filter(options.globs, scope)
    skipped = {int(BlobKind.TOO_LARGE), int(BlobKind.UNREADABLE)}
    listed = [path for path, kind in zip(manifest.paths, manifest.kinds, strict=True)
              if kind not in skipped and (keep is None or keep(path))]
    if extra:  # files git ignores (--no-ignore), or named on the command line
        listed = sorted({*listed, *extra})
    if len(path_args) > 1 or params_sort == "path":
        listed.sort(key=_sort_key(path_args, scope, params_sort == "path"))
    for path in listed:
        out.write(display(path).encode("utf-8", "surrogateescape") + b"\n")
    out.flush()
    return EXIT_MATCH if listed else EXIT_NO_MATCH
