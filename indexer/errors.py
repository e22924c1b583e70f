"""Errors a user can act on. Each carries a message fit to print as is."""

from __future__ import annotations


class CodeloupeError(Exception):
    """Base class: bad input or a state the user must fix. Exit code 2 in the CLI."""


SHOWN_CHARS = 120  # of a long pattern, the characters an error message shows


class PatternError(CodeloupeError):
    """An invalid or unsupported regular expression, with the position of the problem."""

    def __init__(self, reason: str, pattern: str, position: int, what: str = "regex") -> None:
        self.reason = reason
        self.pattern = pattern
        self.position = position
        shown, at = pattern, position
        if len(pattern) > SHOWN_CHARS:  # a huge pattern: show the part around the position
            start = max(0, min(position - SHOWN_CHARS // 2, len(pattern) - SHOWN_CHARS))
            shown = ("…" if start else "") + pattern[start:start + SHOWN_CHARS] + (
                "…" if start + SHOWN_CHARS < len(pattern) else "")
            at = position - start + (1 if start else 0)
        pointer = " " * at + "^"
        super().__init__(f"{what} parse error at position {position}: {reason}\n"
                         f"    {shown}\n    {pointer}")


class RepositoryError(CodeloupeError):
    """Not a git repository, an unknown revision, a path outside the repository."""


class IndexBusyError(CodeloupeError):
    """Another process holds the index's write lock."""
