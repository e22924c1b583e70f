"""The standing reliability campaign: every probe of `benchmarks/probes/`, one table.

    python benchmarks/reliability.py                 # the full campaign (about 30 minutes)
    python benchmarks/reliability.py --quick         # a bounded slice of each (what CI runs)
    python benchmarks/reliability.py --only kill_points,regex_fuzz --seed 7

Targets (issue 23): 100 kill points with 0 unreadable indexes; 10,000 fuzzed regexes with 0
crashes, 0 hangs over 1 s of CPU and 0 differences from rg on what both accept; 1,000
hostile LSP messages with the server answering a health request after each batch; 0 reads
outside the root. Exit status 1 when any row has a crash, hang, wrong answer or leak.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.probes.common import print_table, row  # noqa: E402

# probe module -> (cases in the full campaign, cases in --quick); None: the probe's default
PROBES: dict[str, tuple[int | None, int]] = {
    "kill_points": (100, 8),
    "regex_fuzz": (10_000, 300),
    "hostile_messages": (1_000, 150),
    "outside_root": (None, 40),
    "awkward_files": (None, 28),
    "concurrency": (120, 15),  # seconds of concurrent work
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a bounded slice of each probe")
    parser.add_argument("--only", default="", help="comma-separated probe names")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds per probe (default 600, --quick 90)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(PROBES)
    budget = args.budget or (90.0 if args.quick else 600.0)
    rows: list[dict] = []
    for name in names:
        full, quick = PROBES[name]
        try:
            module = importlib.import_module(f"benchmarks.probes.{name}")
        except ModuleNotFoundError as exc:
            rows.append(row(name, notes=f"not available: {exc}"))
            continue
        started = time.monotonic()
        try:
            found = module.run(budget, args.seed, quick if args.quick else full)
        except Exception as exc:  # noqa: BLE001 - a probe that breaks is a row, not an abort
            found = [row(name, crashes=1, notes=f"the probe itself failed: {exc!r}"[:200])]
        for r in found:
            r["seconds"] = round(time.monotonic() - started, 1)
        rows.extend(found)
        print(f"{name}: done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    bad = sum(r["crashes"] + r["hangs"] + r["wrong"] + r["leaks"] for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
