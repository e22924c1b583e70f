"""The partition invariant as a property: every non-blank line in exactly one chunk.

Over every fixture file at random size limits, and over random edits of them (lines
inserted, deleted, replaced by garbage, bytes injected mid-line), which is what files look
like while they are being typed.
"""

from __future__ import annotations

from _chunking_helpers import assert_partition, fixture_paths
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.chunking import chunk_file

FIXTURES = {p.name: p.read_bytes() for p in fixture_paths()}
NAMES = sorted(FIXTURES)

GARBAGE_LINES = [
    b"}", b"{", b"  }}", b"def broken(:", b"class", b'"""', b"'''", b"/*", b"*/", b"#", b"//",
    b"<div>", b"</div>", b"```", b"# Heading", b"- item", b"  key: [", b"]", b"fn x() {",
    b"end", b"begin", b"\t\t\t", b"   ", b"", b"\xff\xfe\x00 invalid", b"\x00\x00",
    b"if (x) {", b"else:", b"@decorator", b"#[derive(Debug)]", b"<?php", b"---", b"[table]",
    b"\"key\": ", b"\\", b"`", b"$(", b"\r", b"x = (", b"))))", b"]]]]", b"template <",
]

settings.register_profile("chunking", deadline=None, max_examples=120,
                          suppress_health_check=[HealthCheck.too_slow])
SETTINGS = settings.get_profile("chunking")

sizes = st.tuples(st.integers(min_value=0, max_value=80), st.integers(min_value=3, max_value=600))


@SETTINGS
@given(name=st.sampled_from(NAMES), size=sizes)
def test_fixtures_partition_at_any_size(name: str, size: tuple[int, int]) -> None:
    min_tokens, max_tokens = size
    data = FIXTURES[name]
    assert_partition(data, chunk_file(name, data, min_tokens=min_tokens, max_tokens=max_tokens))


edit = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.sampled_from(GARBAGE_LINES)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.integers(1, 8)),
    st.tuples(st.just("replace"), st.integers(0, 10_000), st.sampled_from(GARBAGE_LINES)),
    st.tuples(st.just("inject"), st.integers(0, 10_000), st.binary(min_size=1, max_size=12)),
    st.tuples(st.just("dup"), st.integers(0, 10_000), st.integers(1, 20)),
)


def apply_edits(data: bytes, edits: list[tuple]) -> bytes:
    lines = data.split(b"\n")
    for op, at, arg in edits:
        i = at % (len(lines) + 1)
        if op == "insert":
            lines.insert(i, arg)
        elif op == "delete":
            del lines[i : i + arg]
        elif op == "replace" and lines:
            lines[min(i, len(lines) - 1)] = arg
        elif op == "inject" and lines:
            j = min(i, len(lines) - 1)
            line = lines[j]
            k = at % (len(line) + 1)
            lines[j] = line[:k] + arg + line[k:]
        elif op == "dup":
            lines[i:i] = lines[i : i + arg]
    return b"\n".join(lines)


@SETTINGS
@given(name=st.sampled_from(NAMES), edits=st.lists(edit, min_size=1, max_size=12), size=sizes)
def test_edited_fixtures_partition(name: str, edits: list[tuple], size: tuple[int, int]) -> None:
    data = apply_edits(FIXTURES[name], edits)
    min_tokens, max_tokens = size
    chunks = chunk_file(name, data, min_tokens=min_tokens, max_tokens=max_tokens)
    assert_partition(data, chunks)


@SETTINGS
@given(data=st.binary(max_size=400), name=st.sampled_from(NAMES + ["x.unknown", "noext"]))
def test_arbitrary_bytes_partition(data: bytes, name: str) -> None:
    assert_partition(data, chunk_file(name, data, max_tokens=20))


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("ab{}()[]:;=\n \t#\"'/*<>-`")), max_size=300),
       name=st.sampled_from(NAMES))
def test_punctuation_soup_partition(text: str, name: str) -> None:
    data = text.encode()
    assert_partition(data, chunk_file(name, data, min_tokens=5, max_tokens=15))
