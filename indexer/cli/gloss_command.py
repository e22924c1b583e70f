"""`codeloupe gloss`: plain-language glosses for a snapshot's chunks (cached; on demand)."""

from __future__ import annotations

import json
import sys
import threading

import click

from indexer.cli import (
    AliasedOption,
    _fail,
    _open_workspace,
    index_dir_option,
    repo_option,
    rev_option,
)
from indexer.cli.progress import index_progress


def _describe(report) -> list[str]:  # noqa: ANN001 - GlossReport
    who = report.provider + (f" ({report.model})" if report.model else "")
    lines = [f"glosses by {who}, prompt {report.prompt_version}, snapshot "
             f"{report.snapshot[:12]}: {report.chunks} chunks, {report.cached} already cached, "
             f"{report.to_gloss} to gloss"
             + (f", {report.heuristic_only} data/markup chunks keep heuristic glosses"
                if report.heuristic_only else "")]
    if report.unchunked_files:
        lines.append(f"{report.unchunked_files} files are not chunked yet (codeloupe index)")
    if report.dry_run:
        budget = f"; {report.over_budget} over the budget" if report.over_budget else ""
        line = f"dry run: would gloss {report.selected} chunks{budget}"
        if report.token_encoding:
            line += (f"; estimated {report.est_input_tokens:,} input + "
                     f"{report.est_output_tokens:,} output tokens ({report.token_encoding})")
        if report.est_cost is not None:
            line += f" ≈ ${report.est_cost:,.4f}"
        lines.append(line)
    else:
        line = f"glossed {report.glossed} chunks in {report.seconds:.1f} s"
        if report.input_tokens or report.output_tokens:
            line += f" ({report.input_tokens:,} input + {report.output_tokens:,} output tokens)"
        if report.over_budget:
            line += f"; {report.over_budget} left over the budget (run again to continue)"
        lines.append(line)
        if report.fallback:
            lines.append(f"{report.fallback} chunks keep their heuristic gloss: "
                         f"{report.rejected} answers rejected, {report.failed} requests failed, "
                         f"{report.not_attempted} not attempted")
    if report.cancelled:
        lines.append("cancelled: what was glossed is kept")
    if report.stopped:
        lines.append(f"stopped: {report.stopped}")
    lines.extend(f"error: {message}" for message in report.errors)
    return lines


@click.command()
@click.option("--provider", default=None,
              help="heuristic (default, no model) | openai (any compatible endpoint) | "
                   "llamacpp (local GGUF; pip install 'codeloupe[llamacpp]').")
@click.option("--model", default=None, help="Model name (openai) or .gguf path (llamacpp).")
@click.option("--base-url", default=None, help="OpenAI-compatible endpoint, e.g. "
                                               "http://localhost:11434/v1.")
@click.option("--max-chunks", "--budget", "budget", cls=AliasedOption, hidden_names=("--budget",),
              type=click.IntRange(min=0), default=None,
              help="Chunks to send to a model this run (default: gloss_budget; 0: no limit). "
                   "(`--budget` is tokens in `context`.)")
@click.option("--concurrency", type=int, default=None, help="Requests in flight.")
@click.option("--dry-run", is_flag=True,
              help="Count what would be glossed and estimate tokens and cost; call nothing.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@repo_option
@rev_option
@index_dir_option
def gloss(provider: str | None, model: str | None, base_url: str | None, budget: int | None,
          concurrency: int | None, dry_run: bool, as_json: bool, repo: str | None,
          rev: str | None, index_dir: str | None) -> None:
    """Describe each chunk in plain language (cached per chunk; the rest of a run's budget
    is picked up next time). Settings: gloss_* in config.toml / CODELOUPE_GLOSS_*.
    Exit 1 when the model gave nothing although it was asked; 2 on a setup error."""
    from dataclasses import replace

    from indexer.config import load_settings
    from indexer.errors import CodeloupeError
    from indexer.gloss import gloss_snapshot

    cancel = threading.Event()
    try:
        ws = _open_workspace(repo, index_dir, None)
        settings = load_settings(ws.root)
        overrides = {"gloss_provider": provider, "gloss_model": model,
                     "gloss_base_url": base_url, "gloss_concurrency": concurrency}
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
        with index_progress() as on_progress:  # chunks first, as every chunk command does
            ws.enrich(rev, on_progress=on_progress, on_wait=lambda m: click.echo(m, err=True))
        with index_progress(sys.stderr.isatty() and not dry_run, "glossing", every=1) \
                as on_progress:
            try:
                report = gloss_snapshot(ws, rev, settings, budget=budget, dry_run=dry_run,
                                        cancel=cancel, progress=on_progress)
            except KeyboardInterrupt:
                cancel.set()
                raise
    except CodeloupeError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; glosses finished so far are kept")
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        for line in _describe(report):
            click.echo(line)
    # 1: the model gave nothing although it was asked (endpoint down, errors, garbage)
    tried = report.failed + report.rejected
    sys.exit(1 if report.stopped or (tried and not report.glossed) else 0)
