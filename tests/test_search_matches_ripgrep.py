"""Search results equal ripgrep's on the same files (rg is the oracle).

The corpus is real code nobody here wrote (a slice of the Python standard library) plus the
awkward files a real tree holds: Unicode, a UTF-8 BOM, UTF-16, CRLF line ends, invalid UTF-8,
binary files (NUL early and late), a file over the size cap, a minified one-line file, tiny
and empty files. Compared: the set of (path, line, column) of every match, as
`rg --vimgrep` prints them.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from indexer.search import SearchOptions, compile_search
from indexer.workspace import Workspace
from tests.conftest import git

STDLIB_PARTS = ["json", "email", "http", "urllib", "logging", "html", "xml/dom",
                "textwrap.py", "argparse.py", "shutil.py", "string.py"]

SPECIAL_FILES: dict[str, bytes] = {
    "unicode/greek.txt": "Ελληνικά κείμενα\nΣΊΣΥΦΟΣ σίσυφος\nnaïve café résumé\n".encode(),
    "unicode/bom.txt": b"\xef\xbb\xbfhello bom\nsecond hello line\n",
    "unicode/utf16.txt": "hello from utf16\nnaïve line\n".encode("utf-16"),
    "unicode/crlf.txt": b"windows line one\r\nfoo bar\r\nlast line\r\n",
    "unicode/invalid.txt": b"ok line\nbad \xff\xfe bytes hello\nafter\nx\xff_\xfe y _ z\n\xc3_\n",
    "unicode/long_s.txt": "ſtraße Kelvin \u212a sign\n".encode(),
    "binary/early_nul.bin": b"hello\0world\nhello again\n",
    "big/huge.txt": b"hello huge\n" * 120_000,  # > 1 MiB: skipped like rg --max-filesize 1M
    "min/app.min.js": b"var a=1;" * 20_000 + b"function hello(){return 42}\n",
    "tiny/two.txt": b"qq",
    "tiny/empty.txt": b"",
    "no_newline_at_end.txt": b"first\nlast hello",
    ".hidden/config.ini": b"[section]\nhello = world\n",
}

QUERIES: list[tuple[str, dict]] = [
    ("def ", {}), ("return", {}), ("import", {}), ("self", {}),
    ("JSONDecodeError", {}), ("HTTPConnection", {}), ("create_connection", {}),
    ("xyzzy_not_there", {}), ("qq", {}), ("::", {}), ("=>", {}), ("->", {}), ("e", {}),
    ("#!", {}), ("hello", {}), ("hello", {"case": "ignore"}), ("HELLO", {"case": "smart"}),
    ("hello", {"case": "smart"}), ("σίσυφος", {"case": "ignore"}), ("ΣΊΣΥΦΟΣ", {}),
    ("strasse", {"case": "ignore"}), ("STRAßE", {"case": "ignore"}), ("kelvin", {"case": "ignore"}),
    ("k", {"case": "ignore"}), ("naïve", {}), ("caf", {}),
    (r"[A-Z]{3}_[A-Z]+", {}), (r"\d{4}-\d{2}-\d{2}", {}), (r"\w+_\d+\s*=", {}),
    (r"[aeiou]{4}", {}), (r"0x[0-9a-fA-F]+", {}), (r"\bclass\b", {}), (r"\bcls\b", {}),
    (r"\bé", {}), (r"café\b", {}), (r"foo|bar", {}), (r"(get|set)_[a-z]+", {}),
    (r"^import (os|sys)$", {}), (r"^class \w+Error", {}), (r"^\s*#", {}), (r"\)$", {}),
    (r"^$", {}), (r"^", {}), (r"$", {}), (r"\s+$", {}),
    (r"[^\x00-\x7F]+", {}), (r"\p{Greek}+", {}), (r"[[:upper:]]{5}", {}),
    (r"(?i)content-type", {}), (r"Content-Type", {"case": "ignore"}),
    (r"(?x) def \s+ _ \w+", {}), (r"\u{48}ELLO", {"case": "ignore"}),
    ("name", {"whole_word": True}), ("self", {"whole_word": True}),
    ("-foo-", {"whole_word": True}), ("é", {"whole_word": True}), ("_", {"whole_word": True}),
    ("os", {"whole_word": True}), ("x", {"whole_word": True}),
    ("a.b(c)", {"fixed_strings": True}), ("[section]", {"fixed_strings": True}),
    ("def ", {"globs": ("*.py",)}), ("def ", {"globs": ("!*test*", "!email/**")}),
    ("hello", {"globs": ("unicode/*",)}), ("hello", {"globs": ("*.{txt,ini}",)}),
    ("def ", {"globs": ("{json,http}/**/*.py", "!**/{client,tool}.py")}),
    ("return", {"globs": ("json/**", "!*/tool.py")}),
    ("windows", {}), ("line$", {}), ("hello", {"whole_word": True, "case": "ignore"}),
    ("function hello", {}), ("tail hello", {}), ("hello huge", {}),
    (r"\t", {}), (r"[\t ]+$", {}), ("\\.", {}),
]


def _rg_args(options: dict) -> list[str]:
    args = ["--hidden", "--max-filesize", "1M", "-g", "!.git", "--vimgrep", "--no-heading"]
    if options.get("case") == "ignore":
        args.append("-i")
    if options.get("case") == "smart":
        args.append("-S")
    if options.get("whole_word"):
        args.append("-w")
    if options.get("fixed_strings"):
        args.append("-F")
    for glob in options.get("globs", ()):
        args += ["-g", glob]
    return args


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "repo"
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for part in STDLIB_PARTS:
        src = stdlib / part
        dst = root / part
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    for rel, data in SPECIAL_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "corpus")
    return root


@pytest.fixture(scope="module")
def workspace(corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    ws = Workspace.open(corpus, index_dir=tmp_path_factory.mktemp("index"))
    ws.index(None)
    yield ws
    ws.close()


def _vimgrep_set(output: bytes) -> set[tuple[str, int, int]]:
    rows = set()
    for line in output.split(b"\n"):
        if not line:
            continue
        parts = line.split(b":", 3)
        if len(parts) == 3:  # rg omits the column of an empty match at the end of the file
            parts = [parts[0], parts[1], str(len(parts[2]) + 1).encode(), b""]
        path, number, column, _ = parts
        rows.add((path.decode("utf-8", "surrogateescape"), int(number), int(column)))
    return rows


# Patterns that match the empty string: rg places their empty submatches by its own stepping
# rules, so for these only the matching lines are compared.
EMPTY_MATCHING = {"^$", "^", "$"}  # (a* or x? would make rg --vimgrep print the minified
# 160 KB line once per byte: gigabytes of output)


@pytest.mark.parametrize(("pattern", "options"), QUERIES,
                         ids=[f"{p}-{'-'.join(f'{k}' for k in o)}" for p, o in QUERIES])
def test_same_matches_as_ripgrep(rg: str, corpus: Path, workspace: Workspace, pattern: str,
                                 options: dict) -> None:
    expected_proc = subprocess.run([rg, *_rg_args(options), "-e", pattern], cwd=corpus,
                                   capture_output=True)
    assert expected_proc.returncode in (0, 1), expected_proc.stderr
    expected = _vimgrep_set(expected_proc.stdout)
    snapshot = workspace.snapshot(None, refresh=False)
    got = set()
    for result in snapshot.searcher.search(SearchOptions(patterns=(pattern,), **options)):
        for line in result.lines:
            for start, _ in line.submatches:
                got.add((result.path, line.line_number, start + 1))
    if pattern in EMPTY_MATCHING:
        expected = {(p, n, 0) for p, n, _ in expected}
        got = {(p, n, 0) for p, n, _ in got}
    missing, extra = sorted(expected - got)[:5], sorted(got - expected)[:5]
    assert got == expected, f"missing (rg only): {missing}; extra (ours only): {extra}"


def test_binary_file_with_late_nul_is_searched_up_to_its_buffer_like_rg(
        rg: str, tmp_path: Path) -> None:
    """A NUL after the first 64 KiB: rg searches the complete lines of the buffers before it.

    (Multi-threaded rg with --max-filesize sometimes skips such a file whole; single-threaded
    rg is deterministic, so it is the reference here.)
    """
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "late.dat").write_bytes(b"hello line\n" * 7000 + b"\0tail hello\n")
    (repo / "early.dat").write_bytes(b"hello\0\nhello\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "binary")
    proc = subprocess.run([rg, "-j1", "--vimgrep", "hello"], cwd=repo, capture_output=True)
    expected = {(p, n) for p, n, _ in _vimgrep_set(
        b"\n".join(x for x in proc.stdout.split(b"\n") if b"binary file" not in x))}
    ws = Workspace.open(repo, index_dir=tmp_path / "index")
    got = {(r.path, line.line_number)
           for r in ws.search(SearchOptions(patterns=("hello",))) for line in r.lines}
    assert got == expected
    assert 5000 < len(got) < 7000


def test_line_level_results_for_a_rev_equal_ripgrep_on_a_worktree_of_it(
        rg: str, corpus: Path, workspace: Workspace, tmp_path: Path) -> None:
    """Search a commit without checking it out; compare with rg on a `git worktree` of it."""
    (corpus / "json" / "__init__.py").write_text("# rewritten on a branch\nhello = 1\n")
    git(corpus, "checkout", "-q", "-b", "feature")
    git(corpus, "commit", "-q", "-am", "branch change")
    git(corpus, "checkout", "-q", "main")
    checkout = tmp_path / "feature-worktree"
    git(corpus, "worktree", "add", "-q", str(checkout), "feature")
    for pattern in ["hello", "def ", r"^import (os|sys)$"]:
        options = SearchOptions(patterns=(pattern,))
        got = {(r.path, line.line_number)
               for r in workspace.search(options, rev="feature") for line in r.lines}
        proc = subprocess.run([rg, *_rg_args({}), "-e", pattern], cwd=checkout,
                              capture_output=True)
        expected = {(p, n) for p, n, _ in _vimgrep_set(proc.stdout)}
        assert got == expected
    git(corpus, "worktree", "remove", "--force", str(checkout))


@pytest.mark.parametrize("pattern", [r"foo\nbar", r"[\t ]+\n?", r"(a)\1", "a(?=b)", "(?<!a)b",
                                     "(unclosed", "[z-a]"])
def test_patterns_ripgrep_rejects_are_rejected_with_a_position(rg: str, corpus: Path,
                                                               pattern: str) -> None:
    from indexer.errors import PatternError

    proc = subprocess.run([rg, "-e", pattern], cwd=corpus, capture_output=True)
    assert proc.returncode == 2  # rg refuses it too
    with pytest.raises(PatternError) as info:
        compile_search(SearchOptions(patterns=(pattern,)))
    assert 0 <= info.value.position < len(pattern)
