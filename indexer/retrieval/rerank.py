"""Second stage: re-rank the fused pool's head with more expensive evidence.

- `dense` (default): a linear score over per-candidate features — the bi-encoder cosine with
  the chunk's code view and gloss view, the BM25 score relative to the pool's best, and
  whether a symbol or verbatim identifier matched. No cross-encoder ships offline, so this is
  what the bi-encoder can do; the weights are tuned on the gold sets.
- `llm`: a listwise prompt to the configured chat endpoint; on timeout or an unusable answer
  the dense order stands (and the response says so).
- `none`: the fused order.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.retrieval.hybrid import Candidate

RERANKERS = ("dense", "llm", "none")


@dataclass(frozen=True)
class RerankWeights:
    """Tuned like FusionWeights; of the near-best settings, the one that did not trade
    CoSQA (500 queries) for the shop set (40)."""

    dense: float = 1.0
    gloss: float = 0.3
    lexical: float = 0.1
    symbol: float = 0.1
    regex: float = 0.05
    fused: float = 0.0


def dense_rerank(candidates: list[Candidate], code_cos: dict[int, float],
                 gloss_cos: dict[int, float], weights: RerankWeights = RerankWeights()
                 ) -> list[tuple[Candidate, float]]:
    """(candidate, final score), best first; ties keep the fused order."""
    best_lexical = max((c.scores.get("lexical", 0.0) for c in candidates), default=0.0) or 1.0
    best_fused = max((c.fused for c in candidates), default=0.0) or 1.0
    scored = []
    for order, c in enumerate(candidates):
        score = (weights.dense * code_cos.get(c.row, 0.0)
                 + weights.gloss * gloss_cos.get(c.row, 0.0)
                 + weights.lexical * c.scores.get("lexical", 0.0) / best_lexical
                 + weights.symbol * ("symbol" in c.ranks)
                 + weights.regex * ("regex" in c.ranks)
                 + weights.fused * c.fused / best_fused)
        scored.append((score, order, c))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [(c, score) for score, _, c in scored]
