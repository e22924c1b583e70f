"""Diagnostics: log what the server was doing when its event loop stalled.

Enabled with `CODELOUPE_TRACE_STALLS=MS` (e.g. 40). A heartbeat on the event loop every few
milliseconds; a watchdog thread that sees a heartbeat late by more than MS logs the stacks of
every thread (the one holding the GIL is usually still in, or just past, the long call), and
every garbage collection that took more than MS/2. For benchmarks and bug reports; off by
default (the heartbeat costs a wake-up every 5 ms).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import threading
import time
import traceback

from indexer.ingest import ForegroundGate

logger = logging.getLogger(__name__)
HEARTBEAT_S = 0.005


def stall_threshold_ms() -> float | None:
    raw = os.environ.get("CODELOUPE_TRACE_STALLS", "").strip()
    try:
        return float(raw) if raw else None
    except ValueError:
        logger.warning("CODELOUPE_TRACE_STALLS=%r is not a number of milliseconds", raw)
        return None


def _stack_of(ident: int) -> str:
    frame = sys._current_frames().get(ident)
    if frame is None:
        return "(gone)"
    name = next((t.name for t in threading.enumerate() if t.ident == ident), str(ident))
    return f"--- {name}\n" + "".join(traceback.format_stack(frame, limit=8))


def start_stall_tracing(loop: asyncio.AbstractEventLoop, threshold_ms: float,
                        foreground: ForegroundGate | None = None) -> None:
    """Also logs, once, the stack of each request running longer than the threshold."""
    last = [time.perf_counter()]

    def beat() -> None:
        last[0] = time.perf_counter()
        loop.call_later(HEARTBEAT_S, beat)

    loop.call_soon_threadsafe(beat)
    gc_started = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - gc_started[0]) * 1000
        if ms > threshold_ms / 2:
            logger.warning("stall trace: gc generation %s took %.1f ms (%s collected)",
                           info.get("generation"), ms, info.get("collected"))

    gc.callbacks.append(on_gc)

    reported: set[tuple[float, int]] = set()

    def watch() -> None:
        while not loop.is_closed():
            time.sleep(HEARTBEAT_S)
            now = time.monotonic()
            for started, ident in list(foreground.running.values()) if foreground else ():
                if (now - started) * 1000 > threshold_ms and (started, ident) not in reported:
                    reported.add((started, ident))
                    logger.warning("stall trace: a request running for %.0f ms\n%s",
                                   (now - started) * 1000, _stack_of(ident))
            late = (time.perf_counter() - last[0]) * 1000 - HEARTBEAT_S * 1000
            if late > threshold_ms:
                stacks = []
                for ident, frame in sys._current_frames().items():
                    if ident == threading.get_ident():
                        continue
                    name = next((t.name for t in threading.enumerate() if t.ident == ident),
                                str(ident))
                    stacks.append(f"--- {name}\n" +
                                  "".join(traceback.format_stack(frame, limit=6)))
                logger.warning("stall trace: event loop %.0f ms late\n%s", late,
                               "\n".join(stacks))
                last[0] = time.perf_counter()  # one report per stall

    threading.Thread(target=watch, name="codeloupe-stall-trace", daemon=True).start()
