"""Probes of the reliability campaign (`benchmarks/reliability.py`).

Each probe module has `run(budget_s: float, seed: int, count: int | None = None) -> list[dict]`
returning rows `{"probe", "tried", "crashes", "hangs", "wrong", "leaks", "notes"}` and can be
run alone (`python benchmarks/probes/NAME.py --help`).
"""
