"""Awkward files × patterns, compared with ripgrep on the same tree.

The files a real tree holds and a careless tool trips on: empty, blank, no final newline,
CRLF, lone CR, a UTF-8 BOM, UTF-16 with a BOM, Latin-1, invalid and overlong UTF-8, NUL
bytes early and late, one huge line, minified code, a file just under and one just over the
size cap, names with spaces, Unicode, and bytes that are not UTF-8, a deep path, dotfiles, a
symlink inside and one pointing outside, a gitignored file, tabs and zero-width characters.
Each pattern runs through the engine and `rg --vimgrep` (--hidden --max-filesize 1M);
wrong = a pattern whose (path, line) set differs; crashes = an engine exception.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.probes.common import Budget, git, main_for, rg_binary, row  # noqa: E402

CAP = 1 << 20

AWKWARD: dict[bytes, bytes] = {
    b"empty.txt": b"",
    b"blank.txt": b"\n\n   \n\t\n",
    b"no_final_newline.py": b"def tail():\n    return 'hello'",
    b"crlf.txt": b"alpha hello\r\nbeta\r\n\r\ngamma hello\r\n",
    b"lone_cr.txt": b"one hello\rtwo\rthree hello\n",
    b"bom.txt": b"\xef\xbb\xbfhello with bom\nsecond\n",
    b"utf16.txt": "hello utf16\nna\u00efve\n".encode("utf-16"),
    b"latin1.txt": "caf\u00e9 hello na\u00efve\n".encode("latin-1"),
    b"invalid.txt": b"ok hello\nbad \xff\xfe hello\n\xc3\x28 x\n\xe0\x80\x80 overlong\n",
    b"nul_early.bin": b"hello\0world\nhello again\n",
    b"nul_late.txt": b"hello first\n" * 2000 + b"\0tail hello\n",
    b"huge_line.txt": b"x" * 300_000 + b" hello " + b"y" * 300_000 + b"\n",
    b"app.min.js": b"var a=1;" * 30_000 + b"function hello(){return 42}\n",
    b"just_under_cap.txt": b"hello cap\n" + b"z" * (CAP - 30) + b"\n",
    b"just_over_cap.txt": b"hello over\n" + b"z" * (CAP + 10) + b"\n",
    b"name with spaces.txt": b"hello spaces\n",
    "\u00fcnic\u00f8de/\u540d\u524d.txt".encode(): b"hello unicode name\n",
    b"not\xffutf8.txt": b"hello odd name\n",
    b"a/b/c/d/e/f/g/h/i/j/deep.py": b"def deep():\n    return 'hello'\n",
    b".hidden/.env": b"HELLO=1\nhello = 2\n",
    b"ignored/skip.log": b"hello ignored\n",
    b".gitignore": b"ignored/\n",
    b"tabs.txt": b"\thello\ttab\t\n  \t  \n",
    b"zero_width.txt": "hel\u200blo hello\u200d\n".encode(),
}

PATTERNS: list[tuple[str, list[str]]] = [
    ("hello", []), ("hello", ["-i"]), ("HELLO", ["-S"]), ("hello", ["-w"]), ("^hello", []),
    ("hello$", []), (r"hello\r?$", []), (r"^\s*$", []), ("^$", []), (r"\t", []),
    ("caf", []), ("na\u00efve", []), (r"[^\x00-\x7F]", []), (r"\p{Han}+", []),
    (r"\w+\s+\w+", []), ("x{100}", []), ("z{50}", []), (r"function \w+\(", []),
    (r"(?i)HELLO\s+\w+", []), (r"def \w+\(\):", []), ("bad", []), ("overlong", []),
    ("hello", ["-F"]), ("a.b", ["-F"]), ("hello", ["-g", "*.txt"]),
    ("hello", ["-g", "!*.txt"]), (r"\bhello\b", []), (r"[[:alpha:]]+ hello", []),
]


def _engine_options(pattern: str, flags: list[str]):  # noqa: ANN202 - SearchOptions
    from indexer.search import SearchOptions

    kw: dict = {"patterns": (pattern,)}  # the index caps files at 1 MiB, as rg here
    globs: list[str] = []
    i = 0
    while i < len(flags):
        flag = flags[i]
        if flag == "-i":
            kw["case"] = "ignore"
        elif flag == "-S":
            kw["case"] = "smart"
        elif flag == "-w":
            kw["whole_word"] = True
        elif flag == "-F":
            kw["fixed_strings"] = True
        elif flag == "-g":
            i += 1
            globs.append(flags[i])
        i += 1
    if globs:
        kw["globs"] = tuple(globs)
    return SearchOptions(**kw)


def _rg_lines(rg: str, repo: Path, pattern: str, flags: list[str]) -> set[tuple[str, int]]:
    # one row per matching line (--vimgrep would print a 1 MB line once per match in it)
    out = subprocess.run([rg, "--hidden", "--max-filesize", "1M", "-g", "!.git",
                          "--no-heading", "--with-filename", "-n", *flags, "-e", pattern],
                         cwd=repo, capture_output=True).stdout
    found = set()
    for line in out.split(b"\n"):
        if line:
            path, number = line.split(b":", 2)[:2]
            found.add((path.decode("utf-8", "surrogateescape"), int(number)))
    return found


def run(budget_s: float, seed: int, count: int | None = None) -> list[dict]:
    from indexer.search import SearchOptions
    from indexer.workspace import Workspace

    rg = rg_binary()
    patterns = PATTERNS if count is None else PATTERNS[:count]
    tried = crashes = wrong = 0
    notes: list[str] = []
    budget = Budget(budget_s)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True, prefix="probe-awkward-") as tmp:
        repo = Path(tmp) / "repo"
        outside = Path(tmp) / "outside"
        outside.mkdir()
        (outside / "secret.txt").write_bytes(b"hello secret outside\n")
        for rel, data in AWKWARD.items():
            path = Path(os.fsdecode(repo)) / os.fsdecode(rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        os.symlink("crlf.txt", repo / "link_inside.txt")
        os.symlink(outside / "secret.txt", repo / "link_outside.txt")
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "awkward")
        (repo / "untracked_new.txt").write_bytes(b"hello untracked\n")
        ws = Workspace.open(repo, index_dir=Path(tmp) / "index")
        try:
            ws.index(None)
            for pattern, flags in patterns:
                if not budget.left():
                    break
                tried += 1
                expected = _rg_lines(rg, repo, pattern, flags)
                try:
                    options = _engine_options(pattern, flags)
                    got = {(r.path, line.line_number) for r in ws.search(options)
                           for line in r.lines if line.is_match}
                except Exception as exc:  # noqa: BLE001 - counted
                    crashes += 1
                    notes.append(f"{pattern!r} {flags}: {type(exc).__name__}: {exc}"[:160])
                    continue
                if got != expected:
                    wrong += 1
                    extra, missing = sorted(got - expected)[:2], sorted(expected - got)[:2]
                    notes.append(f"{pattern!r} {flags}: extra {extra} missing {missing}"[:200])
            if any("secret" in r.path for r in ws.search(SearchOptions(patterns=("secret",)))):
                wrong += 1
                notes.append("read through a symlink to outside the repository")
        finally:
            ws.close()
    summary = f"{len(AWKWARD) + 3} files × {len(patterns)} patterns"
    return [row("awkward files vs rg", tried, crashes, 0, wrong, 0,
                "; ".join([summary, *notes[:4]]))]


if __name__ == "__main__":
    main_for(run, __doc__.splitlines()[0])
