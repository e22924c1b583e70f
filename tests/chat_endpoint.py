"""A real OpenAI-compatible chat endpoint on 127.0.0.1 for tests, answering from a script."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Endpoint:
    """`POST /v1/chat/completions` on 127.0.0.1, answering from a script: each request takes
    the next behaviour, then `default` once the script is empty."""

    def __init__(self) -> None:
        self.script: list[str] = []
        self.default = "ok"
        self.requests: list[dict] = []
        self.times: list[float] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.custom: Callable[[dict], str] | None = None  # mode "custom": our own answer
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with endpoint.lock:
                    endpoint.requests.append(body)
                    endpoint.times.append(time.monotonic())
                    endpoint.headers.append(dict(self.headers))
                    mode = endpoint.script.pop(0) if endpoint.script else endpoint.default
                if self.path != "/v1/chat/completions":
                    return self.reply(404, {"error": {"message": "no such route"}})
                endpoint.respond(self, mode, body)

            def reply(self, code: int, payload: object, headers: dict | None = None) -> None:
                raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @staticmethod
    def answer(body: dict) -> str:
        """A good gloss naming the chunk, so tests can tell answers apart."""
        user = body["messages"][-1]["content"]
        name = next((line[6:] for line in user.splitlines() if line.startswith("Name: ")),
                    "module code")
        return f"Model gloss of {name}: it does useful work for the caller."

    def respond(self, handler, mode: str, body: dict) -> None:  # noqa: ANN001
        def completion(content: object, finish: str = "stop") -> dict:
            return {"id": "x", "object": "chat.completion", "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": finish,
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 12}}

        if mode == "custom":
            assert self.custom is not None
            handler.reply(200, completion(self.custom(body)))
        elif mode == "ok":
            handler.reply(200, completion(self.answer(body)))
        elif mode == "500":
            handler.reply(500, {"error": {"message": "overloaded"}})
        elif mode == "429":
            handler.reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "0.3"})
        elif mode == "401":
            handler.reply(401, {"error": {"message": "bad key"}})
        elif mode == "not-json":
            handler.reply(200, b"<html>upstream proxy error</html>")
        elif mode == "no-choices":
            handler.reply(200, {"object": "chat.completion", "choices": []})
        elif mode == "empty":
            handler.reply(200, completion(""))
        elif mode == "refusal":
            handler.reply(200, completion("I'm sorry, but I can't help with that."))
        elif mode == "code":
            handler.reply(200, completion("```python\nreturn x\n```"))
        elif mode == "cut-off":
            handler.reply(200, completion("This function does a great many things and", "length"))
        elif mode == "hang":
            self.release.wait(5)  # past any client timeout used here
            handler.reply(200, completion(self.answer(body)))
        else:
            raise AssertionError(mode)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    yield server
    server.close()
