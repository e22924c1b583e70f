"""Metadata filters over a snapshot's chunks: path globs (ripgrep syntax), language, kind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexer.retrieval.chunk_table import ChunkTable
from indexer.search import GlobFilter


@dataclass(frozen=True)
class ChunkFilter:
    globs: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    @classmethod
    def of(cls, globs: Sequence[str] = (), languages: Sequence[str] = (),
           kinds: Sequence[str] = ()) -> ChunkFilter:
        return cls(tuple(globs), tuple(x.lower() for x in languages),
                   tuple(x.lower() for x in kinds))

    @property
    def active(self) -> bool:
        return bool(self.globs or self.languages or self.kinds)

    def mask(self, table: ChunkTable) -> np.ndarray:
        """A boolean per table row: does the chunk pass every filter?"""
        keep = np.ones(len(table), dtype=bool)
        if self.globs:
            allowed = GlobFilter(self.globs)
            for path, rows in table.by_path.items():
                if not allowed(path):
                    keep[rows] = False
        if self.languages:
            wanted = set(self.languages)
            keep &= np.fromiter((lang.lower() in wanted for lang in table.languages),
                                dtype=bool, count=len(table))
        if self.kinds:
            wanted = set(self.kinds)
            keep &= np.fromiter((kind.lower() in wanted for kind in table.kinds),
                                dtype=bool, count=len(table))
        return keep
