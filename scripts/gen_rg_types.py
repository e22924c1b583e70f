"""Regenerate indexer/rg_types.py from `rg --type-list` (run at dev time, never at run time).

    python scripts/gen_rg_types.py [path/to/rg]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "indexer" / "rg_types.py"


def main() -> None:
    rg = sys.argv[1] if len(sys.argv) > 1 else str(Path(sys.executable).parent / "rg")
    version = subprocess.run([rg, "--version"], capture_output=True, text=True,
                             check=True).stdout.splitlines()[0]
    listing = subprocess.run([rg, "--type-list"], capture_output=True, text=True,
                             check=True).stdout
    # Wrapped so that ruff's line length holds; parsed once at import.
    rows = []
    for row in listing.splitlines():
        name, _, globs = row.partition(": ")
        rows.append(f"    {name!r}: {globs.split(', ')!r},")
    lines = [
        f'"""ripgrep\'s file types (`-t/-T`), generated from `rg --type-list` of {version}',
        'by scripts/gen_rg_types.py: do not edit by hand."""', "",
        "# ruff: noqa: E501", "",
        "TYPES: dict[str, list[str]] = {", *rows, "}",
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT} ({len(listing.splitlines())} types)")


if __name__ == "__main__":
    main()
