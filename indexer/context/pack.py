"""Context packing: hybrid recall → re-rank → assembly under a hard token cap.

Assembly, in order: the instructions and task; the editor's own state (the selection or the
chunk around the cursor, then the definitions of symbols referenced there); then retrieved
chunks, de-duplicated (exact and near twins), diversified (MMR over the code vectors, and a
per-file cap while other files have candidates), merged where ranges of one file touch, and
added while they fit — a block that does not fit is trimmed to its signature and docstring,
whole lines only, or dropped. Counts are exact for cl100k (the final text is counted). The
same request on the same index gives the same bytes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from indexer.context.blocks import (
    Block,
    merge_blocks,
    near_duplicates,
    signature_and_docstring,
    slice_lines,
)
from indexer.context.render import FORMATS, block_dict, render, render_block
from indexer.errors import CodeloupeError
from indexer.gloss.tokens import count_tokens, encoding_name
from indexer.repo import WORKTREE, path_fields
from indexer.retrieval.semantic import AskRequest, RankedChunk, SemanticSearcher

MAX_DEFINITIONS = 8
RELEVANT_DEPTH = 30  # candidates that count as relevant for diversity and the per-file cap
_VENDORED = re.compile(r"(^|/)(vendor|vendored|third_party|thirdparty|node_modules|external|"
                       r"generated|gen)/|\.(min|generated|pb)\.\w+$|_pb2\.py$")
_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{2,}\b")
_COMMON = frozenset({  # words too common to look up as definitions
    "self", "cls", "this", "None", "True", "False", "return", "def", "class", "import", "from",
    "with", "while", "for", "else", "elif", "not", "and", "pass", "raise", "yield", "async",
    "await", "lambda", "const", "let", "var", "function", "new", "try", "catch", "finally",
    "public", "private", "static", "void", "int", "str", "bool", "dict", "list", "tuple",
    "set", "float", "bytes", "print", "len", "range", "type", "object", "string", "number",
    "boolean", "null", "undefined", "true", "false", "func", "package", "struct", "impl",
    "pub", "use", "mod", "match", "super",
})


class ContextError(CodeloupeError):
    pass


@dataclass
class ContextRequest:
    task: str
    budget: int = 4000
    file: str | None = None  # the cursor's file (relative to the repository root)
    line: int | None = None  # the cursor's line, 1-based
    selection: tuple[str, int, int] | None = None  # (path, first line, last line), 1-based
    open_files: tuple[str, ...] = ()
    format: str = "markdown"
    instructions: str = ""
    globs: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    rerank: str | None = None
    pool: int = 200
    diversity: float = 0.9  # MMR: weight of relevance against novelty
    max_file_share: float = 0.5  # of the budget, while other files have relevant chunks
    # Retrieved blocks go in whole up to this share of the budget; the rest is kept for the
    # signatures (and docstrings) of the candidates after them, so a pack names more of the
    # places that may matter instead of stopping at the first long one. Room left at the
    # end is given back: trimmed blocks grow whole again, best first, while they fit.
    whole_share: float = 0.75


@dataclass
class ContextPack:
    text: str
    format: str
    tokens: int
    budget: int
    rev: str
    considered: int
    blocks: list[Block]
    dropped: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    encoding: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    embedded: float = 1.0  # share of the snapshot's chunks with a code vector

    def to_dict(self) -> dict:
        return {"text": self.text, "format": self.format, "tokens": self.tokens,
                "budget": self.budget, "encoding": self.encoding, "rev": self.rev,
                "embedded": round(self.embedded, 4),
                "considered": self.considered,
                "blocks": [{k: v for k, v in block_dict(b, self.rev).items() if k != "text"}
                           | {"tokens": count_tokens(render_block(b, self.rev, self.format))}
                           for b in self.blocks],
                "dropped": self.dropped, "notes": self.notes}


class ContextPacker:
    def __init__(self, searcher: SemanticSearcher) -> None:
        self.searcher = searcher
        self.table = searcher.table
        manifest = searcher.snapshot.manifest
        self._entry = {path: i for i, path in enumerate(manifest.paths)}
        self._sources: dict[str, str] = {}
        self.embedded = 1.0  # set by recalled_blocks from the ask it runs

    @property
    def rev(self) -> str:
        snapshot = self.searcher.snapshot
        # the working tree is not its HEAD commit: anchors say "worktree" (rendered bare)
        return snapshot.name if snapshot.name == WORKTREE else (snapshot.commit or snapshot.name)

    def source(self, path: str) -> str:
        if path not in self._sources:
            i = self._entry.get(path)
            if i is None:
                raise ContextError(f"{path} is not in the index of {self.searcher.snapshot.rev} "
                                   "(not tracked, ignored, binary or too large)")
            m = self.searcher.snapshot.manifest
            data = self.searcher.ws.store.packs.read(m.packs[i], m.offsets[i], m.lengths[i])
            self._sources[path] = data.decode("utf-8", "replace")
        return self._sources[path]

    def _chunk_block(self, row: int, reasons: list[str], priority: int, score: float) -> Block:
        t = self.table
        start, end = (int(x) for x in t.lines[row])
        return Block(t.paths[row], start, end, slice_lines(self.source(t.paths[row]), start, end),
                     t.languages[row], t.names[row], reasons, score, priority,
                     t.content_hashes[row])

    def _row_at(self, path: str, line: int) -> int | None:
        for row in self.table.by_path.get(path, []):
            start, end = self.table.lines[row]
            if start <= line <= end:
                return row
        return None

    # --- the editor's state ---
    def editor_blocks(self, request: ContextRequest) -> list[Block]:
        blocks: list[Block] = []
        focus_text = ""
        if request.selection is not None:
            path, first, last = request.selection
            source = self.source(path)
            count = source.count("\n") + (0 if source.endswith("\n") else 1)
            if not (1 <= first <= last <= max(count, 1)):
                raise ContextError(f"selection {path}:{first}-{last} is outside the file "
                                   f"({count} lines)")
            text = slice_lines(source, first, last)
            language = next((self.table.languages[r] for r in self.table.by_path.get(path, [])),
                            "")
            blocks.append(Block(path, first, last, text, language, "", ["selection"], 1.0, 0))
            focus_text = text
        elif request.file is not None and request.line is not None:
            row = self._row_at(request.file, request.line)
            if row is None:
                self.source(request.file)  # a clear error when the file is not indexed
            else:
                blocks.append(self._chunk_block(row, [f"cursor at line {request.line}"], 0, 1.0))
                focus_text = blocks[-1].text
        if focus_text:
            blocks += self.definition_blocks(focus_text, blocks)
        return blocks

    def definition_blocks(self, text: str, taken: list[Block]) -> list[Block]:
        """Definitions of the symbols a piece of code refers to, in order of first use."""
        from indexer.symbols import SCORE_EXACT

        out: list[Block] = []
        rows_taken = {(b.path, b.start_line) for b in taken}
        for name in dict.fromkeys(_IDENT.findall(text)):
            if name in _COMMON:
                continue
            for score, symbol in self.searcher.symbols.search(name, limit=3):
                if score < SCORE_EXACT or symbol.record.name != name:
                    continue
                row = self._row_at(symbol.path, symbol.record.name_line)
                if row is None:
                    continue
                block = self._chunk_block(row, [f"definition of {name}"], 0, 0.9)
                if (block.path, block.start_line) not in rows_taken:
                    rows_taken.add((block.path, block.start_line))
                    out.append(block)
                break
            if len(out) >= MAX_DEFINITIONS:
                break
        return out

    # --- retrieval ---
    def recalled_blocks(self, request: ContextRequest) -> tuple[list[Block], list[RankedChunk],
                                                                 list[str]]:
        response = self.searcher.ask(AskRequest(
            request.task, globs=request.globs, languages=request.languages,
            k=request.pool, pool=request.pool, rerank=request.rerank))
        self.embedded = response.embedded
        open_files = set(request.open_files)
        blocks = []
        for rank, hit in enumerate(response.results, start=1):
            reasons = [f"#{rank}: {', '.join(_signal_words(hit))}"]
            score = hit.score
            if hit.path in open_files:
                reasons.append("open in the editor")
                score += 0.05  # a nudge: what the user has open is likely relevant
            if _VENDORED.search(hit.path):
                score -= 0.05  # of twins, keep the project's own copy

            blocks.append(self._chunk_block(hit.row, reasons, 1, score))
        order = sorted(range(len(blocks)), key=lambda i: (-blocks[i].score, i))
        return [blocks[i] for i in order], [response.results[i] for i in order], response.notes

    def diversify(self, blocks: list[Block], hits: list[RankedChunk], lam: float
                  ) -> list[Block]:
        """Maximal marginal relevance over the code vectors (light: λ close to 1)."""
        if len(blocks) <= 1:
            return blocks
        rows = np.asarray([h.row for h in hits], dtype=np.int64)
        dense = self.searcher.dense("dense")
        position = np.searchsorted(dense.rows, rows)
        vectors = np.zeros((len(rows), dense.matrix.shape[1] if len(dense.rows) else 1),
                           dtype=np.float32)
        for i, (row, pos) in enumerate(zip(rows, position, strict=True)):
            if pos < len(dense.rows) and dense.rows[pos] == row:
                vectors[i] = dense.matrix[pos]
        similarity = vectors @ vectors.T
        scores = np.asarray([b.score for b in blocks])
        # relevance spread over the head only: over all 200 candidates the top few would
        # look equally relevant and novelty alone would order them
        head = np.sort(scores)[::-1][:RELEVANT_DEPTH]
        floor = float(head.min())
        relevance = (scores - floor) / (float(head.max() - floor) or 1.0)
        chosen: list[int] = []
        # MMR picks the head; below it the rank order stands (it is what fills big budgets)
        left = list(range(min(len(blocks), RELEVANT_DEPTH)))
        while left:
            if chosen:
                redundancy = similarity[np.ix_(left, chosen)].max(axis=1)
            else:
                redundancy = np.zeros(len(left))
            mmr = lam * relevance[left] - (1 - lam) * redundancy
            best = int(np.argmax(mmr))  # first maximum: ties keep rank order
            chosen.append(left.pop(best))
        return [blocks[i] for i in chosen] + blocks[RELEVANT_DEPTH:]

    # --- assembly ---
    def pack(self, request: ContextRequest) -> ContextPack:
        started = time.perf_counter()
        if request.format not in FORMATS:
            raise ContextError(f"unknown format {request.format!r}; use {', '.join(FORMATS)}")
        task = " ".join(request.task.split())
        if not task:
            raise ContextError("the task is empty: say what the context is for")
        if request.budget <= 0:
            raise ContextError("the token budget must be positive")
        rev = self.rev
        base = render(request.instructions, task, [], rev, request.format)
        base_tokens = count_tokens(base)
        if base_tokens > request.budget:
            raise ContextError(f"a budget of {request.budget} tokens is too small for the "
                               f"instructions and task alone ({base_tokens} tokens)")
        editor = self.editor_blocks(request)
        recalled, hits, notes = self.recalled_blocks(request)
        timings = {"recall": (time.perf_counter() - started) * 1000}
        dropped: list[dict] = []
        candidates = editor + recalled
        twins = near_duplicates(candidates)
        for i, j in sorted(twins.items()):
            b, keep = candidates[i], candidates[j]
            dropped.append(_drop(b, f"near-duplicate of {keep.path}:{keep.start_line}-"
                                    f"{keep.end_line}"))
        kept_recalled = [(b, h) for k, (b, h) in enumerate(zip(recalled, hits, strict=True))
                         if len(editor) + k not in twins]
        editor = [b for k, b in enumerate(editor) if k not in twins]
        ordered = editor + self.diversify([b for b, _ in kept_recalled],
                                          [h for _, h in kept_recalled], request.diversity)
        timings["select"] = (time.perf_counter() - started) * 1000 - timings["recall"]
        accepted, more_dropped = self._fill(ordered, request, task, base_tokens)
        dropped += more_dropped
        text = render(request.instructions, task, accepted, rev, request.format)
        tokens = count_tokens(text)
        while tokens > request.budget and accepted:  # BPE merges across block edges
            gone = accepted.pop()
            dropped.append(_drop(gone, "over budget"))
            text = render(request.instructions, task, accepted, rev, request.format)
            tokens = count_tokens(text)
        timings["assemble"] = (time.perf_counter() - started) * 1000 - sum(timings.values())
        if not self.table.paths:
            notes.append("the index has no chunks: nothing to pack beyond the task")
        return ContextPack(text, request.format, tokens, request.budget, rev, len(candidates),
                           accepted, dropped, notes, encoding_name(), timings,
                           self.embedded)

    def _fill(self, ordered: list[Block], request: ContextRequest, task: str,
              base_tokens: int) -> tuple[list[Block], list[dict]]:
        """Add blocks while the pack fits; trim or drop the rest. Per-block token counts are
        summed (each block renders on its own), then checked against the whole text."""
        rev, fmt = self.rev, request.format
        sources = {b.path: self.source(b.path) for b in ordered}
        counted: dict[tuple, int] = {}

        def cost(blocks: list[Block]) -> int:
            total = base_tokens
            for b in blocks:
                key = (b.path, b.start_line, b.end_line, b.trimmed, tuple(b.reasons), b.symbol)
                if key not in counted:
                    counted[key] = count_tokens(render_block(b, rev, fmt))
                total += counted[key]
            return total

        accepted: list[Block] = []
        dropped: list[dict] = []
        file_tokens: dict[str, int] = {}
        file_cap = int(request.budget * request.max_file_share)
        whole_cap = base_tokens + int((request.budget - base_tokens) * request.whole_share)
        trimmed: list[tuple[Block, Block]] = []  # (as packed, whole)
        queue = list(ordered)
        deferred: list[Block] = []
        considered = 0
        while queue or deferred:
            if deferred and (not queue or considered >= RELEVANT_DEPTH):
                # the other relevant candidates had their turn: crowding is allowed now
                queue, deferred = deferred + queue, []
            block = queue.pop(0)
            considered += 1
            own = count_tokens(render_block(block, rev, fmt))
            if (block.priority > 0 and considered <= RELEVANT_DEPTH
                    and file_tokens.get(block.path, 0) + own > file_cap
                    and any(b.path != block.path for b in queue[:RELEVANT_DEPTH])):
                deferred.append(block)  # this file would crowd out the other relevant ones
                continue
            trial = merge_blocks(accepted + [block], sources)
            # the editor's own state may use the whole budget; retrieved blocks the whole share
            if cost(trial) <= (request.budget if block.priority == 0 else whole_cap):
                accepted = trial
                file_tokens[block.path] = file_tokens.get(block.path, 0) + own
                continue
            head = signature_and_docstring(block.text)
            if head is not None:
                short = Block(block.path, block.start_line,
                              block.start_line + head.count("\n") - 2, head, block.language,
                              block.symbol, block.reasons + ["trimmed to fit"], block.score,
                              block.priority, block.content_hash, True)
                trial = accepted + [short]
                # two heads can read the same (files opening with one license header)
                if not _overlaps(short, accepted) and _flat(head) not in \
                        {_flat(b.text) for b in accepted} and cost(trial) <= request.budget:
                    accepted = trial
                    trimmed.append((short, block))
                    continue
            dropped.append(_drop(block, "over budget"))
        for short, whole in trimmed:  # room left: whole again, best first, while it fits
            at = next((k for k, b in enumerate(accepted) if b.trimmed and b.path == short.path
                       and (b.start_line, b.end_line) == (short.start_line, short.end_line)),
                      None)
            if at is None or _overlaps(whole, accepted[:at] + accepted[at + 1:]):
                continue
            candidate = accepted[:at] + [whole] + accepted[at + 1:]  # in the signature's place
            if cost(candidate) <= request.budget:
                accepted = candidate
        return accepted, dropped


def _flat(text: str) -> str:
    return " ".join(text.split())


def _overlaps(block: Block, others: list[Block]) -> bool:
    return any(o.path == block.path and o.start_line <= block.end_line + 1
               and block.start_line <= o.end_line + 1 for o in others)


def _drop(block: Block, reason: str) -> dict:
    return {**path_fields(block.path), "start_line": block.start_line, "end_line": block.end_line,
            "symbol": block.symbol, "reason": reason}


def _signal_words(hit: RankedChunk) -> list[str]:
    """The two signals that ranked the chunk highest: a short why, tokens are the budget."""
    names = {"lexical": "bm25", "dense": "vector", "gloss": "gloss",
             "symbol": "symbol", "regex": "identifier"}
    ranked = sorted(hit.ranks.items(), key=lambda item: item[1])[:2]
    return [f"{names.get(s, s)} #{r}" for s, r in ranked] or ["re-ranked"]


def pack_context(searcher: SemanticSearcher, request: ContextRequest) -> ContextPack:
    return ContextPacker(searcher).pack(request)
