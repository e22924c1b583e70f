"""The working tree as an overlay on HEAD: which paths differ from HEAD's tree, and how.

`git status --porcelain=v2` lists exactly the paths whose index or working-tree state differs
from HEAD (staged, unstaged, untracked); every other path holds HEAD's blob. So the working
tree's snapshot is HEAD's snapshot patched with this overlay, and only overlay files are ever
read. Restricted to a few paths (a pathspec), the same command answers for just the paths a
file watcher reported, at a cost independent of the repository's size.
"""

from __future__ import annotations

from collections.abc import Iterable

from indexer.repo import MODE_SUBMODULE, MODE_SYMLINK, GitRepo, TreeEntry, decode_path

# A path's state relative to HEAD: an entry (oid None: read the file on disk), or None: gone.
Overlay = dict[str, TreeEntry | None]

_NOT_SEARCHED = (MODE_SYMLINK, MODE_SUBMODULE, "000000")
MAX_PATHSPECS = 1000  # more changed paths than this: list the whole overlay instead


def worktree_changes(repo: GitRepo, paths: Iterable[str] | None = None) -> Overlay:
    """Every path that differs from HEAD (or, with `paths`, every such path at or under one of
    them), mapped to its working-tree state."""
    args = ["status", "--porcelain=v2", "-z", "--untracked-files=all",
            "--ignore-submodules=all", "--no-renames"]
    if paths is not None:
        args = ["--literal-pathspecs", *args, "--", *paths]
    records = repo.git(*args).stdout.split(b"\0")
    overlay: Overlay = {}
    untracked: list[str] = []
    i = 0
    while i < len(records):
        record = records[i]
        i += 1
        if not record:
            continue
        tag = record[:1]
        if tag == b"?":
            path = decode_path(record[2:])
            if not path.endswith("/"):  # a nested repository: not searched, as git shows it
                untracked.append(path)
            continue
        if tag not in (b"1", b"2", b"u"):
            continue
        fields = record.split(b" ", {b"1": 8, b"2": 9, b"u": 10}[tag])
        path = decode_path(fields[-1])
        if tag == b"2":  # a rename (only if --no-renames is ignored): the old path is gone
            overlay.setdefault(decode_path(records[i]), None)
            i += 1
        staged, worktree = fields[1].decode()
        if tag == b"u":
            mode_worktree = fields[6].decode()
            overlay[path] = _on_disk(path, mode_worktree)
            continue
        mode_index, mode_worktree = fields[4].decode(), fields[5].decode()
        if worktree == "D":
            overlay[path] = None
        elif worktree != ".":  # the file on disk differs from git's index: read it
            overlay[path] = _on_disk(path, mode_worktree)
        elif staged == "D" or mode_index in _NOT_SEARCHED:
            overlay[path] = None
        else:  # staged, and the file on disk is what git's index holds
            overlay[path] = TreeEntry(path, fields[7].decode(), mode_index)
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
