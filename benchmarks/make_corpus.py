"""Build the benchmark corpus: a git repository of real code nobody here wrote.

The Python standard library of the running interpreter plus the site-packages of the
project's virtual environment, copied (no __pycache__, no compiled extensions) and
committed, so that both codeloupe and ripgrep search the very same files.

`--semantic` builds the smaller repository the semantic and context benchmarks use
(`bench_semantic_scale.py`, `bench_context.py`): the standard library's Python files at the
top, plus GitPython, pygments, rich and six subpackages of sympy under site-packages/ (about
2,800 files, 50 MB, 54k chunks): big enough for a generated gold set, small enough to embed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

SKIP_DIRS = {"__pycache__", ".git"}
SKIP_SUFFIXES = {".pyc", ".pyo", ".so", ".dylib", ".dll", ".a", ".o"}


def source_roots() -> list[tuple[str, Path]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    purelib = Path(sysconfig.get_paths()["purelib"])
    return [("stdlib", stdlib), ("site-packages", purelib)]


SEMANTIC_PACKAGES = ("git", "pygments", "rich", "sympy/core", "sympy/functions",
                     "sympy/matrices", "sympy/polys", "sympy/printing", "sympy/solvers")


def copy_tree(src: Path, dst: Path, exclude: set[Path], suffix: str | None = None) -> int:
    total = 0
    for root, dirs, files in os.walk(src):
        root_path = Path(root)
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and root_path / d not in exclude]
        for name in files:
            path = root_path / name
            if path.suffix in SKIP_SUFFIXES or path.is_symlink() or (
                    suffix is not None and path.suffix != suffix):
                continue
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            total += target.stat().st_size
    return total


def git(repo: Path, *args: str) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@localhost",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@localhost")
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def make_corpus(dest: Path, semantic: bool = False) -> int:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    total = 0
    roots = source_roots()
    if semantic:
        (_, stdlib), (_, purelib) = roots
        total += copy_tree(stdlib, dest, {purelib, stdlib / "site-packages"}, ".py")
        for package in SEMANTIC_PACKAGES:
            total += copy_tree(purelib / package, dest / "site-packages" / package, set(),
                               ".py")
        git(dest, "init", "-q", "-b", "main")
        git(dest, "add", "-A")
        git(dest, "commit", "-q", "-m", "stdlib")
        return total
    for label, root in roots:
        # The interpreter's own site-packages lives inside the stdlib folder: leave it out.
        exclude = {other for _, other in roots if other != root} | {root / "site-packages"}
        total += copy_tree(root, dest / label, exclude)
    git(dest, "init", "-q", "-b", "main")
    # No .gitignore: every copied file is tracked, so ripgrep and codeloupe see the same set.
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "corpus")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--semantic", action="store_true",
                        help="the smaller repository of the semantic and context benchmarks")
    args = parser.parse_args()
    total = make_corpus(args.dest, args.semantic)
    print(f"corpus at {args.dest}: {total / 1e6:.1f} MB from {sys.executable}")


if __name__ == "__main__":
    main()
