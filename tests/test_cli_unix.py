"""Unix conventions of the command line, on real processes: 130 after Ctrl-C (and the last good
index still readable), 141 and no traceback when stdout's reader goes away, one exit code for
"no result", old option spellings still accepted, and a first run with nothing third-party on
stderr."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_repo


def python_files(modules: int, functions: int) -> dict[str, str]:
    return {f"pkg{m // 50}/mod{m}.py": "".join(
        f"def function_{m}_{k}(x):\n    '''Adds {k}.'''\n    return x + {k}\n\n"
        for k in range(functions)) for m in range(modules)}


def cli(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=repo, env=env,
                          capture_output=True, timeout=300)


@pytest.fixture
def env(index_root: Path) -> dict[str, str]:
    return {**os.environ, "CODELOUPE_DAEMON": "off"}


def _pool_started(pid: int) -> bool:
    """Whether `pid` has a child started by multiprocessing (the chunking pool)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and \
                    b"multiprocessing" in Path(f"/proc/{entry}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def test_ctrl_c_during_index_exits_130_and_keeps_the_last_good_index(
        tmp_path: Path, env: dict[str, str]) -> None:
    repo = make_repo(tmp_path / "repo", {"first.py": "STILL_HERE = 1\n"})
    assert cli(repo, env, "index", "--no-chunks").returncode == 0
    for name, text in python_files(1500, 40).items():  # seconds of work for the next index
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "index", "--no-embed"], cwd=repo,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # its own group, as a terminal's job
    # interrupt mid-work, once the chunking pool runs (not after a fixed time: a quiet
    # machine finished before 2 s, a busy one had not started)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not _pool_started(proc.pid):
        time.sleep(0.02)
    time.sleep(0.5)  # past the workers' start (a Ctrl-C within it: see enrich._submit)
    assert proc.poll() is None, "the index finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    # one line, no traceback from any thread or worker process
    assert err.decode().strip() == "codeloupe: interrupted; the previous index is unchanged", err
    found = cli(repo, env, "search", "--no-refresh", "STILL_HERE")
    assert found.returncode == 0 and found.stdout.startswith(b"first.py:1:1:"), found.stderr


@pytest.mark.parametrize("daemon", ["off", "on"])
def test_a_closed_pipe_exits_141_without_a_traceback(tmp_path: Path, index_root: Path,
                                                      daemon: str) -> None:
    repo = make_repo(tmp_path / "repo", python_files(100, 40))  # 4,000 matching lines
    env = {**os.environ, "CODELOUPE_DAEMON": daemon}
    try:
        for _ in range(2):  # with the daemon: the first run starts it, the second uses it
            proc = subprocess.Popen([sys.executable, "-m", "indexer", "search", "return x"],
                                    cwd=repo, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            assert proc.stdout is not None and proc.stderr is not None
            assert proc.stdout.readline().startswith(b"pkg0/mod0.py:")  # `| head -1`
            proc.stdout.close()
            err = proc.stderr.read()
            assert proc.wait(timeout=120) == 141, err
            assert err == b"", err
            if daemon == "on":
                deadline = time.monotonic() + 30
                while not (index_root / "daemon.sock").exists():
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
    finally:
        if daemon == "on":
            subprocess.run([sys.executable, "-m", "indexer", "daemon", "--stop"], env=env,
                           capture_output=True)


def test_no_result_exits_1_everywhere_and_old_spellings_still_work(
        tmp_path: Path, env: dict[str, str]) -> None:
    repo = make_repo(tmp_path / "repo", {"shop.py": "class Cart:\n    def total(self):\n"
                                                    "        return 0\n"})
    assert cli(repo, env, "index", "--no-embed").returncode == 0
    assert cli(repo, env, "search", "zzz_nothing").returncode == 1
    assert cli(repo, env, "symbols", "zzzqqq").returncode == 1
    hits = cli(repo, env, "symbols", "--kind", "class", "--kind", "method", "-k", "5", "t")
    assert hits.returncode == 0
    assert b"Cart" in hits.stdout and b"total" in hits.stdout, hits.stdout
    old = cli(repo, env, "symbols", "--limit", "1", "--kind", "class", "Cart")
    assert old.returncode == 0 and old.stdout.count(b"\n") == 1
    shown = cli(repo, env, "symbols", "--help").stdout.decode()
    assert "-k, --top-k" in shown and "--limit" not in shown  # a hidden alias
    gloss_help = cli(repo, env, "gloss", "--help").stdout.decode()
    assert "--max-chunks" in gloss_help and "--budget INTEGER" not in gloss_help


def test_the_first_run_prints_no_third_party_warning(tmp_path: Path, env: dict[str, str]
                                                     ) -> None:
    """A fresh model cache: the ONNX export runs (torch's TracerWarnings, the quantizer's
    advice) and only our one line about it reaches stderr."""
    pytest.importorskip("onnxruntime")
    repo = make_repo(tmp_path / "repo", {"m.py": "def add(a, b):\n    '''Add.'''\n"
                                                 "    return a + b\n"})
    env = {**env, "CODELOUPE_MODEL_CACHE": str(tmp_path / "models")}
    # `index` embeds (or leaves that to later); `ask` loads the model in any case
    runs = [cli(repo, env, "index"), cli(repo, env, "ask", "-k", "1", "add two numbers")]
    for run in runs:
        assert run.returncode == 0, run.stderr
    stderr = b"".join(run.stderr for run in runs).decode()
    lines = stderr.splitlines()
    # at most one line about the export (none if a background embedder made it) and else
    # nothing but our own labelled lines: no third-party warning
    assert lines.count("preparing embedding model (once)…") <= 1, stderr
    assert all(line == "preparing embedding model (once)…" or line.startswith("codeloupe: ")
               for line in lines), stderr
    assert "warn" not in stderr.lower()
    assert list((tmp_path / "models").rglob("*.onnx")), "the export did not run"
    assert b"m.py" in runs[1].stdout


def test_ask_says_it_waits_for_another_writer(tmp_path: Path, env: dict[str, str]) -> None:
    repo = make_repo(tmp_path / "repo", {"pay.py": "def retry_payment(order):\n"
                                                   "    '''Retry a failed payment.'''\n"})
    assert cli(repo, env, "index", "--no-embed").returncode == 0
    (repo / "pay.py").write_text("def retry_payment(order, times=3):\n    return times\n")
    holder = subprocess.Popen(  # another writer, as a long `codeloupe index` would be
        [sys.executable, "-c", "import sys, time\n"
         "from indexer.workspace import Workspace\n"
         "ws = Workspace.open(sys.argv[1])\n"
         "with ws.store.write_lock():\n"
         "    print('held', flush=True)\n"
         "    time.sleep(3)\n", str(repo)], env=env, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        asked = cli(repo, env, "ask", "-k", "1", "--rerank", "none", "retry a payment")
    finally:
        holder.wait(timeout=30)
    assert asked.returncode == 0, asked.stderr
    # never silent: it waits and says so, or answers from the last complete index and says so
    assert b"another codeloupe process" in asked.stderr
    assert b"pay.py" in asked.stdout


def test_other_subcommands_exit_141_on_a_closed_pipe(tmp_path: Path, env: dict[str, str]
                                                     ) -> None:
    repo = make_repo(tmp_path / "repo", python_files(40, 40))
    assert cli(repo, env, "index", "--no-embed").returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "symbols", "-k", "1600",
                             "function"], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"function")
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141 and err == b"", err
