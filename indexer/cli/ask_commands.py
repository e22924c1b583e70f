"""CLI commands of the semantic layer: `ask`, `eval`, `goldgen`, and embedding at index time."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


def embed_snapshot(ws, rev: str | None, limit: int | None = None,  # noqa: ANN001
                   err: bool = False, take_over: bool = False) -> None:
    """Embed what is missing of a snapshot's chunks, with a progress bar; a summary line.
    `take_over`: a background worker embedding this index is stopped first (it would embed
    the same chunks at idle priority) and we embed at full speed."""
    import contextlib

    from indexer.cli.progress import index_progress
    from indexer.embed.backlog import JobRunning, job_lock

    searcher = ws.semantic(rev, refresh=False)
    held = contextlib.nullcontext()
    if take_over:
        _stop_background_worker(ws.store.directory)
        held = job_lock(ws.store.directory)  # `status` shows us; asks leave the backlog to us
    try:
        with held, index_progress(label="embedding",
                                  waiting="loading the model…") as on_progress:
            reports = searcher.embed(limit=limit, on_progress=on_progress)
    except JobRunning:  # a worker that would not stop: embed beside it (same vectors)
        with index_progress(label="embedding", waiting="loading the model…") as on_progress:
            reports = searcher.embed(limit=limit, on_progress=on_progress)
    done = ", ".join(f"{r.view} {r.cached + r.embedded}/{r.total}" for r in reports)
    fresh = sum(r.embedded for r in reports)
    seconds = sum(r.seconds for r in reports)
    rate = f" ({fresh / seconds:.0f}/s)" if fresh and seconds else ""
    click.echo(f"embeddings: {done} embedded; {fresh} new in {seconds:.1f} s{rate}", err=err)


def _stop_background_worker(index_dir: Path, wait_s: float = 30.0) -> None:
    import os
    import signal
    import time

    from indexer.embed.backlog import running_pid

    pid = running_pid(index_dir)
    if pid is None or pid <= 0:
        return
    click.echo(f"codeloupe: taking over from the background embedder (pid {pid})", err=True)
    try:
        os.kill(pid, signal.SIGTERM)  # it stops after its batch; every whole batch is kept
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait_s
    while running_pid(index_dir) is not None and time.monotonic() < deadline:
        time.sleep(0.1)


def ready_searcher(ws, rev: str | None):  # noqa: ANN001, ANN201
    """The snapshot's SemanticSearcher, without waiting behind another process that writes
    the index (the last complete index answers, and a line says so). A small backlog of
    unembedded chunks is embedded first, saying so; a big one is left to the background
    worker (handed to the daemon if none runs), and the answer uses what is embedded."""
    from indexer.cli.progress import index_progress

    searcher, notes = ws.semantic_now(rev, on_wait=lambda m: click.echo(f"codeloupe: {m}",
                                                                         err=True))
    for note in notes:
        click.echo(f"codeloupe: {note}", err=True)

    def starting(n: int) -> None:
        click.echo(f"codeloupe: embedding {n} new chunks first", err=True)

    with index_progress(label="embedding", waiting="loading the model…") as on_progress:
        embedded = searcher.embed_small_backlog(on_progress=on_progress, on_start=starting)
    if not embedded:
        from indexer.embed.backlog import running_pid
        from indexer.embed.job import pending_rows
        from indexer.embed.texts import CODE_VIEW

        if running_pid(ws.store.directory) is None and \
                pending_rows(searcher.table, searcher.cache, CODE_VIEW)[0]:
            from indexer.cli.background import hand_to_daemon

            hand_to_daemon(ws.store.directory, ws.root, rev)
    return searcher


def run_ask(ws, query: str, rev: str | None, globs: tuple[str, ...],  # noqa: ANN001
            languages: tuple[str, ...], kinds: tuple[str, ...], k: int, rerank: str | None,
            as_json: bool, files: bool = False) -> int:
    from indexer.retrieval.semantic import AskRequest

    searcher = ready_searcher(ws, rev)
    response = searcher.ask(AskRequest(query, globs=globs, languages=languages, kinds=kinds,
                                       k=k, rerank=rerank, files=files))
    for note in response.notes:
        click.echo(f"codeloupe: {note}", err=True)
    if files:
        ranked = response.files or []
        for i, f in enumerate(ranked, start=1):
            if as_json:
                click.echo(json.dumps(f.to_dict(), ensure_ascii=False))
                continue
            click.echo(f"{i:>2}. {f.score:6.3f}  {f.path}")
            for r in f.evidence:
                click.echo(f"            {r.start_line}-{r.end_line}  {r.name or r.kind}")
        return 0 if ranked else 1
    if as_json:
        for r in response.results:
            click.echo(json.dumps(r.to_dict(), ensure_ascii=False))
        return 0 if response.results else 1
    for i, r in enumerate(response.results, start=1):
        signals = " ".join(f"{name}={value:.3g}" for name, value in sorted(r.signals.items()))
        name = r.name or r.kind
        click.echo(f"{i:>2}. {r.score:6.3f}  {r.path}:{r.start_line}-{r.end_line}  {name}")
        click.echo(f"            {signals}")
    return 0 if response.results else 1


def run_eval(ws, gold_path: str, pipelines: str, as_json: bool, show_misses: int,  # noqa: ANN001
             levels: str = "chunk,symbol,file", per_query: str | None = None,
             embed: bool = True) -> int:
    from indexer.cli.progress import index_progress
    from indexer.eval.gold import load_gold
    from indexer.eval.metrics import KS
    from indexer.eval.runner import check_gold, evaluate, views_needed

    gold = load_gold(Path(gold_path))
    names = [p for p in pipelines.split(",") if p]
    wanted_levels = [lvl for lvl in levels.split(",") if lvl]
    searchers: dict = {}

    def searcher_for(rev: str | None):  # noqa: ANN202
        if rev not in searchers:
            searchers[rev] = ws.semantic(rev)
        return searchers[rev]

    problems = []
    for rev in sorted({q.rev for q in gold}, key=lambda r: r or ""):
        problems += check_gold(searcher_for(rev), [q for q in gold if q.rev == rev])
    for problem in problems:
        click.echo(f"codeloupe: gold set: {problem}", err=True)
    try:
        needed = views_needed(names)
    except KeyError:
        needed = set()  # evaluate names the unknown pipeline
    if needed and embed:
        # scoring dense pipelines over a half-embedded snapshot would report the embedded
        # part only: embed what is missing first, with progress
        for searcher in searchers.values():
            with index_progress() as on_progress:
                searcher.embed(views=tuple(sorted(needed)), on_progress=on_progress)
    with index_progress() as on_progress:
        reports = evaluate(searcher_for, gold, names, levels=wanted_levels,
                           per_query=bool(per_query) or as_json,
                           on_query=(lambda d, t: on_progress(d, t, "evaluating"))
                           if on_progress else None)
    if per_query:
        with open(per_query, "w", encoding="utf-8") as out:
            for r in reports:
                for record in r.queries:
                    out.write(json.dumps({"pipeline": r.name, **record}, ensure_ascii=False)
                              + "\n")
    if as_json:
        click.echo(json.dumps({"queries": len(gold), "problems": problems,
                               "pipelines": [r.to_dict() for r in reports]}, indent=1))
        return 0
    for level in wanted_levels:
        click.echo(f"\n{level} level ({len(gold)} queries)")
        head = "".join(f"{'R@' + str(k):>7s}" for k in KS)
        click.echo(f"{'pipeline':15s}{'MRR':>7s}{'nDCG10':>8s}{head}{'p50 ms':>9s}")
        for r in reports:
            s = r.levels[level]
            recalls = "".join(f"{s.recall[k]:7.3f}" for k in KS)
            click.echo(f"{r.name:15s}{s.mrr:7.3f}{s.ndcg10:8.3f}{recalls}{r.p50_ms:9.1f}")
    for r in reports:
        if r.misses and show_misses:
            click.echo(f"\n{r.name}: {len(r.misses)} queries with no relevant result in the "
                       f"top 10")
            for m in r.misses[:show_misses]:
                click.echo(f"  {m.query_id}: {m.query!r} expected {', '.join(m.expected)}; "
                           f"got {', '.join(m.got) or 'nothing'}")
    sys.stdout.flush()
    return 0


def run_goldgen(ws, out: str, n: int, rev: str | None, seed: int,  # noqa: ANN001
                provider: str | None) -> int:
    from indexer.eval.gold import write_gold
    from indexer.eval.goldgen import (
        commit_without_docstrings,
        docstring_question,
        make_gold,
        sample_chunks,
    )

    base = ws.repo.resolve(rev or "HEAD")
    searcher = ws.semantic(base)
    samples = sample_chunks(searcher, n, seed)
    sources = {s.path: ws.repo.git("show", f"{base}:{s.path}", binary=True)
               .stdout.decode("utf-8", "replace") for s in samples}
    provider = provider or ws.settings.gloss_provider
    if provider in ("openai", "llamacpp"):
        from indexer.eval.llm_questions import llm_question_maker

        gold = make_gold(samples, sources, n, llm_question_maker(ws.settings, provider), base)
        target = base
    else:
        gold = make_gold(samples, sources, n, docstring_question, None)
        used = {(q.expected[0].path, q.expected[0].symbol) for q in gold}
        target = commit_without_docstrings(
            ws.repo, base, [s for s in samples if (s.path, s.name) in used])
        for q in gold:
            q.rev = target
    write_gold(gold, Path(out))
    how = ("questions by the " + provider + " provider" if target == base else
           f"questions from docstrings, stripped in commit {target[:12]} "
           f"(refs/codeloupe/goldgen)")
    click.echo(f"wrote {len(gold)} queries to {out} ({how}); "
               f"run: codeloupe eval {out}")
    return 0 if gold else 1


def run_goldgen_history(ws, out: str, max_questions: int, rev: str | None,  # noqa: ANN001
                        seed: int, max_scan: int) -> int:
    from indexer.eval.gold import write_gold
    from indexer.eval.history_gold import MiningStats, mine_history

    base = ws.repo.resolve(rev or "HEAD")
    stats = MiningStats()
    mined = mine_history(ws.repo, base, max_questions=max_questions, max_scan=max_scan,
                         seed=seed, stats=stats)
    write_gold([m.gold() for m in mined], Path(out))
    click.echo(f"{stats.summary()}; wrote {len(mined)} queries to {out} (each at its "
               f"commit's parent); run: codeloupe eval {out}")
    return 0 if mined else 1


def run_tune(ws, rev: str | None, max_questions: int, max_scan: int,  # noqa: ANN001
             holdout: float, force: bool, reset: bool, as_json: bool) -> int:
    from indexer.cli.progress import index_progress
    from indexer.eval.tune import reset as reset_model
    from indexer.eval.tune import tune

    if reset:
        dropped = reset_model(ws)
        click.echo("tuned model dropped; the default ranks files again" if dropped
                   else "no tuned model to drop")
        return 0
    with index_progress() as on_progress:
        report = tune(ws, rev, max_questions=max_questions, max_scan=max_scan,
                      holdout=holdout, force=force, on_progress=on_progress)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
        return 0
    click.echo(report.mined)
    click.echo(f"trained on the {report.train_questions} older commits; held out the "
               f"{report.held_out_questions} latest (file level):")
    for name, values in (("default", report.before), ("tuned", report.after)):
        click.echo(f"  {name:8s}" + "".join(f"  {k} {v:.3f}" for k, v in values.items()))
    click.echo(f"kept in {report.model_path}: ask, context, LSP and MCP use it" if report.kept
               else "not kept: it did worse than the default on the held-out commits "
                    "(--force keeps it)")
    return 0


def _selection(ws, text: str) -> tuple[str, int, int]:  # noqa: ANN001
    """F:L1-L2 → (repository path, L1, L2)."""
    from indexer.context.pack import ContextError

    path, _, lines = text.rpartition(":")
    first, _, last = lines.partition("-")
    if not path or not first.isdigit() or (last and not last.isdigit()):
        raise ContextError(f"--selection {text!r}: expected FILE:FIRST-LAST (1-based lines)")
    return ws.relative_path(path), int(first), int(last or first)


def run_context(ws, task: str, rev: str | None, budget: int | None, file: str | None,  # noqa: ANN001
                line: int | None, selection: str | None, open_files: tuple[str, ...],
                fmt: str, instructions: str, globs: tuple[str, ...], as_json: bool) -> int:
    from indexer.context.pack import ContextError, ContextRequest, pack_context

    if (file is None) != (line is None):
        raise ContextError("--file and --line go together")
    request = ContextRequest(
        task, budget=budget or ws.settings.context_budget,
        file=ws.relative_path(file) if file else None, line=line,
        selection=_selection(ws, selection) if selection else None,
        open_files=tuple(ws.relative_path(f) for f in open_files), format=fmt,
        instructions=instructions, globs=globs)
    pack = pack_context(ready_searcher(ws, rev), request)
    for note in pack.notes:
        click.echo(f"codeloupe: {note}", err=True)
    if as_json:
        click.echo(json.dumps(pack.to_dict(), ensure_ascii=False))
    else:
        sys.stdout.write(pack.text)
        click.echo(f"codeloupe: {pack.tokens}/{pack.budget} tokens ({pack.encoding}), "
                   f"{len(pack.blocks)} blocks from {pack.considered} candidates, "
                   f"{len(pack.dropped)} dropped", err=True)
    return 0
