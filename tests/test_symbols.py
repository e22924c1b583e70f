"""Symbol ranking: humps, tiers, tie-breaks, speed."""

from __future__ import annotations

import random
import string
import time
from dataclasses import dataclass

import pytest

from indexer.symbols import (
    SCORE_EXACT,
    SCORE_EXACT_CASE,
    SCORE_FUZZY,
    SCORE_HUMP,
    SCORE_HUMP_CASE,
    SCORE_PREFIX,
    SCORE_SUBSTRING,
    SymbolMatcher,
    humps,
    rank_symbols,
)


@dataclass(frozen=True)
class S:
    name: str
    path: str = "src/a.py"


def names(results) -> list[str]:
    return [s.name for _, s in results]


CORPUS = [
    S("getTextSize", "src/ui/text.ts"),
    S("get_text_size", "lib/text.py"),
    S("gtsValue", "src/gts.ts"),
    S("getTitleString", "src/ui/title.ts"),
    S("setTextSize", "src/ui/text.ts"),
    S("TextSizeGetter", "src/ui/getter.ts"),
    S("get", "src/http.ts"),
    S("getter", "src/http.ts"),
    S("forget", "src/cache.ts"),
    S("grid_entry", "src/state.py"),
    S("HTTPServer", "lib/http/server.py"),
    S("HttpServerConfig", "lib/http/config.py"),
    S("__init__", "lib/pkg/__init__.py"),
    S("getHTTPResponse2", "src/net.ts"),
]


def test_camel_humps() -> None:
    assert names(rank_symbols("gTS", CORPUS, 5))[0] == "getTextSize"
    assert "getTextSize" in names(rank_symbols("gts", CORPUS, 10))
    assert "getTitleString" in names(rank_symbols("gTS", CORPUS, 10))
    # the query's capitals match the name's: getTextSize beats get_text_size (shorter path)
    top = rank_symbols("gTS", CORPUS, 10)
    assert [(score, s.name) for score, s in top[:3]] == [
        (SCORE_HUMP_CASE, "getTextSize"), (SCORE_HUMP_CASE, "getTitleString"),
        (SCORE_HUMP, "get_text_size")]
    # the mixed-case query wants humps: gtsValue (no T hump) ranks below them
    ranked = names(top)
    assert ranked.index("getTextSize") < ranked.index("gtsValue")
    assert ranked.index("getTitleString") < ranked.index("gtsValue")


def test_snake_humps() -> None:
    top = rank_symbols("get_ts", CORPUS, 5)
    assert top[0][1].name == "get_text_size"
    assert top[0][0] == SCORE_HUMP
    assert "getTextSize" in names(rank_symbols("get_ts", CORPUS, 10))


def test_acronym_and_digit_humps() -> None:
    assert humps("getHTTPResponse2") == ["get", "HTTP", "Response", "2"]
    assert names(rank_symbols("gHR2", CORPUS, 3))[0] == "getHTTPResponse2"
    assert names(rank_symbols("HTTPS", CORPUS, 3))[0] == "HTTPServer"
    assert names(rank_symbols("hsc", CORPUS, 3))[0] == "HttpServerConfig"


def test_tiers_exact_prefix_hump_substring_fuzzy() -> None:
    ranked = rank_symbols("get", CORPUS, 20)
    scores = {s.name: score for score, s in ranked}
    assert ranked[0][1].name == "get"
    assert scores["get"] == SCORE_EXACT_CASE
    assert scores["getter"] == SCORE_PREFIX
    assert scores["getTextSize"] == SCORE_PREFIX
    assert scores["forget"] == SCORE_SUBSTRING
    assert scores["grid_entry"] == SCORE_FUZZY  # g..e..t as a subsequence
    order = names(ranked)
    assert order.index("get") < order.index("getter") < order.index("forget") < order.index(
        "grid_entry")
    assert rank_symbols("GET", CORPUS, 1)[0][0] == SCORE_EXACT  # exact, other case
    assert names(rank_symbols("TEXTSIZEGETTER", CORPUS, 1)) == ["TextSizeGetter"]


def test_exact_beats_prefix_beats_hump() -> None:
    corpus = [S("parseArgs", "a/b/c/d.py"), S("parse", "a/b/c/d/e/f.py"),
              S("pArgs", "x.py"), S("paRse_args", "y.py")]
    ranked = rank_symbols("parse", corpus, 10)
    assert ranked[0][1].name == "parse"  # exact, despite the longest path
    assert ranked[0][0] > ranked[1][0]
    assert names(ranked)[1:3] == ["paRse_args", "parseArgs"]  # prefixes: shorter path first
    ranked = rank_symbols("pA", corpus, 10)
    assert ranked[0][1].name == "pArgs"


def test_shorter_path_wins_ties_then_name_length() -> None:
    corpus = [S("render", "src/deep/nested/widgets/button.ts"), S("render", "src/app.ts"),
              S("render", "src/ui/app.ts"), S("renderAll", "a.ts"), S("renders", "a.ts")]
    ranked = rank_symbols("render", corpus, 10)
    assert [s.path for _, s in ranked[:3]] == ["src/app.ts", "src/ui/app.ts",
                                               "src/deep/nested/widgets/button.ts"]
    assert names(ranked)[3:] == ["renders", "renderAll"]  # shorter name first


def test_deterministic_and_limited() -> None:
    corpus = [S(f"item{i}", f"p{i % 3}.py") for i in range(50)]
    a = rank_symbols("item", corpus, 7)
    b = rank_symbols("item", list(corpus), 7)
    assert a == b and len(a) == 7
    assert rank_symbols("", corpus, 5) == []
    assert rank_symbols("zzz", corpus, 5) == []
    assert rank_symbols("item", corpus, 0) == []
    assert rank_symbols("item", [], 5) == []


def test_special_characters_in_queries_and_names() -> None:
    corpus = [S("operator()"), S("operator*"), S("a.b[c]"), S("$scope"), S("weird\nname"),
              S("[table]"), S("^caret")]
    assert names(rank_symbols("operator*", corpus, 1)) == ["operator*"]
    assert names(rank_symbols("$sc", corpus, 1)) == ["$scope"]
    assert names(rank_symbols("[ta", corpus, 1)) == ["[table]"]
    assert names(rank_symbols("^", corpus, 1)) == ["^caret"]
    assert rank_symbols("a.b[", corpus, 1)[0][1].name == "a.b[c]"
    for q in ("(", ")", "*", "\\", "[", "]", "-", ".*", "name"):
        rank_symbols(q, corpus, 5)  # never a regex error


def _random_corpus(n: int, seed: int = 7) -> list[S]:
    rng = random.Random(seed)
    words = ["get", "set", "text", "size", "http", "server", "parse", "node", "value", "item",
             "list", "map", "render", "update", "config", "file", "path", "read", "write",
             "token", "index", "query", "user", "data", "cache", "load", "store", "event"]
    out = []
    for i in range(n):
        parts = rng.sample(words, rng.randint(1, 4))
        if rng.random() < 0.5:
            name = parts[0] + "".join(p.title() for p in parts[1:])
        else:
            name = "_".join(parts)
        if rng.random() < 0.1:
            name += "".join(rng.choices(string.digits, k=2))
        depth = rng.randint(0, 6)
        path = "/".join(rng.choice(words) for _ in range(depth)) + f"/f{i % 97}.py"
        out.append(S(name, path))
    return out


def _brute_force(query: str, symbols: list[S]) -> set[int]:
    """Every symbol whose name holds the query's characters in order (case-insensitive)."""
    q = [c for c in query.lower() if not c.isspace()]
    hits = set()
    for i, s in enumerate(symbols):
        it = iter(s.name.lower())
        if all(c in it for c in q):
            hits.add(i)
    return hits


@pytest.mark.parametrize(("query", "size"), [
    ("gts", 3000), ("rU", 3000), ("cfg", 3000), ("readfile", 3000), ("x", 3000),
    ("tok_ix", 3000), ("QUERY", 3000),
    # large enough for the later tiers to scan text blobs instead of testing candidates
    ("e", 20_000), ("et", 20_000), ("re_da", 20_000), ("aT", 20_000),
])
def test_matches_are_exactly_the_subsequence_matches(query: str, size: int) -> None:
    corpus = _random_corpus(size)
    matcher = SymbolMatcher(corpus)
    got = {id(s) for _, s in matcher.search(query, size * 2)}
    # every subsequence match is found; hump matches may skip the query's separators
    # (get_ts finds getTextSize), so the results are subsequence matches without them
    assert {id(corpus[i]) for i in _brute_force(query, corpus)} <= got
    loose = _brute_force(query.replace("_", ""), corpus)
    assert got <= {id(corpus[i]) for i in loose}
    scores = [score for score, _ in matcher.search(query, size * 2)]
    assert scores == sorted(scores, reverse=True)


def test_speed_100k() -> None:
    corpus = _random_corpus(100_000)
    matcher = SymbolMatcher(corpus)
    times = []
    for q in ["gts", "getTextSize", "get_ts", "rU", "cfg", "readfile", "x", "tok_ix", "QUERY",
              "serverHttp", "zzz", "e", "ren", "upd_ev"]:
        t0 = time.perf_counter()
        matcher.search(q, 100)
        times.append(time.perf_counter() - t0)
    times.sort()
    assert times[len(times) // 2] < 0.05  # target 20 ms; generous for a busy CI machine
