"""In-process checks of the adapter's pieces: buffer search agrees with the engine, columns,
URIs, and a clean close."""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
from pathlib import Path

import pytest

from indexer.search import SearchOptions, compile_search
from indexer.workspace import Workspace
from lsp_server.overlay import scan_buffer
from lsp_server.positions import (
    UTF8,
    UTF16,
    choose_encoding,
    column,
    columns,
    file_uri,
    path_to_uri,
    to_path,
    uri_to_path,
)
from lsp_server.server import create_server
from tests.conftest import make_repo

TEXT = ("alpha beta\n"
        "  héllo 😀 wörld beta\n"
        "\n"
        "gamma\tbeta beta\r\n"
        "ünïcode ✓ end")
CASES = [
    SearchOptions(patterns=("beta",)),
    SearchOptions(patterns=(r"b\w+",)),
    SearchOptions(patterns=("^",)),
    SearchOptions(patterns=("$",)),
    SearchOptions(patterns=("a*",)),
    SearchOptions(patterns=("BETA",), case="ignore", whole_word=True),
    SearchOptions(patterns=("wörld",), fixed_strings=True),
    SearchOptions(patterns=("beta",), context_before=1, context_after=1),
    SearchOptions(patterns=("e",), max_count=2),
    SearchOptions(patterns=(r"\bend\b",)),
]


@pytest.mark.parametrize("options", CASES, ids=lambda o: repr(o.patterns[0]))
def test_buffer_search_agrees_with_the_engine(options: SearchOptions, tmp_path: Path,
                                              index_root: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"f.txt": TEXT})
    ws = Workspace.open(repo)
    try:
        ws.index()
        snap = ws.snapshot(refresh=False)
        compiled = compile_search(options)
        engine = [list(line) for fm in snap.searcher.search(options, compiled)
                  for line in fm.lines]
        ours = [list(line) for line in scan_buffer(TEXT.encode(), compiled, options)]
        assert ours == engine
    finally:
        ws.close()


def test_columns_in_each_encoding() -> None:
    line = "a😀é x".encode()
    x = line.index(b"x")
    assert column(line, x, UTF8) == x == 8
    assert column(line, x, UTF16) == 5  # a, two units for the emoji, é, space
    assert column(b"\xff\xfex", 2, UTF16) == 2  # invalid bytes: one replacement each
    assert choose_encoding(["utf-16", "utf-8"]) == UTF8
    assert choose_encoding(["utf-32", "utf-16"]) == UTF16
    assert choose_encoding(None) == UTF16


@pytest.mark.parametrize("line", ["a😀é x 😀y z", "plain ascii here", "ééé", ""])
def test_columns_of_many_spans_equal_one_column_at_a_time(line: str) -> None:
    text = line.encode()
    bounds = [len(line[:k].encode()) for k in range(len(line) + 1)]
    spans = [(a, b) for a in bounds for b in bounds if a <= b]
    for encoding in (UTF8, UTF16, "utf-32"):
        assert columns(text, spans, encoding) == [
            (column(text, a, encoding), column(text, b, encoding)) for a, b in spans]
    invalid = b"ab\xff\xfecd\xc3\xa9e"  # invalid UTF-8: each prefix decoded as a client would
    assert columns(invalid, [(2, 4), (6, 8)], UTF16) == [(2, 4), (6, 7)]


def test_uris_and_paths() -> None:
    assert uri_to_path("file:///tmp/a%20b/%C3%A9.py") == Path("/tmp/a b/é.py")
    assert to_path("/tmp/x/../y") == Path("/tmp/y")
    with pytest.raises(ValueError):
        uri_to_path("https://example.com/a.py")
    with pytest.raises(ValueError):
        to_path("relative/path")


def test_close_stops_every_thread_and_releases_the_index(tmp_path: Path,
                                                         index_root: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "def hello():\n    return 1\n"})
    before = set(threading.enumerate())
    ls = create_server()
    ls.add_folder(repo.as_uri(), "repo")
    loop = asyncio.new_event_loop()
    try:
        ls.start(loop)
        folder = ls.folders[repo.as_uri()]
        assert folder.opened.wait(20)
        assert folder.repo is not None
        assert folder.repo.ready.wait(20)
        assert folder.repo.worktree is not None
        store = folder.repo.ws.store.directory
        ls.close()
        ls.close()  # idempotent
    finally:
        loop.close()
    leftover = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not leftover, leftover
    fd = os.open(store / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody holds the index's lock
    finally:
        os.close(fd)


@pytest.mark.parametrize("rel", ["a.py", "dir/sub/b c.py", "ünï/cödé.py", "100%/#x?.py", ""])
@pytest.mark.parametrize("root", ["/tmp/work", "/tmp/with space/ü", "/"])
def test_file_uri_equals_the_pathlib_uri(root: str, rel: str) -> None:
    assert file_uri(Path(root), rel) == path_to_uri(Path(root) / rel)
