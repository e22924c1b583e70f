"""How codeloupe starts its own Python processes (the search daemon, chunking workers).

codeloupe runs inside repositories it does not trust. A Python started as `python -m X` or
`python -c …` puts its working directory first on `sys.path`, so a searched repository holding
`re2.py` (or a folder named like any module we import) would be imported and run. Every child
Python therefore starts with `-P` / `PYTHONSAFEPATH=1` (Python 3.11+: no unsafe path is
prepended), and multiprocessing's spawned workers inherit the variable from us.

Workers also watch their parent: a `kill -9` of the indexer must not leave them running.
"""

from __future__ import annotations

import os
import sys
import threading
import time

PARENT_POLL_SECONDS = 0.5


def harden_child_pythons() -> None:
    """Make every Python this process starts from now on ignore its working directory on
    `sys.path` (multiprocessing's spawn passes our environment, not our flags)."""
    os.environ["PYTHONSAFEPATH"] = "1"


def python_module_argv(module: str, *args: str) -> list[str]:
    """argv to run `python -m module args…` with a safe import path."""
    return [sys.executable, "-P", "-m", module, *args]


def exit_when_orphaned(parent: int, poll_seconds: float = PARENT_POLL_SECONDS) -> None:
    """In a worker: exit as soon as `parent` (the pid that started it, passed by the parent:
    read here, it could already be init's) is no longer our parent.

    Polling getppid() rather than PR_SET_PDEATHSIG: the death signal fires when the *thread*
    that forked us exits, and pool workers are started from whichever thread submitted work.
    """
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                os._exit(1)  # no clean-up to do: results go to a parent that is gone

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def forget_working_directory(package_file: str) -> None:
    """For `python -m …` entry points started without -P: drop the working directory that
    Python put first on `sys.path`, unless our own package was found there (a source
    checkout), so that modules imported later cannot come from a searched repository."""
    if sys.flags.safe_path or not sys.path:
        return
    first = os.path.abspath(sys.path[0] or os.curdir)
    package_home = os.path.dirname(os.path.dirname(os.path.abspath(package_file)))
    if first == os.getcwd() and first != package_home:
        del sys.path[0]
