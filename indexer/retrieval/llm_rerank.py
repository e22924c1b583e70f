"""Listwise re-ranking through the configured chat endpoint (OpenAI-compatible or llama.cpp).

The model sees the question and the head of the dense-reranked list (names, anchors and the
first lines of code) and answers with the candidates' numbers, best first. Anything else —
an endpoint that is down, slow or answers garbage — leaves the dense order in place and the
response says why.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from indexer.embed.texts import chunk_sources
from indexer.retrieval.hybrid import Candidate

LLM_DEPTH = 20  # candidates shown to the model
LINES_PER_CANDIDATE = 24
SYSTEM = ("You rank code search results. Given a developer's question and numbered code "
          "snippets, answer with a JSON array of the snippet numbers ordered from most to "
          "least useful for answering the question, e.g. [3, 1, 2]. Answer with the array "
          "only.")
_ARRAY = re.compile(r"\[[\d,\s]*\]")


def build_prompt(question: str, snippets: list[tuple[str, str]]) -> list[dict[str, str]]:
    parts = [f"Question: {question}", ""]
    for number, (anchor, code) in enumerate(snippets, start=1):
        parts.append(f"[{number}] {anchor}\n```\n{code}\n```")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(parts)}]


def parse_order(text: str, count: int) -> list[int]:
    """0-based candidate indices from the model's answer; ValueError when unusable."""
    match = _ARRAY.search(text or "")
    if match is None:
        raise ValueError("no JSON array of numbers in the answer")
    numbers = json.loads(match.group(0))
    order = [n - 1 for n in dict.fromkeys(numbers) if isinstance(n, int) and 1 <= n <= count]
    if not order:
        raise ValueError("the array names no candidate")
    return order + [i for i in range(count) if i not in order]  # unnamed ones keep their order


def chat_text(provider, messages: list[dict[str, str]]) -> str:  # noqa: ANN001
    data = provider._complete(messages)  # noqa: SLF001 - the providers' one HTTP path
    try:
        return str(data["choices"][0]["message"]["content"])
    except (KeyError, IndexError, TypeError):
        raise ValueError("the response has no choices[0].message.content") from None


def llm_rerank(searcher, question: str, ranked: list[tuple[Candidate, float]],  # noqa: ANN001
               notes: list[str]) -> list[tuple[Candidate, float]]:
    from indexer.gloss.providers import make_provider

    settings = searcher.settings
    if settings.gloss_provider == "heuristic":
        notes.append("rerank llm: no LLM configured (set gloss_provider to openai or "
                     "llamacpp); kept the dense order")
        return ranked
    head, tail = ranked[:LLM_DEPTH], ranked[LLM_DEPTH:]
    table = searcher.table
    rows = [c.row for c, _ in head]
    code = {row: source for row, _, source in chunk_sources(
        searcher.ws.store, searcher.snapshot.manifest, table, sorted(rows))}
    snippets = []
    for row in rows:
        start, end = (int(x) for x in table.lines[row])
        anchor = f"{table.paths[row]}:{start}-{end} {table.names[row]}".strip()
        snippets.append((anchor, "\n".join(code[row].splitlines()[:LINES_PER_CANDIDATE])))
    try:
        provider = make_provider(replace(settings, gloss_timeout_s=settings.rerank_timeout_s))
        try:
            order = parse_order(chat_text(provider, build_prompt(question, snippets)), len(head))
        finally:
            provider.close()
    except Exception as err:  # noqa: BLE001 - any failure falls back, and says so
        notes.append(f"rerank llm failed ({err}); kept the dense order")
        return ranked
    top = head[0][1] if head else 0.0
    # scores keep the list monotone: the model's order on top of the dense scores
    reordered = [(head[i][0], top + len(order) - n) for n, i in enumerate(order)]
    return reordered + tail
