"""The syntax-tree chunker: one algorithm, driven by a ``LanguageSpec``.

1. Parse; find every definition with one tree-sitter query (C speed, any depth) and resolve its
   rule: kind, name, container, body.
2. Cut the file top-down into *regions*. A region is a list of sibling nodes grouped into
   line-units (nodes sharing a line stay together). Units holding a definition become a chunk
   of their own, or, when too large (or the rule says ``split: always``), a new region made of
   the definition's children with its body opened up. Other units are packed greedily into
   windows, so a large class yields a header chunk (signature, docstring, fields) plus member
   chunks, and a large function yields consecutive statement windows. Tiny sibling
   definitions merge.
3. Normalise the segments so that every non-blank line lies in exactly one chunk, whatever
   the tree looked like (ERROR nodes included).

All traversal is iterative: deep nesting cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node, QueryCursor

from .fallback import window_lines
from .lines import LineIndex
from .model import Chunk, Symbol, content_hash, lsp_symbol_kind
from .spec import CONTAINER_KINDS, DefRule, LanguageSpec

MAX_NAME = 200
MAX_SIGNATURE = 300
MAX_PARAMS = 200
MAX_DOCSTRING = 1200
MAX_REFERENCES = 64
MAX_CONTEXT = 800
MAX_DEFS = 50_000
MAX_BREADCRUMB = 32
MAX_CONTEXT_LEVELS = 8
ATOMIC_FACTOR = 4

_WS_RUN = re.compile(r"\s+")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]+")
_COMMENT_MARK = re.compile(r"^\s*(?:///?|//!|/\*\*?|\*/|\*(?!\*)|#+|--|;+|<!--|-->)?\s?")
_BLOCK_END = re.compile(r"\s*(?:\*/|-->)\s*$")
_STRING_QUOTES = re.compile(r"""^[rRbBuUfF]{0,2}("{3}|'{3}|"|')(.*)\1$""", re.S)


# -- definitions ------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Def:
    node: Node
    outer: Node
    rule: DefRule
    kind: str
    name: str
    name_node: Node
    receiver: str
    body: Node | None
    start_line: int
    end_line: int
    parent: Def | None = None
    breadcrumb: tuple[str, ...] = ()
    qualified_name: str = ""


def _text(data: bytes, node: Node) -> str:
    return data[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _collapse(text: str, limit: int) -> str:
    if "\n" in text or "\t" in text or "  " in text or "\r" in text:
        text = _WS_RUN.sub(" ", text)
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _resolve(node: Node, path: str) -> Node | None:
    cur: Node | None = node
    for step in path.split("/"):
        if cur is None:
            return None
        if step.startswith("#"):
            types = step[1:].split("|")
            cur = next((c for c in cur.named_children if c.type in types), None)
        else:
            cur = cur.child_by_field_name(step)
    return cur


def _first_of_type(node: Node, type_name: str) -> Node | None:
    stack = [node]
    seen = 0
    while stack and seen < 200:
        n = stack.pop()
        seen += 1
        if n.type == type_name:
            return n
        stack.extend(reversed(n.named_children))
    return None


def _conditions_hold(node: Node, rule: DefRule) -> bool:
    for path, allowed in rule.when:
        target = _resolve(node, path)
        if target is None or target.type not in allowed:
            return False
    return all(_resolve(node, path) is not None for path in rule.require)


def _name_of(node: Node, rule: DefRule, data: bytes) -> tuple[Node | None, str, str]:
    """(name node, name, scope) for a definition node under ``rule``."""
    name_node = None
    for path in rule.name:
        name_node = _resolve(node, path)
        if name_node is not None:
            break
    if name_node is None:
        return None, "", ""
    for _ in range(32):
        nxt = None
        for step in rule.descend:
            nxt = _resolve(name_node, step)
            if nxt is not None:
                break
        if nxt is None:
            break
        name_node = nxt
    scope = ""
    scope_node = name_node.child_by_field_name("scope")
    inner = name_node.child_by_field_name("name")
    if scope_node is not None and inner is not None:
        scope = _text(data, scope_node).split("::")[-1].strip()
        scope = re.sub(r"<.*", "", scope)
        name_node = inner
    name = _collapse(_text(data, name_node), MAX_NAME)
    if rule.strip:
        name = name.strip(rule.strip)
    return name_node, name, scope


def _kind_of(node: Node, rule: DefRule) -> str:
    if rule.kind_map:
        mapping = dict(rule.kind_map)
        for child in node.children:
            kind = mapping.get(child.type)
            if kind is not None:
                return kind
    return rule.kind


def _same_type_count(parent: Node, type_name: str) -> int:
    return sum(1 for c in parent.named_children if c.type == type_name)


def _nesting_depths(nodes: list[Node]) -> list[int]:
    """For nodes sorted by (start, -end): how many of the others enclose each one."""
    depths = []
    ends: list[int] = []
    for n in nodes:
        sb = n.start_byte
        while ends and ends[-1] <= sb:
            ends.pop()
        depths.append(len(ends))
        ends.append(n.end_byte)
    return depths


def collect_defs(spec: LanguageSpec, root: Node, data: bytes, li: LineIndex) -> list[Def]:
    """Every definition in the tree, parents before children, with breadcrumbs resolved."""
    rt = spec.runtime()
    if rt.query is None:
        return []
    nodes = QueryCursor(rt.query).captures(root).get("def", [])
    nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))
    depths = _nesting_depths(nodes) if spec.max_depth_rules else None
    defs: list[Def] = []
    for k, node in enumerate(nodes[:MAX_DEFS]):
        for rule in spec.definitions.get(node.type, ()):
            if rule.max_depth is not None and depths is not None and depths[k] >= rule.max_depth:
                continue
            if not _conditions_hold(node, rule):
                continue
            name_node, name, scope = _name_of(node, rule, data)
            if name_node is None or not name:
                continue
            if rule.name_in is not None and name not in rule.name_in:
                continue
            receiver = scope
            if rule.receiver:
                rnode = _resolve(node, rule.receiver)
                tnode = _first_of_type(rnode, "type_identifier") if rnode is not None else None
                if tnode is not None:
                    receiver = _text(data, tnode)
            outer = node
            while True:
                parent = outer.parent
                if (
                    parent is None
                    or parent.type not in spec.wrappers
                    or _same_type_count(parent, outer.type) != 1
                ):
                    break
                outer = parent
            end_line = li.end_line_of(outer.start_byte, outer.end_byte)
            if end_line == 0:
                break
            defs.append(
                Def(
                    node=node,
                    outer=outer,
                    rule=rule,
                    kind=_kind_of(node, rule),
                    name=name,
                    name_node=name_node,
                    receiver=receiver,
                    body=_resolve(node, rule.body) if rule.body else None,
                    start_line=outer.start_point[0] + 1,
                    end_line=end_line,
                )
            )
            break
    defs.sort(key=lambda d: (d.outer.start_byte, -d.outer.end_byte))
    stack: list[Def] = []
    for d in defs:
        sb, eb = d.outer.start_byte, d.outer.end_byte
        while stack and not (stack[-1].outer.start_byte <= sb and eb <= stack[-1].outer.end_byte):
            stack.pop()
        parent = stack[-1] if stack else None
        d.parent = parent
        crumbs = (*parent.breadcrumb, parent.name) if parent is not None else ()
        if d.receiver:
            crumbs = (*crumbs, d.receiver)
        if len(crumbs) > MAX_BREADCRUMB:  # absurd nesting: keep the innermost names
            crumbs = ("…", *crumbs[-MAX_BREADCRUMB + 1 :])
        d.breadcrumb = crumbs
        if d.rule.nested_kind and (
            d.receiver or (parent is not None and parent.kind in CONTAINER_KINDS
                           and parent.kind not in ("module", "namespace"))
        ):
            d.kind = d.rule.nested_kind
        d.qualified_name = ".".join((*crumbs, d.name))
        stack.append(d)
    return defs


def symbols_from_defs(defs: list[Def], path: str, language: str, data: bytes,
                      li: LineIndex) -> list[Symbol]:
    out = []
    for d in defs:
        if not d.rule.symbol:
            continue
        nn = d.name_node
        out.append(
            Symbol(
                name=d.name,
                kind=lsp_symbol_kind(d.kind),
                definition_kind=d.kind,
                container_name=".".join(d.breadcrumb),
                qualified_name=d.qualified_name,
                path=path,
                language=language,
                name_start_line=nn.start_point[0] + 1,
                name_start_column=nn.start_point[1],
                name_end_line=nn.end_point[0] + 1,
                name_end_column=nn.end_point[1],
                name_start_byte=nn.start_byte,
                name_end_byte=nn.end_byte,
                start_line=d.start_line,
                end_line=d.end_line,
                start_byte=d.outer.start_byte,
                end_byte=d.outer.end_byte,
                signature=_signature(d, data),
            )
        )
    return out


def _signature(d: Def, data: bytes) -> str:
    node = d.node
    start = d.outer.start_byte
    body = d.body
    if body is not None and body.start_byte > start:
        end = body.start_byte
    else:
        nl = data.find(b"\n", start, node.end_byte)
        end = node.end_byte if nl < 0 else nl
    text = data[start:end].decode("utf-8", "replace")
    text = _collapse(text, MAX_SIGNATURE).rstrip("{:=").rstrip()
    return text


def _params(d: Def, data: bytes) -> str:
    if not d.rule.params:
        return ""
    node = _resolve(d.node, d.rule.params)
    if node is None:
        return ""
    return _collapse(_text(data, node), MAX_PARAMS)


def _clean_comment(lines: list[str]) -> str:
    out = []
    for line in lines:
        line = _BLOCK_END.sub("", line)
        out.append(_COMMENT_MARK.sub("", line, count=1).rstrip())
    return "\n".join(out).strip()


def _docstring(spec: LanguageSpec, d: Def, data: bytes) -> str:
    if spec.docstring == "body_string" and d.body is not None:
        doc = _body_string(d.body, data)
        if doc:
            return doc
    comments: list[str] = []
    node = d.outer.prev_sibling
    next_line = d.start_line
    while node is not None and len(comments) < 50:
        if node.type in spec.comments:
            end_line = node.end_point[0] + 1 - (1 if node.end_point[1] == 0 else 0)
            if end_line + 1 < next_line:
                break
            comments.append(_text(data, node))
        elif node.type not in spec.leading:
            break
        next_line = node.start_point[0] + 1
        node = node.prev_sibling
    if not comments:
        return ""
    text = _clean_comment("\n".join(reversed(comments)).splitlines())
    return text[:MAX_DOCSTRING]


def _body_string(body: Node, data: bytes) -> str:
    first = body.named_child(0) if body.named_child_count else None
    if first is None or first.type != "expression_statement" or not first.named_child_count:
        return ""
    string = first.named_child(0)
    if string is None or string.type != "string":
        return ""
    raw = _text(data, string).strip()
    m = _STRING_QUOTES.match(raw)
    text = m.group(2) if m else raw
    lines = text.splitlines()
    if not lines:
        return ""
    rest = [ln for ln in lines[1:] if ln.strip()]
    indent = min((len(ln) - len(ln.lstrip()) for ln in rest), default=0)
    cleaned = [lines[0].strip()] + [ln[indent:].rstrip() for ln in lines[1:]]
    return "\n".join(cleaned).strip()[:MAX_DOCSTRING]


# -- regions and segments ---------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Unit:
    s: int
    e: int
    nodes: list[Node]
    defs: list[Def] = field(default_factory=list)
    anonymous: bool = True
    leading_only: bool = True


@dataclass(slots=True, eq=False)
class Segment:
    s: int
    e: int
    region: Def | None
    defs: list[Def] = field(default_factory=list)
    nodes: list[Node] | None = None  # the nodes of a pack (for absorption into a region)


_BARRIER = Segment(0, 0, None)


def _is_header(seg: Segment) -> bool:
    return not seg.defs and seg.region is not None and seg.s <= seg.region.start_line


class _Chunker:
    def __init__(self, spec: LanguageSpec, data: bytes, li: LineIndex, defs: list[Def],
                 min_tokens: int, max_tokens: int) -> None:
        self.spec = spec
        self.data = data
        self.li = li
        self.defs = defs
        self.by_outer = {d.outer.id: d for d in defs}
        self.min_tokens = min_tokens
        self.max_tokens = max_tokens
        self.segments: list[Segment] = []
        self.split_defs: set[int] = set()

    # units ----------------------------------------------------------------------------------
    def _units(self, nodes: list[Node]) -> list[Unit]:
        spec, li, by_outer = self.spec, self.li, self.by_outer
        limit = self.max_tokens
        leading_types = spec.comments | spec.leading
        glue_types = spec.glue
        flat: list[tuple[int, int, Node]] = []
        work = list(reversed(nodes))
        while work:
            n = work.pop()
            sb, eb = n.start_byte, n.end_byte
            if eb <= sb:
                continue
            s = n.start_point[0] + 1
            e = li.end_line_of(sb, eb)
            if e == 0:
                continue
            if s < e and n.id not in by_outer and n.child_count:
                if n.type in spec.transparent:
                    work.extend(reversed(n.children))
                    continue
                size = li.tokens(s, e)
                if size > limit and (n.type not in spec.atomic or size > limit * ATOMIC_FACTOR):
                    work.extend(reversed(n.children))
                    continue
            flat.append((s, e, n))
        units: list[Unit] = []
        for s, e, n in flat:
            if units and s <= units[-1].e:
                u = units[-1]
                u.e = max(u.e, e)
                u.nodes.append(n)
            else:
                u = Unit(s, e, [n])
                units.append(u)
            d = by_outer.get(n.id)
            if d is not None:
                u.defs.append(d)
            if n.type in glue_types:
                pass
            elif n.is_named and (n.type not in spec.comments or len(u.nodes) == 1):
                u.anonymous = False
            if n.type not in leading_types:
                u.leading_only = False
        # Punctuation-only units (closing braces, `end`) stick to the previous unit.
        glued: list[Unit] = []
        for u in units:
            if u.anonymous and glued:
                prev = glued[-1]
                prev.e = max(prev.e, u.e)
                prev.nodes.extend(u.nodes)
            else:
                glued.append(u)
        if len(glued) > 1 and glued[0].anonymous and not glued[0].defs:
            first = glued.pop(0)
            glued[0].s = first.s
            glued[0].nodes[:0] = first.nodes
        # Comments and attributes right above a definition belong to it.
        out: list[Unit] = []
        for u in glued:
            if u.defs:
                while out and out[-1].leading_only and not out[-1].defs and out[-1].e + 1 >= u.s:
                    lead = out.pop()
                    u.s = lead.s
                    u.nodes[:0] = lead.nodes
            out.append(u)
        return out

    # regions --------------------------------------------------------------------------------
    def run(self, root: Node) -> list[Segment]:
        work: list[tuple[list[Node], Def | None]] = [(root.children, None)]
        while work:
            nodes, region = work.pop()
            self._region(nodes, region, work)
        return self.segments

    def _def_children(self, d: Def, lead: list[Node]) -> list[Node]:
        opened = {d.node.id}
        n = d.node
        while n.id != d.outer.id and n.parent is not None:
            n = n.parent
            opened.add(n.id)
        if d.body is not None:
            opened.add(d.body.id)
        out = list(lead)
        stack = [d.outer]
        while stack:
            n = stack.pop()
            if n.id in opened:
                stack.extend(reversed(n.children))
            else:
                out.append(n)
        return out

    def _region(self, nodes: list[Node], region: Def | None,
                work: list[tuple[list[Node], Def | None]]) -> None:
        li, limit = self.li, self.max_tokens
        atomic = self.spec.atomic
        items: list[Segment] = []
        pack: Segment | None = None
        for u in self._units(nodes):
            if u.defs:
                if pack is not None:
                    items.append(pack)
                    pack = None
                d = u.defs[0]
                if d is region:  # cannot happen; guards against a loop
                    u.defs = []
                else:
                    size = li.tokens(u.s, u.e)
                    wants_split = size > limit or d.rule.split == "always"
                    if wants_split and d.end_line > d.start_line and len(u.defs) == 1:
                        at = next(i for i, n in enumerate(u.nodes) if n.id == d.outer.id)
                        lead = u.nodes[:at]
                        if (
                            d.rule.preamble
                            and items
                            and items[-1].nodes is not None
                            and li.tokens(items[-1].s, items[-1].e) < self.min_tokens
                        ):
                            # A tiny preamble (<!DOCTYPE>, text above the first heading)
                            # becomes part of the section that follows it.
                            lead = items.pop().nodes + lead
                        self.split_defs.add(id(d))
                        items.append(_BARRIER)
                        # Nodes glued after the definition (a closing brace of the enclosing
                        # block, a trailing comment) are not passed down: their lines end up
                        # in the last chunk of the definition when segments are normalised.
                        work.append((self._def_children(d, lead), d))
                        continue
                    if size > limit:
                        items.extend(Segment(s, e, d) for s, e in
                                     window_lines(li, u.s, u.e, limit))
                        continue
                    items.append(Segment(u.s, u.e, region, list(u.defs)))
                    continue
            size = li.tokens(u.s, u.e)
            if size > limit:
                if pack is not None:
                    items.append(pack)
                    pack = None
                if size <= limit * ATOMIC_FACTOR and any(n.type in atomic for n in u.nodes):
                    items.append(Segment(u.s, u.e, region, nodes=list(u.nodes)))
                else:
                    items.extend(Segment(s, e, region) for s, e in
                                 window_lines(li, u.s, u.e, limit))
                continue
            if pack is not None and li.tokens(pack.s, u.e) <= limit:
                pack.e = u.e
                pack.nodes.extend(u.nodes)
            else:
                if pack is not None:
                    items.append(pack)
                pack = Segment(u.s, u.e, region, nodes=list(u.nodes))
        if pack is not None:
            items.append(pack)
        if (
            region is not None
            and region.rule.split == "always"
            and len(items) > 1
            and not items[0].defs
            and items[1] is not _BARRIER
            and items[0].s <= region.start_line
            and li.tokens(items[0].s, items[0].e) < self.min_tokens
            and li.tokens(items[0].s, items[1].e) <= limit
        ):
            # A tiny header (``namespace X {``, a lone heading) joins the first member.
            items[1].s = items[0].s
            if items[1].nodes is not None:
                items[1].nodes[:0] = items[0].nodes
            del items[0]
        self._merge_tiny(items)

    def _merge_tiny(self, items: list[Segment]) -> None:
        li, lo, hi = self.li, self.min_tokens, self.max_tokens
        merged: list[Segment] = []
        for seg in items:
            if seg is _BARRIER:
                merged.append(seg)
                continue
            if merged and merged[-1] is not _BARRIER:
                prev = merged[-1]
                if (
                    (bool(prev.defs) == bool(seg.defs) or (
                        # Inside a definition, a tiny run of fields and a tiny member merge;
                        # the definition's header and module-level code keep their own chunk.
                        prev.region is not None
                        and not _is_header(prev)
                        and not _is_header(seg)
                    ))
                    and li.tokens(prev.s, prev.e) < lo
                    and li.tokens(seg.s, seg.e) < lo
                    and li.tokens(prev.s, seg.e) <= hi
                ):
                    prev.e = max(prev.e, seg.e)
                    prev.defs.extend(seg.defs)
                    if prev.nodes is not None and seg.nodes is not None:
                        prev.nodes.extend(seg.nodes)
                    else:
                        prev.nodes = None
                    continue
            merged.append(seg)
        self.segments.extend(s for s in merged if s is not _BARRIER)


# -- normalisation ----------------------------------------------------------------------------


def normalize(segments: list[Segment], li: LineIndex) -> list[Segment]:
    """Make segments a partition of the non-blank lines: no overlap, no gap, no blank edges."""
    segments = sorted(segments, key=lambda s: (s.s, -s.e))
    out: list[Segment] = []
    for seg in segments:
        if out and seg.s <= out[-1].e:
            seg.s = out[-1].e + 1
            if seg.s > seg.e:
                continue
        s = li.first_nonblank(seg.s, seg.e)
        if not s:
            continue
        seg.s, seg.e = s, li.last_nonblank(seg.s, seg.e)
        out.append(seg)
    # Close gaps: a non-blank line outside every segment joins the previous segment.
    filled: list[Segment] = []
    prev_end = 0
    for seg in out:
        gap = li.first_nonblank(prev_end + 1, seg.s - 1)
        if gap:
            if filled:
                filled[-1].e = li.last_nonblank(prev_end + 1, seg.s - 1)
            else:
                seg.s = gap
        filled.append(seg)
        prev_end = seg.e
    tail = li.last_nonblank(prev_end + 1, li.count)
    if tail:
        if filled:
            filled[-1].e = tail
        else:
            first = li.first_nonblank(1, li.count)
            filled.append(Segment(first, tail, None))
    return filled


# -- chunks -----------------------------------------------------------------------------------


@dataclass(slots=True)
class ChunkOptions:
    path: str
    language: str
    min_tokens: int
    max_tokens: int
    max_chunk_bytes: int


def build_chunks(spec: LanguageSpec | None, segments: list[Segment], defs: list[Def],
                 data: bytes, li: LineIndex, opts: ChunkOptions, root: Node | None = None,
                 split_defs: set[int] | None = None) -> list[Chunk]:
    from bisect import bisect_left, bisect_right

    name_lines = [(d.name_node.start_point[0] + 1, d.name) for d in defs]
    name_lines.sort(key=lambda t: t[0])
    keys = [t[0] for t in name_lines]
    keywords = spec.runtime().keywords if spec is not None and spec.has_grammar else frozenset()
    want_refs = spec.references if spec is not None else True
    split_defs = split_defs or set()
    module_doc = ""
    module_doc_line = 0
    if spec is not None and root is not None and spec.docstring == "body_string":
        module_doc = _body_string(root, data)
        if module_doc:
            module_doc_line = root.named_child(0).start_point[0] + 1
    chunks: list[Chunk] = []
    for seg in segments:
        sb = li.line_start(seg.s)
        eb = li.line_end(seg.e)
        raw = data[sb:eb]
        truncated = len(raw) > opts.max_chunk_bytes
        text = (raw[: opts.max_chunk_bytes] if truncated else raw).decode("utf-8", "replace")
        lo, hi = bisect_left(keys, seg.s), bisect_right(keys, seg.e)
        defines = list(dict.fromkeys(n for _, n in name_lines[lo:hi]))
        primary: Def | None = None
        if seg.defs:
            primary = seg.defs[0]
        owner = primary or seg.region
        if owner is not None:
            kind, name = owner.kind, owner.name
            qualified, crumbs = owner.qualified_name, list(owner.breadcrumb)
            signature = _signature(owner, data)
            params = _params(owner, data)
            doc = ""
            if owner is primary or seg.s <= owner.start_line <= seg.e or (
                seg.s <= owner.name_node.start_point[0] + 1 <= seg.e
            ):
                doc = _docstring(spec, owner, data) if spec is not None else ""
            title_tail = name + params if params.startswith("(") else (
                f"{name}({params})" if params else name
            )
            title = " › ".join([opts.path, *crumbs, title_tail])
        else:
            kind = "module" if spec is not None and spec.has_grammar else "block"
            name = qualified = signature = ""
            crumbs = []
            doc = module_doc if module_doc_line and seg.s <= module_doc_line <= seg.e else ""
            title = opts.path
        context = _context(owner, primary, seg, data, li, split_defs)
        refs: list[str] = []
        if want_refs:
            refs = [w for w in dict.fromkeys(_IDENT.findall(text)) if w not in keywords]
            del refs[MAX_REFERENCES:]
        chunks.append(
            Chunk(
                path=opts.path,
                language=opts.language,
                kind=kind,
                name=name,
                qualified_name=qualified,
                signature=signature,
                docstring=doc,
                start_line=seg.s,
                end_line=seg.e,
                start_byte=sb,
                end_byte=eb,
                breadcrumb=crumbs,
                defines=defines,
                references=refs,
                content_hash=content_hash(raw, opts.language, kind),
                title=title,
                text=text,
                context=context,
                truncated=truncated,
            )
        )
    return chunks


def _context(owner: Def | None, primary: Def | None, seg: Segment, data: bytes,
             li: LineIndex, split_defs: set[int]) -> str:
    """Header lines of the enclosing split definitions that this chunk does not contain."""
    headers: list[str] = []
    d = owner if owner is not None and owner is not primary else (
        primary.parent if primary is not None else None
    )
    levels = 0
    while d is not None and levels < MAX_CONTEXT_LEVELS:
        levels += 1
        if id(d) in split_defs and d.start_line < seg.s:
            first = d.node.start_point[0] + 1
            last = first
            if d.body is not None and d.body.named_child_count:
                body_line = d.body.named_child(0).start_point[0] + 1
                last = max(first, body_line - 1)
            last = min(last, first + 4, seg.s - 1)
            if last >= first:
                raw = data[li.line_start(first) : li.line_end(last)]
                headers.append(raw.decode("utf-8", "replace").rstrip())
        d = d.parent
    text = "\n".join(reversed(headers))
    return text[:MAX_CONTEXT]
