"""Glosses: a one- or two-sentence plain-language description of what a chunk does.

Used as lexical text and as a separate embedded view. Providers (heuristic — the default, no
model —, any OpenAI-compatible endpoint, a local GGUF through xllamacpp) sit behind
`GlossProvider`; answers are checked and cached per (content hash, provider, model, prompt
version) in the catalog database, shared by all snapshots.

Public API::

    heuristic_gloss(chunk) -> str                      # pure; usable at chunking time
    gloss_snapshot(workspace, rev, settings, *, budget=None, dry_run=False, cancel=None,
                   progress=None) -> GlossReport       # the on-demand / background stage
    glosses_for(source, chunks, provider=None, model=None) -> dict[hash, str]   # retrieval
    gloss_entries_for(...) -> dict[hash, Gloss]        # the same, with who wrote each gloss
    make_provider(settings) -> GlossProvider
    ensure_schema(db); stage_heuristic_glosses(db, rows)   # for a hook in the chunking stage
"""

from indexer.gloss.cache import (
    Gloss,
    GlossCache,
    ensure_schema,
    gloss_entries_for,
    glosses_for,
    stage_heuristic_glosses,
)
from indexer.gloss.engine import GlossReport, gloss_priority, gloss_snapshot
from indexer.gloss.heuristic import HEURISTIC_VERSION, heuristic_gloss
from indexer.gloss.providers import (
    PROMPT_VERSION,
    GlossConfigError,
    GlossItem,
    GlossProvider,
    GlossResult,
    HeuristicProvider,
    LlamaCppProvider,
    OpenAIProvider,
    make_provider,
    validate_gloss,
)

__all__ = [
    "HEURISTIC_VERSION",
    "PROMPT_VERSION",
    "Gloss",
    "GlossCache",
    "GlossConfigError",
    "GlossItem",
    "GlossProvider",
    "GlossReport",
    "GlossResult",
    "HeuristicProvider",
    "LlamaCppProvider",
    "OpenAIProvider",
    "ensure_schema",
    "gloss_entries_for",
    "gloss_priority",
    "gloss_snapshot",
    "glosses_for",
    "heuristic_gloss",
    "make_provider",
    "stage_heuristic_glosses",
    "validate_gloss",
]
