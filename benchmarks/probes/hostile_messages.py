"""Standing probe: hostile messages against a real `codeloupe serve` (LSP over stdio) and a
real `codeloupe mcp`, in batches, each batch followed by health requests that must be answered
correctly and promptly.

Hostile: broken framing (bad or huge Content-Length, bodies that are not JSON, headers without
end), wrong JSON-RPC types (ids, methods, params), huge strings (1-10 MB queries, globs,
buffers), bad URIs (%00, other schemes, remote hosts, `..`), out-of-range positions, unknown
methods, cancels of unknown ids, 10 MB messages, nested JSON within and past the parser's
limits, codeloupe/* with bad params; and, for a share of the count, hostile MCP tool calls.

Counted: crashes (the process died), hangs (a health request, or a hostile request that wants
an answer, not answered in time), wrong (a server traceback in an error, or an error code that
is not the one the input calls for), leaks (RSS grew past a bound, or threads did).

    python benchmarks/probes/hostile_messages.py --count 1000 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.probes._common import (  # noqa: E402
    HEALTH_FILES,
    RawLsp,
    frame,
    has_traceback,
    make_repo,
    print_table,
    proc_status,
    server_env,
)

BATCH = 25
HEALTH_DEADLINE_S = 20.0
ANSWER_DEADLINE_S = 30.0
RSS_BOUND_KB = 400_000  # growth over the run
THREADS_BOUND = 64
MCP_SHARE = 0.1
MB = 1 << 20

INVALID = {-32602}
INVALID_OR_FAILED = {-32602, -32803}
UNKNOWN = {-32601}
ANY_ERROR_NOT_INTERNAL = {-32600, -32601, -32602, -32700, -32800, -32803}


class Hostile:
    """One hostile message: the bytes, and what the answer must be (None: nothing awaited).
    `codes`: the error codes allowed; `result_ok`: whether a result (not an error) is fine."""

    def __init__(self, kind: str, data: bytes, msg_id: str | None = None,
                 codes: set[int] | None = None, result_ok: bool = False,
                 after: bytes = b"") -> None:
        self.kind = kind
        self.data = data + after
        self.msg_id = msg_id
        self.codes = codes or ANY_ERROR_NOT_INTERNAL
        self.result_ok = result_ok


def _req(msg_id: str, method: Any, params: Any, **extra: Any) -> bytes:
    body = {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params, **extra}
    return frame(json.dumps(body).encode())


def _note(method: Any, params: Any) -> bytes:
    return frame(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode())


def _nested(depth: int, leaf: Any = "x") -> str:
    return "[" * depth + json.dumps(leaf) + "]" * depth


def generators(repo: Path) -> list[Callable[[random.Random, str], Hostile]]:
    uri = repo.as_uri()
    bad_uris = [f"{uri}/src/a%00b.py", "file:///%00", f"{uri}%00", "untitled:Untitled-1",
                "http://example.com/x.py", "file://remote/x.py", "file:relative.py", "",
                "file:///" + "a/" * 2000 + "x.py", f"{uri}/%ff%fe.py", f"{uri}/../outside.py",
                f"{uri}/%2e%2e/%2e%2e/etc/passwd", "file:///etc/passwd", "file:///proc/self/environ",
                "vscode-notebook-cell:/x#y", "\u202e.py", "file:///dev/zero"]
    bad_values: list[Any] = [None, 1, "x", [], True, 1.5, {"a": {"b": []}}]
    custom = ["codeloupe/search", "codeloupe/symbols", "codeloupe/context", "codeloupe/ask",
              "codeloupe/status", "codeloupe/branches", "codeloupe/reindex"]

    def framing_not_json(r: random.Random, i: str) -> Hostile:
        body = r.choice([b'{"jsonrpc": "2.0", "id": 1, "meth', b"\xff\xfe\x00garbage", b"[",
                         b'{"jsonrpc":"2.0","id":"x","method":"codeloupe/search","params":{',
                         b"null", b"123", b'"str"', b"[]", b"[1,2]", b"{}", b"\x00" * 64])
        return Hostile("framing: body not a message", frame(body))

    def framing_bad_length(r: random.Random, i: str) -> Hostile:
        header = r.choice([b"Content-Length: abc\r\n\r\n", b"Content-Length: -5\r\n\r\n",
                           b"Content-Length: 99999999999999\r\n\r\n",
                           b"Content-Length: 1e3\r\n\r\n", b"Content-Length:\r\n\r\n",
                           b"content-length: 10\r\n\r\n", b"Content-Length: 0\r\n\r\n",
                           b"X-Garbage\r\n\r\n"])
        # a line end after it: what follows is read as headers, never glued to the next frame
        return Hostile("framing: bad Content-Length", header, after=b"\r\n")

    def framing_short(r: random.Random, i: str) -> Hostile:
        body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "workspace/symbol",
                           "params": {"query": "x"}}).encode()
        cut = r.randint(1, len(body) - 1)
        return Hostile("framing: length shorter than body",
                       b"Content-Length: %d\r\n\r\n" % cut + body, after=b"\r\n")

    def framing_headers(r: random.Random, i: str) -> Hostile:
        body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "workspace/symbol",
                           "params": {"query": "getTextSize"}}).encode()
        extra = r.choice([b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n",
                          b"X-Unknown: " + b"y" * 1000 + b"\r\n", b""])
        data = b"Content-Length: %d\r\n" % len(body) + extra + b"\r\n" + body
        return Hostile("framing: extra headers", data, i, result_ok=True)

    def framing_long_line(r: random.Random, i: str) -> Hostile:
        return Hostile("framing: endless header line", b"X" * r.choice([70_000, MB]),
                       after=b"\r\n\r\n")

    def wrong_types(r: random.Random, i: str) -> Hostile:
        choice = r.randrange(8)
        if choice == 0:
            return Hostile("types: id an object", _req({"a": 1}, "workspace/symbol",  # type: ignore[arg-type]
                                                       {"query": "x"}))
        if choice == 1:
            return Hostile("types: method a number", frame(json.dumps(
                {"jsonrpc": "2.0", "id": i, "method": 5, "params": {}}).encode()))
        if choice == 2:
            return Hostile("types: workspace/symbol query a number",
                           _req(i, "workspace/symbol", {"query": r.choice([5, None, [], {}])}),
                           i, INVALID, result_ok=True)
        if choice == 3:
            return Hostile("types: params a string", _req(i, r.choice(custom), "params"), i,
                           INVALID)
        if choice == 4:
            return Hostile("types: didOpen textDocument a number",
                           _note("textDocument/didOpen", {"textDocument": 5}))
        if choice == 5:
            return Hostile("types: jsonrpc 1.0", frame(json.dumps(
                {"jsonrpc": "1.0", "id": i, "method": "workspace/symbol",
                 "params": {"query": "x"}}).encode()))
        if choice == 6:
            return Hostile("types: id a float", _req(r.random(), "workspace/symbol",  # type: ignore[arg-type]
                                                     {"query": "x"}))
        return Hostile("types: a response nobody asked for", frame(json.dumps(
            {"jsonrpc": "2.0", "id": i, "result": {"x": 1}}).encode()))

    def huge_strings(r: random.Random, i: str) -> Hostile:
        size = r.choice([MB, 2 * MB, 10 * MB])
        choice = r.randrange(5)
        if choice == 0:
            return Hostile("huge: search literal", _req(i, "codeloupe/search",
                                                        {"query": "a" * size}), i, INVALID)
        if choice == 1:
            return Hostile("huge: * glob", _req(i, "codeloupe/search", {
                "query": "x", "includes": ["*" * size]}), i, INVALID)
        if choice == 2:
            return Hostile("huge: workspace/symbol query",
                           _req(i, "workspace/symbol", {"query": "b" * size}), i, INVALID,
                           result_ok=True)
        if choice == 3:
            return Hostile("huge: ask question", _req(i, "codeloupe/ask",
                                                      {"query": "why " * (size // 4)}), i,
                           INVALID)
        doc = f"{repo.as_uri()}/src/huge_{i}.py"
        return Hostile("huge: didOpen buffer (then closed)", _note("textDocument/didOpen", {
            "textDocument": {"uri": doc, "languageId": "python", "version": 1,
                             "text": "x = 1\n" * (size // 6)}}) +
            _note("textDocument/didClose", {"textDocument": {"uri": doc}}))

    def bad_uri(r: random.Random, i: str) -> Hostile:
        bad = r.choice(bad_uris)
        # a path inside the workspace folder is a scope, even one that does not exist
        inside = bad.startswith(uri + "/") and not any(t in bad for t in ("%00", "..", "%2e"))
        # not a URI nor an absolute path: a path relative to the folder (a file may be named so)
        relative = not bad.startswith(("file:", "/")) and ".." not in bad
        choice = r.randrange(4)
        if choice == 0:
            doc = {"uri": bad, "languageId": "python", "version": 1, "text": "hostile = 1\n"}
            return Hostile("uri: didOpen/didChange/didSave", _note(
                "textDocument/didOpen", {"textDocument": doc}) + _note(
                "textDocument/didChange", {"textDocument": {"uri": bad, "version": 2},
                                           "contentChanges": [{"text": "hostile = 2\n"}]}) +
                _note("textDocument/didSave", {"textDocument": {"uri": bad}}))
        if choice == 1:
            return Hostile("uri: didClose", _note("textDocument/didClose",
                                                  {"textDocument": {"uri": bad}}))
        if choice == 2:
            return Hostile(f"uri: search folder {bad[:50]!r}", _req(i, "codeloupe/search",
                                                      {"query": "x", "folder": bad}), i,
                           INVALID_OR_FAILED, result_ok=inside)
        return Hostile(f"uri: search paths {bad[:40]!r}", _req(i, "codeloupe/search",
                                                 {"query": "x", "paths": [bad]}), i,
                       INVALID_OR_FAILED, result_ok=inside or relative)

    def positions(r: random.Random, i: str) -> Hostile:
        line = r.choice([-1, 2 ** 31, 2 ** 63, 10 ** 30, 0])
        rng = {"start": {"line": line, "character": r.choice([-1, 0, 2 ** 40])},
               "end": {"line": r.choice([0, 2 ** 31 - 1]), "character": 0}}
        if r.random() < 0.5:
            return Hostile("positions: context selection", _req(i, "codeloupe/context", {
                "task": "make a widget", "selection": {"uri": f"{uri}/src/widgets.py",
                                                       "range": rng}}), i,
                # a well-formed range past the file's end: RequestFailed, saying so
                INVALID_OR_FAILED, result_ok=True)
        return Hostile("positions: definition (not served)", _req(i, "textDocument/definition", {
            "textDocument": {"uri": f"{uri}/src/widgets.py"}, "position": rng["start"]}), i,
            UNKNOWN | INVALID)

    def unknown(r: random.Random, i: str) -> Hostile:
        method = r.choice(["foo/bar", "codeloupe/nope", "$/unknown", "", "codeloupe/",
                           "x" * 10_000, "workspace/executeCommand"])
        if r.random() < 0.3:
            return Hostile("unknown: notification", _note(method, {}))
        return Hostile("unknown: request", _req(i, method, {}), i, UNKNOWN | INVALID)

    def cancels(r: random.Random, i: str) -> Hostile:
        params = r.choice([{"id": "never-sent"}, {"id": {}}, {}, {"id": 1e308}, None,
                           {"id": [1, 2]}, {"id": "x" * 100_000}])
        return Hostile("cancel: unknown ids", _note("$/cancelRequest", params))

    def ten_mb(r: random.Random, i: str) -> Hostile:
        method, params, result_ok = r.choice([
            ("workspace/symbol", {"query": "getTextSize"}, True),
            ("codeloupe/status", {"checkFresh": False}, True)])
        params = {**params, "padding": "p" * (10 * MB)}
        return Hostile("10 MB message", _req(i, method, params), i, INVALID, result_ok)

    def nested(r: random.Random, i: str) -> Hostile:
        depth = r.choice([50, 500, 900, 5_000, 100_000])
        body = (f'{{"jsonrpc":"2.0","id":{json.dumps(i)},"method":"codeloupe/search",'
                f'"params":{{"query":{_nested(depth)}}}}}').encode()
        if depth > 900:  # past the parser's limit: an error or nothing, never a crash
            return Hostile("nested JSON past the limit", frame(body))
        return Hostile("nested JSON", frame(body), i, INVALID)

    def custom_bad(r: random.Random, i: str) -> Hostile:
        method = r.choice(custom)
        params = r.choice([
            r.choice(bad_values), {"query": r.choice(bad_values)},
            {"query": "a", "rev": r.choice(["\0", "--output=/tmp/x", "HEAD:../", "-n", "..",
                                            "refs/../../x", "a" * 5000, "HEAD@{-999}"])},
            {"query": "a", "limit": r.choice([-1, 10 ** 20, "x"])},
            {"query": "a", "maxResults": r.choice([0, -1, 10 ** 20])},
            {"query": "a", "globs": [1]}, {"query": "a", "includes": [""]},
            {"query": "a(", "isRegex": True}, {"query": "(a)\\1", "isRegex": True},
            {"query": "a", "context": {"before": -1}}, {"query": "a", "kinds": [0, 99]},
            {"task": "x", "file": "file:///etc/passwd"}, {"task": "x", "open": ["/etc/passwd"]},
            {"task": "x", "budget": 0}, {"query": "a", "partialResultToken": {"x": 1}},
            {"query": "a", "folder": "file:///"}, {"checkFresh": "yes"}])
        detail = json.dumps(params)[:60]
        return Hostile(f"codeloupe/* bad params: {method} {detail}", _req(i, method, params), i,
                       INVALID_OR_FAILED, result_ok=not _must_fail(method, params))

    return [framing_not_json, framing_bad_length, framing_short, framing_headers,
            framing_long_line, wrong_types, huge_strings, bad_uri, positions, unknown, cancels,
            ten_mb, nested, custom_bad, custom_bad, bad_uri, wrong_types]


REQUIRED = {"codeloupe/search": "query", "codeloupe/symbols": "query", "codeloupe/ask": "query",
            "codeloupe/context": "task"}
KNOWN = {  # the params each method reads (docs/protocol.md); others are ignored, as LSP allows
    "codeloupe/search": {"isRegex", "isCaseSensitive", "smartCase", "isWordMatch", "includes",
                         "excludes", "rev", "folder", "paths", "maxResults", "context",
                         "maxResultsPerFile", "partialResultToken"},
    "codeloupe/symbols": {"rev", "folder", "kinds", "limit", "paths"},
    "codeloupe/context": {"folder", "rev", "budget", "file", "line", "format", "instructions",
                          "open", "selection"},
    "codeloupe/ask": {"folder", "rev", "globs", "languages", "k"},
    "codeloupe/status": {"folder", "checkFresh"}, "codeloupe/branches": {"folder"},
    "codeloupe/reindex": {"folder", "rev", "revs"},
}


def _must_fail(method: str, params: Any) -> bool:
    """Whether these (hostile) params must be refused: not an object, the required field
    missing or not a string, or any field the method reads (every value given is bad)."""
    required = REQUIRED.get(method)
    if params is None:
        return required is not None
    if not isinstance(params, dict):
        return True
    if required is not None and not (isinstance(params.get(required), str)
                                     and params[required]):
        return True
    return any(k in KNOWN[method] for k in params)


def health(server: RawLsp) -> str | None:
    """None when the server answers correctly and in time, else what went wrong."""
    started = time.monotonic()
    a = server.request_async("workspace/symbol", {"query": "getTextSize"})
    b = server.request_async("codeloupe/search", {"query": "getTextSize"})
    ra = server.wait(a, HEALTH_DEADLINE_S)
    rb = server.wait(b, max(0.1, HEALTH_DEADLINE_S - (time.monotonic() - started)))
    if ra is None or rb is None:
        return "health not answered"
    names = [s.get("name") for s in ra.get("result") or []]
    paths = [r.get("path") for r in (rb.get("result") or {}).get("results", [])]
    if "getTextSize" not in names or paths != ["src/widgets.py"]:
        return f"health wrong: {names[:3]} {paths[:3]}"
    return None


def run_lsp(budget_s: float, seed: int, count: int, work: Path) -> dict[str, Any]:
    r = random.Random(seed)
    repo = make_repo(work / "lsp-repo", HEALTH_FILES)
    server = RawLsp(repo, work / "lsp-index", work / "lsp-server.log")
    row: dict[str, Any] = {"probe": "hostile LSP", "tried": 0, "crashes": 0, "hangs": 0,
                           "wrong": 0, "leaks": 0, "notes": ""}
    notes: list[str] = []
    kinds: dict[str, int] = {}
    try:
        server.initialize()
        if health(server) is not None:
            raise RuntimeError("unhealthy before the first hostile message")
        base = proc_status(server.pid)
        gens = generators(repo)
        deadline = time.monotonic() + budget_s
        sent = 0
        while sent < count and time.monotonic() < deadline:
            batch = []
            for _ in range(min(BATCH, count - sent)):
                msg_id = server.new_id("h")
                hostile = r.choice(gens)(r, msg_id)
                kinds[hostile.kind] = kinds.get(hostile.kind, 0) + 1
                if not server.send_bytes(hostile.data):
                    break
                batch.append(hostile)
                sent += 1
            row["tried"] = sent
            answer_by = time.monotonic() + ANSWER_DEADLINE_S  # for the whole batch
            for hostile in batch:
                if hostile.msg_id is None:
                    continue
                answer = server.wait(hostile.msg_id, max(0.05, answer_by - time.monotonic()))
                if answer is None:
                    if not server.alive():
                        break
                    row["hangs"] += 1
                    notes.append(f"unanswered: {hostile.kind}")
                    continue
                error = answer.get("error")
                if has_traceback(answer):
                    row["wrong"] += 1
                    notes.append(f"traceback: {hostile.kind}")
                elif error is None and not hostile.result_ok:
                    row["wrong"] += 1
                    notes.append(f"answered instead of refused: {hostile.kind}")
                elif error is not None and error.get("code") not in hostile.codes:
                    row["wrong"] += 1
                    notes.append(f"code {error.get('code')} for {hostile.kind}: "
                                 f"{str(error.get('message'))[:100]}")
            if not server.alive():
                row["crashes"] += 1
                notes.append(f"died after {sent} messages (exit {server.proc.returncode})")
                break
            problem = health(server)
            if problem is not None:
                row["hangs" if "not answered" in problem else "wrong"] += 1
                notes.append(f"after {sent}: {problem}")
                if not server.alive():
                    row["crashes"] += 1
                    break
        end = proc_status(server.pid)
        if base and end:
            grew = end.get("VmRSS", 0) - base.get("VmRSS", 0)
            if grew > RSS_BOUND_KB:
                row["leaks"] += 1
                notes.append(f"RSS grew {grew // 1024} MB")
            if end.get("Threads", 0) > THREADS_BOUND:
                row["leaks"] += 1
                notes.append(f"{end['Threads']} threads")
            notes.insert(0, f"RSS {base.get('VmRSS', 0) // 1024}->{end.get('VmRSS', 0) // 1024}"
                            f" MB, threads {base.get('Threads')}->{end.get('Threads')}")
    finally:
        code = server.stop()
        if code not in (0, None) and row["crashes"] == 0:
            row["crashes"] += 1
            notes.append(f"exit code {code} at shutdown")
    row["notes"] = "; ".join(_dedupe(notes)) + f" ({len(kinds)} kinds)"
    return row


# --- MCP -------------------------------------------------------------------------------

def mcp_calls(r: random.Random, outside: Path) -> tuple[str, dict[str, Any]]:
    tool = r.choice(["search", "symbols", "ask", "context", "nope"])
    bad: list[dict[str, Any]] = [
        {}, {"query": 5}, {"query": ""}, {"query": "x" * r.choice([200_000, 2 * MB])},
        {"query": "a", "rev": r.choice(["\0", "--output=/tmp/x", "HEAD:../", "a" * 5000])},
        {"query": "a", "paths": r.choice([[".."], ["/etc"], [".git"], [str(outside)],
                                           ["a\0b"], ["x" * 10_000]])},
        {"query": "a", "limit": r.choice([-1, 10 ** 12, "x"])},
        {"query": "a", "kinds": ["nope"]}, {"query": "a(", "regex": True},
        {"query": "(a)\\1", "regex": True}, {"query": "a", "globs": ["*" * 100_000]},
        {"question": "why", "k": 10 ** 9}, {"query": "a", "budget_tokens": -5},
        {"query": json.loads(_nested(50))}]
    return tool, r.choice(bad)


async def _run_mcp(budget_s: float, seed: int, count: int, work: Path) -> dict[str, Any]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    r = random.Random(seed + 1)
    repo = make_repo(work / "mcp-repo", HEALTH_FILES)
    outside = work / "outside"
    outside.mkdir(exist_ok=True)
    env = server_env(work / "mcp-index")
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "indexer", "mcp", "--repo", str(repo)],
                                   env=env, cwd=str(repo))
    row: dict[str, Any] = {"probe": "hostile MCP", "tried": 0, "crashes": 0, "hangs": 0,
                           "wrong": 0, "leaks": 0, "notes": ""}
    notes: list[str] = []
    deadline = time.monotonic() + budget_s
    errors = 0
    try:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
            await asyncio.wait_for(client.initialize(), 120)
            for n in range(count):
                if time.monotonic() > deadline:
                    break
                tool, args = mcp_calls(r, outside)
                try:
                    result = await asyncio.wait_for(client.call_tool(tool, args),
                                                    ANSWER_DEADLINE_S)
                except TimeoutError:
                    row["hangs"] += 1
                    notes.append(f"{tool} unanswered")
                    continue
                except Exception as exc:  # a protocol error answer (an unknown tool, say)
                    errors += 1
                    if has_traceback(str(exc)):
                        row["wrong"] += 1
                        notes.append(f"{tool}: traceback")
                    continue
                finally:
                    row["tried"] = n + 1
                text = " ".join(getattr(c, "text", "") for c in result.content)
                errors += bool(result.is_error)
                if has_traceback(text) or "Traceback" in text:
                    row["wrong"] += 1
                    notes.append(f"{tool}: traceback")
                if (n + 1) % 10 == 0:
                    check = await asyncio.wait_for(client.call_tool(
                        "symbols", {"query": "getTextSize"}), HEALTH_DEADLINE_S)
                    body = " ".join(getattr(c, "text", "") for c in check.content)
                    if check.is_error or "getTextSize" not in body:
                        row["wrong"] += 1
                        notes.append(f"health wrong after {n + 1}")
    except TimeoutError:
        row["hangs"] += 1
        notes.append("health unanswered")
    except Exception as exc:
        row["crashes"] += 1
        notes.append(f"session ended: {type(exc).__name__}: {str(exc)[:120]}")
    row["notes"] = "; ".join(_dedupe(notes) or [f"{errors} tool errors, all clean"])
    return row


def _dedupe(notes: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    for n in notes:
        seen[n] = seen.get(n, 0) + 1
    return [n if k == 1 else f"{n} (x{k})" for n, k in seen.items()][:12]


def run(budget_s: float, seed: int, count: int | None = None) -> list[dict[str, Any]]:
    """`count` hostile messages (default 1000), a tenth of them MCP tool calls."""
    count = 1000 if count is None else count
    n_mcp = int(round(count * MCP_SHARE))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cl-hostile-") as tmp:
        work = Path(tmp)
        lsp = run_lsp(budget_s * 0.8, seed, count - n_mcp, work)
        left = max(5.0, budget_s - (time.monotonic() - started))
        mcp = asyncio.run(_run_mcp(left, seed, n_mcp, work)) if n_mcp else None
    return [lsp] + ([mcp] if mcp else [])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0, help="seconds, in all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    t0 = time.monotonic()
    rows = run(args.budget, args.seed, args.count)
    print_table(rows)
    print(f"({time.monotonic() - t0:.0f} s)")
