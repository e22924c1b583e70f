"""`codeloupe tune` on a repository whose history is built here: a ranker is fitted from
older commits, reported on the latest ones, kept in the index folder and used by ask."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.retrieval.ranker import TUNED_NAME
from indexer.retrieval.semantic import AskRequest
from indexer.workspace import Workspace
from tests.conftest import git, make_repo, write_files

TOPICS = {
    "billing/invoice.py": ("invoice", "total amount due with tax for the customer"),
    "billing/refund.py": ("refund", "money returned to the card after a cancelled order"),
    "shipping/parcel.py": ("parcel", "weight and size of the box to ship"),
    "shipping/tracking.py": ("tracking", "where the courier says the package is now"),
    "accounts/login.py": ("login", "password check and session start for a user"),
    "accounts/profile.py": ("profile", "display name and avatar picture of a user"),
}
VERBS = ["handle", "fix", "support", "validate", "speed up", "clean up", "log", "cache"]


def body(name: str, text: str, version: int) -> str:
    funcs = "\n\n".join(f"def {name}_{i}(data):\n    \"\"\"{text} (step {i}).\"\"\"\n"
                        f"    return data + {version + i}\n" for i in range(4))
    return f"# {name} module\n\n{funcs}"


@pytest.fixture
def repo(tmp_path: Path, index_root: Path) -> Path:
    root = make_repo(tmp_path / "shop", {path: body(n, t, 0) for path, (n, t) in TOPICS.items()})
    paths = list(TOPICS)
    for i in range(36):
        path = paths[(i * 5) % len(paths)]
        name, text = TOPICS[path]
        write_files(root, {path: body(name, text, i + 1)})
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"{VERBS[i % len(VERBS)].capitalize()} the {text} "
            f"when the input is empty")
    return root


def test_tune_fits_reports_and_keeps_a_ranker_that_ask_uses(repo: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "indexer", "tune", "--json", "--holdout",
                           "0.25", "--repo", str(repo)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["train_questions"] >= 20 and report["held_out_questions"] >= 5
    assert set(report["before"]) == set(report["after"]) == {"R@1", "R@5", "MRR"}
    ws = Workspace.open(repo)
    try:
        model = Path(ws.store.directory) / TUNED_NAME
        assert model.exists() == report["kept"]
        searcher = ws.semantic(None)
        searcher.embed()
        if report["kept"]:
            assert searcher.file_ranker().source == str(model)
        response = searcher.ask(AskRequest("refund money to the card of a cancelled order",
                                           k=3, files=True))
        assert response.files[0].path == "billing/refund.py"
    finally:
        ws.close()
    done = subprocess.run([sys.executable, "-m", "indexer", "tune", "--reset", "--repo",
                           str(repo)], capture_output=True, text=True)
    assert done.returncode == 0 and not model.exists()


def test_tune_refuses_a_history_too_short(tmp_path: Path, index_root: Path) -> None:
    root = make_repo(tmp_path / "tiny", {"a.py": "def f():\n    return 1\n"})
    done = subprocess.run([sys.executable, "-m", "indexer", "tune", "--repo", str(root)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "too few usable commits" in done.stderr
