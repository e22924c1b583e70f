"""The `codeloupe` command line: a thin layer over the engine (`indexer.workspace`).

Imports are deferred to the command that needs them: `codeloupe search` is timed against
ripgrep as a whole process, so its start-up must stay small.
"""

from __future__ import annotations

import sys

import click

EXIT_MATCH, EXIT_NO_MATCH, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process Ctrl-C stopped


def _fail(message: str) -> None:
    click.echo(f"codeloupe: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _interrupted(message: str) -> None:
    """Ctrl-C, after the clean-up that keeps the last good index: 128 + SIGINT."""
    click.echo(f"\ncodeloupe: {message}", err=True)
    sys.exit(EXIT_INTERRUPTED)


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


class AliasedOption(click.Option):
    """An option whose old spellings (`hidden_names`) still work for scripts but are left out
    of --help, so that every subcommand shows one name for one meaning."""

    def __init__(self, *args, hidden_names: tuple[str, ...] = (), **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.hidden_names = set(hidden_names)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown = self.opts
        self.opts = [name for name in shown if name not in self.hidden_names]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


def top_k_option(default: int, help_text: str, old: tuple[str, ...] = ()):  # noqa: ANN201
    """`-k/--top-k N`, the one spelling of "how many results" in every subcommand."""
    return click.option("-k", "--top-k", *old, "top_k", cls=AliasedOption, hidden_names=old,
                        type=click.IntRange(1, 5000), default=default, show_default=True,
                        help=help_text)


def kind_option(help_text: str):  # noqa: ANN201
    return click.option("--kind", "kinds", multiple=True, help=help_text + " Repeatable.")


repo_option = click.option("--repo", type=click.Path(file_okay=False),
                           help="Repository (default: the one containing the current directory).")
index_dir_option = click.option("--index-dir", type=click.Path(file_okay=False),
                                help="Index directory (default: per repository in the user cache; "
                                     "CODELOUPE_INDEX_DIR sets the parent).")
max_filesize_option = click.option("--max-filesize", default=None,
                                   help="Skip files larger than this (default 1M, as rg).")
rev_option = click.option("--rev", default=None,
                          help="Branch, tag or commit (default: the working tree).")


class _UnixGroup(click.Group):
    """Unix exit codes for every command: 130 on Ctrl-C (click says "Aborted!" and exits 1),
    141 and no traceback when stdout's reader goes away (`codeloupe symbols x | head -1`)."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201 - the command's return value
        try:
            try:
                return super().invoke(ctx)
            finally:  # a closed pipe shows here (141), not as a traceback at exit
                sys.stdout.flush()
        except KeyboardInterrupt:
            click.echo("", err=True)  # end the line the terminal's ^C is on
            raise click.exceptions.Exit(130) from None
        except BrokenPipeError:
            from indexer.cli.entry import closed_pipe

            raise click.exceptions.Exit(closed_pipe()) from None


@click.group(cls=_UnixGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="codeloupe", message="%(prog)s %(version)s")
def cli() -> None:
    """codeloupe: code search for every branch of a git repository."""


def _index_summary_line(summary, root, size: int) -> str:  # noqa: ANN001 - IndexSummary, Path
    """One line that adds up: files = searchable + skipped (by reason); then what was read."""
    skipped_total = sum(summary.skipped.values())
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(summary.skipped.items()))
    what = "working tree" if summary.name == "worktree" else f"commit {summary.name[:12]}"
    state = "up to date" if summary.up_to_date else (
        f"{summary.new_blobs} new files read ({_human(summary.read_bytes)})")
    return (f"indexed {what} of {root}: {summary.files + skipped_total} files = "
            f"{summary.files} searchable ({_human(summary.bytes)}) + {skipped_total} skipped"
            f"{f' ({skipped})' if skipped else ''}; {state}; {summary.seconds:.2f} s; "
            f"index size {_human(size)}")


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
        with index_progress(label="reading files") as on_progress:
            summary = ws.index(rev, on_progress=on_progress,
                               on_wait=lambda m: click.echo(m, err=True))
        if not no_chunks:
            with index_progress(label="chunking") as on_progress:
                enriched = ws.enrich(rev, on_progress=on_progress)
        size = ws.store.size_bytes()
    except CodeloupeError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _interrupted("interrupted; the previous index is unchanged")
    click.echo(_index_summary_line(summary, ws.root, size))
    if not no_chunks:
        if enriched.blobs:
            click.echo(f"chunks: {enriched.blobs} files chunked ({enriched.chunks} chunks, "
                       f"{enriched.symbols} symbols) in {enriched.seconds:.2f} s")
        else:  # a re-index with nothing new: no "0 files chunked (0 chunks…)"
            click.echo("chunks: up to date")
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
        _interrupted("interrupted; embeddings made so far are kept")


@cli.command()
@click.argument("query")
@kind_option("Only this kind (function, class, method, …).")
@top_k_option(50, "How many symbols.", old=("--limit",))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per symbol.")
@repo_option
@rev_option
@index_dir_option
def symbols(query: str, kinds: tuple[str, ...], top_k: int, as_json: bool, repo: str | None,
            rev: str | None, index_dir: str | None) -> None:
    """Find definitions like "Go to Symbol in Workspace" (fuzzy, camelCase humps).
    Exit 1 when nothing matches, as search and ask."""
    from indexer.cli.semantic_commands import run_symbols
    from indexer.errors import CodeloupeError

    try:
        sys.exit(run_symbols(_open_workspace(repo, index_dir, None), query, rev, kinds,
                             as_json, top_k))
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
@kind_option("Only this chunk kind.")
@top_k_option(10, "How many results (at most 300).")
@click.option("--rerank", type=click.Choice(["dense", "llm", "none"]), default=None,
              help="Re-ranker (default: the settings' choice, dense).")
@click.option("--files", "files", is_flag=True,
              help="Rank files (by their chunks' evidence), each with its best chunks.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per result.")
@repo_option
@rev_option
@index_dir_option
def ask(question: str, globs: tuple[str, ...], languages: tuple[str, ...],
        kinds: tuple[str, ...], top_k: int, rerank: str | None, files: bool, as_json: bool,
        repo: str | None, rev: str | None, index_dir: str | None) -> None:
    """Ask the codebase in plain words: hybrid recall (BM25, vectors, symbols, identifiers)
    then re-ranking; prints ranked chunks (or files, with --files) with each signal's score."""
    from indexer.cli.ask_commands import run_ask
    from indexer.errors import CodeloupeError

    try:
        sys.exit(run_ask(_open_workspace(repo, index_dir, None), question, rev, globs,
                         languages, kinds, min(top_k, 300), rerank, as_json, files))
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
              default="markdown", show_default=True,
              help="How blocks are rendered; `json` implies --json (one JSON spelling).")
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

    as_json = as_json or fmt == "json"
    try:
        sys.exit(run_context(_open_workspace(repo, index_dir, None), task, rev, budget, file,
                             line, selection, open_files, fmt, instructions, globs, as_json))
    except CodeloupeError as exc:
        _fail(str(exc))


@cli.command(name="eval")
@click.argument("gold", type=click.Path(dir_okay=False, exists=True))
@click.option("--pipelines", default="lexical,dense,dense+gloss,hybrid,hybrid+rerank",
              show_default=True, help="Comma-separated pipelines to compare.")
@click.option("--levels", default="chunk,symbol,file", show_default=True,
              help="Comma-separated levels to score: chunk, symbol, file.")
@click.option("--per-query", "per_query", type=click.Path(dir_okay=False), default=None,
              help="Write each query's scores and top results here (JSON Lines).")
@click.option("--no-embed", "no_embed", is_flag=True,
              help="Refuse dense pipelines on a snapshot not fully embedded instead of "
                   "embedding what is missing first.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON report (with each query's scores).")
@click.option("--misses", "show_misses", type=int, default=10,
              help="Missed queries to list per pipeline.")
@repo_option
@index_dir_option
def eval_command(gold: str, pipelines: str, levels: str, per_query: str | None,
                 no_embed: bool, as_json: bool, show_misses: int, repo: str | None,
                 index_dir: str | None) -> None:
    """Score retrieval pipelines on a gold set (JSONL): Recall@k, MRR and nDCG@10 at chunk,
    symbol and file level, side by side, with the queries each one missed."""
    from indexer.cli.ask_commands import run_eval
    from indexer.errors import CodeloupeError

    try:
        sys.exit(run_eval(_open_workspace(repo, index_dir, None), gold, pipelines, as_json,
                          show_misses, levels, per_query, not no_embed))
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
@click.option("--from-history", "from_history", is_flag=True,
              help="Mine the questions from commits: message = question, parent = rev, "
                   "changed files and hunks = answer.")
@click.option("--max", "max_questions", type=click.IntRange(1, 100_000), default=None,
              help="With --from-history: how many commits at most (default: -n).")
@click.option("--max-scan", type=click.IntRange(1, 10_000_000), default=5000,
              show_default=True, help="With --from-history: commits read from the log.")
@repo_option
@click.option("--rev", default=None, help="Commit to sample (default: HEAD).")
@index_dir_option
def goldgen(out: str, n: int, provider: str | None, seed: int, from_history: bool,
            max_questions: int | None, max_scan: int, repo: str | None, rev: str | None,
            index_dir: str | None) -> None:
    """Write a gold set for this repository: questions generated from sampled chunks, or
    (--from-history) mined from its commits."""
    from indexer.cli.ask_commands import run_goldgen, run_goldgen_history
    from indexer.errors import CodeloupeError

    try:
        ws = _open_workspace(repo, index_dir, None)
        if from_history:
            sys.exit(run_goldgen_history(ws, out, max_questions or n, rev, seed, max_scan))
        sys.exit(run_goldgen(ws, out, n, rev, seed, provider))
    except CodeloupeError as exc:
        _fail(str(exc))


@cli.command()
@click.option("--max", "max_questions", type=click.IntRange(1, 100_000), default=300,
              show_default=True, help="Commits mined from history at most.")
@click.option("--max-scan", type=click.IntRange(1, 10_000_000), default=2000,
              show_default=True, help="Commits read from the log.")
@click.option("--holdout", type=click.FloatRange(0.05, 0.9), default=0.3, show_default=True,
              help="The latest share of the mined commits, held out to report before/after.")
@click.option("--force", is_flag=True, help="Keep the tuned model even if it did worse.")
@click.option("--reset", is_flag=True, help="Drop the tuned model; the default ranks again.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@repo_option
@click.option("--rev", default=None, help="Revision to tune at (default: HEAD).")
@index_dir_option
def tune(max_questions: int, max_scan: int, holdout: float, force: bool, reset: bool,
         as_json: bool, repo: str | None, rev: str | None, index_dir: str | None) -> None:
    """Fit this repository's file ranker from its own history (commit messages as questions,
    changed files as answers), report before/after on the latest commits, and keep it for
    ask, context, the language server and MCP."""
    from indexer.cli.ask_commands import run_tune
    from indexer.errors import CodeloupeError

    try:
        sys.exit(run_tune(_open_workspace(repo, index_dir, None), rev, max_questions,
                          max_scan, holdout, force, reset, as_json))
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


from indexer.cli.search_command import run_search, search  # noqa: E402 - needs the helpers

cli.add_command(search)
__all__ = ["cli", "main", "run_search", "search"]

from indexer.cli.gloss_command import gloss  # noqa: E402 - needs the helpers above

cli.add_command(gloss)

from indexer.cli.background import status  # noqa: E402 - needs the helpers above

cli.add_command(status)

from indexer.cli.models_command import models  # noqa: E402 - needs the helpers above

cli.add_command(models)

from indexer.cli.maintenance import doctor, gc, watch  # noqa: E402 - needs the helpers above

for _command in (gc, doctor, watch):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="codeloupe")  # also under `python -m indexer`
