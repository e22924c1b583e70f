"""Line bookkeeping shared by every chunker: line offsets, blank lines, token estimates.

Lines are split at ``\\n`` only (as tree-sitter counts rows). A line is *blank* when it holds
nothing but ASCII whitespace. Token counts are a cheap estimate: a quarter of the line's
characters after its indentation, which is close enough for sizing chunks.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate

_WS = frozenset(b" \t\r\n\x0b\x0c")


def is_blank(line: bytes) -> bool:
    """The definition of a blank line every chunker (and its tests) uses."""
    return not line.strip()


class LineIndex:
    """Offsets and sizes of the lines of one file (1-based line numbers throughout)."""

    __slots__ = ("data", "starts", "count", "_cum", "nonblank")

    def __init__(self, data: bytes) -> None:
        self.data = data
        lines = data.split(b"\n")
        if lines and lines[-1] == b"" and len(lines) > 1:
            lines.pop()  # a final newline does not open a new line
        if data == b"":
            lines = []
        self.count = len(lines)
        self.starts = [0, *accumulate(len(line) + 1 for line in lines)]
        widths = [len(line.lstrip()) for line in lines]
        self._cum = [0, *accumulate(widths)]
        self.nonblank = [i for i, w in enumerate(widths, 1) if w]

    # -- positions -------------------------------------------------------------------------
    def line_of_byte(self, offset: int) -> int:
        """The 1-based line holding byte ``offset``."""
        return bisect_right(self.starts, offset)

    def end_line_of(self, start_byte: int, end_byte: int) -> int:
        """Line of the last non-whitespace byte of ``[start_byte, end_byte)`` (0 if none)."""
        data = self.data
        end = end_byte
        while end > start_byte and data[end - 1] in _WS:
            end -= 1
        if end <= start_byte:
            return 0
        return bisect_right(self.starts, end - 1)

    def line_start(self, line: int) -> int:
        return self.starts[line - 1]

    def line_end(self, line: int) -> int:
        """Offset just past the content of ``line`` (newline and a preceding CR excluded)."""
        end = min(self.starts[line] - 1, len(self.data))
        if end > self.starts[line - 1] and self.data[end - 1 : end] == b"\r":
            end -= 1
        return max(end, self.starts[line - 1])

    # -- sizes -----------------------------------------------------------------------------
    @property
    def content_bytes(self) -> int:
        """Bytes of all lines without their indentation."""
        return self._cum[-1]

    def tokens(self, first: int, last: int) -> int:
        """Estimated tokens of lines ``first..last`` (inclusive)."""
        if last < first:
            return 0
        return (self._cum[last] - self._cum[first - 1] + 3) // 4

    # -- blank lines -----------------------------------------------------------------------
    def first_nonblank(self, first: int, last: int) -> int:
        """First non-blank line in ``first..last`` or 0."""
        i = bisect_left(self.nonblank, first)
        if i < len(self.nonblank) and self.nonblank[i] <= last:
            return self.nonblank[i]
        return 0

    def last_nonblank(self, first: int, last: int) -> int:
        """Last non-blank line in ``first..last`` or 0."""
        i = bisect_right(self.nonblank, last) - 1
        if i >= 0 and self.nonblank[i] >= first:
            return self.nonblank[i]
        return 0
