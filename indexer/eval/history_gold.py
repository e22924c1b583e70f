"""Gold sets mined from a repository's own history: each commit is a question and its answer.

For a non-merge commit that changes 1–5 existing source files, the question is the commit
message (subject and body, without trailers and tracker boilerplate), the revision is the
parent (the code as it was when someone asked), and the expected items are the hunks the
diff changes, as line ranges of the parent's files: the file level asks "which file do I
change", the chunk and symbol levels "which definitions". Commits whose message is trivial
(version bumps, typos, formatting, reverts, dependency bumps) or that quote the answer's path
or file name are dropped: the question must not read the answer back.

The walk streams `git log` and stops after `max_scan` commits, so it costs the same on any
repository; sampling is deterministic (a hash of seed and commit id orders the candidates).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from indexer.eval.gold import Expected, GoldQuery
from indexer.repo import GitRepo

SOURCE_EXTENSIONS = frozenset({
    ".py", ".pyi", ".pyx", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".go", ".rs", ".java",
    ".kt", ".kts", ".scala", ".swift", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".cs",
    ".rb", ".php", ".sh", ".bash", ".sql", ".lua", ".m", ".mm", ".dart", ".ex", ".exs", ".erl",
    ".hs", ".ml", ".clj", ".r", ".jl", ".vue", ".svelte"})
MAX_FILES = 5
MAX_HUNKS_PER_FILE = 8
MAX_QUESTION_CHARS = 6000
MIN_QUESTION_WORDS = 3

_TEST_PATH = re.compile(r"(^|/)(tests?|testing|testsuite|spec|__tests__)/|"
                        r"(^|/)(test_[^/]*|[^/]*_test\.[a-z]+|[^/]*\.(spec|test)\.[a-z]+|"
                        r"conftest\.py|tests?\.py)$")
_TRAILER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(-[Bb]y|-[Tt]o)?:\s+\S")
_KNOWN_TRAILER = re.compile(
    r"^(signed-off-by|co-authored-by|reviewed-by|acked-by|tested-by|reported-by|suggested-by|"
    r"helped-by|cc|change-id|bug|fixes|closes|resolves|refs|see-also|pr-url|git-svn-id|"
    r"differential revision|reviewers|subscribers|ghstack-source-id|pull request resolved)"
    r"\s*:", re.IGNORECASE)
_BOILERPLATE = [
    re.compile(r"<!--.*?-->", re.DOTALL),  # PR templates' comments
    re.compile(r"^\s*[-*]\s*\[[ xX]\].*$", re.MULTILINE),  # checklists
    re.compile(r"^\s*(fix(es|ed)?|close[sd]?|resolve[sd]?)\s*:?\s*(#\d+|https?://\S+|"
               r"[\w.-]+/[\w.-]+#\d+)[\s,.]*$", re.IGNORECASE | re.MULTILINE),
    re.compile(r"\s*\((?:closes |fixes |see )?#\d+\)", re.IGNORECASE),  # "(#123)" in subjects
    re.compile(r"^\s*\[?(skip ci|ci skip|no ci)\]?\s*$", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^\s*(this reverts commit|cherry picked from commit).*$",
               re.IGNORECASE | re.MULTILINE),
    re.compile(r"^--HG--\n[\s\S]*", re.MULTILINE),  # hg-converted metadata, to the end
    re.compile(r"^\s*\[(svn|hg|git-svn)\]\s*", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^\s*[-=*_]{3,}\s*$", re.MULTILINE),  # squash-merge separators
]
_TRIVIAL = re.compile(
    r"^\s*(merge\b|revert\b|bump\b|release\b|prepare (the )?release|(update|upgrade|pin) "
    r"(dependenc|requirements|deps|version|changelog|pre-commit)|version\b|v?\d+(\.\d+)+\s*$|"
    r"typo|fix(ed)? typos?|spelling|formatting|reformat|format (with|code)|run (black|ruff|"
    r"isort|prettier)|(apply|blacken|ruff|isort|black|lint|flake8|pre-commit|autopep8)\b|"
    r"whitespace|changelog|update (readme|docs?|authors|copyright|license)|\[pre-commit\.ci\]|"
    r"\[dependabot|build\(deps|chore\(deps)", re.IGNORECASE)
_TRIVIAL_ANYWHERE = re.compile(r"\bversion bump|\bbump(ed|ing)? (the )?version|\btypos?\b",
                               re.IGNORECASE)


@dataclass
class MinedCommit:
    commit: str
    parent: str
    time: int  # committer time, seconds since the epoch
    question: str
    files: list[str]  # changed source files that exist at the parent
    hunks: dict[str, list[tuple[int, int]]]  # path -> the parent's changed line ranges

    def gold(self) -> GoldQuery:
        expected = []
        for path in self.files:
            ranges = self.hunks.get(path) or []
            if not ranges:
                expected.append(Expected(path))
            expected += [Expected(path, lines=r) for r in ranges]
        return GoldQuery(f"h{self.commit[:10]}", self.question, expected, self.parent)


def is_test_path(path: str) -> bool:
    return bool(_TEST_PATH.search(path.lower()))


def is_source(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in SOURCE_EXTENSIONS


def clean_message(message: str) -> str:
    """Subject and body without trailers, templates and tracker references."""
    text = message.replace("\r\n", "\n")
    for pattern in _BOILERPLATE:
        text = pattern.sub("", text)
    lines = text.strip().split("\n")
    # trailers: the last paragraph when every line is `Key: value`; known keys anywhere
    paragraphs = "\n".join(lines).split("\n\n")
    if len(paragraphs) > 1 and all(_TRAILER.match(x) for x in paragraphs[-1].splitlines()
                                   if x.strip()):
        paragraphs = paragraphs[:-1]
    kept = [line for line in "\n\n".join(paragraphs).split("\n")
            if not _KNOWN_TRAILER.match(line.strip())]
    text = "\n".join(kept).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text[:MAX_QUESTION_CHARS].strip()


def is_trivial(subject: str, question: str) -> bool:
    if (_TRIVIAL.search(subject.strip()) or _TRIVIAL_ANYWHERE.search(subject)) \
            and len(question.split()) < 40:
        return True
    words = re.findall(r"[A-Za-z]{2,}", question)
    return len(words) < MIN_QUESTION_WORDS


def quotes_answer(question: str, paths: list[str]) -> bool:
    """True when the question names a file of the answer: its path, file name or module."""
    lowered = question.lower()
    for path in paths:
        p = PurePosixPath(path.lower())
        module = ".".join(p.with_suffix("").parts)
        names = {str(p), p.name, module}
        if p.stem not in ("__init__", "index", "main", "mod", "lib"):
            names.add(module.removesuffix(".__init__"))
        for name in names:
            if name and re.search(r"(?<![\w.])" + re.escape(name) + r"(?![\w])", lowered):
                return True
    return False


def _log(repo: GitRepo, rev: str, max_scan: int) -> Iterator[tuple[str, list[str], int, str,
                                                                    list[tuple[str, str]]]]:
    """(commit, parents, time, message, [(status, path)]) per commit, newest first, streamed."""
    cmd = ["git", "--no-optional-locks", "-C", str(repo.root), "log", "--no-merges",
           "--no-renames", f"--max-count={max_scan}", "--format=%x00%H %P%x01%ct%x01%B%x01",
           "--name-status", "--end-of-options", rev, "--"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        buffer = b""
        for block in iter(lambda: proc.stdout.read(1 << 16), b""):
            buffer += block
            *records, buffer = buffer.split(b"\x00")
            for record in records:
                parsed = _parse(record)
                if parsed:
                    yield parsed
        parsed = _parse(buffer)
        if parsed:
            yield parsed


def _parse(record: bytes) -> tuple[str, list[str], int, str, list[tuple[str, str]]] | None:
    if not record.strip():
        return None
    text = record.decode("utf-8", "replace")
    ids, when, message, changes = text.split("\x01", 3)
    commit, *parents = ids.split()
    files = []
    for line in changes.strip().splitlines():
        status, _, path = line.partition("\t")
        if path:
            files.append((status[:1], path))
    return commit, parents, int(when or 0), message, files


_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", re.MULTILINE)


def changed_ranges(repo: GitRepo, parent: str, commit: str, path: str) -> list[tuple[int, int]]:
    """The parent's line ranges that the commit changes in `path` (insertions: the line
    before them), adjacent ranges merged, at most MAX_HUNKS_PER_FILE."""
    diff = repo.git("diff", "-U0", "--no-color", "--no-ext-diff", parent, commit, "--", path,
                    binary=True, check=False).stdout
    ranges: list[tuple[int, int]] = []
    for match in _HUNK.finditer(diff):
        start = int(match.group(1))
        count = 1 if match.group(2) is None else int(match.group(2))
        first, last = (max(1, start), start + count - 1) if count else (max(1, start),
                                                                         max(1, start))
        if ranges and first <= ranges[-1][1] + 2:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], last))
        else:
            ranges.append((first, last))
    return ranges[:MAX_HUNKS_PER_FILE]


@dataclass
class MiningStats:
    scanned: int = 0
    trivial: int = 0
    quoted: int = 0
    no_source: int = 0  # no existing non-test source file changed, or too many
    kept: int = 0

    def summary(self) -> str:
        return (f"scanned {self.scanned} commits: {self.kept} usable, {self.trivial} trivial "
                f"messages, {self.quoted} quoting the answer's file, {self.no_source} without "
                f"1-{MAX_FILES} changed source files")


def mine_history(repo: GitRepo, rev: str = "HEAD", *, max_questions: int = 200,
                 max_scan: int = 5000, seed: int = 1, include_tests: bool = False,
                 stats: MiningStats | None = None) -> list[MinedCommit]:
    """Up to `max_questions` commits reachable from `rev`, sampled deterministically, oldest
    first (so a caller can split them by time)."""
    stats = stats if stats is not None else MiningStats()
    candidates: list[tuple[str, list[str], int, str, list[str]]] = []
    for commit, parents, when, message, changes in _log(repo, rev, max_scan):
        stats.scanned += 1
        if len(parents) != 1:
            stats.no_source += 1
            continue
        modified = [p for status, p in changes if status == "M" and is_source(p)
                    and (include_tests or not is_test_path(p))]
        touched_source = [p for _, p in changes if is_source(p)
                          and (include_tests or not is_test_path(p))]
        if not modified or len(touched_source) > MAX_FILES:
            stats.no_source += 1
            continue
        subject = message.strip().split("\n", 1)[0]
        question = clean_message(message)
        if is_trivial(subject, question):
            stats.trivial += 1
            continue
        if quotes_answer(question, modified):
            stats.quoted += 1
            continue
        candidates.append((commit, parents, when, question, sorted(modified)))
    order = sorted(candidates, key=lambda c: hashlib.sha1(f"{seed}:{c[0]}".encode()).digest())
    picked = order[:max_questions]
    mined = []
    for commit, parents, when, question, files in picked:
        hunks = {path: changed_ranges(repo, parents[0], commit, path) for path in files}
        mined.append(MinedCommit(commit, parents[0], when, question, files, hunks))
    stats.kept = len(mined)
    mined.sort(key=lambda m: (m.time, m.commit))
    return mined
