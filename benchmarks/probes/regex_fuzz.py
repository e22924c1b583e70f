"""Standing probe: fuzzed regexes in ripgrep's dialect, codeloupe against ripgrep.

    python benchmarks/probes/regex_fuzz.py --count 10000 --seed 1

A seeded generator writes patterns in rg's dialect (literals, Unicode and POSIX classes, class
set operations, repetitions nested and counted past 1000, alternations, anchors, word
boundaries, flags, escapes) and malformed ones. Each runs through codeloupe's engine
(in-process API, in a worker process, over a real index of a small corpus of awkward text built
in a temporary git repository: Unicode, a long line, CRLF, invalid UTF-8, empty lines) and
through `rg --json` on the same files. Per pattern, one of:

- same: both accept, with the same (path, line, start, end) submatches;
- both reject;
- we reject what rg accepts / we accept what rg rejects (reported apart, by reason);
- crash: anything but the engine's PatternError, or the worker dying;
- hang: over 1 s of CPU in one engine call (or no answer within 10 s: the worker is killed);
- wrong: both accept, different matching lines or submatches.

`run(budget_s, seed, count)` returns the row the reliability driver prints; `run_detailed`
returns the failing patterns too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CPU_LIMIT_S = 1.0  # one engine call over this much CPU: a hang
WALL_LIMIT_S = 10.0  # no answer by then: the worker is killed, a hang
RG_TIMEOUT_S = 20.0
LEAK_MB = 200  # worker RSS growth over a run counted as a leak
RSS_EVERY = 50  # patterns between two readings of the worker's RSS

# --- the corpus -------------------------------------------------------------------------------


def corpus_files() -> dict[str, bytes]:
    """Small files of awkward text (every file under rg's default 1 MiB cap)."""
    words = ["alpha", "beta", "gamma", "delta", "foo", "bar", "baz", "qux", "foo_bar", "fooBar",
             "x1", "y2", "z3", "hello", "world", "-foo-", "a..b", ".a.", "[x]", "(y)", "{z}",
             "a-b", "a_b", "42", "3.14", "0x1F", "2026-12-08", ""]
    rng = random.Random(7)
    long_line = " ".join(rng.choice(words) for _ in range(4_000))  # ~26 kB, one line
    unicode_text = (
        "Ελληνικά σίσυφος ΣΊΣΥΦΟΣ ς\n"
        "Кириллица Москва\n"
        "日本語のテキスト 漢字\n"
        "emoji 😀 🎉 ok\n"
        "straße STRASSE ſ s S K K k\n"
        "café cafe\u0301 naïve\n"
        "µ μ Μ ÅÅå\n"
        "zero\u200bwidth nbsp\u00a0here\n"
        "tab\there\n"
        "\n"
        "   \n"
        "mixed αβγ abc 123 ١٢٣\n"
    )
    code = (
        "def foo(a, b):\n"
        "    return a + b  # TODO fix\n"
        "\n"
        "class FooBar(Base):\n"
        "    x = [1, 2, 3]\n"
        "    y = {'k': 'v'}\n"
        "if x == 1 and y != 2:\n"
        "    print(\"hello, world\")\n"
        "a..b . .. x\n"
        "-foo- --foo-- foo-bar\n"
        "path/to/file.py:12:3\n"
        "$HOME ^caret \\backslash\n"
        "ab\n"
        "\n"
    )
    return {
        "unicode.txt": unicode_text.encode(),
        "code.py": code.encode(),
        "long.txt": (long_line + "\nshort line after\n").encode(),
        "crlf.txt": b"first line\r\nsecond foo\r\n\r\nfourth bar\r\nend",
        "invalid.txt": (b"valid start\n\xff\xfe bad bytes \xc3\x28 here\nok \xe2\x82 cut\n"
                        b"foo\x80bar\n"),
        "empty_lines.txt": b"\n\n\nfoo\n\n\nbar\n\n",
        "no_newline.txt": b"last line without newline foo",
        "dir/nested.md": b"# Title\n\nSome *markdown* text with `code`.\n- item one\n- item two\n",
    }


_NO_FINAL_NEWLINE = ("crlf.txt", "no_newline.txt")


def build_corpus(root: Path) -> Path:
    repo = root / "corpus"
    repo.mkdir(parents=True)
    for rel, data in corpus_files().items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    env = {**os.environ, "GIT_AUTHOR_NAME": "probe", "GIT_AUTHOR_EMAIL": "p@x",
           "GIT_COMMITTER_NAME": "probe", "GIT_COMMITTER_EMAIL": "p@x", "HOME": str(root)}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "corpus"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env,
                       capture_output=True)
    return repo


# --- the generator ----------------------------------------------------------------------------

_LITERALS = list("abcfoxyzABFXZ0123_ -.,:/'\"") + list("αβσςΣéßſKµ日😀Москв")
_ESCAPED = ["\\.", "\\*", "\\+", "\\?", "\\(", "\\)", "\\[", "\\]", "\\{", "\\}", "\\|", "\\^",
            "\\$", "\\\\", "\\-", "\\#", "\\&", "\\~", "\\ "]
_ESCAPES = ["\\d", "\\w", "\\s", "\\D", "\\W", "\\S", "\\t", "\\x41", "\\x{e9}", "\\u{3b1}",
            "\\u03C3", "\\pL", "\\pN", "\\p{Greek}", "\\p{Lu}", "\\P{L}", "\\p{Cyrillic}",
            "\\p{Han}", "\\p{Nd}", "\\p{Letter}", "\\P{Greek}", "\\x20", "\\r"]
_ANCHORS = ["^", "$", "\\A", "\\z", "\\b", "\\B", "\\b{start}", "\\b{end}", "\\b{start-half}",
            "\\b{end-half}", "\\<", "\\>"]
_POSIX = ["alpha", "digit", "alnum", "space", "upper", "lower", "punct", "word", "xdigit",
          "blank", "cntrl", "graph", "print", "ascii"]
_MALFORMED = ["(", ")", "[", "a{1,", "a{,5}", "*a", "+", "a{2,1}", "(?<=a)b", "a(?=b)",
              "(a)\\1", "\\p{Nope}", "[z-a]", "\\x{110000}", "(?P<1>a)", "(?z)a", "a{1001}{2}",
              "\\", "[a", "(?:a", "a)", "\\b{foo}", "\\b{start", "\\c", "\\0", "\\8", "[[:foo:]]",
              "(?i", "a|*", "x{", "{1}", "\\xZZ", "\\u{}", "(?P<n>a)(?P<n>b)", "[\\d-z]",
              "\\n", "[]", "[^]", "(?-u:\\xff)", "a{100000}"]


@dataclass
class Generator:
    rng: random.Random

    def literal(self) -> str:
        r = self.rng.random()
        if r < 0.7:
            return self.rng.choice(_LITERALS)
        return self.rng.choice(_ESCAPED)

    def class_item(self) -> str:
        r = self.rng.random()
        if r < 0.35:
            c = self.rng.choice("abcxyzAZ09αωé_.-")
            return c if c not in "-" else "\\-"
        if r < 0.55:
            lo, hi = sorted(self.rng.sample("abcdefxyz0123456789", 2))
            return f"{lo}-{hi}"
        if r < 0.7:
            return self.rng.choice(["\\d", "\\w", "\\s", "\\pL", "\\p{Greek}", "\\D", "\\W",
                                    "\\S", "\\P{L}", "\\x{3b1}-\\x{3c9}"])
        if r < 0.85:
            name = self.rng.choice(_POSIX)
            return f"[:{'^' if self.rng.random() < 0.3 else ''}{name}:]"
        return "[" + ("^" if self.rng.random() < 0.3 else "") + self.class_item() + "]"

    def char_class(self) -> str:
        neg = "^" if self.rng.random() < 0.25 else ""
        items = "".join(self.class_item() for _ in range(self.rng.randint(1, 3)))
        r = self.rng.random()
        if r < 0.2:
            op = self.rng.choice(["&&", "--", "~~"])
            other = "".join(self.class_item() for _ in range(self.rng.randint(1, 2)))
            items = f"{items}{op}{other}"
        return f"[{neg}{items}]"

    def repeat(self, atom: str) -> str:
        r = self.rng.random()
        if r < 0.25:
            op = "*"
        elif r < 0.45:
            op = "+"
        elif r < 0.6:
            op = "?"
        elif r < 0.75:
            op = "{" + str(self.rng.randint(0, 4)) + "}"
        elif r < 0.85:
            lo = self.rng.randint(0, 3)
            op = "{" + f"{lo},{lo + self.rng.randint(0, 3)}" + "}"
        elif r < 0.9:
            op = "{" + f"{self.rng.randint(0, 3)}," + "}"
        else:  # large counts
            n = self.rng.choice([999, 1000, 1001, 1500, 2000, 5000])
            op = self.rng.choice([f"{{{n}}}", f"{{0,{n}}}", f"{{1,{n}}}", f"{{{n},}}"])
        if self.rng.random() < 0.15:
            op += "?"
        if self.rng.random() < 0.08:  # stacked repetition (rg accepts some)
            op += self.rng.choice(["*", "+", "?", "{2}"])
        return atom + op

    def atom(self, depth: int) -> str:
        r = self.rng.random()
        if r < 0.35:
            return self.literal()
        if r < 0.45:
            return self.rng.choice(_ESCAPES)
        if r < 0.6:
            return self.char_class()
        if r < 0.65:
            return "."
        if r < 0.72:
            return self.rng.choice(_ANCHORS)
        if depth <= 0:
            return self.literal()
        inner = self.alternation(depth - 1)
        kind = self.rng.random()
        if kind < 0.4:
            return f"({inner})"
        if kind < 0.7:
            return f"(?:{inner})"
        if kind < 0.8:
            return f"(?P<g{self.rng.randint(0, 9)}>{inner})"
        flags = self.rng.choice(["i", "s", "U", "x", "-i", "i-s", "is"])
        return f"(?{flags}:{inner})"

    def concat(self, depth: int) -> str:
        out = []
        for _ in range(self.rng.randint(1, 4)):
            atom = self.atom(depth)
            if self.rng.random() < 0.3 and atom not in _ANCHORS:
                atom = self.repeat(atom)
            out.append(atom)
        return "".join(out)

    def alternation(self, depth: int) -> str:
        n = 1 if self.rng.random() < 0.7 else self.rng.randint(2, 3)
        return "|".join(self.concat(depth) for _ in range(n))

    def pattern(self) -> str:
        r = self.rng.random()
        if r < 0.06:
            return self.rng.choice(_MALFORMED)
        if r < 0.1:  # a malformed piece inside a good pattern
            return self.concat(1) + self.rng.choice(_MALFORMED) + self.concat(0)
        prefix = ""
        if self.rng.random() < 0.1:
            prefix = self.rng.choice(["(?i)", "(?x)", "(?s)", "(?U)", "(?i)(?x)"])
        return prefix + self.alternation(2)

    def mode(self) -> dict:
        r = self.rng.random()
        return {"ignore_case": r < 0.15, "whole_word": 0.15 <= r < 0.3,
                "fixed": 0.3 <= r < 0.35}


def patterns(seed: int, count: int) -> list[tuple[str, dict]]:
    gen = Generator(random.Random(seed))
    out = []
    for _ in range(count):
        pattern = gen.pattern()
        mode = gen.mode()
        if "\n" in pattern or "\0" in pattern:
            continue
        out.append((pattern, mode))
    return out


# --- the two engines --------------------------------------------------------------------------


def rg_binary() -> str:
    candidate = Path(sys.executable).parent / "rg"
    found = str(candidate) if candidate.exists() else shutil.which("rg")
    if found is None:
        raise SystemExit("ripgrep (pip install ripgrep==14.1.0) is needed as the oracle")
    return found


def run_rg(rg: str, corpus: Path, pattern: str, mode: dict) -> dict:
    args = [rg, "--json", "--hidden", "--no-config", "--max-filesize", "1M", "-g", "!.git",
            "--threads", "1"]
    if mode["ignore_case"]:
        args.append("-i")
    if mode["whole_word"]:
        args.append("-w")
    if mode["fixed"]:
        args.append("-F")
    args += ["-e", pattern, "."]
    try:
        proc = subprocess.run(args, cwd=corpus, capture_output=True, timeout=RG_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"status": "rg-timeout"}
    if proc.returncode == 2:
        return {"status": "reject", "error": proc.stderr.decode("utf-8", "replace")[-300:]}
    matches = set()
    for line in proc.stdout.splitlines():
        event = json.loads(line)
        if event["type"] != "match":
            continue
        data = event["data"]
        path = data["path"].get("text") or data["path"].get("bytes")
        path = path.removeprefix("./")
        number = data["line_number"]
        subs = [(s["start"], s["end"]) for s in data["submatches"]]
        matches.add((path, number, tuple(subs)))
    return {"status": "ok", "matches": matches}


class Worker:
    """The engine in a child process: a hang or a crash there cannot take the probe down."""

    def __init__(self, corpus: Path, index: Path) -> None:
        self.corpus, self.index = corpus, index
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get(
            "PYTHONPATH", ""), "CODELOUPE_DAEMON": "off"}
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(self.corpus), str(self.index)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
        ready = self._read(120.0)
        if ready is None or ready.get("status") != "ready":
            raise RuntimeError(f"the engine worker did not start: {ready}")

    def _read(self, timeout: float) -> dict | None:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return json.loads(line) if line else {"status": "crash", "error": "worker died"}

    def ask(self, pattern: str, mode: dict) -> dict:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps({"pattern": pattern, "mode": mode}) + "\n").encode())
        except BrokenPipeError:
            self.restart()
            return {"status": "crash", "error": "worker died"}
        answer = self._read(WALL_LIMIT_S)
        if answer is None:
            self.restart()
            return {"status": "hang", "error": f"no answer in {WALL_LIMIT_S} s"}
        if answer.get("status") == "crash" and answer.get("error") == "worker died":
            self.restart()
        return answer

    def rss_mb(self) -> float:
        assert self.proc is not None
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # our own child, by its handle
            self.proc.wait()
            self.proc = None


def worker_main(corpus: str, index: str) -> None:
    """Answer one JSON request a line: the engine's result for a pattern."""
    from indexer.errors import PatternError
    from indexer.search import SearchOptions
    from indexer.workspace import Workspace

    ws = Workspace.open(corpus, index_dir=Path(index))
    ws.index()
    out = sys.stdout
    out.write(json.dumps({"status": "ready"}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        mode = request["mode"]
        options = SearchOptions(patterns=(request["pattern"],), fixed_strings=mode["fixed"],
                                case="ignore" if mode["ignore_case"] else "sensitive",
                                whole_word=mode["whole_word"])
        cpu = time.process_time()
        try:
            results = [(r.path, line.line_number, [list(s) for s in line.submatches])
                       for r in ws.search(options, refresh=False) for line in r.lines]
            answer = {"status": "ok", "matches": results}
        except PatternError as exc:
            answer = {"status": "reject", "error": str(exc)[:300]}
        except Exception as exc:  # noqa: BLE001 - the probe records it as a crash
            answer = {"status": "crash", "error": f"{type(exc).__name__}: {exc}"[:300]}
        answer["cpu"] = time.process_time() - cpu
        out.write(json.dumps(answer) + "\n")
        out.flush()


# --- the probe --------------------------------------------------------------------------------


@dataclass
class Outcome:
    counts: Counter = field(default_factory=Counter)
    failures: list[dict] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)

    def record(self, kind: str, pattern: str, mode: dict, detail: str = "") -> None:
        self.counts[kind] += 1
        if kind not in ("same", "both reject"):
            self.failures.append({"kind": kind, "pattern": pattern, "mode": _mode_text(mode),
                                  "detail": detail[:300]})


def _mode_text(mode: dict) -> str:
    return " ".join(flag for flag, on in (("-i", mode["ignore_case"]), ("-w", mode["whole_word"]),
                                          ("-F", mode["fixed"])) if on)


def _reason(error: str) -> str:
    """A short class of an error message, for the disagreement table."""
    for line in error.splitlines():
        line = line.strip()
        if line.startswith("error:"):
            return line[6:].strip()[:70]
        if "parse error at position" in line:
            return line.split(":", 1)[1].strip()[:70]
    return error.strip().splitlines()[-1][:70] if error.strip() else "?"


_BOUNDARIES = ("\\b", "\\B", "\\<", "\\>")


@lru_cache(maxsize=1)
def _corpus_lines() -> dict[tuple[str, int], bytes]:
    return {(path, n): line for path, data in corpus_files().items()
            for n, line in enumerate(data.split(b"\n"), start=1)}


def known_difference(pattern: str, mine: set, theirs: set) -> str:
    """The documented difference (docs/design.md, "Known differences") that explains every
    line where the two results differ, or "" (then the difference is counted as wrong).

    - a line whose only submatch is the empty one at the end of a file without a final
      newline: rg reports it with no submatch;
    - `\\A`: rg reports lines after a file's first one with no submatch;
    - word boundaries inside a pattern are ASCII (RE2's): the differing lines hold non-ASCII
      text (or invalid UTF-8, where `\\B` and empty matches are placed differently).
    """
    lines = _corpus_lines()
    by_line: dict[tuple[str, int], tuple[set, set]] = {}
    for path, number, subs in mine:
        by_line.setdefault((path, number), (set(), set()))[0].add(subs)
    for path, number, subs in theirs:
        by_line.setdefault((path, number), (set(), set()))[1].add(subs)
    reasons = set()
    for key, (ours, rgs) in by_line.items():
        if ours == rgs:
            continue
        text = lines.get(key, b"")
        end = len(text)
        last = max(n for p, n in lines if p == key[0]) if key[0] in _NO_FINAL_NEWLINE else -1
        if rgs == {()} and ours == {((end, end),)} and key[1] == last:
            reasons.add("empty match at the end of a file without a final newline")
        elif "\\A" in pattern and key[1] > 1 and rgs == {()}:
            reasons.add("\\A after a file's first line")
        elif any(b in pattern for b in _BOUNDARIES) and any(byte >= 0x80 for byte in text):
            reasons.add("ASCII word boundary next to non-ASCII text")
        else:
            return ""
    return "; ".join(sorted(reasons))


def compare(ours: dict, theirs: dict, pattern: str, mode: dict, outcome: Outcome) -> None:
    status = ours.get("status")
    if status == "crash":
        outcome.record("crash", pattern, mode, ours.get("error", ""))
        return
    if status == "hang" or ours.get("cpu", 0.0) > CPU_LIMIT_S:
        outcome.record("hang", pattern, mode, ours.get("error", f"{ours.get('cpu', 0):.2f} s CPU"))
        return
    if theirs["status"] == "rg-timeout":
        outcome.record("rg timeout", pattern, mode)
        return
    if status == "reject" and theirs["status"] == "reject":
        outcome.record("both reject", pattern, mode)
        return
    if status == "reject":
        reason = _reason(ours["error"])
        outcome.reasons[f"we reject: {reason}"] += 1
        outcome.record("we reject, rg accepts", pattern, mode, ours["error"])
        return
    if theirs["status"] == "reject":
        reason = _reason(theirs["error"])
        outcome.reasons[f"rg rejects: {reason}"] += 1
        outcome.record("we accept, rg rejects", pattern, mode, theirs["error"])
        return
    mine = {(p, n, tuple(tuple(s) for s in subs)) for p, n, subs in ours["matches"]}
    if mine == theirs["matches"]:
        outcome.record("same", pattern, mode)
        return
    lines_mine = {(p, n) for p, n, _ in mine}
    lines_theirs = {(p, n) for p, n, _ in theirs["matches"]}
    known = known_difference(pattern, mine, theirs["matches"])
    if known:
        outcome.reasons[f"known difference: {known}"] += 1
        outcome.record("known difference", pattern, mode, known)
        return
    if lines_mine == lines_theirs:
        diff = sorted(mine ^ theirs["matches"])[:3]
        outcome.record("wrong", pattern, mode, f"same lines, other submatches: {diff}")
    else:
        extra = sorted(lines_mine - lines_theirs)[:3]
        missing = sorted(lines_theirs - lines_mine)[:3]
        outcome.record("wrong", pattern, mode, f"lines: extra {extra} missing {missing}")


def _rss_growth(readings: list[float]) -> float:
    """How much the worker's resident memory grew: the lowest reading of the last quarter
    against the lowest of the first (after warming up). One pattern's transient memory (a
    large RE2 program, its DFA) comes and goes; a leak raises the floor."""
    if len(readings) < 4:
        return 0.0
    quarter = len(readings) // 4
    return min(readings[-quarter:]) - min(readings[:quarter])


def run_detailed(budget_s: float, seed: int, count: int | None = None
                 ) -> tuple[list[dict], Outcome]:
    started = time.monotonic()
    rg = rg_binary()
    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="regex-fuzz-") as tmp:
        corpus = build_corpus(Path(tmp))
        worker = Worker(corpus, Path(tmp) / "index")
        try:
            todo = patterns(seed, count if count is not None else 1_000_000)
            tried = 0
            rss: list[float] = []  # the worker's RSS every RSS_EVERY patterns
            with ThreadPoolExecutor(max_workers=1) as pool:  # rg runs while the engine does
                for pattern, mode in todo:
                    if time.monotonic() - started > budget_s:
                        break
                    theirs_future = pool.submit(run_rg, rg, corpus, pattern, mode)
                    ours = worker.ask(pattern, mode)
                    compare(ours, theirs_future.result(), pattern, mode, outcome)
                    tried += 1
                    if tried % RSS_EVERY == 0:
                        rss.append(worker.rss_mb())
            growth = _rss_growth(rss)
        finally:
            worker.stop()
    c = outcome.counts
    disagreements = c["we reject, rg accepts"] + c["we accept, rg rejects"]
    notes = (f"{c['same']} same, {c['both reject']} both reject, "
             f"{c['known difference']} known differences (docs/design.md), "
             f"{c['we reject, rg accepts']} we reject/rg accepts, "
             f"{c['we accept, rg rejects']} we accept/rg rejects, worker RSS floor "
             f"{growth:+.0f} MB, {time.monotonic() - started:.0f} s")
    row = {"probe": "regex fuzz", "tried": tried, "crashes": c["crash"], "hangs": c["hang"],
           "wrong": c["wrong"], "leaks": int(growth > LEAK_MB),
           "disagreements": disagreements, "known": c["known difference"], "notes": notes}
    return [row], outcome


def run(budget_s: float, seed: int, count: int | None = None) -> list[dict]:
    """The probe's row: fuzzed patterns tried within `budget_s` seconds (at most `count`)."""
    return run_detailed(budget_s, seed, count)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=3600.0, help="seconds at most")
    parser.add_argument("--show", type=int, default=40, help="failing patterns shown per kind")
    parser.add_argument("--failures", help="write every failing pattern here (JSON)")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # no runaway memory
        worker_main(*args.worker)
        return
    rows, outcome = run_detailed(args.budget, args.seed, args.count)
    if args.failures:
        Path(args.failures).write_text(json.dumps(outcome.failures, ensure_ascii=False, indent=1))
    print("| probe | tried | crashes | hangs | wrong | leaks | known | disagreements | notes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['probe']} | {row['tried']} | {row['crashes']} | {row['hangs']} | "
              f"{row['wrong']} | {row['leaks']} | {row['known']} | {row['disagreements']} | "
              f"{row['notes']} |")
    print()
    for kind, n in sorted(outcome.counts.items(), key=lambda kv: -kv[1]):
        print(f"{n:6d}  {kind}")
    if outcome.reasons:
        print("\naccept/reject disagreements by reason:")
        for reason, n in outcome.reasons.most_common():
            print(f"{n:6d}  {reason}")
    shown: Counter = Counter()
    for failure in outcome.failures:
        if shown[failure["kind"]] >= args.show:
            continue
        shown[failure["kind"]] += 1
        print(f"\n[{failure['kind']}] {failure['mode']} {failure['pattern']!r}\n    "
              f"{failure['detail']}")


if __name__ == "__main__":
    main()
