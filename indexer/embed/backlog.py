"""The embedding backlog: a snapshot's chunks not in the vector cache yet, embedded in the
background by a low-priority worker process.

`codeloupe index` returns once regex search, symbols and BM25 work; the search daemon and the
language server then start `python -m indexer.embed.worker` for the index. The worker:

- runs at idle priority (SCHED_IDLE and nice 19, set before ONNX Runtime starts its threads,
  so they inherit it): any foreground work — a search, an `ask`, the user's build — gets the
  cores first, and the worker gets what is left;
- holds `embed.lock` in the index directory, so one worker per index runs at a time (a second
  one exits at once);
- is resumable: the backlog is whatever the vector cache lacks, so a killed worker loses at
  most the batch it was encoding, and the next one starts where it stopped;
- writes its progress to `embed-status.json` (atomically, about once a second): what it
  embeds, how far it is, its rate and ETA. `codeloupe status`, the daemon and the language
  server read it; whether a worker runs is told by the lock, not by the file.

Nothing here knows about the CLI, the daemon or LSP: they only start the worker and read the
status.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STATUS_FILE = "embed-status.json"
LOCK_FILE = "embed.lock"
LOG_FILE = "embed.log"
FOCUS_FILE = "embed-focus.json"  # paths to embed first (the files open in an editor)
PRIORITIES = ("idle", "nice", "normal")
STATUS_EVERY_S = 1.0


class JobRunning(Exception):  # noqa: N818 - a state, not a failure
    """Another worker holds the index's embedding lock."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(f"an embedding worker (pid {pid or '?'}) is already running")
        self.pid = pid


def lower_priority(mode: str = "idle") -> None:
    """Make this process (and the threads it starts from now on) yield the CPU to others."""
    if mode == "normal":
        return
    with contextlib.suppress(OSError):
        os.nice(19)  # clamps at 19
    if mode == "idle" and hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):  # Linux: runs only when a core would idle
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


# --- the job lock and the status file ---
def running_pid(index_dir: Path) -> int | None:
    """The pid of the worker embedding this index, or None when none runs."""
    path = index_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def job_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's embedding lock, or raise JobRunning."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            raise JobRunning(int(text) if text.isdigit() else None) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the flock


def read_status(index_dir: Path) -> dict[str, Any] | None:
    """The last status a worker wrote, with `running` (the live worker's pid or None); a
    worker that died mid-run reads as state "interrupted"."""
    try:
        status = json.loads((index_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        status = None
    pid = running_pid(index_dir)
    if status is None:
        return None if pid is None else {"state": "starting", "running": pid}
    status["running"] = pid
    if pid is None and status.get("state") in ("starting", "running"):
        status["state"] = "interrupted"
    return status


def write_focus(index_dir: Path, paths: list[str]) -> None:
    """Ask the worker to embed these repository paths first (read at each pass)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f".{FOCUS_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(sorted(set(paths))))
    os.replace(tmp, index_dir / FOCUS_FILE)


def read_focus(index_dir: Path) -> set[str]:
    try:
        paths = json.loads((index_dir / FOCUS_FILE).read_text())
    except (OSError, ValueError):
        return set()
    return {p for p in paths if isinstance(p, str)} if isinstance(paths, list) else set()


def write_status(index_dir: Path, status: dict[str, Any]) -> None:
    tmp = index_dir / f".{STATUS_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(status, sort_keys=True))
    os.replace(tmp, index_dir / STATUS_FILE)


# --- starting and stopping a worker ---
def start_worker(index_dir: Path, repo_root: Path, rev: str | None = None, *,
                 priority: str | None = None) -> subprocess.Popen | None:
    """Start a worker for the index (its output goes to `embed.log`); None when one runs
    already. The caller owns the process: it stops it by pid (`stop_worker`)."""
    if running_pid(index_dir) is not None:
        return None
    index_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "indexer.embed.worker", "--repo", str(repo_root),
            "--index-dir", str(index_dir)]
    if rev:
        argv += ["--rev", rev]
    if priority:
        argv += ["--priority", priority]
    with open(index_dir / LOG_FILE, "ab") as log:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, close_fds=True)


def stop_worker(proc: subprocess.Popen, grace_s: float = 3.0) -> None:
    """SIGTERM (the worker stops after its batch), then SIGKILL after `grace_s`: either way
    the vector cache keeps every whole batch."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()


# --- what a snapshot has ---
def embedding_state(ws, rev: str | None = None) -> dict[str, Any]:  # noqa: ANN001 - Workspace
    """Chunks of a snapshot, the share with a code vector and with a model gloss, and the
    background worker's progress: cheap (no model is loaded). For `codeloupe status`."""
    from indexer.embed.model import expected_key
    from indexer.embed.texts import CODE_VIEW
    from indexer.embed.vector_cache import VectorCache
    from indexer.retrieval.chunk_table import ChunkTable

    snapshot = ws.snapshot(rev, refresh=False)
    store = ws.store
    table = ChunkTable.build(store.chunks, snapshot.manifest)
    settings = ws.settings
    cache = VectorCache(store.catalog.path, store.directory / "vectors", expected_key(settings),
                        0)
    try:
        have = cache.rows_for(CODE_VIEW)
    finally:
        cache.close()
    hashes = table.content_hashes
    embedded = sum(1 for h in hashes if h in have)
    glossed = _glossed(store, hashes, settings)
    status = read_status(store.directory) or {}
    job = None
    if status.get("running"):
        job = {key: status.get(key) for key in
               ("running", "state", "rev", "view", "done", "total", "rate", "eta_s", "updated")}
    return {"snapshot": snapshot.name, "commit": snapshot.commit, "files": len(
        snapshot.manifest.paths), "chunks": len(hashes),
        "embedded": embedded / len(hashes) if hashes else 1.0,
        "embedded_chunks": embedded, "glossed": glossed, "gloss_provider":
        settings.gloss_provider, "job": job,
        "last_job": None if job else ({key: status.get(key) for key in
                                        ("state", "rate", "updated", "error")}
                                       if status else None)}


def _glossed(store, hashes: list[str], settings) -> float:  # noqa: ANN001
    """Share of chunks with a gloss by the configured provider (heuristic ones always exist)."""
    if not hashes or settings.gloss_provider == "heuristic":
        return 1.0
    from indexer.gloss.cache import GlossCache
    from indexer.gloss.engine import provider_identity

    _, model = provider_identity(settings)  # an installed model's name -> its file's name
    found = GlossCache(store.catalog.db).get_many(dict.fromkeys(hashes),
                                                  settings.gloss_provider, model)
    return sum(1 for h in hashes if h in found) / len(hashes)


# --- the worker's body ---
class BacklogRun:
    """Embed everything a snapshot lacks (code view, then gloss view), highest value first,
    until nothing is pending — also what a re-index added meanwhile. Cancellable between
    batches; writes the status file as it goes."""

    def __init__(self, ws, rev: str | None, cancel=None) -> None:  # noqa: ANN001
        from indexer.ingest import CancelToken

        self.ws = ws
        self.rev = rev
        self.cancel = cancel or CancelToken()
        self.index_dir: Path = ws.store.directory
        self.status: dict[str, Any] = {}
        self._written = 0.0

    def run(self) -> dict[str, Any]:
        from indexer.ingest import Cancelled

        started = time.time()
        self.status = {"pid": os.getpid(), "rev": self.rev or "worktree", "state": "starting",
                       "repo": str(self.ws.root),
                       "started": started, "updated": started, "done": 0, "total": 0,
                       "embedded_runs": 0, "rate": None, "eta_s": None}
        with job_lock(self.index_dir):
            self._write(force=True)
            try:
                self._loop()
            except Cancelled:
                self.status["state"] = "stopped"
            except Exception as exc:
                self.status.update(state="failed", error=str(exc))
                self._write(force=True)
                raise
            self._write(force=True)
        return self.status

    def _loop(self) -> None:
        from indexer.embed.job import pending_rows
        from indexer.embed.texts import CODE_VIEW, GLOSS_VIEW

        seen_manifest = None
        while True:
            self.cancel.check()
            searcher = self.ws.semantic(self.rev, refresh=False)
            record = self.ws.store.catalog.snapshot(searcher.snapshot.name)
            manifest = record.manifest if record else None
            cache = searcher.cache
            code, _ = pending_rows(searcher.table, cache, CODE_VIEW)
            gloss, _ = pending_rows(searcher.table, cache, GLOSS_VIEW, searcher.view_keys("gloss"))
            if not code and not gloss and manifest == seen_manifest:
                self.status.update(state="done", view=None, eta_s=0, manifest=manifest,
                                   chunks=len(searcher.table))
                return
            seen_manifest = manifest
            if not code and not gloss:
                continue  # re-read: a re-index may have landed while we looked
            base_done = self.status["done"]
            self.status.update(state="running", total=base_done + len(code) + len(gloss),
                               done_at_start=base_done,
                               chunks=len(searcher.table), snapshot=searcher.snapshot.name,
                               manifest=manifest)
            run_started = time.perf_counter()
            offset = 0
            for view, todo in (("dense", code), ("gloss", gloss)):
                if not todo:
                    continue
                self.status["view"] = view
                focus = read_focus(self.index_dir)
                searcher.embed(views=(view,), cancel=self.cancel,
                               order=functools.partial(searcher.backlog_order, focus=focus),
                               on_progress=self._progress(base_done + offset, run_started))
                offset += len(todo)
            self.status["embedded_runs"] += 1

    def _progress(self, before: int, run_started: float):  # noqa: ANN202
        def on_progress(done: int, total: int, message: str) -> None:
            now_done = before + done
            elapsed = time.perf_counter() - run_started
            rate = (now_done - self.status["done_at_start"]) / elapsed if elapsed > 0 else None
            left = self.status["total"] - now_done
            self.status.update(done=now_done, rate=rate, eta_s=left / rate if rate else None)
            self._write()

        return on_progress

    def _write(self, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._written < STATUS_EVERY_S:
            return
        self._written = now
        self.status["updated"] = now
        write_status(self.index_dir, self.status)
