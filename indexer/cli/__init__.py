"""The `codeloupe` command line: a thin layer over the engine (`indexer.workspace`).

Imports are deferred to the command that needs them: `codeloupe search` is timed against
ripgrep as a whole process, so its start-up must stay small.
"""

from __future__ import annotations

import sys

import click

EXIT_MATCH, EXIT_NO_MATCH, EXIT_ERROR = 0, 1, 2


def _fail(message: str) -> None:
    click.echo(f"codeloupe: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper()
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def _open_workspace(repo: str | None, index_dir: str | None, max_filesize: str | None):
    from pathlib import Path

    from indexer.store.content import DEFAULT_MAX_FILESIZE
    from indexer.workspace import Workspace

    size = _parse_size(max_filesize) if max_filesize else DEFAULT_MAX_FILESIZE
    return Workspace.open(repo, index_dir=Path(index_dir) if index_dir else None,
                          max_filesize=size)


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.1f} GB"


repo_option = click.option("--repo", type=click.Path(file_okay=False),
                           help="Repository (default: the one containing the current directory).")
index_dir_option = click.option("--index-dir", type=click.Path(file_okay=False),
                                help="Index directory (default: per repository in the user cache; "
                                     "CODELOUPE_INDEX_DIR sets the parent).")
max_filesize_option = click.option("--max-filesize", default=None,
                                   help="Skip files larger than this (default 1M, as rg).")
rev_option = click.option("--rev", default=None,
                          help="Branch, tag or commit (default: the working tree).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="codeloupe")
def cli() -> None:
    """codeloupe: code search for every branch of a git repository."""


@cli.command()
@repo_option
@rev_option
@index_dir_option
@max_filesize_option
@click.option("--no-chunks", is_flag=True,
              help="Only the regex index: skip chunks, symbols, BM25 and embeddings.")
@click.option("--no-embed", is_flag=True,
              help="Skip embeddings (`ask` then uses BM25, symbols and identifiers only).")
@click.option("--wait", is_flag=True,
              help="Embed every chunk before returning (scripts, CI). By default the "
                   "embeddings continue in the background once search works.")
def index(repo: str | None, rev: str | None, index_dir: str | None,
          max_filesize: str | None, no_chunks: bool, no_embed: bool, wait: bool) -> None:
    """Index the working tree, or any commit, branch or tag without checking it out."""
    from indexer.cli.progress import index_progress
    from indexer.errors import CodeloupeError

    try:
        ws = _open_workspace(repo, index_dir, max_filesize)
        with index_progress() as on_progress:
            summary = ws.index(rev, on_progress=on_progress,
                               on_wait=lambda m: click.echo(m, err=True))
        if not no_chunks:
            with index_progress() as on_progress:
                enriched = ws.enrich(rev, on_progress=on_progress)
        size = ws.store.size_bytes()
    except CodeloupeError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; the previous index is unchanged")
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(summary.skipped.items()))
    what = "working tree" if summary.name == "worktree" else f"commit {summary.name[:12]}"
    state = "up to date" if summary.up_to_date else (
        f"{summary.new_blobs} new files read ({_human(summary.read_bytes)})")
    click.echo(f"indexed {what} of {ws.root}: {summary.files} files, {_human(summary.bytes)}"
               f"; skipped: {skipped or 'none'}; {state}; {summary.seconds:.2f} s; "
               f"index size {_human(size)}")
    if not no_chunks:
        click.echo(f"chunks: {enriched.blobs} files chunked ({enriched.chunks} chunks, "
                   f"{enriched.symbols} symbols) in {enriched.seconds:.2f} s")
    if no_chunks or no_embed:
        return
    try:
        if wait:
            from indexer.cli.ask_commands import embed_snapshot

            embed_snapshot(ws, rev, take_over=True)
        else:
            from indexer.cli.background import hand_to_daemon
            from indexer.embed.backlog import embedding_state

            share = embedding_state(ws, rev)
            line = (f"embeddings: {share['embedded']:.0%} of {share['chunks']} chunks "
                    "embedded")
            # Handed over even at 100%: the gloss view may lack vectors (the worker checks).
            handed = hand_to_daemon(ws.store.directory, ws.root, rev)
            if share["embedded_chunks"] < share["chunks"]:
                line += "; " + handed
            click.echo(line)
    except CodeloupeError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; embeddings made so far are kept")


@cli.command(context_settings={"ignore_unknown_options": False})
@click.argument("pattern", required=False)
@click.option("-e", "--regexp", "extra_patterns", multiple=True,
              help="A pattern to search for (repeatable; matches any).")
@click.option("-F", "--fixed-strings", is_flag=True, help="Treat patterns as literal strings.")
@click.option("-i", "--ignore-case", is_flag=True, help="Case-insensitive search.")
@click.option("-S", "--smart-case", is_flag=True,
              help="Case-insensitive unless the pattern has an uppercase letter.")
@click.option("-s", "--case-sensitive", is_flag=True, help="Case-sensitive search (default).")
@click.option("-w", "--word-regexp", is_flag=True, help="Only matches surrounded by word bounds.")
@click.option("-g", "--glob", "globs", multiple=True,
              help="Include files matching GLOB; a leading ! excludes. Repeatable.")
@click.option("-C", "--context", type=int, default=0, help="Lines of context around matches.")
@click.option("-B", "--before-context", type=int, default=None)
@click.option("-A", "--after-context", type=int, default=None)
@click.option("-m", "--max-count", type=int, default=None, help="Matching lines per file.")
@click.option("--limit", type=int, default=None, help="Matching lines in all.")
@click.option("--json", "as_json", is_flag=True, help="ripgrep's JSON Lines output.")
@click.option("--lexical", is_flag=True, help="Rank chunks for a free-text query (BM25).")
@repo_option
@rev_option
@index_dir_option
@max_filesize_option
@click.option("--no-refresh", is_flag=True, help="Search the index as it is, without updating.")
def search(pattern: str | None, extra_patterns: tuple[str, ...], fixed_strings: bool,
           ignore_case: bool, smart_case: bool, case_sensitive: bool, word_regexp: bool,
           globs: tuple[str, ...], context: int, before_context: int | None,
           after_context: int | None, max_count: int | None, limit: int | None, as_json: bool,
           lexical: bool, repo: str | None, rev: str | None, index_dir: str | None,
           max_filesize: str | None, no_refresh: bool) -> None:
    """Search like ripgrep (same flags, output and exit codes), on any revision."""
    params = dict(locals())
    sys.exit(run_search(params, sys.stdout.buffer,
                        lambda message: click.echo(message, err=True)))


def run_search(params: dict, out, err, workspaces=None) -> int:  # noqa: ANN001
    """The `search` command on parsed parameters; returns the exit code.

    `out` takes bytes (stdout, or the daemon's socket); `err(message)` reports problems;
    `workspaces` (the daemon's) supplies warm workspaces and snapshots.
    """
    from indexer.errors import CodeloupeError

    patterns = tuple(params["extra_patterns"]) + (
        (params["pattern"],) if params["pattern"] is not None else ())
    if not patterns:
        err("codeloupe: no pattern given (usage: codeloupe search [OPTIONS] PATTERN)")
        return EXIT_ERROR
    repo, rev, index_dir = params["repo"], params["rev"], params["index_dir"]
    if params["lexical"]:
        from indexer.cli.semantic_commands import run_lexical

        try:
            ws = _open_workspace(repo, index_dir, params["max_filesize"])
            return run_lexical(ws, " ".join(patterns), rev, params["as_json"],
                               params["limit"] or 10)
        except CodeloupeError as exc:
            err(f"codeloupe: {exc}")
            return EXIT_ERROR
    from indexer.cli.output import JsonPrinter, VimgrepPrinter
    from indexer.search import SearchOptions, SearchStats, compile_search

    case = "ignore" if params["ignore_case"] else "smart" if params["smart_case"] else "sensitive"
    if params["case_sensitive"]:
        case = "sensitive"
    context = params["context"]
    before, after = params["before_context"], params["after_context"]
    options = SearchOptions(
        patterns=patterns, fixed_strings=params["fixed_strings"], case=case,
        whole_word=params["word_regexp"], globs=tuple(params["globs"]),
        context_before=before if before is not None else context,
        context_after=after if after is not None else context,
        max_count=params["max_count"], limit=params["limit"])
    stats = SearchStats()
    try:
        compiled = compile_search(options)  # bad patterns fail before any indexing
        if workspaces is not None:
            snapshot = workspaces.snapshot(repo, index_dir, params["max_filesize"], rev,
                                           refresh=not params["no_refresh"])
        else:
            from indexer.cli.progress import index_progress

            ws = _open_workspace(repo, index_dir, params["max_filesize"])
            with index_progress() as on_progress:
                snapshot = ws.snapshot(rev, refresh=not params["no_refresh"],
                                       on_progress=on_progress, on_wait=err)
        printer = JsonPrinter(out) if params["as_json"] else VimgrepPrinter(
            out, options.context_before > 0 or options.context_after > 0)
        for result in snapshot.searcher.search(options, compiled, stats):
            printer.file(result)
        printer.finish(stats)
        out.flush()
    except CodeloupeError as exc:
        err(f"codeloupe: {exc}")
        return EXIT_ERROR
    except BrokenPipeError:
        pass
    except KeyboardInterrupt:
        return 130
    return EXIT_MATCH if stats.matched_lines else EXIT_NO_MATCH


@cli.command()
@click.argument("query")
@click.option("--kind", default=None, help="Only this kind (function, class, method, …).")
@click.option("--limit", type=int, default=50)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per symbol.")
@repo_option
@rev_option
@index_dir_option
def symbols(query: str, kind: str | None, limit: int, as_json: bool, repo: str | None,
            rev: str | None, index_dir: str | None) -> None:
    """Find definitions like "Go to Symbol in Workspace" (fuzzy, camelCase humps)."""
    from indexer.cli.semantic_commands import run_symbols
    from indexer.errors import CodeloupeError

    try:
        sys.exit(run_symbols(_open_workspace(repo, index_dir, None), query, rev, kind,
                             as_json, limit))
    except CodeloupeError as exc:
        _fail(str(exc))


@cli.command()
@click.argument("file")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per chunk.")
@repo_option
@rev_option
@index_dir_option
def chunks(file: str, as_json: bool, repo: str | None, rev: str | None,
           index_dir: str | None) -> None:
    """Show how FILE was cut into chunks (kinds, names, line ranges)."""
    from indexer.cli.semantic_commands import run_chunks
    from indexer.errors import CodeloupeError

    try:
        sys.exit(run_chunks(_open_workspace(repo, index_dir, None), file, rev, as_json))
    except CodeloupeError as exc:
        _fail(str(exc))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per row.")
@repo_option
@index_dir_option
def branches(as_json: bool, repo: str | None, index_dir: str | None) -> None:
    """Each branch and tag with the state of its index (complete, stale, not indexed)."""
    from indexer.cli.branches import run_branches
    from indexer.errors import CodeloupeError

    try:
        sys.exit(run_branches(_open_workspace(repo, index_dir, None), as_json))
    except CodeloupeError as exc:
        _fail(str(exc))


@cli.command()
@click.argument("question")
@click.option("-g", "--glob", "globs", multiple=True,
              help="Only files matching GLOB; a leading ! excludes. Repeatable.")
@click.option("--lang", "languages", multiple=True, help="Only this language. Repeatable.")
@click.option("--kind", "kinds", multiple=True, help="Only this chunk kind. Repeatable.")
@click.option("-k", "k", type=click.IntRange(1, 300), default=10, help="How many results.")
@click.option("--rerank", type=click.Choice(["dense", "llm", "none"]), default=None,
              help="Re-ranker (default: the settings' choice, dense).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per result.")
@repo_option
@rev_option
@index_dir_option
def ask(question: str, globs: tuple[str, ...], languages: tuple[str, ...],
        kinds: tuple[str, ...], k: int, rerank: str | None, as_json: bool, repo: str | None,
        rev: str | None, index_dir: str | None) -> None:
    """Ask the codebase in plain words: hybrid recall (BM25, vectors, symbols, identifiers)
    then re-ranking; prints ranked chunks with the score of each signal."""
    from indexer.cli.ask_commands import run_ask
    from indexer.errors import CodeloupeError

    try:
        sys.exit(run_ask(_open_workspace(repo, index_dir, None), question, rev, globs,
                         languages, kinds, k, rerank, as_json))
    except CodeloupeError as exc:
        _fail(str(exc))


@cli.command()
@click.argument("task")
@click.option("--budget", type=click.IntRange(1, 1_000_000), default=None,
              help="Token cap for the whole pack (cl100k; default 4000 or the settings').")
@click.option("--file", "file", default=None, help="The file the cursor is in.")
@click.option("--line", type=click.IntRange(1), default=None, help="The cursor's line (1-based).")
@click.option("--selection", default=None, metavar="FILE:L1-L2",
              help="The selected lines; they and the definitions they use come first.")
@click.option("--open", "open_files", multiple=True, help="A file open in the editor. Repeatable.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "xml", "json"]),
              default="markdown", show_default=True)
@click.option("--instructions", default="", help="System text placed before the pack.")
@click.option("-g", "--glob", "globs", multiple=True, help="Only files matching GLOB.")
@click.option("--json", "as_json", is_flag=True,
              help="The pack with its blocks, tokens and what was dropped, as one JSON object.")
@repo_option
@rev_option
@index_dir_option
def context(task: str, budget: int | None, file: str | None, line: int | None,
            selection: str | None, open_files: tuple[str, ...], fmt: str, instructions: str,
            globs: tuple[str, ...], as_json: bool, repo: str | None, rev: str | None,
            index_dir: str | None) -> None:
    """Pack the best context for a task into a token budget: the editor's selection and the
    definitions it uses, then hybrid-recalled, re-ranked, de-duplicated, diversified chunks."""
    from indexer.cli.ask_commands import run_context
    from indexer.errors import CodeloupeError

    try:
        sys.exit(run_context(_open_workspace(repo, index_dir, None), task, rev, budget, file,
                             line, selection, open_files, fmt, instructions, globs, as_json))
    except CodeloupeError as exc:
        _fail(str(exc))


@cli.command(name="eval")
@click.argument("gold", type=click.Path(dir_okay=False, exists=True))
@click.option("--pipelines", default="lexical,dense,dense+gloss,hybrid,hybrid+rerank",
              show_default=True, help="Comma-separated pipelines to compare.")
@click.option("--json", "as_json", is_flag=True, help="One JSON report.")
@click.option("--misses", "show_misses", type=int, default=10,
              help="Missed queries to list per pipeline.")
@repo_option
@index_dir_option
def eval_command(gold: str, pipelines: str, as_json: bool, show_misses: int,
                 repo: str | None, index_dir: str | None) -> None:
    """Score retrieval pipelines on a gold set (JSONL): Recall@k, MRR and nDCG@10 at chunk,
    symbol and file level, side by side, with the queries each one missed."""
    from indexer.cli.ask_commands import run_eval
    from indexer.errors import CodeloupeError

    try:
        sys.exit(run_eval(_open_workspace(repo, index_dir, None), gold, pipelines, as_json,
                          show_misses))
    except (CodeloupeError, ValueError) as exc:
        _fail(str(exc))


@cli.command()
@click.option("-o", "--out", default="gold.jsonl", show_default=True,
              type=click.Path(dir_okay=False), help="Where to write the gold set.")
@click.option("-n", "n", type=click.IntRange(1, 5000), default=200, show_default=True,
              help="How many queries.")
@click.option("--provider", type=click.Choice(["heuristic", "openai", "llamacpp"]),
              default=None, help="Who writes the questions (default: the gloss provider; "
                                 "heuristic = docstrings, stripped from the indexed text).")
@click.option("--seed", type=int, default=1, show_default=True)
@repo_option
@click.option("--rev", default=None, help="Commit to sample (default: HEAD).")
@index_dir_option
def goldgen(out: str, n: int, provider: str | None, seed: int, repo: str | None,
            rev: str | None, index_dir: str | None) -> None:
    """Write a gold set for this repository by generating questions from sampled chunks."""
    from indexer.cli.ask_commands import run_goldgen
    from indexer.errors import CodeloupeError

    try:
        sys.exit(run_goldgen(_open_workspace(repo, index_dir, None), out, n, rev, seed,
                             provider))
    except CodeloupeError as exc:
        _fail(str(exc))


@cli.command()
@click.option("--tcp", default=None, metavar="HOST:PORT",
              help="Listen on TCP instead of speaking over stdin/stdout.")
@click.option("--stdio", is_flag=True, help="Speak LSP over stdin/stdout (the default).")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None,
              help="Write the server's log here.")
def serve(tcp: str | None, stdio: bool, log_file: str | None) -> None:
    """Run the language server (LSP) for editors."""
    from lsp_server.__main__ import main as lsp_main

    argv = ["--tcp", tcp] if tcp else ["--stdio"]
    if log_file:
        argv += ["--log-file", log_file]
    sys.exit(lsp_main(argv))


@cli.command()
@repo_option
@index_dir_option
def mcp(repo: str | None, index_dir: str | None) -> None:
    """Serve search and symbols to AI agents: a Model Context Protocol server on stdio."""
    from lsp_server.mcp_tools import main as mcp_main

    sys.exit(mcp_main(repo, index_dir))


@cli.command()
@click.option("--index-root", type=click.Path(file_okay=False), default=None,
              help="Serve the indexes under this folder (default: the user cache).")
@click.option("--stop", is_flag=True, help="Stop the running daemon.")
@click.option("--idle", type=float, default=None, help="Exit after this many idle seconds.")
def daemon(index_root: str | None, stop: bool, idle: float | None) -> None:
    """Keep indexes warm for fast `codeloupe search` (started automatically on first use)."""
    from pathlib import Path

    from indexer.cli.daemon import IDLE_SECONDS, serve_daemon, stop_daemon

    root = Path(index_root) if index_root else None
    if stop:
        click.echo("stopped" if stop_daemon(root) else "no daemon running")
        return
    serve_daemon(root, idle if idle is not None else IDLE_SECONDS)


from indexer.cli.gloss_command import gloss  # noqa: E402 - needs the helpers above

cli.add_command(gloss)

from indexer.cli.background import status  # noqa: E402 - needs the helpers above

cli.add_command(status)

from indexer.cli.maintenance import doctor, gc, watch  # noqa: E402 - needs the helpers above

for _command in (gc, doctor, watch):
    cli.add_command(_command)


def main() -> None:
    cli()
