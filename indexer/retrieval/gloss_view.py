"""The gloss of each chunk, as the retrieval side reads it (the `gloss` view's text)."""

from __future__ import annotations

from indexer.code_tokens import split_identifier
from indexer.store.chunk_store import ChunkRecord


def record_gloss(record: ChunkRecord) -> str:
    """A heuristic gloss from the stored chunk fields: what it is, its name in words, and the
    first sentence of its docstring."""
    words = " ".join(split_identifier(record.name)) if record.name else ""
    head = f"{record.kind} {words}".strip()
    doc = " ".join(record.docstring.split())
    first = doc.split(". ")[0][:300] if doc else ""
    return f"{head}. {first}".strip(" .") if first else head
