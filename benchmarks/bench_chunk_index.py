"""Chunking, symbols and lexical search through the real pipeline on the ≥100 MB corpus.

    python benchmarks/bench_chunk_index.py [--corpus DIR] [--index-dir DIR]

Builds the corpus with make_corpus (stdlib + this venv's site-packages) unless --corpus names
an existing one; indexes it (trigram stage, timed separately), then runs the chunking stage
(`Workspace.enrich`: tree-sitter parse, chunks, symbols, BM25 documents) and reports its
throughput; then times `workspace/symbol`-style queries over every symbol of the corpus and
lexical (BM25) queries over its chunks.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_corpus import make_corpus  # noqa: E402

from indexer.retrieval.lexical import lexical_search  # noqa: E402
from indexer.retrieval.symbol_search import SymbolIndex  # noqa: E402
from indexer.workspace import Workspace  # noqa: E402

SYMBOL_QUERIES = ["Path", "urlopen", "__init__", "get", "gTS", "HTTPServer", "JSONDecoder",
                  "jsondec", "parse_args", "pa", "Tensor", "forward", "fwd", "Module",
                  "from_pretrained", "fromPre", "tokenize", "softmax", "Linear", "conv2d",
                  "assertEqual", "aE", "setUp", "create_task", "OrderedDict", "SSLContext",
                  "zzzzqq", "read_bytes", "rdbytes", "lru_cache", "dataclass", "Enum"]
LEXICAL_QUERIES = ["read a file line by line", "parse command line arguments",
                   "http request with timeout", "convert tensor to numpy array",
                   "load pretrained model weights", "sort dictionary by value",
                   "compute softmax over last dimension", "open a tcp socket connection",
                   "retry with exponential backoff", "json decode error handling"]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--index-dir", type=Path)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    corpus = args.corpus
    if corpus is None or not (corpus / ".git").exists():
        corpus = corpus or Path(tmp.name) / "corpus"
        print(f"building corpus at {corpus} …", flush=True)
        make_corpus(corpus)
    ws = Workspace.open(corpus, index_dir=args.index_dir or Path(tmp.name) / "index")
    t = time.perf_counter()
    summary = ws.index(None)
    print(f"trigram stage: {summary.files} files, {summary.bytes / 1e6:.1f} MB in "
          f"{time.perf_counter() - t:.1f} s (up to date: {summary.up_to_date})")
    t = time.perf_counter()
    enriched = ws.enrich(None)
    seconds = time.perf_counter() - t
    snapshot = ws.snapshot(None, refresh=False)
    chunked_bytes = sum(snapshot.manifest.lengths[i] for i in
                        {b: i for i, b in enumerate(snapshot.manifest.blob_nos)}.values())
    if enriched.blobs:
        print(f"chunking stage (2 processes): {enriched.blobs} files, {enriched.chunks} chunks, "
              f"{enriched.symbols} symbols in {seconds:.1f} s = "
              f"{enriched.blobs / seconds:.0f} files/s, "
              f"{chunked_bytes / 1e6 / seconds:.1f} MB/s (target ≥ 5 MB/s)")
    else:
        print("chunking stage: already up to date (pass a fresh --index-dir to time it)")
    t = time.perf_counter()
    symbols = SymbolIndex(ws, snapshot)
    print(f"symbol index: {len(symbols)} symbols loaded in "
          f"{time.perf_counter() - t:.2f} s")
    latencies = []
    for _ in range(3):
        for query in SYMBOL_QUERIES:
            t = time.perf_counter()
            symbols.search(query, 100)
            latencies.append((time.perf_counter() - t) * 1000)
    print(f"symbol queries ({len(SYMBOL_QUERIES)} × 3): p50 {statistics.median(latencies):.1f} ms"
          f", p95 {percentile(latencies, 0.95):.1f} ms (target p50 < 20 ms)")
    latencies = []
    for query in LEXICAL_QUERIES:
        t = time.perf_counter()
        lexical_search(ws, snapshot, query, 10)
        latencies.append((time.perf_counter() - t) * 1000)
    print(f"lexical (BM25) queries: p50 {statistics.median(latencies):.1f} ms, "
          f"p95 {percentile(latencies, 0.95):.1f} ms")
    print(f"index size now {ws.store.size_bytes() / 1e6:.1f} MB")
    ws.close()


if __name__ == "__main__":
    main()
