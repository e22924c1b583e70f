"""The heuristic gloss: a plain-language line per chunk, with no model.

Built from what the chunker already extracted — kind, language, qualified name, parameters, the
docstring's first sentence, the members a container defines — plus the calls in the chunk's
text, every identifier split into words (``getHTTPResponse`` → "get http response"), so that a
natural-language query ("reserve inventory for an order") meets the words a human would use::

    Python method `Cart.add_item(sku, qty)`: Adds an item to the cart.
    Uses: validate sku, inventory reserve.

Deterministic and pure (no I/O): it runs at chunking time in worker processes, at gloss time
from stored records, or on the fly at query time. It reads only fields that a stored
`ChunkRecord` also has (plus the text cut from the blob and `defines`), never the path: a gloss
is cached by chunk content hash, and the same content can live at many paths.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Protocol

from indexer.code_tokens import split_identifier

HEURISTIC_VERSION = "heuristic-v1"

# Only the head of the text is scanned: cheap on huge chunks, and the same answer whether the
# text came from the chunker (capped at 12,000 bytes) or from the pack (uncapped).
TEXT_SCAN_CHARS = 3000
MAX_SENTENCE_CHARS = 220
MAX_PARAMS = 6
MAX_MEMBERS = 10
MAX_CALLEES = 8

LANGUAGE_NAMES = {
    "bash": "Shell", "c": "C", "cpp": "C++", "csharp": "C#", "css": "CSS", "go": "Go",
    "html": "HTML", "java": "Java", "javascript": "JavaScript", "json": "JSON",
    "kotlin": "Kotlin", "markdown": "Markdown", "php": "PHP", "python": "Python",
    "ruby": "Ruby", "rust": "Rust", "scala": "Scala", "sql": "SQL", "swift": "Swift",
    "toml": "TOML", "tsx": "TSX", "typescript": "TypeScript", "yaml": "YAML",
}
KIND_WORDS = {
    "module": "module-level code", "block": "code block", "impl": "impl block",
    "enum_member": "enum member", "type_parameter": "type parameter", "key": "key",
    "section": "section", "element": "element",
}
# Kinds whose members (`defines`) say what they are about.
CONTAINER_KINDS = frozenset({
    "class", "struct", "interface", "trait", "impl", "object", "record", "extension",
    "protocol", "enum", "module", "namespace", "package", "key", "table", "type",
})
# Languages that are data or markup: no calls to list, and their keys/elements are the content.
DATA_LANGUAGES = frozenset({"json", "yaml", "toml", "css", "html", "sql", "markdown"})
# Parameter declarations `Type name` (the name is the last identifier) vs `name: Type`.
TYPE_FIRST_LANGUAGES = frozenset({"c", "cpp", "java", "csharp"})
RECEIVERS = frozenset({"self", "this", "cls", "super", "me", "it"})
# Words before a parameter's name that are not its name (Kotlin `private val clock`, …).
MODIFIERS = frozenset({
    "private", "public", "protected", "internal", "val", "var", "let", "final", "readonly",
    "const", "mut", "ref", "out", "in", "inout", "params", "override", "static", "vararg",
    "crossinline", "noinline", "implicit", "lazy", "using", "scoped", "required",
})
GENERIC_KEYWORDS = frozenset({
    "if", "for", "while", "switch", "catch", "return", "function", "def", "fn", "func", "fun",
    "new", "sizeof", "typeof", "match", "with", "elif", "else", "until", "unless", "case",
    "when", "and", "or", "not", "in", "is", "await", "yield", "throw", "raise", "assert",
    "print", "println", "printf", "len", "str", "int", "float", "bool", "list", "dict", "set",
    "tuple", "range", "isinstance", "require", "import", "include", "defined", "lambda",
    "Some", "Ok", "Err", "None", "derive", "cfg",
})

# A call: a name or a dotted chain (`a.b`, `a::b`, `a->b`, `a?.b`), then `(` (or Rust's `!(`).
# Possessive quantifiers: no backtracking through identifiers that are not calls (2.6x faster).
_CALL = re.compile(
    r"(?<![\w$@])([A-Za-z_$][\w$]*+(?:[ \t]*+(?:\.|::|->|\?\.)[ \t]*+[A-Za-z_$][\w$]*+)*+)"
    r"[ \t]*+(?:![ \t]*+)?\(")
# Docstrings and comments are prose: "a number (int)" there is not a call.
_BLOCK_COMMENTS = re.compile(r'""".*?(?:"""|$)|\'\'\'.*?(?:\'\'\'|$)|/\*.*?(?:\*/|$)|//[^\n]*',
                            re.DOTALL)
_HASH_COMMENTS = re.compile(r"#[^\n]*")
HASH_COMMENT_LANGUAGES = frozenset({"python", "ruby", "bash", "php", "rust"})  # rust: #[attr]
_SEGMENT = re.compile(r"[A-Za-z_$][\w$]*")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_TAG = re.compile(r"</?\w+[^>]*>")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(`'\"\[@])|\n\s*\n|\n\s*@")
_DOC_NOISE = re.compile(r"^\s*(?:/\*\*?|\*/|\*|//+|#+|--|;+)\s?", re.MULTILINE)
_WS = re.compile(r"\s+")


class ChunkLike(Protocol):
    """What a gloss reads: a `Chunk`, a `GlossItem`, or a `ChunkRecord` (no text)."""

    language: str
    kind: str
    name: str
    qualified_name: str
    signature: str
    docstring: str


@lru_cache(maxsize=65536)
def words(identifier: str) -> str:
    """An identifier as lower-case words: ``low_stock`` / ``lowStock`` → "low stock"."""
    return " ".join(split_identifier(identifier))


def first_sentence(text: str, limit: int = MAX_SENTENCE_CHARS) -> str:
    """The first sentence of a docstring or paragraph, whitespace collapsed, capped."""
    if not text:
        return ""
    text = _TAG.sub(" ", text)  # C# <summary>, Javadoc {@code …} stays readable enough
    text = _DOC_NOISE.sub("", text).strip()
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    sentence = _WS.sub(" ", sentence).strip().rstrip(".:;, ")
    if len(sentence) > limit:
        cut = sentence[:limit].rsplit(" ", 1)[0]
        sentence = cut.rstrip(".:;, ") + "…"
    return sentence


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>" and depth > 0:
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parameter_names(signature: str, name: str, language: str) -> list[str]:
    """Parameter names from a signature, without types, defaults or receivers."""
    if not signature:
        return []
    at = signature.find(name + "(") if name else -1
    open_at = signature.find("(", at if at >= 0 else 0)
    if open_at < 0:
        return []
    depth = 0
    close_at = len(signature)
    for i in range(open_at, len(signature)):
        if signature[i] == "(":
            depth += 1
        elif signature[i] == ")":
            depth -= 1
            if depth == 0:
                close_at = i
                break
    names: list[str] = []
    for param in _split_top_level(signature[open_at + 1:close_at]):
        head = re.split(r"[=:]", param, maxsplit=1)[0] if language not in TYPE_FIRST_LANGUAGES \
            else param.split("=", 1)[0]
        if language == "php":
            found = re.findall(r"\$(\w+)", param)
        elif language in TYPE_FIRST_LANGUAGES:
            found = _IDENT.findall(re.sub(r"\[[^\]]*\]", "", head))[-1:]
        else:
            found = [w for w in _IDENT.findall(head) if w not in MODIFIERS][:1]
        for ident in found:
            ident = ident.lstrip("$")
            if ident and ident not in RECEIVERS and ident not in names:
                names.append(ident)
    if len(names) > MAX_PARAMS:
        names = [*names[:MAX_PARAMS], "…"]
    return names


@lru_cache(maxsize=64)
def _keywords(language: str) -> frozenset[str]:
    try:
        from indexer.chunking import get_spec

        spec = get_spec(language)
        grammar = spec.runtime().keywords if spec is not None and spec.has_grammar else ()
    except Exception:  # noqa: BLE001 - an unknown or broken grammar only costs precision
        grammar = ()
    return GENERIC_KEYWORDS | frozenset(grammar)


def callees(text: str, language: str, own: set[str]) -> list[str]:
    """What the chunk calls, as words, in order of first appearance ("inventory reserve")."""
    if not text or language in DATA_LANGUAGES:
        return []
    keywords = _keywords(language)
    code = _BLOCK_COMMENTS.sub(" ", text[:TEXT_SCAN_CHARS])
    if language in HASH_COMMENT_LANGUAGES:
        code = _HASH_COMMENTS.sub(" ", code)
    seen: list[str] = []
    for match in _CALL.finditer(code):
        chain = match.group(1)
        if chain.isidentifier():  # the common case: a bare name
            segments = [] if chain in RECEIVERS else [chain]
        else:
            segments = [s.lstrip("$") for s in _SEGMENT.findall(chain)]
            segments = [s for s in segments if s and s not in RECEIVERS]
        if not segments:
            continue
        last = segments[-1]
        if last in keywords or last in own or len(last) < 2:
            continue
        # The receiver's name says what is being acted on; one-letter variables say nothing.
        receiver = segments[-2] if len(segments) > 1 and len(segments[-2]) > 1 else ""
        phrase = words(receiver + "_" + last) if receiver else words(last)
        if len(phrase) > 2 and phrase not in seen:  # `_w(…)`: one letter says nothing
            seen.append(phrase)
            if len(seen) == MAX_CALLEES:
                break
    return seen


def _display_name(chunk: ChunkLike) -> str:
    crumbs = list(getattr(chunk, "breadcrumb", None) or ())
    if chunk.language == "markdown":
        return " › ".join([*crumbs, chunk.name]) if chunk.name else ""
    return chunk.qualified_name or chunk.name


def _prose_sentence(text: str) -> str:
    """The first sentence of prose in a Markdown section (after its heading, outside code)."""
    lines = []
    fenced = False
    for line in text[:TEXT_SCAN_CHARS].splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced or stripped.startswith(("#", "|", "<!--")) or not stripped:
            if lines and not fenced and not stripped:
                break
            continue
        lines.append(stripped.lstrip("-*> ").strip())
    return first_sentence(" ".join(lines))


def heuristic_gloss(chunk: ChunkLike) -> str:
    """One or two sentences saying what `chunk` is and does, for lexical and dense retrieval."""
    language = LANGUAGE_NAMES.get(chunk.language, chunk.language.capitalize() or "Code")
    kind = KIND_WORDS.get(chunk.kind, chunk.kind.replace("_", " ") or "code")
    text = getattr(chunk, "text", "") or ""
    display = _display_name(chunk)
    params = parameter_names(chunk.signature, chunk.name, chunk.language) \
        if chunk.language not in DATA_LANGUAGES else []
    head = f"{language} {kind}"
    if display:
        head += f" `{display}({', '.join(params)})`" if params else f" `{display}`"

    summary = first_sentence(chunk.docstring)
    if not summary and chunk.language == "markdown":
        summary = _prose_sentence(text)
    if not summary and chunk.name:
        # No docstring: the name's words, and where it lives, are the best guess at intent.
        container = ".".join(chunk.qualified_name.split(".")[:-1]) \
            if chunk.qualified_name.endswith(chunk.name) else ""
        summary = words(chunk.name)
        if container and chunk.language != "markdown":
            summary += f" in {words(container.replace('::', '_').replace('.', '_'))}"
        if params and params[-1] != "…":
            summary += f" with {', '.join(words(p) for p in params)}"
    sentences = [f"{head}: {summary}." if summary else f"{head}."]

    own = {chunk.name}
    defines = list(getattr(chunk, "defines", None) or ())
    own.update(defines)
    if chunk.kind in CONTAINER_KINDS and chunk.language != "markdown":
        members = []
        for member in defines:
            w = words(member)
            if member != chunk.name and w and w not in members:
                members.append(w)
        if members:
            label = "Keys" if chunk.language in DATA_LANGUAGES else "Defines"
            more = "…" if len(members) > MAX_MEMBERS else ""
            sentences.append(f"{label}: {', '.join(members[:MAX_MEMBERS])}{more}.")
    calls = callees(text, chunk.language, own)
    if calls:
        sentences.append(f"Uses: {', '.join(calls)}.")
    return " ".join(sentences)
