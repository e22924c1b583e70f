"""`codeloupe tune`: fit this repository's file ranker from its own history.

The history-mined gold set (indexer/eval/history_gold.py) at the tuned revision is split by
time: the older part trains a LightGBM ranker (commits strictly older than every held-out
one, and than the revision tuned), the later part is held out to report before (the shipped
default model) and after (the tuned one). The tuned model is kept in the index folder, where
ask, context, the language server and MCP pick it up, unless it did worse on the held-out
part (then the default stays, and the report says so; `force` keeps it anyway).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from indexer.errors import CodeloupeError
from indexer.eval.history_gold import MiningStats, mine_history
from indexer.eval.ranker_data import collect
from indexer.eval.runner import evaluate
from indexer.retrieval.ranker import DEFAULT_MODEL, TUNE, TUNED_NAME, train

MIN_TRAIN = 20  # questions: fewer cannot fit anything worth keeping


class TuneError(CodeloupeError):
    pass


@dataclass
class TuneReport:
    rev: str
    mined: str  # the mining summary
    train_questions: int
    held_out_questions: int
    before: dict[str, float] = field(default_factory=dict)  # held-out file-level metrics
    after: dict[str, float] = field(default_factory=dict)
    kept: bool = False
    model_path: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _metrics(report) -> dict[str, float]:  # noqa: ANN001 - a PipelineReport
    s = report.levels["file"]
    return {"R@1": round(s.recall[1], 4), "R@5": round(s.recall[5], 4),
            "MRR": round(s.mrr, 4)}


def tune(ws, rev: str | None = None, *, max_questions: int = 300, max_scan: int = 2000,  # noqa: ANN001
         holdout: float = 0.3, seed: int = 1, force: bool = False,
         on_progress: Callable[[int, int, str], None] | None = None) -> TuneReport:
    base = ws.repo.resolve(rev or "HEAD")
    stats = MiningStats()
    mined = [m for m in mine_history(ws.repo, base, max_questions=max_questions,
                                     max_scan=max_scan, seed=seed, stats=stats)
             if m.commit != base]  # oldest first
    split = int(round(len(mined) * (1 - holdout)))
    older, later = mined[:split], mined[split:]
    if len(older) < MIN_TRAIN or not later:
        raise TuneError(f"{stats.summary()}: too few usable commits to tune (need "
                        f"{MIN_TRAIN} to train and some to hold out)")
    searchers: dict = {}

    def searcher_for(rev: str | None):  # noqa: ANN202
        if rev not in searchers:
            searchers.clear()  # parents differ per question: one snapshot at a time
            searcher = ws.semantic(rev)
            searcher.embed()
            searchers[rev] = searcher
        return searchers[rev]

    progress = on_progress or (lambda done, total, message: None)
    groups = collect(searcher_for, [m.gold() for m in older],
                     on_query=lambda d, t: progress(d, t, "collecting training features"))
    base_model = DEFAULT_MODEL if DEFAULT_MODEL.exists() else None
    booster = train([(g.features, g.labels) for g in groups], init_model=base_model,
                    **(TUNE if base_model else {}))
    target = Path(ws.store.directory) / TUNED_NAME
    previous = target.with_suffix(".previous")
    had_previous = target.exists()
    if had_previous:
        os.replace(target, previous)  # "before" is the default model, not an older tune
    held = [m.gold() for m in later]
    report = TuneReport(base, stats.summary(), len(older), len(later))
    try:
        before, = evaluate(searcher_for, held, ["files-default"], levels=["file"],
                           on_query=lambda d, t: progress(d, t, "scoring the default model"))
        candidate = target.with_suffix(".new")
        booster.save_model(str(candidate))
        os.replace(candidate, target)
        after, = evaluate(searcher_for, held, ["files"], levels=["file"],
                          on_query=lambda d, t: progress(d, t, "scoring the tuned model"))
    except BaseException:
        if had_previous:
            os.replace(previous, target)
        raise
    report.before, report.after = _metrics(before), _metrics(after)
    report.kept = force or report.after["MRR"] >= report.before["MRR"]
    if report.kept:
        report.model_path = str(target)
        if had_previous:
            previous.unlink(missing_ok=True)
    elif had_previous:
        os.replace(previous, target)
    else:
        target.unlink(missing_ok=True)
    return report


def reset(ws) -> bool:  # noqa: ANN001
    """Drop this repository's tuned model (the default one ranks again); whether there was
    one."""
    target = Path(ws.store.directory) / TUNED_NAME
    if target.exists():
        target.unlink()
        return True
    return False
