"""Reads of working-tree files that cannot leave the workspace root.

A repository path such as `src/a.py` names a file *inside* the repository only if no component
on the way is a symlink: a tracked directory replaced by a symlink to a folder outside (a branch
checkout can do that) would otherwise make `root / "src/a.py"` read the outside file. Checking
the last component (`Path.is_symlink`) or the resolved path before opening is not enough: the
check and the open race with a checkout.

So every read walks the path one component at a time from an open descriptor of the root, with
`openat(..., O_NOFOLLOW)`: a symlink anywhere on the way (file or directory, loops included)
fails the open itself, and what was opened is what was checked (no time-of-check/time-of-use
gap). The final descriptor is `fstat`ed and must be a regular file. Every front end (language
server, MCP, CLI, the search daemon) and the working-tree indexing read files through here.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO planted in the tree must not block the reader.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_REFUSED_PARTS = frozenset(("", ".", "..", ".git"))


class OutsideRoot(ValueError):
    """A repository path that is not a plain relative path beneath the root."""


def split_relative(rel: str) -> list[str]:
    """The components of a repository-relative path; OutsideRoot for an absolute path, a
    NUL byte, `.`/`..`/empty components or `.git` (git's own files are never read)."""
    if not isinstance(rel, str) or not rel or "\0" in rel or rel.startswith("/"):
        raise OutsideRoot(f"not a path inside the repository: {rel!r}")
    parts = rel.split("/")
    if any(p in _REFUSED_PARTS for p in parts):
        raise OutsideRoot(f"not a path inside the repository: {rel!r}")
    return parts


def _open_parent(root: str | Path, parts: list[str]) -> int:
    """A descriptor of the directory holding parts[-1], reached without following any
    symlink below `root` (the root itself may be reached through symlinks: it is the
    repository the user opened)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(root: str | Path, rel: str) -> tuple[int, os.stat_result] | None:
    """(descriptor, its fstat) of the regular file `rel` strictly beneath `root`, or None when
    it is missing, not a regular file, or reached through a symlink anywhere on the way.
    OutsideRoot for a path that could not name a file beneath the root. The caller closes
    the descriptor."""
    parts = split_relative(rel)
    try:
        parent = _open_parent(root, parts)
    except OSError:
        return None  # missing, not a directory, or a symlinked directory (ELOOP/ENOTDIR)
    try:
        fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=parent)
    except OSError:
        return None
    finally:
        os.close(parent)
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        return None
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    return fd, info


def read_regular(root: str | Path, rel: str, max_size: int | None = None) -> bytes | None:
    """The bytes of the regular file `rel` beneath `root` (see `open_regular`), or None;
    also None when it is larger than `max_size`. Never reads outside the root."""
    try:
        opened = open_regular(root, rel)
    except OutsideRoot:
        return None
    if opened is None:
        return None
    fd, info = opened
    try:
        if max_size is not None and info.st_size > max_size:
            return None
        chunks = []
        while True:
            try:
                chunk = os.read(fd, 1 << 20)
            except OSError as exc:
                if exc.errno == errno.EAGAIN:
                    return None
                raise
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def lstat_beneath(root: str | Path, rel: str) -> os.stat_result | None:
    """`lstat` of `rel`'s last component, reached without following a symlink on the way
    (None when missing, refused, or a parent is a symlink)."""
    try:
        parts = split_relative(rel)
        parent = _open_parent(root, parts)
    except (OSError, OutsideRoot):
        return None
    try:
        return os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
    except OSError:
        return None
    finally:
        os.close(parent)


def is_beneath(root: str | Path, path: str | Path) -> bool:
    """Whether `path`, every symlink resolved, lies inside the resolved `root` (for
    user-given paths used as filters; reads go through `read_regular`)."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip("/") + "/")
