"""Models side by side on CoSQA dev: embedding profiles (MRR, chunks/s) and local LLM glosses
(glosses/hour, and whether they lift retrieval over heuristic glosses), MiniLM in the same run.

Reads ../shared/data/cosqa (never copied). The corpus is a seeded sample of the 6,267
functions that always holds every dev query's answer (`--sample`, default 1,000), so each of
the 500 queries has its one right function among `--sample` candidates; MRR on a sample is
higher than on the full corpus, and the profiles are compared on the same sample. Documents
are the code view codeloupe embeds (name and parameters, then the source; 128 tokens); the
machine's load average is printed with every timing.

    python benchmarks/bench_models.py [--sample 1000] [--profiles fast,quality,quality-int8]
        [--llms smollm2,qwen2.5-coder-0.5b] [--gloss-sample 300] [--work DIR]

--work keeps vectors and LLM glosses between runs (both resumable). Models come from
`codeloupe models install`; a profile or LLM that is not installed is reported as such.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.chunking import analyze_file  # noqa: E402
from indexer.config import Settings  # noqa: E402
from indexer.gloss.heuristic import heuristic_gloss  # noqa: E402
from indexer.gloss.providers import GlossItem  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cosqa"
PROFILES = {
    "fast": Settings(),
    "quality": Settings(embedding_profile="quality"),
    "quality-int8": Settings(embedding_profile="quality", embedding_backend="torch-int8"),
}


def load(data: Path) -> tuple[list[str], list[dict]]:
    mapping = json.loads((data / "code_idx_map.json").read_text())
    functions = [""] * len(mapping)
    for code, index in mapping.items():
        functions[index] = code
    return functions, json.loads((data / "cosqa-retrieval-dev-500.json").read_text())


def chunk_of(code: str, index: int):  # noqa: ANN201 - Chunk
    chunks = analyze_file(f"f{index:05d}.py", code.encode()).chunks
    return max(chunks, key=lambda c: len(c.text)) if chunks else None


def code_view(code: str, index: int) -> str:
    chunk = chunk_of(code, index)
    head = (chunk.title.partition(" › ")[2] or chunk.qualified_name) if chunk else ""
    return f"{head}\n{code[:4000]}" if head else code[:4000]


def mrr(doc_vectors: np.ndarray, query_vectors: np.ndarray, answers: list[int]) -> float:
    scores = query_vectors @ doc_vectors.T
    ranks = [int((row > row[answer]).sum()) + 1
             for row, answer in zip(scores, answers, strict=True)]
    return float(np.mean([1 / r for r in ranks]))


def load_note() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


# --- embedding profiles ---

def bench_profiles(functions: list[str], queries: list[dict], sample: list[int],
                   profiles: list[str], work: Path) -> list[dict]:
    from indexer.embed.model import ModelNotFound, load_embedder

    position = {f: i for i, f in enumerate(sample)}
    answers = [position[q["retrieval_idx"]] for q in queries]
    texts = [code_view(functions[i], i) for i in sample]
    rows = []
    for name in profiles:
        try:
            embedder = load_embedder(PROFILES[name])
        except ModelNotFound as err:
            rows.append({"profile": name, "error": str(err)})
            print(f"{name}: {err}", file=sys.stderr)
            continue
        cached = work / f"vectors-{name}-{len(sample)}.npy"
        if cached.exists():
            vectors = np.load(cached)
            timing = json.loads(cached.with_suffix(".json").read_text())
        else:
            embedder.encode(texts[:16])  # warm-up
            before = load_note()
            started = time.perf_counter()
            vectors = embedder.encode(texts)
            seconds = time.perf_counter() - started
            timing = {"seconds": seconds, "per_second": len(texts) / seconds,
                      "load": f"{before} → {load_note()}"}
            np.save(cached, vectors)
            cached.with_suffix(".json").write_text(json.dumps(timing))
        query_vectors = np.stack([embedder.encode_query(q["doc"]) for q in queries])
        score = mrr(vectors, query_vectors, answers)
        rows.append({"profile": name, "model": embedder.key, "mrr": score, **timing})
        print(f"{name:13s} MRR {score:.3f}  {timing['per_second']:.1f} chunks/s "
              f"({timing['load']})", file=sys.stderr)
    return rows


# --- glosses ---

def gloss_item(code: str, index: int) -> GlossItem:
    chunk = chunk_of(code, index)
    if chunk is None:
        return GlossItem(str(index), "python", "function", "", "", "", "", code)
    return GlossItem.from_chunk(chunk, f"f{index:05d}.py")


def llm_glosses(llm: str, items: list[GlossItem], work: Path) -> dict:
    """Glosses by a local GGUF, cached in --work (resumable); with the time they took."""
    from indexer.gloss.providers import GlossConfigError, LlamaCppProvider

    path = work / f"glosses-{llm}.json"
    state = json.loads(path.read_text()) if path.exists() else {"glosses": {}, "seconds": 0.0,
                                                                 "loads": []}
    todo = [it for it in items if it.content_hash not in state["glosses"]]
    if todo:
        try:
            provider = LlamaCppProvider(Settings(gloss_provider="llamacpp", gloss_model=llm,
                                                 gloss_concurrency=1, gloss_retries=0))
        except GlossConfigError as err:
            return {"error": str(err)}
        provider.gloss(todo[:1])  # load the model outside the timing
        for n, item in enumerate(todo, 1):
            started = time.perf_counter()
            result = provider.gloss([item])[0]
            state["seconds"] += time.perf_counter() - started
            state["glosses"][item.content_hash] = result.text if result.ok else ""
            if n % 10 == 0 or n == len(todo):
                state["loads"].append(os.getloadavg()[0])
                path.write_text(json.dumps(state))
                print(f"  {llm}: {len(state['glosses'])}/{len(items)} glossed", file=sys.stderr)
        provider.close()
    done = len(state["glosses"])
    state["per_hour"] = 3600 * done / state["seconds"] if state["seconds"] else 0.0
    state["ok"] = sum(bool(t) for t in state["glosses"].values())
    return state


_WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|\d+")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def bm25_mrr(docs: list[str], queries: list[str], answers: list[int]) -> float:
    tokenized = [Counter(words(d)) for d in docs]
    lengths = np.array([sum(t.values()) for t in tokenized], dtype=float)
    average = lengths.mean() or 1.0
    df = Counter(w for t in tokenized for w in t)
    k1, b = 1.2, 0.75
    total = 0.0
    for query, answer in zip(queries, answers, strict=True):
        scores = np.zeros(len(docs))
        for w in set(words(query)):
            if w not in df:
                continue
            idf = math.log(1 + (len(docs) - df[w] + 0.5) / (df[w] + 0.5))
            tf = np.array([t.get(w, 0) for t in tokenized], dtype=float)
            scores += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / average))
        total += 1 / (int((scores > scores[answer]).sum()) + 1)
    return total / len(queries)


def bench_glosses(functions: list[str], queries: list[dict], llms: list[str], count: int,
                  work: Path) -> list[dict]:
    from indexer.embed.model import load_embedder

    chosen = queries[:count]
    # in query order: a later run with a smaller --gloss-sample reuses the first glosses
    corpus = list(dict.fromkeys(q["retrieval_idx"] for q in chosen))
    position = {f: i for i, f in enumerate(corpus)}
    answers = [position[q["retrieval_idx"]] for q in chosen]
    items = [gloss_item(functions[i], i) for i in corpus]
    embedder = load_embedder(Settings())
    code_vectors = embedder.encode([code_view(functions[i], i) for i in corpus])
    query_vectors = np.stack([embedder.encode_query(q["doc"]) for q in chosen])
    questions = [q["doc"] for q in chosen]
    sources = {"heuristic": {"glosses": {it.content_hash: heuristic_gloss(it) for it in items}}}
    for llm in llms:
        sources[llm] = llm_glosses(llm, items, work)
    rows = []
    for name, state in sources.items():
        if "error" in state:
            rows.append({"glosses": name, "error": state["error"]})
            continue
        texts = [state["glosses"].get(it.content_hash) or heuristic_gloss(it) for it in items]
        gloss_vectors = embedder.encode(texts)
        fused = code_vectors + gloss_vectors  # equal weight on the two views
        fused /= np.linalg.norm(fused, axis=1, keepdims=True)
        lexical_docs = [f"{t}\n{functions[i]}" for t, i in zip(texts, corpus, strict=True)]
        row = {"glosses": name, "functions": len(corpus), "queries": len(chosen),
               "dense_gloss_mrr": mrr(gloss_vectors, query_vectors, answers),
               "dense_code_plus_gloss_mrr": mrr(fused, query_vectors, answers),
               "bm25_gloss_mrr": bm25_mrr(texts, questions, answers),
               "bm25_gloss_and_code_mrr": bm25_mrr(lexical_docs, questions, answers),
               "mean_words": float(np.mean([len(t.split()) for t in texts]))}
        if name != "heuristic":
            row.update(per_hour=state["per_hour"], ok=state["ok"],
                       load=float(np.mean(state["loads"])) if state["loads"] else None)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    rows.insert(0, {"glosses": "none (code only)",
                    "dense_code_mrr": mrr(code_vectors, query_vectors, answers),
                    "bm25_code_mrr": bm25_mrr([functions[i] for i in corpus], questions,
                                              answers)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work", type=Path, default=Path("/tmp/codeloupe-bench-models"))
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--profiles", default="fast,quality,quality-int8")
    parser.add_argument("--llms", default="smollm2,qwen2.5-coder-0.5b")
    parser.add_argument("--gloss-sample", type=int, default=300)
    parser.add_argument("--skip", default="", help="profiles | glosses")
    args = parser.parse_args()
    if not (args.data / "code_idx_map.json").exists():
        print(f"skipped: CoSQA data not found at {args.data}")
        return
    args.work.mkdir(parents=True, exist_ok=True)
    functions, queries = load(args.data)
    needed = sorted({q["retrieval_idx"] for q in queries})
    others = sorted(set(range(len(functions))) - set(needed))
    sample = sorted(needed + random.Random(22).sample(
        others, max(0, min(len(others), args.sample - len(needed)))))
    results: dict = {"cpus": os.cpu_count(), "sample": len(sample), "queries": len(queries)}
    if "profiles" not in args.skip:
        results["profiles"] = bench_profiles(functions, queries, sample,
                                             [p for p in args.profiles.split(",") if p],
                                             args.work)
    if "glosses" not in args.skip:
        results["glosses"] = bench_glosses(functions, queries,
                                           [m for m in args.llms.split(",") if m],
                                           args.gloss_sample, args.work)
    (args.work / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
