"""The embedding backlog of each repository, embedded in the background while the server
answers from what is there.

After the working tree's chunks and symbols are up to date, the server starts the engine's
low-priority worker process for the repository (`indexer.embed.backlog`: idle CPU priority,
resumable, one per index) and follows its status file: `$/progress` titled
`Embedding <folder>` with the embedded percentage, rate and ETA, cancellable (the worker is
stopped by pid and resumes on the next re-index). `codeloupe/status` reports the same per
folder. On shutdown every worker the server started is stopped by pid.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.embed.backlog import (
    read_status,
    running_pid,
    start_worker,
    stop_worker,
    write_focus,
)
from indexer.ingest import CancelToken
from lsp_server.progress import Host, WorkDoneProgress

if TYPE_CHECKING:
    from lsp_server.repos import Repo

logger = logging.getLogger(__name__)

POLL_S = 0.5


@dataclass
class _Job:
    proc: subprocess.Popen | None  # None: a worker of another process (the daemon's, say)
    cancel: CancelToken = field(default_factory=CancelToken)
    thread: threading.Thread | None = None


class BackgroundEmbeds:
    def __init__(self, host: Host, closing: threading.Event) -> None:
        self.host = host
        self.closing = closing
        self.lock = threading.Lock()
        self.jobs: dict[Path, _Job] = {}

    def start(self, repo: Repo, focus: list[str] | None = None) -> None:
        """Embed the repository's backlog in a worker (if none runs), with progress; the
        `focus` paths (open files) first, also for a worker already running (next pass)."""
        index_dir = repo.ws.store.directory
        try:
            write_focus(index_dir, focus or [])
        except OSError as exc:
            logger.warning("cannot write the embedding focus of %s: %s", repo.root, exc)
        with self.lock:
            if self.closing.is_set():
                return
            job = self.jobs.get(index_dir)
            if job is not None and job.thread is not None and job.thread.is_alive():
                return
            try:
                proc = start_worker(index_dir, repo.root)
            except OSError as exc:
                logger.warning("cannot start the embedding worker for %s: %s", repo.root, exc)
                return
            if proc is None and running_pid(index_dir) is None:
                return
            job = self.jobs[index_dir] = _Job(proc)
            job.thread = threading.Thread(target=self._follow, args=(repo, job),
                                          name="codeloupe-embed-progress", daemon=True)
            job.thread.start()

    def _follow(self, repo: Repo, job: _Job) -> None:
        """Report the worker's progress until it ends; stop it when cancelled."""
        index_dir = repo.ws.store.directory
        progress = WorkDoneProgress(self.host, f"Embedding {repo.root.name}", job.cancel,
                                    lazy=True)
        message = "done"
        try:
            while True:
                if job.cancel.cancelled or self.closing.is_set():
                    if job.proc is not None:
                        stop_worker(job.proc)
                    message = "paused; resumes after the next re-index"
                    break
                alive = job.proc.poll() is None if job.proc is not None else \
                    running_pid(index_dir) is not None
                status = read_status(index_dir) or {}
                done, total = int(status.get("done") or 0), int(status.get("total") or 0)
                if total and status.get("state") == "running":
                    progress.report(done, total, _describe(status))
                if not alive:
                    message = {"done": "all chunks embedded", "failed": "failed: " + str(
                        status.get("error"))}.get(str(status.get("state")), "stopped")
                    break
                self.closing.wait(POLL_S)
        except Exception:
            logger.exception("following the embedding worker of %s failed", repo.root)
        finally:
            progress.end(message)

    def state(self, repo: Repo) -> dict[str, Any] | None:
        """The worker's last status for `codeloupe/status` (None if none ever ran)."""
        status = read_status(repo.ws.store.directory)
        if status is None:
            return None
        return {key: status.get(key) for key in ("state", "running", "view", "done", "total",
                                                 "rate", "eta_s", "updated")}

    def stop_all(self) -> None:
        with self.lock:
            jobs = list(self.jobs.values())
        for job in jobs:
            job.cancel.cancel()
            if job.proc is not None:
                stop_worker(job.proc)
            if job.thread is not None:
                job.thread.join(timeout=5)


def _describe(status: dict[str, Any]) -> str:
    done, total = int(status.get("done") or 0), int(status.get("total") or 0)
    text = f"{done}/{total} texts"
    rate, eta = status.get("rate"), status.get("eta_s")
    if rate:
        text += f" · {rate:.0f}/s"
    if eta is not None and rate:
        text += f" · {int(eta) // 60} min {int(eta) % 60:02d} s left"
    return text
