"""What the embedding model reads for each chunk, per view.

- `code`: the chunk's qualified name and parameters, then its source. The model sees only its
  first `max_tokens` tokens, so the name and signature lead. (The path is left to BM25: on
  CoSQA it cost 2 MRR points, and on the shop gold set it did not help dense recall.)
- `gloss`: the chunk's plain-language gloss (see indexer.gloss).
Texts are capped in characters before tokenizing: tokenizing a 1 MB chunk to keep 128
tokens of it is wasted work.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from indexer.retrieval.chunk_table import ChunkTable
from indexer.store.chunk_store import ChunkRecord
from indexer.store.index_store import IndexStore
from indexer.store.manifest import Manifest

MAX_CHARS = 4000
# Vectors are cached under the view's name: a new recipe gets a new name, never stale vectors.
CODE_VIEW = "code.2"
GLOSS_VIEW = "gloss.2"


def code_view_text(record: ChunkRecord, source: str) -> str:
    # the title is "path › Name(params)"; keep what follows the path
    head = record.title.partition(" › ")[2] or record.qualified_name
    return f"{head}\n{source[:MAX_CHARS]}" if head else source[:MAX_CHARS]


def chunk_sources(store: IndexStore, manifest: Manifest, table: ChunkTable,
                  rows: Iterable[int]) -> Iterator[tuple[int, ChunkRecord, str]]:
    """(row, record, source text) for rows, reading each blob once per consecutive run."""
    current_blob, data = -1, b""
    for row in rows:
        blob = int(table.blob_nos[row])
        if blob != current_blob:
            i = table.entry_of_blob[blob]
            data = store.packs.read(manifest.packs[i], manifest.offsets[i], manifest.lengths[i])
            current_blob = blob
        record = table.record(store.chunks, row)
        text = data[record.start_byte:record.end_byte].decode("utf-8", "replace")
        yield row, record, text
