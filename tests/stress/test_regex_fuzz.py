"""A bounded slice of the standing regex fuzz probe (benchmarks/probes/regex_fuzz.py): fuzzed
patterns in rg's dialect give no crash, no hang and no result different from rg's."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import rg_binary

PROBE = Path(__file__).resolve().parents[2] / "benchmarks" / "probes" / "regex_fuzz.py"
COUNT = 300  # patterns, seed fixed: about 30-60 s on 2 busy cores
SEED = 23


def _probe():  # noqa: ANN202 - the probe module
    spec = importlib.util.spec_from_file_location("regex_fuzz", PROBE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(rg_binary() is None, reason="ripgrep (the oracle) is not installed")
def test_fuzzed_patterns_agree_with_ripgrep() -> None:
    rows, outcome = _probe().run_detailed(budget_s=600.0, seed=SEED, count=COUNT)
    row = rows[0]
    failures = [f for f in outcome.failures if f["kind"] in ("crash", "hang", "wrong")]
    assert row["tried"] >= COUNT * 0.95  # (patterns with a newline are left out)
    assert (row["crashes"], row["hangs"], row["wrong"]) == (0, 0, 0), failures[:10]
