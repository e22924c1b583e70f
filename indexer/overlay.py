"""The working tree as an overlay on HEAD: which paths differ from HEAD's tree, and how.

`git status --porcelain=v2` lists exactly the paths whose index or working-tree state differs
from HEAD (staged, unstaged, untracked); every other path holds HEAD's blob. So the working
tree's snapshot is HEAD's snapshot patched with this overlay, and only overlay files are ever
read. Restricted to a few paths (a pathspec), the same command answers for just the paths a
file watcher reported, at a cost independent of the repository's size.
"""

from __future__ import annotations

from collections.abc import Iterable

from indexer.repo import MODE_SUBMODULE, MODE_SYMLINK, GitRepo, TreeEntry

# A path's state relative to HEAD: an entry (oid None: read the file on disk), or None: gone.
Overlay = dict[str, TreeEntry | None]

_NOT_SEARCHED = (MODE_SYMLINK, MODE_SUBMODULE, "000000")
MAX_PATHSPECS = 1000  # more changed paths than this: list the whole overlay instead


def worktree_changes(repo: GitRepo, paths: Iterable[str] | None = None) -> Overlay:
    """Every path that differs from HEAD (or, with `paths`, every such path at or under one of
    them), mapped to its working-tree state."""
    overlay: Overlay = {}
    untracked: list[str] = []
    for record in repo.status_records(paths, no_renames=True):
        path = record.path
        if record.kind == "?":
            if not path.endswith("/"):  # a nested repository: not searched, as git shows it
                untracked.append(path)
            continue
        if record.original is not None:  # a rename (if --no-renames is ignored): old path gone
            overlay.setdefault(record.original, None)
        if record.kind == "u":
            overlay[path] = _on_disk(path, record.mode_worktree)
        elif record.worktree == "D":
            overlay[path] = None
        elif record.worktree != ".":  # the file on disk differs from git's index: read it
            overlay[path] = _on_disk(path, record.mode_worktree)
        elif record.staged == "D" or record.mode_index in _NOT_SEARCHED:
            overlay[path] = None
        else:  # staged, and the file on disk is what git's index holds
            overlay[path] = TreeEntry(path, record.oid_index, record.mode_index)
    for path in untracked:  # after the records above: `git rm --cached` leaves the file
        overlay[path] = TreeEntry(path, None, "100644")
    return overlay


def _on_disk(path: str, mode: str) -> TreeEntry | None:
    return None if mode in _NOT_SEARCHED else TreeEntry(path, None, mode)


def under(path: str, prefixes: set[str]) -> bool:
    """Whether `path` is one of `prefixes` or inside one of them (directories)."""
    if path in prefixes:
        return True
    cut = path.rfind("/")
    while cut > 0:
        if path[:cut] in prefixes:
            return True
        cut = path.rfind("/", 0, cut)
    return False
