"""Ranking metrics: nDCG stays within [0, 1] however many retrieved chunks answer one
expected item (a property test), and recall/MRR agree with hand-worked rankings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.eval.gold import Expected
from indexer.eval.metrics import LEVELS, Retrieved, score_query

PATHS = ["a.py", "b.py", "c.py", "d/e.py"]
NAMES = ["", "f", "g", "K.m"]

retrieved = st.lists(st.builds(
    lambda path, name, start, length: Retrieved(path, name, start, start + length),
    st.sampled_from(PATHS), st.sampled_from(NAMES), st.integers(1, 60), st.integers(0, 20)),
    max_size=40)
expected = st.lists(st.builds(
    Expected, st.sampled_from(PATHS), st.sampled_from([None, "f", "g", "K"]),
    st.one_of(st.none(), st.tuples(st.integers(1, 30), st.integers(30, 60))),
    st.integers(1, 3)), min_size=1, max_size=5)


@settings(max_examples=400, deadline=None)
@given(retrieved, expected, st.sampled_from(LEVELS))
def test_ndcg_is_between_zero_and_one(results, items, level) -> None:  # noqa: ANN001
    scores = score_query(results, items, level)
    assert 0.0 <= scores.ndcg10 <= 1.0 + 1e-9
    for value in scores.recall.values():
        assert 0.0 <= value <= 1.0


def test_an_expected_file_earns_its_gain_once() -> None:
    # three chunks of the one expected file, then nothing: before the fix this scored 1.38
    results = [Retrieved("a.py", "f", 1, 5), Retrieved("a.py", "g", 6, 9),
               Retrieved("a.py", "h", 10, 12)]
    scores = score_query(results, [Expected("a.py")], "chunk")
    assert scores.ndcg10 == 1.0
    assert scores.first_hit == 1 and scores.recall[1] == 1.0


def test_a_miss_at_the_top_costs_ndcg_and_mrr() -> None:
    results = [Retrieved("b.py", "", 1, 3), Retrieved("a.py", "f", 1, 5)]
    scores = score_query(results, [Expected("a.py"), Expected("c.py")], "file")
    assert scores.first_hit == 2
    assert scores.recall[1] == 0.0 and scores.recall[5] == 0.5
    assert 0.0 < scores.ndcg10 < 0.5


def test_file_level_counts_an_expected_file_once_however_many_hunks() -> None:
    expected = [Expected("a.py", lines=(1, 3)), Expected("a.py", lines=(40, 41)),
                Expected("b.py", lines=(5, 6))]
    scores = score_query([Retrieved("a.py", "f", 1, 5)], expected, "file")
    assert scores.recall[1] == 0.5  # one of two files, not two of three hunks
    chunk = score_query([Retrieved("a.py", "f", 1, 5)], expected, "chunk")
    assert abs(chunk.recall[1] - 1 / 3) < 1e-9
