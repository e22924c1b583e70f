"""File results' JSON written in C (lsp_server/_result_json.pyx) is the Python writer's text,
byte for byte: ASCII lines with every kind of escape, context lines, several ranges, and
lines the C writer hands back (non-ASCII text, invalid UTF-8), in each position encoding."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lsp_server.search as lsp_search
from indexer.search import Line
from lsp_server.positions import UTF8, UTF16, UTF32

_BYTES = [b"a", b"Z", b" ", b'"', b"\\", b"\t", b"\x00", b"\x1f", b"\x7f", b"\r", b"~",
          "é".encode(), "😀".encode(), b"\xff", b"/"]
_texts = st.lists(st.sampled_from(_BYTES), max_size=20).map(b"".join)


def _line(number: int, text: bytes, ends: bytes, spans: list[tuple[int, int]]) -> Line:
    """A line whose submatches start and end on character boundaries, as the engine's do."""
    def boundary(k: int) -> bool:
        return k >= len(text) or not 0x80 <= text[k] < 0xC0
    subs = [(a, b) for a, b in spans if a <= len(text) and b <= len(text)
            and boundary(a) and boundary(b)]
    return Line(number, 0, text + ends, subs)


_lines = st.builds(
    _line, st.integers(1, 10**6), _texts, st.sampled_from([b"", b"\n", b"\r\n", b"\r\r\n"]),
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)).map(sorted).map(tuple),
             max_size=3))


def test_the_writer_is_built() -> None:
    assert lsp_search._lines_json is not None, "lsp_server._result_json was not built"


@pytest.mark.skipif(lsp_search._lines_json is None, reason="lsp_server._result_json not built")
@settings(max_examples=400, deadline=None)
@given(lines=st.lists(_lines, max_size=6), encoding=st.sampled_from([UTF8, UTF16, UTF32]))
def test_c_writer_equals_the_python_writer(lines: list[Line], encoding: str) -> None:
    python = ",".join(lsp_search.line_json(line, encoding) for line in lines)
    written = lsp_search._lines_json(lines, lambda line: lsp_search.line_json(line, encoding))
    assert written == python
    json.loads(f"[{written}]")  # and it is JSON
