"""Index folders and files are private (issue 23, item 6): pack files hold the full text of
every indexed file, and were created 0755/0644 under a shared cache directory."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import make_repo


def test_an_index_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"secret.py": "TOKEN = 'hunter2'\n",
                                         "pkg/app.py": "def main():\n    return 1\n"})
    root = tmp_path / "cache" / "codeloupe"
    env = {**os.environ, "CODELOUPE_INDEX_DIR": str(root), "CODELOUPE_DAEMON": "off"}
    old = os.umask(0o022)  # a usual umask: the indexer must not rely on the user's
    try:
        done = subprocess.run([sys.executable, "-m", "indexer", "index", "--no-embed"],
                              cwd=repo, env=env, capture_output=True, timeout=300)
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    seen = 0
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            mode = stat.S_IMODE((Path(folder) / name).stat().st_mode)
            assert mode & 0o077 == 0, (folder, name, oct(mode))
        for name in files:
            mode = stat.S_IMODE((Path(folder) / name).lstat().st_mode)
            assert mode & 0o077 == 0, (folder, name, oct(mode))
            seen += 1
    assert seen > 5  # packs, tantivy segments, the catalog


def test_an_index_made_before_is_made_private_when_opened(tmp_path: Path) -> None:
    from indexer.store.index_store import IndexStore

    folder = tmp_path / "old-index"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    IndexStore(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
