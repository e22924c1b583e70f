"""Progress for long work: a rich progress bar on a terminal, silence otherwise."""

from __future__ import annotations

import sys
from contextlib import contextmanager


@contextmanager
def index_progress(enabled: bool | None = None, label: str = "indexing", every: int = 64):
    """Yield an on_progress(done, total, message) callback drawing a bar on stderr, redrawn
    every `every` steps (1 for slow steps such as model calls)."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(),
                  TextColumn("{task.description}", style="dim"),
                  console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def on_progress(done: int, total: int, message: str) -> None:
            if done % every == 0 or done == total:
                bar.update(task, completed=done, total=total, description=message[-50:])

        yield on_progress
