"""What the standing probes share: real git repositories, a raw LSP client over a real
`codeloupe serve` subprocess (raw, so that it can send what no well-behaved client would),
an MCP stdio client, process metrics from /proc, and the table printer."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.probes.common import GIT_ENV, git, make_repo, print_table  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
# the code the probed servers run: this checkout, or another (a baseline) named here
CODE_ROOT = Path(os.environ.get("CODELOUPE_PROBE_CODE") or ROOT)
HEALTH_FILES = {
    "src/widgets.py": "class WidgetFactory:\n    def make_widget(self, name):\n"
                      "        return name\n\n\ndef getTextSize(text):\n    return len(text)\n",
    "src/app.js": "function startServer(port) {\n  return port;\n}\n",
    "docs/guide.md": "# Guide\n\nThe target audience is everyone.\n",
}


def server_env(index_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "CODELOUPE_INDEX_DIR": str(index_dir), "CODELOUPE_DAEMON": "off",
            "PYTHONPATH": os.pathsep.join([str(CODE_ROOT), os.environ.get("PYTHONPATH", "")]),
            "PYTHONUNBUFFERED": "1", **extra}


def proc_status(pid: int) -> dict[str, int]:
    """RSS (kB) and thread count of a live process."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "Threads"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawLsp:
    """A language server subprocess spoken to byte by byte. A reader thread parses its
    output frames: responses by id, notifications in a list."""

    def __init__(self, repo: Path, index_dir: Path, log: Path, **env: str) -> None:
        self.repo = repo
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "indexer", "serve", "--stdio"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, env=server_env(index_dir, **env),
                                     cwd=str(repo))
        self.responses: dict[Any, dict[str, Any]] = {}
        self.notifications: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.cond = threading.Condition()
        self.write_lock = threading.Lock()
        self.next_id = 0
        self.unparsable = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    with self.cond:
                        self.cond.notify_all()
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length is None:
                continue
            body = out.read(length)
            try:
                message = json.loads(body)
            except ValueError:
                self.unparsable += 1
                continue
            if isinstance(message, dict) and "method" in message and "id" in message:
                # a request from the server (progress tokens, configuration): answer null
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif isinstance(message, dict) and "method" in message:
                self.notifications.put(message)
            elif isinstance(message, dict):
                with self.cond:
                    self.responses[_key(message.get("id"))] = message
                    self.cond.notify_all()

    def send_bytes(self, data: bytes) -> bool:
        try:
            with self.write_lock:
                assert self.proc.stdin is not None
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def send(self, message: Any) -> bool:
        return self.send_bytes(frame(json.dumps(message).encode()))

    def new_id(self, prefix: str = "p") -> str:
        self.next_id += 1
        return f"{prefix}-{self.next_id}"

    def request_async(self, method: str, params: Any, msg_id: Any = None) -> Any:
        msg_id = msg_id if msg_id is not None else self.new_id()
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id

    def wait(self, msg_id: Any, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        key = _key(msg_id)
        with self.cond:
            while key not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive():
                    return None
                self.cond.wait(min(left, 0.2))
            return self.responses.pop(key)

    def request(self, method: str, params: Any, timeout: float = 30.0) -> dict[str, Any] | None:
        return self.wait(self.request_async(method, params), timeout)

    def notify(self, method: str, params: Any) -> bool:
        return self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def initialize(self, timeout: float = 120.0) -> None:
        answer = self.request("initialize", {
            "processId": os.getpid(), "rootUri": self.repo.as_uri(),
            "capabilities": {"window": {"workDoneProgress": False}},
            "workspaceFolders": [{"uri": self.repo.as_uri(), "name": self.repo.name}]},
            timeout)
        if answer is None or "result" not in answer:
            raise RuntimeError(f"initialize failed: {answer}")
        self.notify("initialized", {})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.request("codeloupe/status", {"checkFresh": False}, 30)
            folders = (status or {}).get("result", {}).get("folders", [])
            if folders and folders[0].get("state") == "ready":
                return
            time.sleep(0.2)
        raise RuntimeError("the server did not finish its first index")

    def stop(self) -> int | None:
        if self.alive():
            answer = self.request("shutdown", None, 15)
            if answer is not None:
                self.notify("exit", None)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        self.log.close()
        return self.proc.returncode


def _key(msg_id: Any) -> str:
    return json.dumps(msg_id, sort_keys=True)


def has_traceback(value: Any) -> bool:
    text = json.dumps(value, default=str)
    return "Traceback" in text or '"traceback"' in text or 'File \\"' in text


