"""Columns in the negotiated position encoding, and file URIs.

The engine reports byte columns in UTF-8 text. LSP columns are UTF-16 code units unless the
client offers another encoding at `initialize` (`general.positionEncodings`): we take UTF-8
whenever it is offered (no conversion at all), UTF-16 otherwise.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"


def choose_encoding(offered: list[str] | None) -> str:
    """UTF-8 when the client offers it; UTF-16 (every client's default) otherwise."""
    if offered and UTF8 in offered:
        return UTF8
    return UTF16


def column(text: bytes, byte_column: int, encoding: str) -> int:
    """The column of `byte_column` within the line `text`, in `encoding` units.

    Invalid UTF-8 before the column counts as the replacement characters a client decoding
    the file leniently would show (the same rule as the text we send back).
    """
    if encoding == UTF8 or byte_column <= 0:
        return max(byte_column, 0)
    prefix = text[:byte_column]
    if prefix.isascii():
        return len(prefix)
    return _width(prefix.decode("utf-8", "replace"), encoding)


def columns(text: bytes, spans: list[tuple[int, int]], encoding: str) -> list[tuple[int, int]]:
    """`column` for every (start, end) byte span of one line, in one pass over a line that is
    valid UTF-8 (a long line with many matches would otherwise be decoded once per span)."""
    if encoding == UTF8:
        return spans
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:  # lenient decoding: each prefix as a client would show it
        return [(column(text, a, encoding), column(text, b, encoding)) for a, b in spans]
    units: dict[int, int] = {0: 0}
    done = 0
    for offset in sorted({max(x, 0) for span in spans for x in span}):
        if offset not in units:
            units[offset] = units[done] + _width(text[done:offset].decode("utf-8"), encoding)
            done = offset
    return [(units[max(a, 0)], units[max(b, 0)]) for a, b in spans]


def path_to_uri(path: str | Path) -> str:
    return Path(path).as_uri()


def _width(text: str, encoding: str) -> int:
    """`text`'s length in `encoding` units (UTF-16 or UTF-32)."""
    return len(text) if encoding == UTF32 else len(text.encode("utf-16-le", "surrogatepass")) // 2


_URI_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*")  # what quote() leaves as it is


def file_uri(directory: Path, rel: str) -> str:
    """path_to_uri(directory / rel) by string operations, for a normalised relative `rel`:
    results name thousands of files, and the pathlib way costs ~20 µs a file."""
    base = str(directory)
    joined = f"{base.rstrip('/')}/{rel}" if rel else base
    if _URI_SAFE.fullmatch(joined):  # nothing to escape: most paths (quoting is ~4 µs)
        return "file://" + joined
    return "file://" + quote_from_bytes(os.fsencode(joined))


def uri_to_path(uri: str) -> Path:
    """The local path of a `file:` URI; ValueError for anything else."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise ValueError(f"not a file URI: {uri}")
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"remote file URIs are not supported: {uri}")
    raw = os.fsdecode(unquote_to_bytes(parts.path))
    if "\0" in raw:
        raise ValueError(f"a file URI with a NUL byte: {uri[:200]!r}")
    if not raw.startswith("/"):
        raise ValueError(f"not an absolute file URI: {uri}")
    return Path(os.path.normpath(raw))


def to_path(value: str) -> Path:
    """A `file:` URI or an absolute path, normalised (no symlink resolution)."""
    if value.startswith("file:"):
        return uri_to_path(value)
    if "\0" in value:
        raise ValueError(f"a path with a NUL byte: {value[:200]!r}")
    path = Path(value)
    if not path.is_absolute():
        raise ValueError(f"not an absolute path or file URI: {value!r}")
    return Path(os.path.normpath(path))
