"""Progress for long work: a rich progress bar on a terminal, silence otherwise.

The bar is drawn from its first second with its label and what it waits for (a model that
loads shows "loading the model…", not a bare "0/?"), and its columns fit an 80-column
terminal: the label, a 20-cell bar, done/total, elapsed, remaining, then as much of the
current file's name as is left, cut at the front (the end of a path says most).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

BAR_WIDTH = 20


@contextmanager
def index_progress(enabled: bool | None = None, label: str = "indexing", every: int = 64,
                   waiting: str = "starting…"):
    """Yield an on_progress(done, total, message) callback drawing a bar on stderr, redrawn
    every `every` steps (1 for slow steps such as model calls); `waiting` is shown until the
    first step."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Count(ProgressColumn):
        """done/total, or nothing while the total is not known yet (no "0/?")."""

        def render(self, task) -> Text:  # noqa: ANN001 - rich's Task
            if task.total is None:
                return Text("")
            return Text(f"{int(task.completed)}/{int(task.total)}", style="progress.download")

    console = Console(stderr=True)
    # what the fixed columns take: label, bar, "12345/12345", "0:00:12", "0:00:34", gaps
    room = max(10, console.width - len(label) - BAR_WIDTH - 11 - 7 - 7 - 6)
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(bar_width=BAR_WIDTH), Count(),
                  TimeElapsedColumn(), TimeRemainingColumn(),
                  TextColumn("{task.description}", style="dim"),
                  console=console, transient=True, refresh_per_second=4) as bar:
        task = bar.add_task(waiting, total=None)

        def on_progress(done: int, total: int, message: str) -> None:
            if done % every == 0 or done == total:
                shown = message if len(message) <= room else "…" + message[-(room - 1):]
                bar.update(task, completed=done, total=total, description=shown)

        yield on_progress
