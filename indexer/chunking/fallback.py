"""Line windows: the chunker of last resort, and the splitter for oversized spans.

Windows are made of whole paragraphs (runs of non-blank lines) packed up to the size limit; a
paragraph larger than the limit is cut between lines. One line is never split, so a single
enormous line is one window (its chunk text is capped later).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from .lines import LineIndex


def paragraphs(li: LineIndex, first: int, last: int) -> list[tuple[int, int]]:
    """Maximal runs of consecutive non-blank lines within ``first..last``."""
    nb = li.nonblank
    lo, hi = bisect_left(nb, first), bisect_right(nb, last)
    out: list[tuple[int, int]] = []
    start = prev = -2
    for line in nb[lo:hi]:
        if line != prev + 1:
            if start > 0:
                out.append((start, prev))
            start = line
        prev = line
    if start > 0:
        out.append((start, prev))
    return out


def window_lines(li: LineIndex, first: int, last: int, max_tokens: int) -> list[tuple[int, int]]:
    """Blank-line-aware windows of at most ``max_tokens`` (single lines excepted)."""
    windows: list[tuple[int, int]] = []
    cur_s = cur_e = 0
    for ps, pe in paragraphs(li, first, last):
        if cur_s and li.tokens(cur_s, pe) <= max_tokens:
            cur_e = pe
            continue
        if cur_s:
            windows.append((cur_s, cur_e))
            cur_s = 0
        if li.tokens(ps, pe) <= max_tokens:
            cur_s, cur_e = ps, pe
            continue
        # An oversized paragraph: cut between lines.
        ws = ps
        for line in range(ps, pe + 1):
            if line > ws and li.tokens(ws, line) > max_tokens:
                windows.append((ws, line - 1))
                ws = line
        cur_s, cur_e = ws, pe
    if cur_s:
        windows.append((cur_s, cur_e))
    return windows
