"""ripgrep's output formats: `--vimgrep`-style lines and the `--json` message stream."""

from __future__ import annotations

import base64
import json
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

    def __init__(self, out: IO[bytes], with_context: bool) -> None:
        self.out = out
        self.with_context = with_context
        self.printed_any = False

    def file(self, result: FileMatches) -> None:
        path = result.path.encode("utf-8", "surrogateescape")
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


class JsonPrinter:
    """ripgrep's JSON Lines: begin / match / context / end per file, then summary."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.bytes_printed = 0

    def _emit(self, message: dict) -> None:
        data = (json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        self.bytes_printed += len(data)
        self.out.write(data)

    def file(self, result: FileMatches) -> None:
        path = _data(result.path.encode("utf-8", "surrogateescape"))
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
        self._emit({"type": "end", "data": {
            "path": path, "binary_offset": None,
            "stats": {"elapsed": _elapsed(0.0), "searches": 1, "searches_with_match": 1,
                      "bytes_searched": 0, "bytes_printed": 0,
                      "matched_lines": result.match_count, "matches": matches}}})

    def finish(self, stats: SearchStats) -> None:
        self._emit({"type": "summary", "data": {
            "elapsed_total": _elapsed(stats.seconds),
            "stats": {"elapsed": _elapsed(stats.seconds), "searches": stats.files_searched,
                      "searches_with_match": stats.matched_files,
                      "bytes_searched": stats.bytes_searched,
                      "bytes_printed": self.bytes_printed,
                      "matched_lines": stats.matched_lines,
                      "matches": stats.matched_lines}}})
