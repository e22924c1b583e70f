"""Background work yields to requests: a token given a ForegroundGate pauses at its checks
while a young request is active, and only then."""

from __future__ import annotations

import threading
import time

import pytest

from indexer.ingest import Cancelled, CancelToken, ForegroundGate


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> ForegroundGate:
    monkeypatch.setattr(ForegroundGate, "MAX_PAUSE_S", 10.0)  # order, not timing, decides
    return ForegroundGate()


def test_background_check_waits_for_the_request_to_finish(gate: ForegroundGate) -> None:
    token = CancelToken(gate)
    request_done = threading.Event()
    seen: list[bool] = []
    entered = threading.Event()

    def background() -> None:
        entered.wait()
        token.check()
        seen.append(request_done.is_set())

    worker = threading.Thread(target=background)
    worker.start()
    with gate.active():
        entered.set()
        time.sleep(0.2)
        request_done.set()
    worker.join(5)
    assert seen == [True]


def test_requests_do_not_pause_themselves_or_idle_work(gate: ForegroundGate) -> None:
    started = time.monotonic()
    CancelToken(gate).check()  # no request active
    with gate.active():
        CancelToken().check()  # a request's own token has no gate
    assert time.monotonic() - started < 5


def test_an_old_request_stops_holding_background_work(gate: ForegroundGate,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ForegroundGate, "YOUNG_S", 0.05)
    with gate.active():
        time.sleep(0.1)  # e.g. a request waiting for the index build itself
        started = time.monotonic()
        CancelToken(gate).check()
        assert time.monotonic() - started < 5


def test_a_cancelled_token_still_raises(gate: ForegroundGate) -> None:
    token = CancelToken(gate)
    token.cancel()
    with pytest.raises(Cancelled):
        token.check()
