"""The semantic layer at scale, on a repository you name (e.g. the Python standard library):

1. a generated gold set (`goldgen`, docstrings stripped in a side commit) scored by every
   pipeline — the same table as CoSQA's;
2. `ask` latency in-process (p50 / p95, dense re-ranker, no LLM) over those questions;
3. `context` latency at a 4k budget;
4. the embedding cache hit rate when a second branch (a few changed files) is embedded;
5. embedding throughput of the ONNX int8 and PyTorch backends on the same chunks, same run.

    python benchmarks/bench_semantic_scale.py --repo DIR [--index-dir DIR] [-n 200]
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

from indexer.context.pack import ContextRequest, pack_context
from indexer.embed.model import Embedder, resolve_model_path
from indexer.embed.texts import chunk_sources, code_view_text
from indexer.eval.gold import write_gold
from indexer.eval.goldgen import (
    commit_without_docstrings,
    docstring_question,
    make_gold,
    sample_chunks,
)
from indexer.eval.runner import PIPELINES, evaluate
from indexer.retrieval.semantic import AskRequest
from indexer.workspace import Workspace


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--throughput-sample", type=int, default=512)
    parser.add_argument("--throughput-only", action="store_true",
                        help="skip the gold set and latency; measure embedding throughput only")
    args = parser.parse_args()
    ws = Workspace.open(args.repo, index_dir=args.index_dir)
    head = ws.repo.resolve("HEAD")
    base = ws.semantic(head)
    base.embed()
    print(f"{args.repo}: {len(base.table)} chunks, {len(base.table.by_path)} files, "
          f"embedded {base.coverage():.0%}")
    if args.throughput_only:
        measure_throughput(ws, base, args.throughput_sample)
        return

    # 1. generated gold set on a side commit without the sampled docstrings
    samples = sample_chunks(base, args.n, seed=7)
    sources = {s.path: ws.repo.git("show", f"{head}:{s.path}", binary=True).stdout
               .decode("utf-8", "replace") for s in samples}
    gold = make_gold(samples, sources, args.n, docstring_question, None)
    used = {(q.expected[0].path, q.expected[0].symbol) for q in gold}
    side = commit_without_docstrings(ws.repo, head, [s for s in samples
                                                     if (s.path, s.name) in used])
    for q in gold:
        q.rev = side
    write_gold(gold, Path("/tmp/goldgen-scale.jsonl"))
    started = time.perf_counter()
    searcher = ws.semantic(side)
    reports = searcher.embed()
    fresh = sum(r.embedded for r in reports)
    total = sum(r.total for r in reports)
    print(f"\nside commit {side[:12]} (docstrings of {len(gold)} definitions stripped): "
          f"indexed and embedded in {time.perf_counter() - started:.1f} s; embedding cache "
          f"hit rate {1 - fresh / total:.1%} ({fresh} of {total} texts new)")
    results = evaluate(lambda rev: searcher, gold, list(PIPELINES))
    print(f"\ngenerated gold set: {len(gold)} queries (symbol level)")
    print(f"{'pipeline':15s} {'MRR':>6s} {'R@1':>6s} {'R@5':>6s} {'R@10':>6s} {'R@50':>6s} "
          f"{'nDCG10':>7s} {'p50 ms':>7s}")
    for r in results:
        s = r.levels["symbol"]
        print(f"{r.name:15s} {s.mrr:6.3f} {s.recall[1]:6.3f} {s.recall[5]:6.3f} "
              f"{s.recall[10]:6.3f} {s.recall[50]:6.3f} {s.ndcg10:7.3f} {r.p50_ms:7.1f}")

    # 2-3. latency
    asks, packs = [], []
    for q in gold[:100]:
        t = time.perf_counter()
        searcher.ask(AskRequest(q.query, k=10))
        asks.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        pack_context(searcher, ContextRequest(q.query, budget=4000))
        packs.append((time.perf_counter() - t) * 1000)
    print(f"\nask (k=10, dense re-rank) at {len(searcher.table)} chunks: p50 "
          f"{percentile(asks, .5):.0f} ms, p95 {percentile(asks, .95):.0f} ms")
    print(f"context (4k budget): p50 {percentile(packs, .5):.0f} ms, "
          f"p95 {percentile(packs, .95):.0f} ms")

    measure_throughput(ws, base, args.throughput_sample)


def measure_throughput(ws: Workspace, base, sample: int) -> None:
    """Both backends on the same chunk texts, in the same run."""
    rows = list(range(0, len(base.table), max(1, len(base.table) // sample)))
    texts = [code_view_text(record, source) for _, record, source in
             chunk_sources(ws.store, base.snapshot.manifest, base.table, rows)]
    path = resolve_model_path(base.settings.embedding_model)
    threads = base.embedder.threads
    print(f"\nembedding throughput, {len(texts)} code-view texts, {threads} threads:")
    rates = {}
    for backend in ("onnx", "torch"):
        embedder = Embedder(path, base.settings.embedding_max_tokens, threads, backend)
        embedder.encode(texts[:32])
        t = time.perf_counter()
        embedder.encode(texts)
        rates[backend] = len(texts) / (time.perf_counter() - t)
        print(f"  {backend:6s} {rates[backend]:6.0f} chunks/s")
    print(f"  onnx int8 / torch fp32: {rates['onnx'] / rates['torch']:.1f}x")
    load = subprocess.run(["cat", "/proc/loadavg"], capture_output=True, text=True).stdout
    print(f"(load average at the end: {load.split()[0]})")


if __name__ == "__main__":
    main()
