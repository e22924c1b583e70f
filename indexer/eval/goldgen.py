"""Generative benchmarking: a gold set for any repository, in minutes.

Sample documented chunks, turn each one into the question a developer would ask, and drop
questions that give the answer away by quoting its identifiers. Without an LLM the question
is the docstring's first sentence — so the docstrings of the sampled chunks are stripped from
the text that gets indexed: goldgen writes a commit (on `refs/codeloupe/goldgen`, never
checked out) where they are gone, and the gold set's queries name that commit as their rev.
With an LLM provider configured the question is generated from the code instead, and the
queries run on the revision the chunks came from.
"""

from __future__ import annotations

import os
import random
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from indexer.code_tokens import split_identifier
from indexer.eval.gold import Expected, GoldQuery

GOLDGEN_REF = "refs/codeloupe/goldgen"
KINDS = {"function", "method", "class", "constructor", "interface", "struct"}
_IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


@dataclass
class Sampled:
    path: str
    name: str
    kind: str
    docstring: str
    start_byte: int
    end_byte: int
    blob: int


def first_sentence(docstring: str) -> str:
    text = " ".join(docstring.replace("\n\n", ". ").split())
    text = re.sub(r"^(@\w+\s*)+", "", text)  # JSDoc-style tags leading a comment
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = (match.group(1) if match else text).strip().rstrip(".")
    return sentence[:1].lower() + sentence[1:] if sentence[:1].isupper() and \
        not sentence[1:2].isupper() else sentence


def copies_identifiers(question: str, identifiers: set[str]) -> bool:
    """True when the question quotes a code identifier (a compound or the chunk's name)."""
    for word in _IDENTIFIER.findall(question):
        if word in identifiers and (len(split_identifier(word)) > 1 or "_" in word):
            return True
    return bool(re.search(r"`|\w\(|::|\w\.\w", question))


def usable_question(question: str, names: set[str]) -> bool:
    words = question.split()
    return 4 <= len(words) <= 30 and not copies_identifiers(question, names)


def sample_chunks(searcher, n: int, seed: int) -> list[Sampled]:  # noqa: ANN001
    """Documented definitions, one per file at most, spread over the repository."""
    table = searcher.table
    chunks = searcher.ws.store.chunks
    rng = random.Random(seed)
    by_path = list(table.by_path.items())
    rng.shuffle(by_path)
    picked: list[Sampled] = []
    for path, rows in by_path:
        documented = []
        for row in rows:
            if table.kinds[row] not in KINDS:
                continue
            record = table.record(chunks, row)
            if len(record.docstring.split()) >= 5:
                documented.append(record)
        if documented:
            r = rng.choice(documented)
            picked.append(Sampled(path, r.qualified_name, r.kind, r.docstring, r.start_byte,
                                  r.end_byte, r.blob_no))
        if len(picked) >= n * 2:  # room for the questions the filter drops
            break
    return picked


QuestionMaker = Callable[[Sampled, str], str | None]  # (chunk, its source) -> question


def docstring_question(sample: Sampled, source: str) -> str | None:
    return first_sentence(sample.docstring)


def strip_docstring(source: bytes, sample: Sampled) -> bytes:
    """The file without the sampled chunk's docstring lines (Python keeps a `...` body)."""
    chunk = source[sample.start_byte:sample.end_byte]
    lines = [line.strip() for line in sample.docstring.splitlines() if line.strip()]
    if not lines:
        return source
    text = chunk.decode("utf-8", "replace")
    out_lines = text.split("\n")
    first = next((i for i, line in enumerate(out_lines) if lines[0][:40] in line), None)
    last = next((i for i in range(len(out_lines) - 1, -1, -1)
                 if lines[-1][-40:] in out_lines[i]), None)
    if first is None or last is None or last < first:
        return source
    indent = out_lines[first][:len(out_lines[first]) - len(out_lines[first].lstrip())]
    python = sample.path.endswith((".py", ".pyi"))
    # a docstring that opens on the def line is not ours to cut; quotes hint python style
    replacement = [indent + "..."] if python else []
    new_chunk = "\n".join(out_lines[:first] + replacement + out_lines[last + 1:])
    return source[:sample.start_byte] + new_chunk.encode() + source[sample.end_byte:]


def make_gold(samples: list[Sampled], sources: dict[str, str], n: int,
              make_question: QuestionMaker, rev: str | None) -> list[GoldQuery]:
    gold: list[GoldQuery] = []
    for s in samples:
        source = sources.get(s.path, "")
        question = make_question(s, source)
        if not question:
            continue
        names = set(_IDENTIFIER.findall(source)) | {s.name.split(".")[-1]}
        if not usable_question(question, names):
            continue
        gold.append(GoldQuery(f"g{len(gold) + 1:03d}", question,
                              [Expected(s.path, s.name, grade=2)], rev))
        if len(gold) == n:
            break
    return gold


def commit_without_docstrings(repo, base: str, samples: list[Sampled]) -> str:  # noqa: ANN001
    """A commit on top of `base` where the sampled chunks' docstrings are gone; its id."""
    by_path: dict[str, list] = {}
    for s in samples:
        by_path.setdefault(s.path, []).append(s)
    with tempfile.TemporaryDirectory() as tmp:
        # a scratch index: the user's staging area is never touched
        scratch = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        repo.git("read-tree", base, env=scratch)
        for path, items in by_path.items():
            data = repo.git("show", f"{base}:{path}", binary=True).stdout
            # later chunks first, so earlier byte ranges stay valid
            for s in sorted(items, key=lambda s: -s.start_byte):
                data = strip_docstring(data, s)
            oid = repo.git("hash-object", "-w", "--stdin", input=data).stdout
            mode = repo.git("ls-tree", base, "--", path).stdout.split()[0].decode()
            repo.git("update-index", "--cacheinfo", f"{mode},{oid.decode().strip()},{path}",
                        env=scratch)
        tree = repo.git("write-tree", env=scratch).stdout.decode().strip()
    commit = repo.git("commit-tree", tree, "-p", base, "-m",
                         "codeloupe goldgen: sampled docstrings stripped").stdout.decode().strip()
    repo.git("update-ref", GOLDGEN_REF, commit)
    return commit
