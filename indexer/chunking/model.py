"""What the chunkers produce: ``Chunk`` and ``Symbol`` records.

Line numbers are 1-based and inclusive; byte offsets are 0-based, end-exclusive, and always
refer to the file's original bytes (even when it is not valid UTF-8).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

# LSP ``SymbolKind`` values (lsprotocol.types.SymbolKind), as plain ints: the engine does not
# import LSP packages. Chunk/definition kinds not listed map to ``Variable``.
LSP_SYMBOL_KIND: dict[str, int] = {
    "file": 1,
    "module": 2,
    "namespace": 3,
    "package": 4,
    "class": 5,
    "object": 5,
    "record": 5,
    "extension": 5,
    "impl": 5,
    "rule": 5,
    "element": 5,
    "method": 6,
    "property": 7,
    "field": 8,
    "constructor": 9,
    "enum": 10,
    "interface": 11,
    "trait": 11,
    "protocol": 11,
    "function": 12,
    "macro": 12,
    "procedure": 12,
    "variable": 13,
    "constant": 14,
    "section": 15,
    "string": 15,
    "number": 16,
    "boolean": 17,
    "array": 18,
    "table": 19,
    "view": 19,
    "index": 19,
    "key": 20,
    "null": 21,
    "enum_member": 22,
    "struct": 23,
    "event": 24,
    "operator": 25,
    "type": 26,
    "type_parameter": 26,
}
SYMBOL_KIND_VARIABLE = 13


def lsp_symbol_kind(kind: str) -> int:
    """The LSP ``SymbolKind`` integer for a chunk/definition kind."""
    return LSP_SYMBOL_KIND.get(kind, SYMBOL_KIND_VARIABLE)


def content_hash(text: bytes | str, language: str, kind: str) -> str:
    """Stable sha1 hex of a chunk's text, language and kind."""
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    h = hashlib.sha1(language.encode())
    h.update(b"\0")
    h.update(kind.encode())
    h.update(b"\0")
    h.update(raw)
    return h.hexdigest()


@dataclass(slots=True)
class Chunk:
    """A contiguous run of whole lines of one file, with what it defines and references."""

    path: str
    language: str
    kind: str
    name: str
    qualified_name: str
    signature: str
    docstring: str
    start_line: int
    end_line: int
    start_byte: int
    end_byte: int
    breadcrumb: list[str] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    content_hash: str = ""
    title: str = ""
    text: str = ""
    # Header lines (signatures) of enclosing definitions, for chunks cut out of a large one.
    context: str = ""
    # True when ``text`` was capped (one enormous line); the byte range is still complete.
    truncated: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def tokens_estimate(self) -> int:
        return (len(self.text) + 3) // 4


@dataclass(slots=True)
class Symbol:
    """A definition, shaped for ``workspace/symbol`` and ``textDocument/documentSymbol``.

    ``kind`` is the LSP ``SymbolKind`` integer; ``definition_kind`` the chunker's word for it.
    Name and whole-definition ranges: 1-based lines, 0-based byte columns, byte offsets.
    """

    name: str
    kind: int
    definition_kind: str
    container_name: str
    qualified_name: str
    path: str
    language: str
    name_start_line: int
    name_start_column: int
    name_end_line: int
    name_end_column: int
    name_start_byte: int
    name_end_byte: int
    start_line: int
    end_line: int
    start_byte: int
    end_byte: int
    signature: str = ""

    def to_dict(self) -> dict:
        return asdict(self)
