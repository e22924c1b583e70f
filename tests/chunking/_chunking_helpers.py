"""Shared checks for the chunking tests (imported by the test modules of this folder)."""

from __future__ import annotations

from pathlib import Path

from indexer.chunking import Chunk, is_blank

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "languages"


def fixture_paths() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_file())


def read_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def assert_partition(data: bytes, chunks: list[Chunk]) -> None:
    """Every non-blank line lies in exactly one chunk; ranges and bytes agree."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"" and len(lines) > 1:
        lines.pop()
    if not data:
        lines = []
    owner: dict[int, int] = {}
    prev_end = 0
    for n, c in enumerate(chunks):
        assert 1 <= c.start_line <= c.end_line <= len(lines), (c.start_line, c.end_line)
        assert c.start_line > prev_end, "chunks must be in order and must not overlap"
        prev_end = c.end_line
        assert not is_blank(lines[c.start_line - 1]) and not is_blank(lines[c.end_line - 1])
        for line in range(c.start_line, c.end_line + 1):
            assert line not in owner, f"line {line} in two chunks"
            owner[line] = n
        assert 0 <= c.start_byte <= c.end_byte <= len(data)
        raw = data[c.start_byte : c.end_byte]
        assert raw.count(b"\n") == c.end_line - c.start_line
        assert data[: c.start_byte].count(b"\n") == c.start_line - 1
        if not c.truncated:
            assert raw.decode("utf-8", "replace") == c.text
        else:
            assert raw.decode("utf-8", "replace").startswith(c.text[:-2])
        assert len(c.content_hash) == 40
    for i, line in enumerate(lines, 1):
        if not is_blank(line):
            assert i in owner, f"non-blank line {i} is in no chunk: {line[:60]!r}"


def summary(chunks: list[Chunk]) -> list[tuple[str, str, int, int]]:
    return [(c.kind, c.qualified_name, c.start_line, c.end_line) for c in chunks]
