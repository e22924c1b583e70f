"""Unsaved editor buffers, and files changed on disk since the last index run, searched in
place of the indexed bytes of their files.

A buffer is searched with the request's compiled pattern (`CompiledSearch.span_finder`), line
by line as ripgrep does, after the same content rules the index applies (size cap, binary,
UTF-16 transcoding: `prepare_content`), so an unchanged buffer gives the indexed result.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.search import CompiledSearch, Line, SearchOptions, scan_bytes
from indexer.store.content import prepare_content


@dataclass(frozen=True, slots=True)
class Buffer:
    """A text standing in for a file: an open document of the editor, or a file read from
    disk. `data` None: the file is gone (or too large to search)."""

    uri: str
    path: str  # relative to the repository root
    data: bytes | None
    dirty: bool  # edited since opened or saved; always true for files read from disk

    @classmethod
    def of_text(cls, uri: str, path: str, text: str, dirty: bool) -> Buffer:
        return cls(uri, path, text.encode("utf-8", "surrogatepass"), dirty)


def searchable_bytes(raw: bytes, max_filesize: int) -> bytes | None:
    """What the index would keep searchable of these bytes (None: nothing)."""
    content = prepare_content(raw, max_filesize)
    return content.data if content.kind.searchable else None


def scan_buffer(data: bytes, compiled: CompiledSearch, options: SearchOptions) -> list[Line]:
    """Matching lines (with submatches) and context lines of `data`, in line order."""
    return scan_bytes(data, 0, compiled, options)
