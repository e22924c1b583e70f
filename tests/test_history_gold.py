"""`goldgen --from-history` on a git repository built here: which commits become questions,
what the question keeps of the message, and what the answer is (at the parent)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.eval.history_gold import MiningStats, clean_message, mine_history, quotes_answer
from indexer.repo import GitRepo
from tests.conftest import git, make_repo, write_files

PARSER = '''
def tokenize(text):
    words = text.split()
    return [w.lower() for w in words]


def parse(text):
    return {"tokens": tokenize(text)}
'''
CACHE = '''
class Cache:
    def __init__(self):
        self.items = {}

    def get(self, key):
        return self.items.get(key)
'''


def commit(repo: Path, message: str, files: dict[str, str]) -> str:
    write_files(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def history(tmp_path: Path, index_root: Path) -> dict[str, str]:
    repo = make_repo(tmp_path / "proj", {"pkg/parser.py": PARSER, "pkg/cache.py": CACHE,
                                         "pkg/__init__.py": "VERSION = '1.0'\n",
                                         "tests/test_parser.py": "def test_x():\n    pass\n",
                                         "README.md": "# proj\n"})
    ids = {"root": git(repo, "rev-parse", "HEAD").strip()}
    ids["fix"] = commit(repo, "Handle empty input when splitting words\n\nAn empty string "
                        "crashed the tokenizer before any word was read.\n\n"
                        "Signed-off-by: Dev <dev@example.com>\nCo-authored-by: B <b@example.com>",
                        {"pkg/parser.py": PARSER.replace(
                            "    words = text.split()\n",
                            "    if not text:\n        return []\n    words = text.split()\n")})
    ids["bump"] = commit(repo, "Bump version to 1.1", {"pkg/__init__.py": "VERSION = '1.1'\n"})
    ids["typo"] = commit(repo, "Fix typo in the cache", {"pkg/cache.py": CACHE.replace(
        "self.items = {}", "self.items = {}  # key -> value")})
    ids["quoted"] = commit(repo, "Make cache.py lookups return a default value",
                           {"pkg/cache.py": CACHE.replace("get(key)", "get(key, None)")})
    ids["tests"] = commit(repo, "Cover the tokenizer with more cases",
                          {"tests/test_parser.py": "def test_x():\n    assert True\n"})
    ids["added"] = commit(repo, "Add a command line entry point for the project",
                          {"pkg/cli.py": "def main():\n    print('hi')\n"})
    git(repo, "checkout", "-q", "-b", "side", ids["root"])
    ids["side"] = commit(repo, "Store entries with an expiry time in seconds",
                         {"pkg/cache.py": CACHE.replace("self.items = {}",
                                                        "self.items = {}\n        self.ttl = 60")})
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge branch side into main", "side")
    ids["head"] = git(repo, "rev-parse", "HEAD").strip()
    ids["repo"] = str(repo)
    return ids


def test_commits_become_questions_answered_at_their_parent(history: dict[str, str]) -> None:
    stats = MiningStats()
    mined = mine_history(GitRepo(Path(history["repo"])), "HEAD", max_questions=50, stats=stats)
    by_commit = {m.commit: m for m in mined}
    # the bug fix and the side-branch change (reachable through the merge) are kept; the
    # version bump, the typo, the message quoting cache.py, tests-only and new-file-only
    # commits and the merge itself are not
    assert set(by_commit) == {history["fix"], history["side"]}
    fix = by_commit[history["fix"]]
    assert fix.parent == history["root"]
    assert fix.files == ["pkg/parser.py"]
    assert "Signed-off-by" not in fix.question and "Co-authored-by" not in fix.question
    assert fix.question.startswith("Handle empty input when splitting words")
    assert "crashed the tokenizer" in fix.question
    # the hunk is the parent's line range inside tokenize()
    (start, end), = fix.hunks["pkg/parser.py"]
    assert 2 <= start <= end <= 4
    gold = fix.gold()
    assert gold.rev == history["root"]
    assert {e.path for e in gold.expected} == {"pkg/parser.py"}
    assert stats.trivial == 2 and stats.quoted == 1 and stats.scanned == 8
    # oldest first, deterministic
    assert [m.commit for m in mined] == [m.commit for m in mine_history(
        GitRepo(Path(history["repo"])), "HEAD", max_questions=50)]
    assert len(mine_history(GitRepo(Path(history["repo"])), "HEAD", max_questions=1)) == 1


def test_a_bounded_walk_reads_only_the_newest_commits(history: dict[str, str]) -> None:
    stats = MiningStats()
    mine_history(GitRepo(Path(history["repo"])), "HEAD", max_scan=3, stats=stats)
    assert stats.scanned == 3


def test_message_cleaning_and_quoting() -> None:
    text = clean_message("Fix crash on empty header (#123)\n\nDetails here.\n\n"
                         "<!-- template -->\n- [x] tests added\n\nFixes #123\n\n"
                         "Signed-off-by: A <a@b>\nReviewed-by: C <c@d>")
    assert text == "Fix crash on empty header\n\nDetails here."
    assert quotes_answer("the bug is in src/pkg/http.py", ["src/pkg/http.py"])
    assert quotes_answer("see http.py for details", ["src/pkg/http.py"])
    assert quotes_answer("pkg.http drops headers", ["pkg/http.py"])
    assert not quotes_answer("http headers are dropped", ["src/pkg/http.py"])


def test_goldgen_from_history_command_and_eval(history: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "hist.jsonl"
    run = [sys.executable, "-m", "indexer"]
    done = subprocess.run([*run, "goldgen", "--from-history", "--max", "5", "-o", str(out),
                           "--repo", history["repo"]], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "2 usable" in done.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["rev"] for r in rows} == {history["root"]}
    assert all(r["expected"] and all("lines" in e for e in r["expected"]) for r in rows)
    done = subprocess.run([*run, "eval", str(out), "--pipelines", "lexical", "--levels",
                           "file", "--json", "--repo", history["repo"]],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["problems"] == []
    fix = next(q for q in report["pipelines"][0]["queries"]
               if q["id"] == "h" + history["fix"][:10])
    assert fix["levels"]["file"]["first_hit"] == 1  # parser.py, found by its words
