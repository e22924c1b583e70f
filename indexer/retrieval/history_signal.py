"""The repository's own history as evidence: which files past commits like this one changed,
and how often and how lately each file changes.

Built once per snapshot from `git log` of its commit (at most MAX_COMMITS non-merge commits,
newest first; only commits the snapshot already contains, so a question mined from a later
commit never sees its own answer). A question is matched against past commit messages by
BM25 over their analysed tokens; the files those commits changed get votes weighted by the
match. Change counts and recency are a prior: bug reports land where code churns.
"""

from __future__ import annotations

import math
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from indexer.code_tokens import tokenize_query

MAX_COMMITS = 3000
RECENT = 300  # commits counted for the churn prior
SIMILAR = 20  # past commits that vote
K1, B = 1.2, 0.75


@dataclass
class HistoryIndex:
    files: list[list[str]] = field(default_factory=list)  # per past commit: files it changed
    postings: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # token -> (c, tf)
    lengths: list[int] = field(default_factory=list)
    changes: Counter = field(default_factory=Counter)  # path -> commits in the last RECENT
    age: dict[str, int] = field(default_factory=dict)  # path -> commits since last change

    @classmethod
    def build(cls, root, commit: str | None, known: set[str],  # noqa: ANN001
              max_commits: int = MAX_COMMITS) -> HistoryIndex:
        index = cls()
        if not commit:
            return index
        cmd = ["git", "--no-optional-locks", "-C", str(root), "log", "--no-merges",
               "--no-renames", f"--max-count={max_commits}", "--name-only",
               "--format=%x00%B%x01", "--end-of-options", commit, "--"]
        proc = subprocess.run(cmd, capture_output=True, check=False)
        if proc.returncode != 0:
            return index
        for record in proc.stdout.decode("utf-8", "replace").split("\x00"):
            if "\x01" not in record:
                continue
            message, _, names = record.partition("\x01")
            changed = [n for n in names.split("\n") if n and n in known]
            n = len(index.files)
            index.files.append(changed)
            tokens = Counter(tokenize_query(message)[:200])
            index.lengths.append(sum(tokens.values()))
            for token, tf in tokens.items():
                index.postings.setdefault(token, []).append((n, tf))
            for path in changed:
                if n < RECENT:
                    index.changes[path] += 1
                index.age.setdefault(path, n)
        return index

    def similar_files(self, query: str, limit: int = SIMILAR) -> dict[str, float]:
        """path -> vote from the past commits whose messages best match the question."""
        if not self.files:
            return {}
        n = len(self.files)
        average = sum(self.lengths) / n or 1.0
        scores: defaultdict[int, float] = defaultdict(float)
        for token in set(tokenize_query(query)):
            posting = self.postings.get(token)
            if not posting or len(posting) > n / 3:  # too common to tell commits apart
                continue
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for c, tf in posting:
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * self.lengths[c] / average))
                scores[c] += idf * norm
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        votes: defaultdict[str, float] = defaultdict(float)
        for c, score in best:
            files = self.files[c]
            for path in files:
                votes[path] += score / len(files)  # a commit's weight spread over its files
        return dict(votes)
