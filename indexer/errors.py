"""Errors a user can act on. Each carries a message fit to print as is."""

from __future__ import annotations


class CodeloupeError(Exception):
    """Base class: bad input or a state the user must fix. Exit code 2 in the CLI."""


class PatternError(CodeloupeError):
    """An invalid or unsupported regular expression, with the position of the problem."""

    def __init__(self, reason: str, pattern: str, position: int) -> None:
        self.reason = reason
        self.pattern = pattern
        self.position = position
        pointer = " " * position + "^"
        super().__init__(f"regex parse error at position {position}: {reason}\n"
                         f"    {pattern}\n    {pointer}")


class RepositoryError(CodeloupeError):
    """Not a git repository, an unknown revision, a path outside the repository."""


class IndexBusyError(CodeloupeError):
    """Another process holds the index's write lock."""
