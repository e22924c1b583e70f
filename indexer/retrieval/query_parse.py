"""Query understanding: split a long, messy question into the parts each signal is good at.

A bug report or commit message (1–6k characters) mixes prose with identifiers, file paths,
module names, traceback frames, quoted error messages and code blocks. Sent whole to BM25 and
the embedder, the prose drowns the identifiers (BM25 reads the first 64 distinct tokens; the
embedder the first 128 word pieces) and the code drowns the prose. Parsed, each part goes to
the signal that fits it (indexer/retrieval/routes.py): paths and frames to a path signal,
identifiers to symbol definitions and occurrences weighted by their specificity, error
strings to literal search, prose to BM25 and dense.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|$)", re.DOTALL)
_INDENTED = re.compile(r"(?:^(?: {4}|\t)\S.*\n?){2,}", re.MULTILINE)
_INLINE_CODE = re.compile(r"`([^`\n]{1,200})`")
# Python, JavaScript/Node, Go/Rust/Java-style frames
_PY_FRAME = re.compile(r'File "([^"]+)", line (\d+)(?:, in ([\w<>.]+))?')
_JS_FRAME = re.compile(r"\bat (?:([\w$.<>]+) )?\(?((?:[\w.@-]+/)*[\w.-]+\.\w+):(\d+)(?::\d+)?\)?")
_JAVA_FRAME = re.compile(r"\bat ([\w$.]+)\.([\w$<>]+)\(([\w$]+\.\w+):(\d+)\)")
_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.(?:py|pyi|pyx|js|jsx|mjs|ts|tsx|go|rs|"
                   r"java|kt|scala|swift|c|h|cc|cpp|hpp|cs|rb|php|sh|sql|lua|toml|cfg|ini|yaml|"
                   r"yml|json))(?::(\d+))?(?![\w])")
_DIR_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/){1,}[\w.-]+)(?![\w/])")
_ERROR_LINE = re.compile(r"^\s*((?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception|Warning|Exit|Interrupt|"
                         r"Failure|Fault))(?::\s*(.+))?$", re.MULTILINE)
_QUOTED = re.compile(r"[\"“']([^\"“”'\n]{12,160})[\"”']")
_DOTTED = re.compile(r"\b([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+)\b")
_CAMEL = re.compile(r"\b(?:[a-z]+[A-Z][A-Za-z0-9]*|[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*|"
                    r"[A-Z]{2,}[a-z][A-Za-z0-9]*)\b")
_SNAKE = re.compile(r"\b_*[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+_*\b|\b__\w+__\b")
_CALL = re.compile(r"\b([A-Za-z_]\w{2,})\(")
_URL = re.compile(r"https?://\S+")
_NOT_MODULE = re.compile(r"^(e\.g|i\.e|etc|vs|a\.k\.a|www\.)", re.IGNORECASE)

MAX_IDENTIFIERS = 40
LONG_QUERY = 300  # characters: below this the question is used as typed


@dataclass
class Frame:
    path: str
    line: int | None
    function: str | None


@dataclass
class QueryParts:
    text: str  # the question as asked (whitespace kept)
    prose: str  # code, frames, paths and URLs taken out
    identifiers: list[str] = field(default_factory=list)  # CamelCase, snake_case, calls
    dotted: list[str] = field(default_factory=list)  # a.b.c: modules or attribute chains
    paths: list[str] = field(default_factory=list)  # file paths as written
    frames: list[Frame] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # exception names and messages
    code: list[str] = field(default_factory=list)  # fenced or indented blocks

    @property
    def has_traceback(self) -> bool:
        return bool(self.frames)

    @property
    def is_long(self) -> bool:
        return len(self.text) > LONG_QUERY

    def dense_text(self, limit: int = 600) -> str:
        """What the embedder reads: the prose first (the subject leads), then errors."""
        head = " ".join(self.prose.split())
        if self.errors and len(head) < limit:
            head = (head + " " + " ".join(self.errors)).strip()
        return head[:limit] or " ".join(self.text.split())[:limit]


def _add(items: list[str], value: str, cap: int = MAX_IDENTIFIERS) -> None:
    if value and value not in items and len(items) < cap:
        items.append(value)


def parse_query(text: str) -> QueryParts:
    parts = QueryParts(text, "")
    full = _URL.sub(" ", text)
    rest = full
    for match in _FENCE.finditer(rest):
        parts.code.append(match.group(1))
    rest = _FENCE.sub(" ", rest)
    for match in _INDENTED.finditer(rest):
        parts.code.append(match.group(0))
    prose = _INDENTED.sub(" ", rest)
    everything = full  # frames, paths and identifiers come from prose and code alike

    for m in _PY_FRAME.finditer(everything):
        parts.frames.append(Frame(m.group(1), int(m.group(2)), m.group(3)))
    for m in _JAVA_FRAME.finditer(everything):
        parts.frames.append(Frame(m.group(3), int(m.group(4)), m.group(2)))
    for m in _JS_FRAME.finditer(everything):
        if not any(f.path == m.group(2) for f in parts.frames):
            parts.frames.append(Frame(m.group(2), int(m.group(3)), m.group(1)))
    prose = _PY_FRAME.sub(" ", prose)
    for frame in parts.frames:
        _add(parts.paths, frame.path)
        if frame.function and not frame.function.startswith("<"):
            _add(parts.identifiers, frame.function.split(".")[-1])
    for m in _PATH.finditer(everything):
        _add(parts.paths, m.group(1))
    for m in _DIR_PATH.finditer(prose):
        if "/" in m.group(1) and not m.group(1).startswith(("http", "www")):
            _add(parts.paths, m.group(1).rstrip("."))
    for m in _ERROR_LINE.finditer(everything):
        _add(parts.errors, m.group(1))
        if m.group(2) and len(m.group(2).strip()) >= 8:
            _add(parts.errors, m.group(2).strip()[:160])
    for m in _QUOTED.finditer(prose):
        value = m.group(1).strip()
        if len(value.split()) >= 2:  # a message, not a quoted word
            _add(parts.errors, value)
    for m in _INLINE_CODE.finditer(everything):
        value = m.group(1).strip().rstrip("()")
        if re.fullmatch(r"[\w.:]+", value):
            (_add(parts.dotted, value) if "." in value else _add(parts.identifiers, value))
    for m in _DOTTED.finditer(everything):
        value = m.group(1)
        if _NOT_MODULE.match(value) or value in parts.paths or re.fullmatch(r"[\d.]+", value):
            continue
        if any(p.endswith(value) for p in parts.paths):
            continue
        if re.search(r"\.(py|js|ts|go|rs|java|md|txt|rst|cfg|toml|json|yaml|yml)$", value):
            continue
        _add(parts.dotted, value)
    for pattern in (_CAMEL, _SNAKE):
        for m in pattern.finditer(everything):
            _add(parts.identifiers, m.group(0))
    for m in _CALL.finditer(everything):
        _add(parts.identifiers, m.group(1))
    for dotted in parts.dotted:
        for piece in dotted.split(".")[1:]:
            if len(piece) > 2:
                _add(parts.identifiers, piece)
    for path in sorted(parts.paths, key=len, reverse=True):
        prose = re.sub(re.escape(path) + r"(:\d+)*", " ", prose)
    parts.prose = prose.strip()
    return parts
