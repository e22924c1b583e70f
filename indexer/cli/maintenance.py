"""`codeloupe gc`, `codeloupe doctor` and `codeloupe watch`: keeping an index in shape."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime

import click

from indexer.cli import _fail, _human, _open_workspace, index_dir_option, repo_option


def _label(name: str) -> str:
    return name if name == "worktree" else name[:12]


@click.command()
@click.option("--keep-recent", type=int, default=10, show_default=True,
              help="Also keep this many most recently indexed commits.")
@click.option("--pin", "pins", multiple=True, metavar="REV",
              help="Always keep REV's index (stored; repeatable).")
@click.option("--unpin", "unpins", multiple=True, metavar="REV", help="Remove a pin.")
@click.option("--dry-run", is_flag=True, help="Show what would go; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@repo_option
@index_dir_option
def gc(keep_recent: int, pins: tuple[str, ...], unpins: tuple[str, ...], dry_run: bool,
       as_json: bool, repo: str | None, index_dir: str | None) -> None:
    """Remove indexes of commits nobody needs, and every blob only they held.

    Kept: the working tree, HEAD, local branches, pinned revisions and the --keep-recent
    most recently indexed commits.
    """
    from indexer.errors import CodeloupeError
    from indexer.maintenance import gc as gc_mod

    try:
        ws = _open_workspace(repo, index_dir, None)
        extra: list[gc_mod.Pin] = []
        for rev in unpins:
            if not dry_run:
                gc_mod.unpin(ws, rev)
        for rev in pins:
            if dry_run:  # a dry run stores nothing, but plans as if pinned
                extra.append(gc_mod.Pin(rev, ws.repo.resolve(rev)))
            else:
                gc_mod.pin(ws, rev)
        report = gc_mod.collect(ws, keep_recent, extra_pins=extra, dry_run=dry_run,
                                on_wait=lambda m: click.echo(m, err=True))
    except CodeloupeError as exc:
        _fail(str(exc))
    # The search daemon (like the language server) checks each warm snapshot per request and
    # reloads one gc replaced, so it stays up: stopping it raced searches just after gc.
    if as_json:
        click.echo(json.dumps({
            "dry_run": report.dry_run,
            "kept": [{"snapshot": n, "why": w} for n, w in report.plan.keep.items()],
            "removed": [r.name for r in report.plan.remove],
            "dead_blobs": report.dead_blobs, "dead_pack_bytes": report.dead_pack_bytes,
            "stale_documents": report.stale_docs, "packs_rewritten": report.packs_rewritten,
            "moved_bytes": report.moved_bytes, "trigram_rebuilt": report.trigram_rebuilt,
            "swept_files": report.swept_files, "bytes_before": report.bytes_before,
            "bytes_after": report.bytes_after, "freed": report.freed,
            "pins": [{"rev": p.rev, "commit": p.commit} for p in report.pins],
            "seconds": round(report.seconds, 3)}))
        return
    for name, why in report.plan.keep.items():
        click.echo(f"keep    {_label(name):<12}  {', '.join(why)}")
    verb = "would remove" if dry_run else "remove"
    for record in report.plan.remove:
        click.echo(f"{verb:<7} {_label(record.name):<12}  {record.files} files")
    if dry_run:
        click.echo(f"dry run: {len(report.plan.remove)} snapshots and {report.dead_blobs} blobs "
                   f"would go (about {_human(report.dead_pack_bytes)} of pack space); "
                   "nothing changed")
        return
    extra_text = ", trigram index rebuilt" if report.trigram_rebuilt else ""
    click.echo(f"removed {len(report.plan.remove)} snapshots, {report.dead_blobs} blobs, "
               f"{report.stale_docs} trigram documents; {report.packs_rewritten} packs "
               f"compacted ({_human(report.moved_bytes)} moved){extra_text}; "
               f"{_human(report.bytes_before)} -> {_human(report.bytes_after)}: "
               f"freed {_human(report.freed)} in {report.seconds:.2f} s")


def _stop_daemon_quietly() -> None:
    """After `doctor --repair` (which may rebuild anything) the search daemon starts afresh
    on next use."""
    from indexer.cli.daemon import stop_daemon

    stop_daemon()


@click.command()
@click.option("--repair", is_flag=True, help="Rebuild what is broken (only that).")
@click.option("--full", is_flag=True,
              help="Re-hash every stored blob against git, not a sample.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@repo_option
@index_dir_option
def doctor(repair: bool, full: bool, as_json: bool, repo: str | None,
           index_dir: str | None) -> None:
    """Check the index (catalog, packs, tantivy indexes, every snapshot's manifest).

    Exit status 0 when healthy (or repaired), 1 when problems remain, 2 on errors.
    """
    from pathlib import Path

    from indexer.errors import CodeloupeError
    from indexer.maintenance.doctor import examine, require_readable_catalog

    try:
        if index_dir:
            require_readable_catalog(Path(index_dir))
        else:
            from indexer.repo import GitRepo
            from indexer.store.index_store import index_dir_for

            require_readable_catalog(index_dir_for(GitRepo.discover(repo).root))
        ws = _open_workspace(repo, index_dir, None)
        report = examine(ws, repair=repair, full=full,
                         on_wait=lambda m: click.echo(m, err=True))
    except CodeloupeError as exc:
        _fail(str(exc))
    if repair and report.repaired:
        _stop_daemon_quietly()
    if as_json:
        click.echo(json.dumps({
            "healthy": report.healthy, "repaired": report.repaired, "blobs": report.blobs,
            "spot_checked": report.spot_checked,
            "problems": [{"scope": p.scope, "message": p.message, "fatal": p.fatal,
                          "repair": p.repair} for p in report.problems],
            "snapshots": [{"snapshot": s.name, "refs": s.label, "files": s.files,
                           "ok": s.ok, "problems": s.problems, "warnings": s.warnings,
                           "repair": s.repair} for s in report.snapshots],
            "remaining": report.remaining}))
        sys.exit(0 if report.healthy else 1)
    for s in report.snapshots:
        state = "ok" if s.ok else "BROKEN"
        click.echo(f"{state:<7} {_label(s.name):<12}  {s.label[:30]:<30} {s.files} files")
        for text in s.problems:
            click.echo(f"          {text}")
        for text in s.warnings:
            click.echo(f"          note: {text}")
        if s.repair:
            click.echo(f"          repaired: {s.repair}")
    for p in report.problems:
        kind = "problem" if p.fatal else "note"
        click.echo(f"{kind}: {p.scope}: {p.message}")
        if p.repair:
            click.echo(f"          repaired: {p.repair}")
    click.echo(f"checked {len(report.snapshots)} snapshots, {report.blobs} blobs "
               f"({report.spot_checked} re-hashed against git)")
    if report.repaired:
        for text in report.remaining:
            click.echo(f"still wrong: {text}")
        click.echo("repaired" if report.healthy else "repair incomplete")
    elif not report.healthy:
        click.echo("problems found; `codeloupe doctor --repair` rebuilds what is broken")
    else:
        click.echo("healthy")
    sys.exit(0 if report.healthy else 1)


@click.command()
@repo_option
@index_dir_option
@click.option("--debounce", type=float, default=50, show_default=True,
              help="Milliseconds of quiet before an update.")
def watch(repo: str | None, index_dir: str | None, debounce: float) -> None:
    """Keep the working tree's index current as files are saved and branches switch.

    Prints one line per update; Ctrl-C stops.
    """
    from indexer.errors import CodeloupeError
    from indexer.watch import TreeWatcher, WatchUpdate

    def stamp() -> str:
        return datetime.now().strftime("%H:%M:%S.%f")[:-3]

    def on_update(u: WatchUpdate) -> None:
        s = u.summary
        lag = (u.finished - u.first_event) * 1000
        if u.head_changed:
            click.echo(f"{stamp()}  HEAD -> {(u.head or '')[:12]}: {s.files} files; "
                       f"{s.new_blobs} blobs read; searchable {lag:.0f} ms after the event",
                       nl=True)
        else:
            what = f"{u.paths} changed path{'s' if u.paths != 1 else ''}" if u.paths else \
                "git state changed"
            click.echo(f"{stamp()}  {what}: {s.files} files, {s.new_blobs} read; "
                       f"update {u.seconds * 1000:.0f} ms, searchable {lag:.0f} ms after "
                       "the event")
        sys.stdout.flush()

    def on_error(message: str) -> None:
        click.echo(f"{stamp()}  codeloupe: {message}", err=True)

    try:
        ws = _open_workspace(repo, index_dir, None)
        watcher = TreeWatcher(ws, on_update, on_error, debounce=debounce / 1000)
        started = time.perf_counter()
        first = watcher.start()
    except CodeloupeError as exc:
        _fail(str(exc))
    except OSError as exc:  # e.g. inotify's watch limit (fs.inotify.max_user_watches)
        _fail(f"cannot watch {repo or '.'}: {exc}")
    except KeyboardInterrupt:  # during the first refresh: nothing half-written is visible
        _fail("interrupted; the previous index is unchanged")
    head = (first.commit or "no commit")[:12]
    click.echo(f"{stamp()}  watching {ws.root} (HEAD {head}): {first.files} files, "
               f"{first.new_blobs} read in {time.perf_counter() - started:.2f} s; "
               "Ctrl-C stops")
    sys.stdout.flush()
    watcher.run_forever()
    click.echo(f"{stamp()}  stopped")
