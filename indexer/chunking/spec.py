"""Language specifications: the per-language rules of the syntax-tree chunker, as data.

Each module in ``indexer/chunking/languages/`` holds one ``SPEC`` dict (no code). This module
validates those dicts into ``LanguageSpec`` objects, loads grammars lazily, and detects a file's
language from its name, shebang or content. Adding a language means adding one file there.

Spec keys (all optional except ``name``):

``grammar``       ``"module:function"`` returning the tree-sitter language pointer; without
                  it the language gets the fallback chunker.
``extensions``    suffixes, lower case, with the dot (``".py"``); ``filenames``: exact names.
``shebangs``      interpreter names (``"python3"``) recognised on a ``#!`` line.
``sniff``         regexes tried on the first 4 KiB of files whose name says nothing.
``claims``        ``{".h": regex}``: take a suffix owned by another language when the content
                  matches (C++ claims ``.h`` files that look like C++).
``comments``      comment node types; ``leading``: other node types (attributes, decorators)
                  that, like comments right above a definition, belong to it.
``wrappers``      node types that wrap one definition (``decorated_definition``,
                  ``export_statement``): the definition's chunk starts at the wrapper.
``transparent``   node types always opened up into their children (``object`` in JSON).
``atomic``        node types kept whole unless far over the size limit (fenced code blocks).
``glue``          node types that, like closing punctuation, stick to the unit before them
                  (``end_tag`` in HTML).
``docstring``     ``"leading_comment"`` (default) or ``"body_string"`` (Python).
``references``    whether to list referenced identifiers (default True).
``not_keywords``  grammar keywords that are also common identifiers (``print`` in Python).
``definitions``   ``{node_type: rule or [rules]}``; the first rule whose conditions hold wins.

Rule keys: ``kind``; ``nested_kind`` (kind used inside a class-like definition, e.g.
``"method"``); ``name`` (a path or list of alternative paths to the name node); ``params``,
``body`` (paths); ``receiver`` (path to a node whose first ``type_identifier`` is the
container, Go methods); ``kind_map`` (``{child type or keyword: kind}``); ``when``
(``{path: [allowed node types]}``); ``require`` (paths that must exist); ``name_in`` (allowed
names); ``symbol`` (default True); ``split`` (``"size"`` default, or ``"always"``: always
chunk the definition's members separately, like Markdown sections); ``strip`` (characters to
strip from the name, e.g. JSON quotes); ``descend`` (fields followed down from the name node,
``declarator`` in C); ``preamble`` (a tiny run of other lines right before the definition
joins its first chunk: ``<!DOCTYPE>`` before ``<html>``, text above a Markdown heading);
``max_depth`` (only definitions nested in fewer than this many others count: keeps the keys of
a huge lock file from all becoming symbols).

A path is ``/``-separated steps; a step is a field name or ``#type1|type2`` (first named child
of one of those types).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tree_sitter import Language, Parser, Query

CONTAINER_KINDS = frozenset(
    {
        "class",
        "struct",
        "interface",
        "trait",
        "impl",
        "enum",
        "object",
        "record",
        "extension",
        "protocol",
        "module",
        "namespace",
    }
)

_IDENT_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SpecError(ValueError):
    """A language spec that does not fit its grammar."""


@dataclass(frozen=True, slots=True)
class DefRule:
    kind: str
    nested_kind: str | None = None
    name: tuple[str, ...] = ("name",)
    params: str | None = None
    body: str | None = None
    receiver: str | None = None
    kind_map: tuple[tuple[str, str], ...] = ()
    when: tuple[tuple[str, frozenset[str]], ...] = ()
    require: tuple[str, ...] = ()
    name_in: frozenset[str] | None = None
    symbol: bool = True
    split: str = "size"
    strip: str = ""
    descend: tuple[str, ...] = ()
    preamble: bool = False
    max_depth: int | None = None


_RULE_KEYS = set(DefRule.__slots__)


def _rule(data: dict[str, Any], where: str) -> DefRule:
    unknown = set(data) - _RULE_KEYS
    if unknown:
        raise SpecError(f"{where}: unknown rule keys {sorted(unknown)}")
    if "kind" not in data:
        raise SpecError(f"{where}: a rule needs a kind")
    name = data.get("name", "name")
    split = data.get("split", "size")
    if split not in ("size", "always"):
        raise SpecError(f"{where}: split must be 'size' or 'always'")
    return DefRule(
        kind=data["kind"],
        nested_kind=data.get("nested_kind"),
        name=(name,) if isinstance(name, str) else tuple(name),
        params=data.get("params"),
        body=data.get("body"),
        receiver=data.get("receiver"),
        kind_map=tuple(data.get("kind_map", {}).items()),
        when=tuple((k, frozenset(v)) for k, v in data.get("when", {}).items()),
        require=tuple(data.get("require", ())),
        name_in=frozenset(data["name_in"]) if "name_in" in data else None,
        symbol=bool(data.get("symbol", True)),
        split=split,
        strip=data.get("strip", ""),
        descend=tuple(data.get("descend", ())),
        preamble=bool(data.get("preamble", False)),
        max_depth=data.get("max_depth"),
    )


@dataclass(slots=True)
class LanguageSpec:
    name: str
    grammar: str | None = None
    extensions: tuple[str, ...] = ()
    filenames: tuple[str, ...] = ()
    shebangs: tuple[str, ...] = ()
    sniff: tuple[re.Pattern[bytes], ...] = ()
    claims: tuple[tuple[str, re.Pattern[bytes]], ...] = ()
    comments: frozenset[str] = frozenset()
    leading: frozenset[str] = frozenset()
    wrappers: frozenset[str] = frozenset()
    transparent: frozenset[str] = frozenset()
    atomic: frozenset[str] = frozenset()
    glue: frozenset[str] = frozenset()
    docstring: str = "leading_comment"
    references: bool = True
    not_keywords: frozenset[str] = frozenset()
    definitions: dict[str, tuple[DefRule, ...]] = field(default_factory=dict)
    _runtime: Runtime | None = None

    @property
    def has_grammar(self) -> bool:
        return self.grammar is not None

    @property
    def max_depth_rules(self) -> bool:
        return any(r.max_depth is not None for rules in self.definitions.values() for r in rules)

    def runtime(self) -> Runtime:
        """Grammar, query and keyword set, built on first use (validates the spec)."""
        if self._runtime is None:
            self._runtime = Runtime(self)
        return self._runtime


_SPEC_KEYS = {
    "name",
    "grammar",
    "extensions",
    "filenames",
    "shebangs",
    "sniff",
    "claims",
    "comments",
    "leading",
    "wrappers",
    "transparent",
    "atomic",
    "glue",
    "docstring",
    "references",
    "not_keywords",
    "definitions",
}


def spec_from_dict(data: dict[str, Any]) -> LanguageSpec:
    where = data.get("name", "<unnamed>")
    unknown = set(data) - _SPEC_KEYS
    if unknown:
        raise SpecError(f"{where}: unknown spec keys {sorted(unknown)}")
    if "name" not in data:
        raise SpecError("a language spec needs a name")
    docstring = data.get("docstring", "leading_comment")
    if docstring not in ("leading_comment", "body_string"):
        raise SpecError(f"{where}: docstring must be 'leading_comment' or 'body_string'")
    definitions: dict[str, tuple[DefRule, ...]] = {}
    for node_type, rules in data.get("definitions", {}).items():
        rules = [rules] if isinstance(rules, dict) else rules
        definitions[node_type] = tuple(_rule(r, f"{where}.{node_type}") for r in rules)
    return LanguageSpec(
        name=data["name"],
        grammar=data.get("grammar"),
        extensions=tuple(e.lower() for e in data.get("extensions", ())),
        filenames=tuple(data.get("filenames", ())),
        shebangs=tuple(data.get("shebangs", ())),
        sniff=tuple(re.compile(p.encode(), re.M) for p in data.get("sniff", ())),
        claims=tuple((k.lower(), re.compile(v.encode(), re.M)) for k, v in
                     data.get("claims", {}).items()),
        comments=frozenset(data.get("comments", ())),
        leading=frozenset(data.get("leading", ())),
        wrappers=frozenset(data.get("wrappers", ())),
        transparent=frozenset(data.get("transparent", ())),
        atomic=frozenset(data.get("atomic", ())),
        glue=frozenset(data.get("glue", ())),
        docstring=docstring,
        references=bool(data.get("references", True)),
        not_keywords=frozenset(data.get("not_keywords", ())),
        definitions=definitions,
    )


class Runtime:
    """The loaded grammar of a spec: language, definitions query, keywords, parsers."""

    def __init__(self, spec: LanguageSpec) -> None:
        if spec.grammar is None:
            raise SpecError(f"{spec.name}: no grammar")
        module_name, _, func = spec.grammar.partition(":")
        module = importlib.import_module(module_name)
        self.language = Language(getattr(module, func or "language")())
        lang = self.language
        named_types = set(spec.definitions) | spec.wrappers | spec.comments | spec.leading
        named_types |= spec.transparent | spec.atomic | spec.glue
        missing = sorted(t for t in named_types if lang.id_for_node_kind(t, True) is None)
        if missing:
            raise SpecError(f"{spec.name}: node types not in the grammar: {missing}")
        self.query: Query | None = None
        if spec.definitions:
            alternatives = " ".join(f"({t})" for t in spec.definitions)
            self.query = Query(lang, f"[{alternatives}] @def")
        keywords = set()
        for i in range(lang.node_kind_count):
            if not lang.node_kind_is_named(i) and lang.node_kind_is_visible(i):
                word = lang.node_kind_for_id(i)
                if word and _IDENT_WORD.match(word):
                    keywords.add(word)
        self.keywords = frozenset(keywords - spec.not_keywords)
        self._local = threading.local()

    def parser(self) -> Parser:
        parser = getattr(self._local, "parser", None)
        if parser is None:
            parser = self._local.parser = Parser(self.language)
        return parser


# -- registry ---------------------------------------------------------------------------------


class Registry:
    def __init__(self, specs: list[LanguageSpec]) -> None:
        self.specs = {s.name: s for s in specs}
        self.by_ext: dict[str, LanguageSpec] = {}
        self.by_filename: dict[str, LanguageSpec] = {}
        self.by_shebang: dict[str, LanguageSpec] = {}
        self.claims: dict[str, list[tuple[re.Pattern[bytes], LanguageSpec]]] = {}
        for s in specs:
            for ext in s.extensions:
                if ext in self.by_ext:
                    raise SpecError(f"{ext} claimed by {self.by_ext[ext].name} and {s.name}")
                self.by_ext[ext] = s
            for fn in s.filenames:
                self.by_filename[fn] = s
            for sb in s.shebangs:
                self.by_shebang[sb] = s
            for ext, pattern in s.claims:
                self.claims.setdefault(ext, []).append((pattern, s))


@cache
def registry() -> Registry:
    from . import languages

    specs = []
    for info in sorted(pkgutil.iter_modules(languages.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{languages.__name__}.{info.name}")
        specs.append(spec_from_dict(module.SPEC))
    return Registry(specs)


def get_spec(name: str) -> LanguageSpec | None:
    return registry().specs.get(name)


def language_names() -> list[str]:
    return sorted(registry().specs)


# -- detection --------------------------------------------------------------------------------

_SHEBANG = re.compile(rb"^#!\s*(\S+)(?:[ \t]+(.*))?")
_VERSION_TAIL = re.compile(r"[\d.]+$")


def _shebang_interpreter(data: bytes) -> str | None:
    m = _SHEBANG.match(data[:256])
    if not m:
        return None
    prog = m.group(1).decode("utf-8", "replace").rsplit("/", 1)[-1]
    if prog == "env":
        args = (m.group(2) or b"").decode("utf-8", "replace").split()
        args = [a for a in args if not a.startswith("-") and "=" not in a]
        if not args:
            return None
        prog = args[0].rsplit("/", 1)[-1]
    return prog


def _split_name(path: str) -> tuple[str, str]:
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    dot = base.rfind(".")
    ext = base[dot:].lower() if dot > 0 else ""
    return base, ext


def detect_language(path: str, data: bytes = b"") -> str | None:
    """The spec name for a file, or None when nothing matches (plain text)."""
    reg = registry()
    base, ext = _split_name(path)
    spec = reg.by_filename.get(base)
    if spec is not None:
        return spec.name
    if ext:
        head = data[:4096]
        for pattern, claimant in reg.claims.get(ext, ()):
            if pattern.search(head):
                return claimant.name
        spec = reg.by_ext.get(ext)
        if spec is not None:
            return spec.name
    interpreter = _shebang_interpreter(data)
    if interpreter:
        spec = reg.by_shebang.get(interpreter) or reg.by_shebang.get(
            _VERSION_TAIL.sub("", interpreter)
        )
        if spec is not None:
            return spec.name
    head = data[:4096]
    for s in reg.specs.values():
        if any(p.search(head) for p in s.sniff):
            return s.name
    return None
