"""Context packing quality and latency: pack recall at 4k / 8k / 16k tokens vs naive top-k.

Pack recall = the share of a gold set's expected chunks that end up (at least partly) inside
the pack. The baseline concatenates the same ranked results whole, best first, until the next
one would not fit — what a plain RAG pipeline does. Both use the same retrieval; the
difference is assembly (editor state aside: gold queries carry none). Also checks that no
pack has overlapping or duplicate blocks, and reports latency.

    python benchmarks/bench_context.py [--gold fixtures/shop_gold.jsonl --repo DIR]
    (default: the shop fixture, copied into a temporary git repository)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from indexer.context.pack import ContextRequest, pack_context
from indexer.context.render import render
from indexer.eval.gold import load_gold
from indexer.gloss.tokens import count_tokens
from indexer.retrieval.semantic import AskRequest
from indexer.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
BUDGETS = (4000, 8000, 16000)


def gold_ranges(searcher, item) -> list[tuple[str, int, int]]:  # noqa: ANN001
    t = searcher.table
    return [(item.path, *map(int, t.lines[r])) for r in t.by_path.get(item.path, [])
            if item.matches_chunk(item.path, t.names[r], *map(int, t.lines[r]))]


def recalled(ranges: list[tuple[str, int, int]], blocks: list[tuple[str, int, int]],
             twins: set[tuple[str, int, int]] = frozenset()) -> bool:
    """A gold chunk is in the pack when a block overlaps it — or overlaps its near-duplicate
    twin (packs keep one of two twins, and the content is the same)."""
    return any(p == bp and s <= be and bs <= e for p, s, e in [*ranges, *twins]
               for bp, bs, be in blocks)


def twin_ranges(searcher, ranges: list[tuple[str, int, int]]) -> set[tuple[str, int, int]]:  # noqa: ANN001
    """Chunks of the snapshot that are near-duplicates of the gold chunks. Twins (vendored
    copies, generated pairs) keep their definition's name, so only chunks of the same last
    name component are compared: linear in those, not in the snapshot."""
    from indexer.context.blocks import NEAR_DUPLICATE, shingles

    source = _source_reader(searcher)
    t = searcher.table
    by_name = _rows_by_short_name(t)
    out = set()
    for path, start, end in ranges:
        mine = shingles(" ".join("".join(source(path).splitlines(keepends=True)
                                         [start - 1:end]).split()))
        row_of_gold = next((r for r in t.by_path.get(path, [])
                            if tuple(map(int, t.lines[r])) == (start, end)), None)
        name = _short_name(t.names[row_of_gold]) if row_of_gold is not None else ""
        for row in by_name.get(name, []):
            if t.paths[row] == path:
                continue
            s, e = map(int, t.lines[row])
            theirs = shingles(" ".join("".join(source(t.paths[row]).splitlines(
                keepends=True)[s - 1:e]).split()))
            if len(mine & theirs) / max(1, len(mine | theirs)) >= NEAR_DUPLICATE:
                out.add((t.paths[row], s, e))
    return out


def _short_name(name: str | None) -> str:
    return (name or "").rsplit(".", 1)[-1]


_BY_NAME: dict[int, dict[str, list[int]]] = {}


def _rows_by_short_name(table) -> dict[str, list[int]]:  # noqa: ANN001
    found = _BY_NAME.get(id(table))
    if found is None:
        found = {}
        for row, name in enumerate(table.names):
            found.setdefault(_short_name(name), []).append(row)
        _BY_NAME[id(table)] = found
    return found


def naive_pack(searcher, query: str, budget: int) -> list[tuple[str, int, int]]:  # noqa: ANN001
    """Ranked chunks, whole, best first, until the next would overflow the budget."""
    from indexer.context.blocks import Block, slice_lines

    response = searcher.ask(AskRequest(query, k=200, pool=200))
    sources: dict[str, str] = {}
    packer_source = _source_reader(searcher)
    taken: list[Block] = []
    for hit in response.results:
        source = sources.setdefault(hit.path, packer_source(hit.path))
        block = Block(hit.path, hit.start_line, hit.end_line,
                      slice_lines(source, hit.start_line, hit.end_line), hit.language,
                      hit.name, ["rank"])
        if count_tokens(render("", query, taken + [block], "worktree", "markdown")) > budget:
            break
        taken.append(block)
    return [(b.path, b.start_line, b.end_line) for b in taken]


def _source_reader(searcher):  # noqa: ANN001, ANN202
    from indexer.context.pack import ContextPacker

    return ContextPacker(searcher).source


def check_pack(pack) -> None:  # noqa: ANN001
    spans: dict[str, list[tuple[int, int]]] = {}
    texts = set()
    for b in pack.blocks:
        for s, e in spans.get(b.path, []):
            assert b.end_line < s or b.start_line > e, f"overlap in {b.path}"
        spans.setdefault(b.path, []).append((b.start_line, b.end_line))
        key = " ".join(b.text.split())
        assert key not in texts, f"duplicate block {b.path}:{b.start_line}"
        texts.add(key)
    assert pack.tokens == count_tokens(pack.text) <= pack.budget


def run(searcher_for, gold_path: Path, limit: int | None) -> None:  # noqa: ANN001
    """`searcher_for(rev)`: the semantic searcher of the revision a gold query names."""
    gold = load_gold(gold_path)[:limit]
    print(f"{len(gold)} queries, {len(searcher_for(gold[0].rev).table)} chunks")
    print(f"{'budget':>7s} {'pack recall':>12s} {'naive top-k':>12s} {'p50 ms':>8s} "
          f"{'blocks':>7s} {'trimmed':>8s}")
    twins_of: dict[tuple, set] = {}
    for budget in BUDGETS:
        ours = naive = items = trimmed = blocks = 0
        latencies = []
        for q in gold:
            searcher = searcher_for(q.rev)
            started = time.perf_counter()
            pack = pack_context(searcher, ContextRequest(q.query, budget=budget))
            latencies.append((time.perf_counter() - started) * 1000)
            check_pack(pack)
            spans = [(b.path, b.start_line, b.end_line) for b in pack.blocks]
            baseline = naive_pack(searcher, q.query, budget)
            blocks += len(pack.blocks)
            trimmed += sum(b.trimmed for b in pack.blocks)
            for item in q.expected:
                ranges = gold_ranges(searcher, item)
                key = (item.path, item.symbol, item.lines)
                if key not in twins_of:
                    twins_of[key] = twin_ranges(searcher, ranges)
                items += 1
                ours += recalled(ranges, spans, twins_of[key])
                naive += recalled(ranges, baseline, twins_of[key])
        latencies.sort()
        print(f"{budget:7d} {ours / items:12.3f} {naive / items:12.3f} "
              f"{latencies[len(latencies) // 2]:8.1f} {blocks / len(gold):7.1f} "
              f"{trimmed / len(gold):8.1f}")
    print("no overlapping or duplicate blocks in any pack; token counts exact (cl100k)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=ROOT / "fixtures" / "shop_gold.jsonl")
    parser.add_argument("--repo", type=Path, default=None)
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None, help="the first N queries only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = args.repo
        if repo is None:
            repo = Path(tmp) / "shop"
            shutil.copytree(ROOT / "fixtures" / "shop", repo)
            for cmd in (["init", "-q", "-b", "main"], ["add", "-A"],
                        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
                subprocess.run(["git", "-C", str(repo), *cmd], check=True)
        ws = Workspace.open(repo, index_dir=args.index_dir or Path(tmp) / "index")
        searchers: dict[str | None, object] = {}

        def searcher_for(rev: str | None):  # noqa: ANN202
            if rev not in searchers:
                searchers[rev] = ws.semantic(rev)
                searchers[rev].embed()
            return searchers[rev]

        run(searcher_for, args.gold, args.limit)


if __name__ == "__main__":
    main()
