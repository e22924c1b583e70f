"""Git access: find the repository, resolve revisions, list a commit's tree or the working tree,
and read blobs in bulk through one `git cat-file --batch` process.

Paths are kept as bytes from git (`-z` output) and decoded with surrogateescape, so file names
that are not valid UTF-8 survive the round trip.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import RepositoryError
from indexer.safe_paths import lstat_beneath, read_regular

WORKTREE = "worktree"  # the revision name of the working tree snapshot
MODE_SYMLINK = "120000"
MODE_SUBMODULE = "160000"


def fs_path(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def decode_path(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def path_fields(path: str) -> dict[str, str]:
    """A result's path in JSON: `path` is readable text; a name that is not UTF-8 also gets
    `path_bytes` (base64 of its exact bytes), as ripgrep's JSON gives `{"bytes": …}`."""
    printable = printable_path(path)
    if printable == path:
        return {"path": path}
    return {"path": printable, "path_bytes": base64.b64encode(fs_path(path)).decode("ascii")}


def printable_path(path: str) -> str:
    """A path for text meant to be read or stored as UTF-8 (titles, BM25 fields, SQLite):
    bytes that are not UTF-8 become U+FFFD. Never a path to open: that is `path` itself."""
    return fs_path(path).decode("utf-8", "replace")


def git_blob_id(data: bytes) -> str:
    """The id git gives `data` as a blob, so working-tree files share entries with commits."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


MAX_REV_LENGTH = 1024  # git's own ref names are far shorter


@dataclass(frozen=True, slots=True)
class TreeEntry:
    path: str
    oid: str | None  # None: a working-tree file whose content must be read and hashed
    mode: str


@dataclass(frozen=True, slots=True)
class DirtyFile:
    path: str
    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """One path of `git status --porcelain=v2`: kind '1' (changed), '2' (renamed), 'u'
    (unmerged) or '?' (untracked); X (index vs HEAD) and Y (working tree vs index) states."""

    kind: str
    path: str
    staged: str
    worktree: str
    mode_index: str
    mode_worktree: str
    oid_index: str
    original: str | None  # a rename's old path


# A repository's own config can name a program for `git status` to run (core.fsmonitor):
# codeloupe reads repositories it does not trust, so that hook is always off.
GIT_SAFETY = ("-c", "core.fsmonitor=false")


class GitRepo:
    """A git repository on disk; every call runs the system git binary."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def discover(cls, start: Path | str | None = None) -> GitRepo:
        start_path = Path(start or os.getcwd()).resolve()
        if not start_path.exists():
            raise RepositoryError(f"no such directory: {start_path}")
        proc = subprocess.run(
            ["git", "-C", str(start_path), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True)
        if proc.returncode != 0:
            raise RepositoryError(f"not a git repository (or any parent): {start_path}")
        return cls(Path(proc.stdout.strip()).resolve())

    # --- plumbing ---
    def git(self, *args: str, check: bool = True, binary: bool = False,
            input: bytes | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run(["git", *GIT_SAFETY, "--no-optional-locks", "-C", str(self.root),
                               *args],
                              capture_output=True, input=input,
                              env={**os.environ, **env} if env else None)
        if check and proc.returncode != 0:
            raise RepositoryError(
                f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc

    def head_commit(self) -> str | None:
        proc = self.git("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
        return proc.stdout.decode().strip() or None

    def resolve(self, rev: str) -> str:
        """The commit id `rev` names, or a RepositoryError naming it and similar refs."""
        if not rev or rev.startswith("-") or len(rev) > MAX_REV_LENGTH or any(
                c < " " or c == "\x7f" for c in rev):
            # NUL would fail the subprocess call itself; control characters and options are
            # never revisions
            raise RepositoryError(f"invalid revision {rev[:80]!r}")
        proc = self.git("rev-parse", "--verify", "--quiet", "--end-of-options",
                        f"{rev}^{{commit}}", check=False)
        commit = proc.stdout.decode().strip()
        if proc.returncode == 0 and commit:
            return commit
        candidates = self.similar_refs(rev)
        hint = f"; did you mean: {', '.join(candidates)}?" if candidates else ""
        raise RepositoryError(f"unknown revision {rev!r} in {self.root}{hint}")

    def refs(self) -> list[str]:
        proc = self.git("for-each-ref", "--format=%(refname:short)", check=False)
        return [line for line in proc.stdout.decode().splitlines() if line]

    def similar_refs(self, rev: str, limit: int = 5) -> list[str]:
        import difflib  # only on the error path

        refs = self.refs()
        close = [r for r in refs if rev.lower() in r.lower()]
        close += [r for r in difflib.get_close_matches(rev, refs, n=limit) if r not in close]
        return close[:limit]

    # --- trees ---
    def commit_tree(self, commit: str) -> list[TreeEntry]:
        out = self.git("ls-tree", "-r", "-z", "--full-tree", commit).stdout
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, oid = meta.decode().split(" ")
            if kind != "blob" or mode == MODE_SYMLINK:
                continue  # submodules (commit) and symlinks are not searched, as in ripgrep
            entries.append(TreeEntry(decode_path(raw_path), oid, mode))
        return entries

    def diff_trees(self, base: str, commit: str) -> list[tuple[str, TreeEntry | None]]:
        """What changed from `base` to `commit`: (path, new entry, or None if it is gone).

        `git diff --raw` without rename detection: a rename is a delete plus an add, which is
        all a manifest needs. Symlinks and submodules count as gone (we never search them)."""
        out = self.git("diff", "--raw", "-z", "--no-renames", "--no-abbrev", "-r", base,
                       commit).stdout
        fields = out.split(b"\0")
        changes: list[tuple[str, TreeEntry | None]] = []
        i = 0
        while i + 1 < len(fields):
            meta, raw_path = fields[i], fields[i + 1]
            i += 2
            if not meta.startswith(b":"):
                continue
            _, new_mode, _, new_oid, status = meta[1:].decode().split(" ")
            path = decode_path(raw_path)
            if status.startswith("D") or new_mode in (MODE_SYMLINK, MODE_SUBMODULE):
                changes.append((path, None))
            else:
                changes.append((path, TreeEntry(path, new_oid, new_mode)))
        return changes

    def worktree(self) -> tuple[list[TreeEntry], list[str]]:
        """Tracked and untracked-but-not-ignored files of the working tree.

        Clean tracked files carry the blob id from git's index (git's stat cache vouches for
        them); modified and untracked files carry None and must be read. Also returns the
        paths of submodules, which are listed but not searched.
        """
        staged: dict[str, TreeEntry] = {}
        submodules: list[str] = []
        out = self.git("ls-files", "-s", "-z").stdout
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, oid, stage = meta.decode().split(" ")
            path = decode_path(raw_path)
            if mode == MODE_SUBMODULE:
                submodules.append(path)
                continue
            if mode == MODE_SYMLINK:
                continue
            staged[path] = TreeEntry(path, oid if stage == "0" else None, mode)
        for record in self.status_records():
            path = record.path
            if record.kind == "?":
                if not path.endswith("/"):
                    staged[path] = TreeEntry(path, None, "100644")
                continue
            mode = staged[path].mode if path in staged else "100644"
            if record.worktree == "D":
                staged.pop(path, None)
            elif record.worktree != "." or record.kind == "u":
                staged[path] = TreeEntry(path, None, mode)
        return [staged[p] for p in sorted(staged)], submodules

    def status_records(self, paths: Iterable[str] | None = None,
                       no_renames: bool = False) -> Iterator[StatusRecord]:
        """`git status --porcelain=v2` (untracked files listed one by one, submodules
        ignored), parsed; with `paths`, only for those pathspecs (taken literally)."""
        args = ["status", "--porcelain=v2", "-z", "--untracked-files=all",
                "--ignore-submodules=all"] + (["--no-renames"] if no_renames else [])
        if paths is not None:
            args = ["--literal-pathspecs", *args, "--", *paths]
        records = self.git(*args).stdout.split(b"\0")
        i = 0
        while i < len(records):
            record = records[i]
            i += 1
            tag = record[:1]
            if tag == b"?":
                yield StatusRecord("?", decode_path(record[2:]), "?", "?", "", "", "", None)
            elif tag in (b"1", b"2", b"u"):
                fields = record.split(b" ", {b"1": 8, b"2": 9, b"u": 10}[tag])
                original = None
                if tag == b"2":  # a rename: the original path is the next record
                    original = decode_path(records[i])
                    i += 1
                xy = fields[1].decode()
                if tag == b"u":  # an unmerged path: only the working tree's mode matters
                    yield StatusRecord("u", decode_path(fields[-1]), xy[0], xy[1], "",
                                       fields[6].decode(), "", original)
                else:
                    yield StatusRecord(tag.decode(), decode_path(fields[-1]), xy[0], xy[1],
                                       fields[4].decode(), fields[5].decode(),
                                       fields[7].decode(), original)

    def read_worktree_file(self, path: str) -> bytes | None:
        """The bytes of a working-tree file, or None if it vanished, is not a regular file, or
        is reached through a symlink (a symlinked parent directory included: never read
        outside the repository)."""
        return read_regular(self.root, path)

    def stat_worktree_file(self, path: str) -> DirtyFile | None:
        st = lstat_beneath(self.root, path)
        if st is None:
            return None
        return DirtyFile(path, st.st_size, st.st_mtime_ns, st.st_ino)

    def blob_reader(self) -> BlobReader:
        return BlobReader(self.root)


class BlobReader:
    """Bulk blob reads through one long-lived `git cat-file --batch` process."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            ["git", "-C", str(root), "cat-file", "--batch"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)

    def read_many(self, oids: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
        """Yield (oid, content) in order; writes requests ahead from a thread to keep the pipe
        full (cat-file answers in order)."""
        import threading

        oid_list = list(oids)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        stdin, stdout = self.proc.stdin, self.proc.stdout

        def feed() -> None:
            try:
                for start in range(0, len(oid_list), 256):
                    stdin.write(("\n".join(oid_list[start:start + 256]) + "\n").encode())
            except (BrokenPipeError, ValueError):
                pass  # git gone, or stdin closed by close() (Ctrl-C mid-read): nothing to feed

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        reader = _BufferedPipe(stdout)
        for oid in oid_list:
            header = reader.readline().decode().split()
            if len(header) < 3 or header[1] == "missing":
                yield oid, None
                continue
            size = int(header[2])
            data = reader.read(size)
            reader.read(1)  # trailing newline
            yield oid, data
        feeder.join()

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=10)

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _BufferedPipe:
    def __init__(self, raw) -> None:  # noqa: ANN001 - a raw file object
        self.raw = raw
        self.buf = bytearray()

    def _fill(self) -> bool:
        chunk = self.raw.read(1 << 20)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def readline(self) -> bytes:
        while True:
            idx = self.buf.find(b"\n")
            if idx >= 0:
                line = bytes(self.buf[:idx])
                del self.buf[:idx + 1]
                return line
            if not self._fill():
                line = bytes(self.buf)
                self.buf.clear()
                return line

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                break
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data
