"""Decide what of a file is searchable, the way ripgrep does by default.

- files larger than the size cap are skipped (`--max-filesize`);
- a UTF-16 byte-order mark means the file is transcoded to UTF-8; a UTF-8 BOM is dropped;
- a NUL byte marks a binary file: ripgrep reads files in 64 KiB buffers, stops at the buffer
  holding the first NUL, and reports matches only from the complete lines of the buffers before
  it. We keep exactly those lines (none when the NUL is in the first 64 KiB: the file is
  skipped). The buffer model was fitted to rg 14.1.0's output.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

DEFAULT_MAX_FILESIZE = 1 << 20  # 1 MiB, like `rg --max-filesize 1M`


class BlobKind(enum.IntEnum):
    TEXT = 0
    BINARY = 1  # NUL in the first line: nothing searchable
    TOO_LARGE = 2
    BINARY_PREFIX = 3  # NUL later on: the lines before it are searchable
    TRANSCODED = 4  # UTF-16 with a BOM, stored as UTF-8
    UNREADABLE = 5  # vanished or unreadable while indexing

    @property
    def searchable(self) -> bool:
        return self in (BlobKind.TEXT, BlobKind.BINARY_PREFIX, BlobKind.TRANSCODED)

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


@dataclass(frozen=True, slots=True)
class PreparedContent:
    kind: BlobKind
    data: bytes  # the searchable bytes (empty when not searchable)


def prepare_content(raw: bytes, max_filesize: int = DEFAULT_MAX_FILESIZE) -> PreparedContent:
    if len(raw) > max_filesize:
        return PreparedContent(BlobKind.TOO_LARGE, b"")
    kind = BlobKind.TEXT
    data = raw
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16-le" if raw[:2] == b"\xff\xfe" else "utf-16-be"
        data = raw[2:].decode(codec, errors="replace").encode("utf-8")
        kind = BlobKind.TRANSCODED
    elif raw[:3] == b"\xef\xbb\xbf":
        data = raw[3:]
    nul = data.find(b"\0")
    if nul >= 0:
        cut = _searched_before_binary(data, nul)
        if cut == 0:
            return PreparedContent(BlobKind.BINARY, b"")
        return PreparedContent(BlobKind.BINARY_PREFIX, data[:cut])
    return PreparedContent(kind, data)


RG_BUFFER = 64 * 1024


def _searched_before_binary(data: bytes, nul: int) -> int:
    """How many leading bytes ripgrep searches in a file whose first NUL is at `nul`.

    Each read fills the buffer (64 KiB, less the partial line carried over); a read that brings
    in the NUL ends the search; after each clean read the complete lines so far are searched.
    """
    read = searched = 0
    while True:
        end = min(read + RG_BUFFER - (read - searched), len(data))
        if nul < end:
            return searched
        read = end
        searched = data.rfind(b"\n", 0, read) + 1 or searched
