"""File names that are not UTF-8 (git allows any bytes) are indexed, searchable and printed
as ripgrep prints them (issue 23, item 3: `codeloupe index` and `symbols` crashed on them with
UnicodeEncodeError from the chunk store, on every run)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import git

BAD_TXT = b"bad\xffname.txt"
BAD_PY = b"caf\xe9.py"


def _repo(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (Path(os.fsdecode(root)) / os.fsdecode(BAD_TXT)).write_bytes(b"hello there\n")
    (Path(os.fsdecode(root)) / os.fsdecode(BAD_PY)).write_bytes(
        b"def hello_world():\n    return 'hello'\n")
    (root / "ok.txt").write_bytes(b"hello ok\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "names")
    return root


def _codeloupe(repo: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=repo, env=env,
                          capture_output=True, timeout=300)


def test_non_utf8_file_names_index_search_and_print_like_rg(tmp_path: Path, rg: str) -> None:
    repo = _repo(tmp_path / "repo")
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "idx"),
           "CODELOUPE_DAEMON": "off"}
    for _ in range(2):  # the crash came back on every run
        done = _codeloupe(repo, env, "index", "--no-embed")
        assert done.returncode == 0, done.stderr.decode(errors="replace")

    ours = _codeloupe(repo, env, "search", "hello")
    theirs = subprocess.run([rg, "--vimgrep", "hello"], cwd=repo, capture_output=True)
    assert ours.returncode == 0
    assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines())
    assert BAD_TXT + b":1:1:hello there" in ours.stdout.splitlines()

    symbols = _codeloupe(repo, env, "symbols", "hello_world")
    assert symbols.returncode == 0, symbols.stderr
    assert BAD_PY + b":1" in symbols.stdout  # the exact bytes, as rg prints a path

    as_json = _codeloupe(repo, env, "symbols", "--json", "hello_world")
    hit = json.loads(as_json.stdout.splitlines()[0])
    assert hit["path"] == "caf\ufffd.py"
    assert base64.b64decode(hit["path_bytes"]) == BAD_PY

    lexical = _codeloupe(repo, env, "search", "--lexical", "hello world")
    assert lexical.returncode == 0, lexical.stderr
    assert "caf\ufffd.py".encode() in lexical.stdout


def test_globs_match_a_name_that_is_not_utf8_as_rg_does(tmp_path: Path, rg: str) -> None:
    repo = _repo(tmp_path / "repo")
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(tmp_path / "idx"),
           "CODELOUPE_DAEMON": "off"}
    for glob in ("*.txt", "!*.txt", "bad*", "*name.txt"):
        ours = _codeloupe(repo, env, "search", "-g", glob, "hello")
        theirs = subprocess.run([rg, "--vimgrep", "-g", glob, "hello"], cwd=repo,
                                capture_output=True)
        assert ours.returncode == theirs.returncode, (glob, ours.stderr)
        assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines()), glob
