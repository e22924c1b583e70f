"""Where indexes and the search daemon live. Import-light: the CLI's fast path uses it."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def default_index_root() -> Path:
    """CODELOUPE_INDEX_DIR, else the user cache directory (XDG on Linux)."""
    env = os.environ.get("CODELOUPE_INDEX_DIR")
    if env:
        return Path(env)
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        return Path(base) / "codeloupe"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("codeloupe"))


def daemon_socket(index_root: Path | None = None) -> Path:
    return (index_root or default_index_root()) / "daemon.sock"


def code_version() -> str:
    """Changes whenever the installed engine code changes: a daemon from older code is
    replaced instead of answering with stale behaviour."""
    package = Path(__file__).resolve().parent
    newest = 0
    count = 0
    for root, dirs, files in os.walk(package):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                newest = max(newest, os.stat(os.path.join(root, name)).st_mtime_ns)
                count += 1
    return f"{count}-{newest}"
