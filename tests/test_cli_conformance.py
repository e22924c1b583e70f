"""`codeloupe search` against `rg` on one repository: the same invocations, the same output
and exit codes — through the search daemon and without it.

Every case runs both programs as processes in the repository. Our default output is
`rg --vimgrep`'s and always in path order, so rg gets `--vimgrep --sort path` for line output
and `--sort path` otherwise; messages are compared without the program's name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_repo, rg_binary

FILES: dict[str, str | bytes] = {
    "src/app.py": "import os\n\ndef main():\n    print('hello world')\n    return 0\n\n"
                  "class Hello:\n    greeting = 'Hello, hello!'\n",
    "src/util.py": "def helper(x):\n    # hello again\n    return x * 2\n\n\n\n"
                   "def hello_world():\n    return 'a.b(c)'\n",
    "src/lib.rs": "fn hello() -> u32 {\n    // hello from rust\n    42\n}\n",
    "src/nested/deep.go": "package nested\n\nfunc Hello() string { return \"hello\" }\n",
    "docs/readme.md": "# Hello\n\nSay hello to naïve users.\n\nNothing else here.\n",
    "docs/notes.txt": "hello\nHELLO\nhelloworld\nhello_world\n",
    "web/index.js": "export function hello() {\n  return 'hello';\n}\n",
    "tests/test_app.py": "def test_hello():\n    assert 'hello'\n",
    ".github/workflows/ci.yml": "name: hello ci\non: push\n",
    ".env": "HELLO=hello\n",
    "src/.hidden.py": "hello = 'hidden'\n",
    "data/blob.bin": b"\x00\x01binary hello\n",
    "Makefile": "hello:\n\techo hello\n",
    "web.txt": "hello next to web/\n",  # rg's --sort path puts web/index.js first
    ".gitignore": "*.log\nbuild/\n",
    # ignored: never indexed, searched by --no-ignore or when named
    "debug.log": "hello from a log\n",
    "build/out.txt": "hello build\nbye\n",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("conformance") / "repo", FILES)


@pytest.fixture(scope="module", params=["no-daemon", "daemon"])
def env(request: pytest.FixtureRequest, repo: Path,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of one mode; "daemon" starts the search daemon for a private index
    root on first use (as a user's first search does) and stops it at the end."""
    root = tmp_path_factory.mktemp(f"index-{request.param}")
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(root)}
    env.pop("CODELOUPE_DAEMON", None)
    if request.param == "no-daemon":
        env["CODELOUPE_DAEMON"] = "off"
        yield env
        return
    first = ours(repo, env, "hello")  # indexes in-process and starts the daemon
    assert first.returncode == 0, first.stderr
    socket_path = root / "daemon.sock"
    deadline = time.monotonic() + 30
    while not socket_path.exists():
        assert time.monotonic() < deadline, "the daemon did not start"
        time.sleep(0.1)
    yield env
    stop = subprocess.run([sys.executable, "-m", "indexer", "daemon", "--stop"], env=env,
                          capture_output=True)
    assert b"stopped" in stop.stdout
    deadline = time.monotonic() + 10
    while socket_path.exists():  # the daemon removes its socket when it exits
        assert time.monotonic() < deadline, "the daemon did not stop"
        time.sleep(0.1)


def ours(repo: Path, env: dict[str, str], *args: str,
         cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", "search", *args], cwd=cwd or repo,
                          env=env, capture_output=True, timeout=120)


def sorted_ours(repo: Path, env: dict[str, str], *args: str,
                cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`--sort path` on both sides: rg's own order is by thread otherwise."""
    if "--sort" not in args:
        args = ("--sort", "path", *args)
    return ours(repo, env, *args, cwd=cwd)


def theirs(repo: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    rg = rg_binary()
    if rg is None:
        pytest.skip("ripgrep (pip install ripgrep==14.1.0) is not installed: no oracle")
    return subprocess.run([rg, *args], cwd=cwd or repo, capture_output=True, timeout=60)


def message(stderr: bytes) -> str:
    text = stderr.decode()
    for name in ("codeloupe: ", "rg: "):
        text = text.replace(name, "")
    return text.strip()


LINE_CASES = [
    ["hello"],
    ["hello", "src/"],
    ["hello", "./src"],
    ["hello", "."],
    ["hello", "src/app.py"],
    ["hello", "docs", "src/nested"],
    ["hello", ".github"],  # a hidden folder named on the command line is searched
    ["--hidden", "hello"],
    ["-i", "hello"],
    ["-w", "hello"],
    ["-F", "a.b(c)"],
    ["-i", "-w", "-F", "HELLO"],
    ["-C", "1", "hello"],
    ["-A", "2", "-B", "1", "return"],
    ["-m", "1", "hello"],
    ["-g", "*.py", "hello"],
    ["-g", "!src/**", "hello"],
    ["-g", "*.{rs,go}", "-i", "hello"],
    # "]" first in a class is a member; a glob naming a hidden folder (.github) opens it
    ["-g", "[]m]akefile", "-g", "*.[!pl]*", "hello"],
    ["-g", ".env", "hello"],  # a -g match decides before hiddenness
    ["-t", "py", "hello"],
    ["-t", "rust", "-t", "go", "hello"],
    ["-T", "py", "-T", "md", "hello"],
    ["-t", "make", "hello"],
    ["-t", "sh", "-g", "*.md", "hello"],  # -g decides before -t
    ["-e", "hello", "-e", "fn", "src"],
    ["-n", "hello"],
    ["--vimgrep", "hello"],
    ["--sort", "path", "hello"],
    ["hello", "src/nested/deep.go", "docs/readme.md"],
    ["-S", "Hello"],
    ["-S", "hello"],
    ["-s", "Hello"],
    ["-C", "2", "-m", "1", "hello", "docs"],
    ["-e", "hel+o_w", "-e", "HELLO", "-i", "docs"],
    ["--no-ignore", "hello"],
    ["--no-ignore", "-g", "*.txt", "hello"],
    ["--no-ignore", "--hidden", "-w", "hello"],
    ["hello", "debug.log"],  # rg searches a file it is given, ignored or not
    ["hello", "build/out.txt", "src/lib.rs"],
]


@pytest.mark.parametrize("args", LINE_CASES, ids=" ".join)
def test_matching_lines_equal_rg_vimgrep(repo: Path, env: dict[str, str], args: list[str]
                                         ) -> None:
    mine = sorted_ours(repo, env, *args)
    rg = theirs(repo, "--vimgrep", "--sort", "path",
                *[a for a in args if a not in ("-n", "--vimgrep", "--sort", "path")],
                *(["-g", "!.git"] if "--hidden" in args else []))
    assert mine.returncode == rg.returncode == 0, (mine.stderr, rg.stderr)
    assert mine.stdout.decode() == rg.stdout.decode()
    assert mine.stderr == b""


LIST_CASES = [
    ["-l", "hello"],
    ["-l", "-i", "hello", "docs"],
    ["-c", "hello"],
    ["-c", "-w", "hello", "src"],
    ["-c", "hello", "docs/notes.txt"],  # one file named: the count alone
    ["-c", "-m", "2", "hello"],
    ["--files"],
    ["--files", "src"],
    ["--files", "--hidden"],
    ["--files", "-t", "py"],
    ["--files", "-g", "*.md", "-g", "*.txt"],
    ["--files", "-T", "py", "docs", "web"],
    ["--files", "--no-ignore"],
    ["-c", "--no-ignore", "hello"],
    ["-l", "--no-ignore", "-t", "txt", "hello"],
    ["--json", "-l", "hello"],  # -l, -c and --files win over --json, as in rg
    ["--json", "-c", "-i", "hello"],
]


@pytest.mark.parametrize("args", LIST_CASES, ids=" ".join)
def test_paths_and_counts_equal_rg(repo: Path, env: dict[str, str], args: list[str]) -> None:
    mine = sorted_ours(repo, env, *args)
    # rg --hidden goes into .git too; the index never holds it
    rg = theirs(repo, "--sort", "path", *args, *(["-g", "!.git"] if "--hidden" in args else []))
    assert mine.returncode == rg.returncode == 0, (mine.stderr, rg.stderr)
    assert mine.stdout.decode() == rg.stdout.decode()


ERROR_CASES = [
    # (arguments, exit code, what both messages say)
    (["no_such_thing_anywhere"], 1, None),
    (["-t", "py", "no_such_thing_anywhere"], 1, None),
    (["-m", "0", "hello"], 1, None),
    (["--files", "-g", "*.nothing"], 1, None),
    (["-g", "*.nothing", "hello"], 2, "No files were searched"),
    (["-t", "lisp", "hello"], 2, "No files were searched"),
    (["-g", "src/[ab", "hello"], 2, "error parsing glob 'src/[ab': unclosed character class"),
    (["-g", "*.{py", "hello"], 2, "error parsing glob '*.{py': unclosed alternate group"),
    (["-g", "*.{py,{rs,go}}", "hello"], 2, "nested alternate groups are not allowed"),
    (["-g", "[]", "hello"], 2, "error parsing glob '[]': unclosed character class"),
    (["-t", "nosuchtype", "hello"], 2, "unrecognized file type: nosuchtype"),
    (["hello", "no/such/dir"], 2, "no/such/dir: "),
    (["foo(bar"], 2, "unclosed group"),
    (["-m", "-1", "hello"], 2, "-m"),
    (["-C", "-2", "hello"], 2, "-C"),
    (["-A", "x", "hello"], 2, "-A"),
]


@pytest.mark.parametrize("args,code,says", ERROR_CASES, ids=[" ".join(c[0]) for c in ERROR_CASES])
def test_exit_codes_and_messages_equal_rg(repo: Path, env: dict[str, str], args: list[str],
                                          code: int, says: str | None) -> None:
    mine = ours(repo, env, *args)
    rg = theirs(repo, *args)
    assert (mine.returncode, rg.returncode) == (code, code), (mine.stderr, rg.stderr)
    assert mine.stdout == rg.stdout == b""
    if says is None:
        assert mine.stderr == rg.stderr == b""
    else:
        assert says in message(mine.stderr) and says in message(rg.stderr), (
            mine.stderr, rg.stderr)
    if says and "No files were searched" in says:
        assert message(mine.stderr) == message(rg.stderr)  # rg's own words
    if says and says.startswith("error parsing glob") or says and "file type" in says:
        assert message(mine.stderr) == message(rg.stderr)


def test_a_missing_path_is_reported_and_the_others_searched(repo: Path, env: dict[str, str]
                                                           ) -> None:
    mine = sorted_ours(repo, env, "hello", "nope", "web")
    rg = theirs(repo, "--vimgrep", "--sort", "path", "hello", "nope", "web")
    assert mine.returncode == rg.returncode == 2
    assert mine.stdout == rg.stdout
    assert message(mine.stderr).startswith("nope: ") and message(rg.stderr).startswith("nope: ")


def test_a_path_outside_the_repository_is_refused(repo: Path, env: dict[str, str]) -> None:
    result = ours(repo, env, "hello", str(repo.parent))
    assert result.returncode == 2 and result.stdout == b""
    assert b"outside the repository" in result.stderr


def test_paths_are_relative_to_the_current_folder(repo: Path, env: dict[str, str]) -> None:
    mine = sorted_ours(repo, env, "hello", "nested", "../web", cwd=repo / "src")
    rg = theirs(repo, "--vimgrep", "--sort", "path", "hello", "nested", "../web",
                cwd=repo / "src")
    assert mine.returncode == rg.returncode == 0
    assert mine.stdout == rg.stdout


def _json(output: bytes) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


@pytest.mark.parametrize("args", [["-i", "hello"], ["-C", "1", "-w", "hello", "src"],
                                  ["-t", "py", "return"],
                                  ["-m", "1", "-A", "2", "hello", "docs"]], ids=" ".join)
def test_json_events_and_stats_equal_rg(repo: Path, env: dict[str, str], args: list[str]
                                        ) -> None:
    mine = _json(sorted_ours(repo, env, "--json", *args).stdout)
    rg = _json(theirs(repo, "--json", "--sort", "path", *args).stdout)
    assert [m["type"] for m in mine] == [m["type"] for m in rg]
    for a, b in zip(mine, rg, strict=True):
        if a["type"] in ("begin", "match", "context"):
            assert a == b
        elif a["type"] == "end":
            comparable = ("bytes_searched", "bytes_printed", "matched_lines", "matches",
                          "searches", "searches_with_match")
            if "-m" in args:  # rg counts no bytes in a file it stops reading at -m
                comparable = comparable[1:]
            assert a["data"]["path"] == b["data"]["path"]
            assert {k: a["data"]["stats"][k] for k in comparable} == {
                k: b["data"]["stats"][k] for k in comparable}
            assert a["data"]["stats"]["elapsed"]["nanos"] > 0
        else:  # summary: the index skips files without the pattern, so `searches` differs
            comparable = ("searches_with_match", "matched_lines", "matches")
            assert {k: a["data"]["stats"][k] for k in comparable} == {
                k: b["data"]["stats"][k] for k in comparable}
            assert a["data"]["stats"]["bytes_searched"] > 0
            elapsed = a["data"]["elapsed_total"]
            assert elapsed["secs"] * 10**9 + elapsed["nanos"] > 0


def test_help_version_and_usage_errors_reach_the_terminal(repo: Path, env: dict[str, str]
                                                          ) -> None:
    for flag in ("--help", "-h"):
        result = ours(repo, env, flag)
        assert result.returncode == 0, result.stderr
        text = result.stdout.decode()
        assert text.startswith("Usage: codeloupe search [OPTIONS] PATTERN [PATH]...")
        assert "--files-with-matches" in text and "--type" in text
    for flag in ("--version", "-V"):
        result = ours(repo, env, flag)
        assert result.returncode == 0 and result.stdout.startswith(b"codeloupe "), result
    usage = ours(repo, env, "--no-such-flag", "x")
    assert usage.returncode == 2
    assert b"No such option '--no-such-flag'" in usage.stderr
    assert b"Usage: codeloupe search" in usage.stderr
    log = Path(env["CODELOUPE_INDEX_DIR"]) / "daemon.log"
    assert not log.exists() or b"Usage" not in log.read_bytes()  # none of it went there


PLAIN_FILES: dict[str, str | bytes] = {
    "notes/a.txt": "hello\nworld hello\n",
    "notes/.drafts/b.txt": "hello draft\n",
    "code/x.py": "def hello():\n    return 'hello'\n",
    "code.md": "# hello\n",
    ".profile": "hello=1\n",
    "bin.dat": b"\x00hello\n",
    ".gitignore": "*.md\n",  # no git here: rg reads no .gitignore, and neither do we
}


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import write_files

    root = tmp_path_factory.mktemp("plain") / "folder"
    root.mkdir()
    write_files(root, PLAIN_FILES)
    return root


@pytest.mark.parametrize("args", [["hello"], ["-c", "hello"], ["--files"], ["--hidden", "-l",
                                  "hello"], ["-t", "py", "hello"], ["hello", "notes", "code.md"],
                                  ["-g", "*.txt", "-C", "1", "world"]], ids=" ".join)
def test_a_folder_outside_git_is_searched_as_rg_does(plain: Path, env: dict[str, str],
                                                       args: list[str]) -> None:
    mine = ours(plain, env, *args)
    rg = theirs(plain, "--sort", "path", *(["--vimgrep"] if "-c" not in args and "-l" not in
                                         args and "--files" not in args else []), *args)
    assert mine.returncode == rg.returncode == 0, (mine.stderr, rg.stderr)
    assert mine.stdout.decode() == rg.stdout.decode()


def test_the_default_order_is_the_paths_order(repo: Path, env: dict[str, str]) -> None:
    """Without --sort the index's order streams: plain path order (rg's is by thread)."""
    lines = ours(repo, env, "-l", "hello").stdout.decode().splitlines()
    assert lines == sorted(lines) and "web.txt" in lines and "web/index.js" in lines


def test_paths_scope_a_search_of_another_revision(repo: Path, env: dict[str, str]) -> None:
    """PATHs work with --rev too (read from git objects, nothing checked out)."""
    mine = ours(repo, env, "--rev", "main", "--sort", "path", "hello", "src/", "web")
    rg = theirs(repo, "--vimgrep", "--sort", "path", "hello", "src/", "web")
    assert mine.returncode == rg.returncode == 0, mine.stderr
    assert mine.stdout == rg.stdout
