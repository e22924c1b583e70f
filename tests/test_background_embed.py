"""Index now, embed in the background: `codeloupe index` returns before the embeddings, the
backlog is embedded by a low-priority worker (started by the daemon), resumes after a kill,
and `ask` never hangs behind another process writing the index."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.embed.backlog import read_status, running_pid, start_worker, stop_worker
from indexer.workspace import Workspace
from tests.conftest import make_repo

WORDS = ["invoice", "parcel", "refund", "ledger", "cursor", "socket", "thumbnail", "quota",
         "webhook", "session", "archive", "palette", "tariff", "voucher", "sensor", "glyph"]


def big_repo(root: Path, functions: int = 960) -> Path:
    """A repository with more chunks than `ask` embeds on the spot (AUTO_EMBED)."""
    files: dict[str, str] = {}
    for f in range(functions // 16):
        body = []
        for i in range(16):
            a, b = WORDS[(f + i) % len(WORDS)], WORDS[(f * 3 + i * 5) % len(WORDS)]
            body.append(f"def {a}_{b}_{f}_{i}(value):\n"
                        f"    \"\"\"Turn a {a} into a {b} ({f}.{i}).\"\"\"\n"
                        f"    return value * {f * 16 + i} + len('{a}{b}')\n\n\n")
        files[f"pkg/mod_{f:03d}.py"] = "".join(body)
    files["pkg/shipping.py"] = ("def shipping_cost(weight_kg, country):\n"
                                "    \"\"\"Price of sending a parcel abroad by weight.\"\"\"\n"
                                "    return 4.5 + weight_kg * (2 if country != 'NL' else 1)\n")
    return make_repo(root, files)


def run(repo: Path, env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=timeout)


def status(repo: Path, env: dict) -> dict:
    done = run(repo, env, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def env(tmp_path: Path) -> dict:
    return {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "indexes"),
            "CODELOUPE_DAEMON": "off", "CODELOUPE_EMBEDDING_PRIORITY": "normal"}


def test_index_returns_before_embedding_and_regex_and_lexical_ask_work(tmp_path: Path,
                                                                       env: dict) -> None:
    repo = big_repo(tmp_path / "repo")
    done = run(repo, env, "index")
    assert done.returncode == 0, done.stderr
    assert "embeddings: 0% of" in done.stdout and "--wait" in done.stdout
    state = status(repo, env)
    assert state["embedded"] == 0.0 and state["chunks"] > 400 and state["job"] is None
    found = run(repo, env, "search", "-w", "shipping_cost")
    assert found.returncode == 0 and "pkg/shipping.py:1:" in found.stdout
    asked = run(repo, env, "ask", "--json", "-k", "3", "price of sending a parcel abroad")
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout.splitlines()[0])["name"] == "shipping_cost"
    assert "0% of" in asked.stderr and "embedded so far" in asked.stderr
    assert status(repo, env)["embedded"] == 0.0  # a big backlog is not ask's to embed


def test_the_daemon_embeds_the_backlog_and_ask_then_uses_dense(tmp_path: Path,
                                                               env: dict) -> None:
    repo = big_repo(tmp_path / "repo")
    daemon_env = {**env, "CODELOUPE_DAEMON": "on"}
    daemon = subprocess.Popen([sys.executable, "-m", "indexer", "daemon", "--idle", "120"],
                              env=daemon_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        socket_path = tmp_path / "indexes" / "daemon.sock"
        for _ in range(200):
            if socket_path.exists():
                break
            time.sleep(0.05)
        started = time.monotonic()
        done = run(repo, daemon_env, "index")
        assert done.returncode == 0, done.stderr
        assert "continuing in the background" in done.stdout
        seen_job = False
        deadline = time.monotonic() + 240
        while True:
            state = status(repo, env)
            seen_job |= state["job"] is not None
            if state["embedded"] == 1.0 and state["job"] is None:
                break
            assert time.monotonic() < deadline, f"backlog not done: {state}"
            time.sleep(0.5)
        assert seen_job or time.monotonic() - started < 5
        index_dir = Path(status(repo, env)["index_dir"])
        final = read_status(index_dir)
        assert final is not None and final["state"] == "done" and final["rate"] > 0
        asked = run(repo, env, "ask", "--json", "-k", "3", "price of sending a parcel abroad")
        assert asked.returncode == 0, asked.stderr
        top = json.loads(asked.stdout.splitlines()[0])
        assert top["name"] == "shipping_cost" and "dense" in top["ranks"]
        assert "embedded so far" not in asked.stderr
    finally:
        subprocess.run([sys.executable, "-m", "indexer", "daemon", "--stop"], env=daemon_env,
                       capture_output=True)
        assert daemon.wait(timeout=20) == 0


def test_ask_during_another_index_run_answers_with_a_message(tmp_path: Path,
                                                             env: dict) -> None:
    repo = big_repo(tmp_path / "repo", functions=64)
    assert run(repo, env, "index", "--wait").returncode == 0
    (repo / "pkg" / "new.py").write_text("def fresh_thing():\n    return 1\n")
    ws = Workspace.open(repo, index_dir=Path(status(repo, env)["index_dir"]))
    try:
        with ws.store.write_lock():  # another `codeloupe index` is writing
            started = time.monotonic()
            asked = run(repo, env, "ask", "-k", "3", "price of sending a parcel abroad",
                        timeout=60)
            elapsed = time.monotonic() - started
    finally:
        ws.close()
    assert asked.returncode == 0, asked.stderr
    assert "shipping_cost" in asked.stdout
    assert f"pid {os.getpid()}" in asked.stderr and "last complete index" in asked.stderr
    assert elapsed < 30


def test_a_killed_worker_resumes_where_it_stopped(tmp_path: Path, env: dict,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    repo = big_repo(tmp_path / "repo", functions=1280)
    assert run(repo, env, "index").returncode == 0
    index_dir = Path(status(repo, env)["index_dir"])
    monkeypatch.setenv("CODELOUPE_EMBEDDING_PRIORITY", "normal")
    first = start_worker(index_dir, repo)
    assert first is not None
    try:
        deadline = time.monotonic() + 120
        while (read_status(index_dir) or {}).get("done", 0) < 256:
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        assert start_worker(index_dir, repo) is None  # one worker per index
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    killed = read_status(index_dir)
    assert killed is not None and killed["state"] == "interrupted"
    assert running_pid(index_dir) is None
    embedded_before = status(repo, env)["embedded_chunks"]
    assert 0 < embedded_before < killed["chunks"]
    second = start_worker(index_dir, repo)
    assert second is not None
    try:
        assert second.wait(timeout=240) == 0
    finally:
        stop_worker(second)
    final = read_status(index_dir)
    assert final is not None and final["state"] == "done"
    assert final["total"] <= killed["total"] - embedded_before  # resumed, not redone
    assert status(repo, env)["embedded"] == 1.0


def test_the_backlog_goes_by_value(tmp_path: Path) -> None:
    """Changed files first (what the user works on), then public definitions, then private
    ones and module-level code."""
    def fn(name: str) -> str:  # big enough to be a chunk of its own
        body = "".join(f"    step_{i} = value * {i} + len('{name}')\n" for i in range(12))
        return f"def {name}(value):\n{body}    return step_11\n\n\n"

    repo = make_repo(tmp_path / "repo", {"a.py": "import os\n\n\n" + fn("_helper") +
                                         fn("public_api"),
                                         "b.py": fn("_b_private") + fn("b_public"),
                                         "c.py": fn("c_public")})
    (repo / "b.py").write_text((repo / "b.py").read_text() + fn("b_new"))
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    try:
        ws.index(None)
        ws.enrich(None)
        searcher = ws.semantic(None, refresh=False)
        table = searcher.table
        order = [(table.paths[r], table.names[r] or table.kinds[r])
                 for r in searcher.backlog_order(list(range(len(table))))]
        focused = [table.paths[r] for r in
                   searcher.backlog_order(list(range(len(table))), {"c.py"})]
    finally:
        ws.close()
    assert [p for p, _ in order[:3]] == ["b.py"] * 3  # the changed file first
    assert order[0][1] in ("b_public", "b_new") and order[2][1] == "_b_private"
    rest = [name for _, name in order[3:]]
    assert rest.index("public_api") < rest.index("_helper")
    assert order[-1][0] != "c.py"  # c_public is public: before module-level code
    assert sorted(focused[:4]) == ["b.py", "b.py", "b.py", "c.py"]  # an open file leads too
