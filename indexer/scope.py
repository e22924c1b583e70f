"""Which files of a snapshot a search looks at, with ripgrep's rules.

ripgrep decides per file, in this order (the `ignore` crate's `matched`): a `-g` glob that
matches (or a file no include glob matches) decides; then `-t`/`-T` types, matched on the file
name; then a hidden file (a name starting with ".") is skipped unless `--hidden`. A hidden
*folder* is never entered without `--hidden`. Paths named on the command line narrow the
search to those files and folders; names below them are judged relative to them, so that
`rg x .github` searches `.github` even without `--hidden`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from indexer.errors import CodeloupeError


class ScopeError(CodeloupeError):
    """A bad glob or an unknown type: ripgrep's message, exit 2."""


def _type_regex(names: Sequence[str]) -> re.Pattern[str] | None:
    from indexer.rg_types import TYPES

    globs: list[str] = []
    for name in names:
        if name == "all":  # rg: every defined type
            globs += [g for gs in TYPES.values() for g in gs]
            continue
        if name not in TYPES:
            raise ScopeError(f"unrecognized file type: {name}")
        globs += TYPES[name]
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


def check_glob(glob: str) -> None:
    """ripgrep's errors for globs it cannot parse (pathspec accepts them silently)."""
    body = glob[1:] if glob.startswith("!") else glob
    depth, i, in_class, first = 0, 0, False, 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]" and i > first:  # a "]" first in the class is a member
                in_class = False
        elif c == "[":
            in_class = True
            first = i + 2 if body[i + 1:i + 2] in ("!", "^") else i + 1
        elif c == "{":
            depth += 1
            if depth > 1:  # rg 14 (globset) refuses them
                raise ScopeError(f"error parsing glob '{body}': nested alternate groups are "
                                 "not allowed")
        elif c == "}" and depth:
            depth -= 1
        i += 1
    if in_class:
        raise ScopeError(f"error parsing glob '{body}': unclosed character class; missing ']'")
    if depth:
        raise ScopeError(f"error parsing glob '{body}': unclosed alternate group; missing '}}' "
                         "(maybe escape '{' with '[{]'?)")


@dataclass(frozen=True)
class FileScope:
    """The command line's file selection, hashable (snapshot searchers cache by it)."""

    paths: tuple[str, ...] = ()  # repository-relative files or folders ("" = everything)
    hidden: bool = True  # the engine's default; the CLI passes rg's (False) unless --hidden
    types: tuple[str, ...] = ()  # rg -t
    types_not: tuple[str, ...] = ()  # rg -T

    @cached_property
    def _selected(self) -> re.Pattern[str] | None:
        return _type_regex(self.types)

    @cached_property
    def _negated(self) -> re.Pattern[str] | None:
        return _type_regex(self.types_not)

    def validate(self) -> None:
        """Raise ScopeError for an unknown type before any work."""
        _ = self._selected, self._negated

    def root_of(self, path: str) -> str | None:
        """The path argument `path` lies under (None: outside every one)."""
        if not self.paths:
            return ""
        for root in self.paths:
            if not root or path == root or path.startswith(root + "/"):
                return root
        return None

    def keeps(self, path: str, glob_decision: bool | None,
              folder_match: Callable[[str], bool | None] | None = None) -> bool:
        """Whether `path` is searched, given what the -g globs decided (None: no glob
        matched it and there are no include globs). `folder_match(folder)`: whether a -g
        glob includes (True) or excludes (False) a folder itself, None if none matches."""
        root = self.root_of(path)
        if root is None:
            return False
        if path == root:  # a file named on the command line is always searched
            return True
        below = path[len(root) + 1:] if root else path
        folders, _, name = below.rpartition("/")
        if not self.hidden and folders:
            prefix = root
            for part in folders.split("/"):
                prefix = f"{prefix}/{part}" if prefix else part
                # rg never enters a hidden folder, unless a -g glob includes it by name
                if part.startswith(".") and (folder_match is None or
                                             folder_match(prefix) is not True):
                    return False
        if glob_decision is not None:
            return glob_decision
        if self._negated is not None and self._negated.match(name):
            return False
        if self._selected is not None:  # a type match whitelists, even a hidden name
            return self._selected.match(name) is not None
        return self.hidden or not name.startswith(".")
