"""A bounded slice of the hostile-messages probe (benchmarks/probes/hostile_messages.py): a
real `codeloupe serve` and a real `codeloupe mcp` take hostile messages in batches and answer
every health request correctly; plus the framing cases that once swallowed the stream."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.probes import hostile_messages
from benchmarks.probes._common import HEALTH_FILES, RawLsp, frame, make_repo


def test_a_slice_of_hostile_messages_breaks_nothing() -> None:
    rows = hostile_messages.run(budget_s=50.0, seed=7, count=150)
    for row in rows:
        assert row["tried"] > 0, row
        assert (row["crashes"], row["hangs"], row["wrong"], row["leaks"]) == (0, 0, 0, 0), row


def test_framing_a_hostile_peer_cannot_use_to_stall_the_server(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", HEALTH_FILES)
    server = RawLsp(repo, tmp_path / "index", tmp_path / "server.log")
    try:
        server.initialize()
        # pygls waited for 10^14 bytes here, swallowing every later message
        server.send_bytes(b"Content-Length: 99999999999999\r\n\r\n\r\n")
        # a header line with no end, 1 MB long
        server.send_bytes(b"X" * (1 << 20) + b"\r\n\r\n")
        # a body that is not JSON: Parse error (-32700), id null
        server.send_bytes(frame(b'{"jsonrpc": "2.0", "id": 1, "meth'))
        answer = server.wait(None, 10)
        assert answer is not None and answer["error"]["code"] == -32700, answer
        assert hostile_messages.health(server) is None
        # nesting past the JSON parser's limit: no crash, still serving
        deep = "[" * 100_000 + "]" * 100_000
        server.send_bytes(frame(json.dumps({"jsonrpc": "2.0", "id": "deep",
                                            "method": "codeloupe/search"})[:-1].encode()
                                + f', "params": {{"query": {deep}}}}}'.encode()))
        assert hostile_messages.health(server) is None
        assert server.alive()
    finally:
        assert server.stop() == 0
