"""`gloss_snapshot`: gloss the chunks of a snapshot that the cache does not have yet.

A separate stage, run on demand (`codeloupe gloss`) or in a background thread; search never
waits for it. It takes no index write lock (indexing and search go on meanwhile) and writes
only the `glosses` table, through its own connection, in small transactions.

For model providers the run is guarded: chunks are taken in priority order (public API first,
then chunks without docstrings) up to a chunk budget and a token budget; requests run on a few
threads with a timeout and retries; a chunk whose answer is rejected or whose request fails
keeps the heuristic gloss (cached under the heuristic key, never the model's), and after
`gloss_max_failures` failures in a row the run stops calling the endpoint and says why.
A dry run selects the same chunks and reports the estimated tokens and cost, calling nothing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.config import Settings
from indexer.gloss.cache import HEURISTIC_KEY, GlossCache, current_prompt_version, record_item
from indexer.gloss.heuristic import heuristic_gloss
from indexer.gloss.providers import (
    EST_OUTPUT_TOKENS,
    Cancel,
    GlossConfigError,
    GlossItem,
    GlossProvider,
    GlossResult,
    estimate_input_tokens,
    is_cancelled,
    make_provider,
)
from indexer.gloss.tokens import encoding_name

# Data, markup and prose: already plain text or not worth a model call; heuristic glosses only.
MODEL_SKIP_LANGUAGES = frozenset({"markdown", "json", "yaml", "toml", "css", "html"})
TEST_PATH = re.compile(
    r"(^|/)(tests?|spec|specs|__tests__|testdata|testing)/|(^|/)test_[^/]*$|_test\.\w+$"
    r"|\.(test|spec)\.\w+$")
FLUSH_EVERY = 32  # glosses per cache transaction
FLUSH_SECONDS = 2.0
HEURISTIC_BATCH = 500
MAX_ERRORS_KEPT = 5

Progress = Callable[[int, int, str], None]


@dataclass
class GlossReport:
    snapshot: str
    provider: str
    model: str
    prompt_version: str
    dry_run: bool = False
    chunks: int = 0  # distinct chunks (by content hash) in the snapshot
    unchunked_files: int = 0  # files not chunked yet (`codeloupe index` chunks them)
    heuristic_only: int = 0  # data/markup/prose chunks a model is not asked about
    cached: int = 0  # already glossed by this provider, model and prompt version
    to_gloss: int = 0  # not cached
    selected: int = 0  # within the budgets, in priority order
    over_budget: int = 0
    glossed: int = 0  # new glosses cached
    rejected: int = 0  # garbage answers (never cached)
    failed: int = 0  # requests that failed after retries
    not_attempted: int = 0  # selected, but the run was cancelled or stopped first
    fallback: int = 0  # selected chunks left with the heuristic gloss
    input_tokens: int = 0  # as the endpoint reported them
    output_tokens: int = 0
    est_input_tokens: int = 0  # estimates for the selected chunks (cl100k)
    est_output_tokens: int = 0
    est_cost: float | None = None  # from gloss_price_input/_output when set
    token_encoding: str = ""
    cancelled: bool = False
    stopped: str = ""  # why the run stopped calling the provider early
    errors: list[str] = field(default_factory=list)  # distinct messages, the first few
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def note(self, message: str) -> None:
        if message and message not in self.errors and len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)


def _is_public(record) -> bool:  # noqa: ANN001 - ChunkRecord
    """Exported API by each language's convention: no `_name` part (dunders are public), Go's
    capitalised names, Rust's `pub`, no `private`/`internal` modifier."""
    for part in re.split(r"\.|::|#|/", record.qualified_name or record.name):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return False
    head = record.signature.split("(", 1)[0]
    if re.search(r"\b(private|fileprivate|internal)\b", head):
        return False
    if record.language == "go" and record.name[:1].islower():
        return False
    return not (record.language == "rust" and record.kind in (
        "function", "struct", "enum", "trait", "type") and not re.search(r"\bpub\b", head))


def gloss_priority(record, path: str) -> tuple:  # noqa: ANN001 - ChunkRecord
    """Sort key: public definitions, then private ones, then unnamed code, then tests; within
    each, chunks without a docstring first (they need a gloss most), outermost first."""
    if TEST_PATH.search(path):
        tier = 3
    elif not record.name:
        tier = 2
    elif not _is_public(record):
        tier = 1
    else:
        tier = 0
    return (tier, bool(record.docstring), len(record.breadcrumb), path, record.start_line)


def provider_identity(settings: Settings) -> tuple[str, str]:
    """(provider, model) as the cache keys them, without starting the provider."""
    name = settings.gloss_provider.strip().lower()
    if name == "heuristic":
        return name, ""
    model = settings.gloss_model
    if name == "llamacpp":
        from indexer.models import ModelError, resolve_gguf

        try:
            found = resolve_gguf(model)
        except ModelError:
            found = None
        return name, (found or Path(model)).name  # the file's name, as the provider keys it
    return name, model


class _DescribedProvider:
    """Stands in for a provider that cannot start, so a dry run can still count and price."""

    def __init__(self, settings: Settings) -> None:
        self.name, self.model = provider_identity(settings)
        self.prompt_version = current_prompt_version(self.name)
        self.uses_model = self.name != "heuristic"

    def gloss(self, items, cancel=None):  # noqa: ANN001, ANN201
        raise AssertionError("a dry run calls no provider")

    def close(self) -> None:
        pass


def gloss_snapshot(workspace, rev: str | None, settings: Settings, *,  # noqa: ANN001, C901
                   budget: int | None = None, dry_run: bool = False, cancel: Cancel = None,
                   progress: Progress | None = None,
                   provider: GlossProvider | None = None) -> GlossReport:
    """Gloss the chunks of `rev`'s snapshot (as indexed; `None`: the working tree) that are not
    cached for `settings`' provider and model. `budget` (chunks) overrides
    `settings.gloss_budget` for model providers; 0 means no limit. `cancel`: a
    `threading.Event` or anything with `.cancelled`; what finished before it stays cached.
    `progress(done, total, message)`. Raises `GlossConfigError` when the provider cannot
    start (a dry run reports it in `errors` instead)."""
    from indexer.enrich import snapshot_blobs

    started = time.perf_counter()
    config_error = ""
    if provider is None:
        try:
            provider = make_provider(settings)
        except GlossConfigError as err:
            if not dry_run:
                raise
            provider, config_error = _DescribedProvider(settings), str(err)
    report_progress = progress or (lambda done, total, message: None)
    snapshot = workspace.snapshot(rev, refresh=False)
    store = workspace.store
    manifest = snapshot.manifest
    report = GlossReport(snapshot.name, provider.name, provider.model, provider.prompt_version,
                         dry_run=dry_run)
    report.note(config_error)

    first = snapshot_blobs(manifest)
    unchunked = set(store.chunks.unchunked(first))
    report.unchunked_files = len(unchunked)
    entries: dict[str, tuple] = {}  # content hash -> (ChunkRecord, manifest index)
    for blob, index in sorted(first.items(), key=lambda kv: kv[1]):
        if blob in unchunked:
            continue
        for record in store.chunks.chunks_of(blob):
            entries.setdefault(record.content_hash, (record, index))
    report.chunks = len(entries)
    eligible = list(entries)
    if provider.uses_model:
        eligible = [h for h in eligible if entries[h][0].language not in MODEL_SKIP_LANGUAGES]
        report.heuristic_only = len(entries) - len(eligible)

    cache = GlossCache.open(store.catalog.path)
    db = store.catalog.db

    def item_for(content_hash: str) -> GlossItem:
        record, index = entries[content_hash]
        data = store.packs.read(manifest.packs[index], manifest.offsets[index],
                                manifest.lengths[index])
        return record_item(db, None, record, data=data)

    try:
        cached = cache.get_many(eligible, provider.name, provider.model, provider.prompt_version)
        report.cached = len(cached)
        todo = [h for h in eligible if h not in cached]
        todo.sort(key=lambda h: gloss_priority(entries[h][0], manifest.paths[entries[h][1]]))
        report.to_gloss = len(todo)
        if not provider.uses_model:
            report.selected = len(todo)
            if not dry_run:
                _run_heuristic(provider, todo, item_for, cache, report, cancel, report_progress)
        else:
            selected = _select(todo, item_for, settings, budget, dry_run, report)
            if not dry_run:
                _run_model(provider, selected, item_for, cache, settings, report, cancel,
                           report_progress)
    finally:
        provider.close()
        cache.close()
    report.seconds = time.perf_counter() - started
    return report


def _select(todo: list[str], item_for: Callable[[str], GlossItem], settings: Settings,
            budget: int | None, dry_run: bool, report: GlossReport) -> list[str]:
    """The chunks to send, in priority order, within the chunk and token budgets; fills the
    report's estimates (tokens are counted here only when a budget or a dry run needs them)."""
    chunk_budget = settings.gloss_budget if budget is None else budget
    token_budget = settings.gloss_token_budget
    out_tokens = min(EST_OUTPUT_TOKENS, settings.gloss_max_output_tokens)
    count = dry_run or token_budget > 0
    selected: list[str] = []
    spent = 0
    for content_hash in todo:
        if chunk_budget > 0 and len(selected) >= chunk_budget:
            break
        if count:
            cost = estimate_input_tokens(item_for(content_hash), settings.gloss_max_input_tokens)
            if token_budget > 0 and spent + cost + out_tokens > token_budget:
                break  # strict priority order: no skipping ahead to smaller chunks
            spent += cost + out_tokens
            report.est_input_tokens += cost
            report.est_output_tokens += out_tokens
        selected.append(content_hash)
    report.selected = len(selected)
    report.over_budget = len(todo) - len(selected)
    if count:
        report.token_encoding = encoding_name()
        if settings.gloss_price_input or settings.gloss_price_output:
            report.est_cost = (report.est_input_tokens * settings.gloss_price_input
                               + report.est_output_tokens * settings.gloss_price_output) / 1e6
    return selected


def _run_heuristic(provider: GlossProvider, todo: list[str],
                   item_for: Callable[[str], GlossItem], cache: GlossCache,
                   report: GlossReport, cancel: Cancel, progress: Progress) -> None:
    for start in range(0, len(todo), HEURISTIC_BATCH):
        if is_cancelled(cancel):
            report.cancelled = True
            report.not_attempted = len(todo) - start
            return
        results = provider.gloss([item_for(h) for h in todo[start:start + HEURISTIC_BATCH]])
        cache.put_many(provider.name, provider.model, provider.prompt_version,
                       [(r.content_hash, r.text, 0, 0) for r in results if r.ok])
        report.glossed += sum(r.ok for r in results)
        done = min(start + HEURISTIC_BATCH, len(todo))
        progress(done, len(todo), f"{done} heuristic glosses")


class _Either:
    """Cancelled when either token is."""

    def __init__(self, first: threading.Event, second: Cancel) -> None:
        self.first, self.second = first, second

    @property
    def cancelled(self) -> bool:
        return self.first.is_set() or is_cancelled(self.second)


def _run_model(provider: GlossProvider, selected: list[str],  # noqa: C901
               item_for: Callable[[str], GlossItem], cache: GlossCache, settings: Settings,
               report: GlossReport, cancel: Cancel, progress: Progress) -> None:
    """Send `selected` to the provider on a few threads; cache good answers as they come."""
    total = len(selected)
    if total == 0:
        return
    workers = max(1, settings.gloss_concurrency)
    good: list[tuple[str, str, int, int]] = []
    fallbacks: list[GlossItem] = []
    last_flush = time.monotonic()
    in_a_row = 0
    done = 0
    stop = False
    queue = iter(selected)
    remaining = total

    def flush() -> None:
        nonlocal last_flush
        cache.put_many(provider.name, provider.model, provider.prompt_version, good)
        good.clear()
        last_flush = time.monotonic()

    # Requests see the caller's cancel or our own abort (Ctrl-C, an error here): in-flight
    # retries then stop sleeping instead of running on after we are gone.
    abort = threading.Event()
    token = _Either(abort, cancel)
    pending: dict[Future, GlossItem] = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gloss")
    try:
        while True:
            # Keep a short queue: cancellation and the failure stop take effect quickly, and
            # the chunks not yet sent are simply not attempted.
            while not stop and remaining and len(pending) < 2 * workers:
                if is_cancelled(cancel):
                    report.cancelled = stop = True
                    break
                content_hash = next(queue)
                remaining -= 1
                item = item_for(content_hash)
                pending[pool.submit(provider.gloss, [item], token)] = item
            if not pending:
                break
            finished, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in finished:
                item = pending.pop(future)
                try:
                    result = future.result()[0]
                except GlossConfigError as err:  # e.g. the GGUF file would not load
                    result = GlossResult(item.content_hash, "error", error=str(err))
                    report.stopped = str(err)
                    stop = True
                    abort.set()
                except Exception as err:  # noqa: BLE001 - one chunk's surprise ends no run
                    result = GlossResult(item.content_hash, "error",
                                         error=f"{type(err).__name__}: {err}")
                done += 1
                if result.ok:
                    good.append((result.content_hash, result.text, result.input_tokens,
                                 result.output_tokens))
                    report.glossed += 1
                    report.input_tokens += result.input_tokens
                    report.output_tokens += result.output_tokens
                    in_a_row = 0
                elif result.status == "cancelled":
                    report.not_attempted += 1
                else:
                    if result.status == "garbage":
                        report.rejected += 1
                    else:
                        report.failed += 1
                    report.note(result.error)
                    fallbacks.append(item)
                    in_a_row += 1
                    if in_a_row >= max(1, settings.gloss_max_failures) and not stop:
                        stop = True
                        abort.set()  # requests still retrying give up too
                        report.stopped = (
                            f"{in_a_row} chunks in a row failed with {provider.name} "
                            f"{provider.model} (last: {result.error}); stopped calling it, "
                            "the rest keep their heuristic glosses")
                progress(done, total, item.qualified_name or item.name or item.path)
            if good and (len(good) >= FLUSH_EVERY
                         or time.monotonic() - last_flush > FLUSH_SECONDS):
                flush()
            if is_cancelled(cancel):
                report.cancelled = stop = True
    except BaseException:
        abort.set()
        pool.shutdown(wait=True, cancel_futures=True)
        flush()  # answers already in hand are kept
        raise
    pool.shutdown(wait=True)
    flush()
    report.not_attempted += remaining
    if remaining and is_cancelled(cancel):
        report.cancelled = True
    # The heuristic stands in for what the model did not give, under its own key.
    if fallbacks:
        have = cache.get_many([i.content_hash for i in fallbacks], *HEURISTIC_KEY)
        cache.put_many(*HEURISTIC_KEY, [(i.content_hash, heuristic_gloss(i), 0, 0)
                                        for i in fallbacks if i.content_hash not in have])
    report.fallback = report.rejected + report.failed + report.not_attempted
