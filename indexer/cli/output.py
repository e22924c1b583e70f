"""ripgrep's output formats: `--vimgrep`-style lines and the `--json` message stream."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import IO

from indexer.search import FileMatches, SearchStats


def _data(raw: bytes) -> dict[str, str]:
    try:
        return {"text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"bytes": base64.b64encode(raw).decode("ascii")}


def _elapsed(seconds: float) -> dict:
    nanos_total = int(seconds * 1e9)
    return {"secs": nanos_total // 1_000_000_000, "nanos": nanos_total % 1_000_000_000,
            "human": f"{seconds:.6f}s"}


class VimgrepPrinter:
    """`path:line:column:text` per match (column is 1-based bytes, as rg --vimgrep);
    context lines as `path-line-text`, groups separated by `--`."""

    def __init__(self, out: IO[bytes], with_context: bool,
                 display: Callable[[str], str] = str) -> None:
        self.out = out
        self.with_context = with_context
        self.display = display  # repository path -> the path printed (relative to a PATH)
        self.printed_any = False

    def file(self, result: FileMatches) -> None:
        path = self.display(result.path).encode("utf-8", "surrogateescape")
        write = self.out.write
        previous = None
        for line in result.lines:
            if self.with_context and self.printed_any and (
                    previous is None or line.line_number != previous + 1):
                write(b"--\n")
            previous = line.line_number
            self.printed_any = True
            text = line.text.rstrip(b"\n")
            if not line.submatches:
                write(b"%s-%d-%s\n" % (path, line.line_number, text))
                continue
            for start, _ in line.submatches:
                write(b"%s:%d:%d:%s\n" % (path, line.line_number, start + 1, text))

    def finish(self, stats: SearchStats) -> None:
        pass


class PathPrinter:
    """rg -l: the path of each file with a match."""

    def __init__(self, out: IO[bytes], display: Callable[[str], str] = str) -> None:
        self.out = out
        self.display = display

    def file(self, result: FileMatches) -> None:
        self.out.write(self.display(result.path).encode("utf-8", "surrogateescape") + b"\n")

    def finish(self, stats: SearchStats) -> None:
        pass


class CountPrinter:
    """rg -c: `path:N` matching lines per file (just N when one file was named)."""

    def __init__(self, out: IO[bytes], display: Callable[[str], str] = str,
                 with_path: bool = True) -> None:
        self.out = out
        self.display = display
        self.with_path = with_path

    def file(self, result: FileMatches) -> None:
        count = b"%d\n" % result.match_count
        if self.with_path:
            count = self.display(result.path).encode("utf-8", "surrogateescape") + b":" + count
        self.out.write(count)

    def finish(self, stats: SearchStats) -> None:
        pass


class JsonPrinter:
    """ripgrep's JSON Lines: begin / match / context / end per file, then summary."""

    def __init__(self, out: IO[bytes], display: Callable[[str], str] = str) -> None:
        self.out = out
        self.display = display
        self.bytes_printed = 0
        self.matches = 0
        # a file's elapsed time: since the previous file came out (the search streams)
        self.last = time.perf_counter()

    def _emit(self, message: dict) -> None:
        data = (json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        self.bytes_printed += len(data)
        self.out.write(data)

    def file(self, result: FileMatches) -> None:
        path = _data(self.display(result.path).encode("utf-8", "surrogateescape"))
        printed_before = self.bytes_printed
        self._emit({"type": "begin", "data": {"path": path}})
        matches = 0
        for line in result.lines:
            body = {
                "path": path,
                "lines": _data(line.text),
                "line_number": line.line_number,
                "absolute_offset": line.byte_offset,
                "submatches": [
                    {"match": _data(line.text[s:e]), "start": s, "end": e}
                    for s, e in line.submatches],
            }
            matches += len(line.submatches)
            self._emit({"type": "match" if line.submatches else "context", "data": body})
        self.matches += matches
        now = time.perf_counter()
        elapsed, self.last = now - self.last, now
        end = {"type": "end", "data": {
            "path": path, "binary_offset": None,
            "stats": {"elapsed": _elapsed(elapsed), "searches": 1, "searches_with_match": 1,
                      "bytes_searched": result.size, "bytes_printed": 0,
                      "matched_lines": result.match_count, "matches": matches}}}
        # rg counts this file's messages before its `end` line
        end["data"]["stats"]["bytes_printed"] = self.bytes_printed - printed_before
        self._emit(end)

    def finish(self, stats: SearchStats) -> None:
        self._emit({"type": "summary", "data": {
            "elapsed_total": _elapsed(stats.seconds),
            "stats": {"elapsed": _elapsed(stats.seconds), "searches": stats.files_searched,
                      "searches_with_match": stats.matched_files,
                      "bytes_searched": stats.bytes_searched,
                      "bytes_printed": self.bytes_printed,
                      "matched_lines": stats.matched_lines,
                      "matches": self.matches}}})
