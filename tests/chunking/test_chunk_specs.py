"""The language specs: every one loads against its grammar, is pure data, has a fixture."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from _chunking_helpers import FIXTURES

from indexer.chunking import detect_language, get_spec, language_names
from indexer.chunking import languages as languages_pkg
from indexer.chunking.spec import SpecError, spec_from_dict

EXPECTED = {
    "python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp",
    "ruby", "php", "kotlin", "swift", "scala", "bash", "sql", "html", "css", "markdown",
    "json", "yaml", "toml",
}


def test_all_languages_registered() -> None:
    assert set(language_names()) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_spec_loads_against_its_grammar(name: str) -> None:
    spec = get_spec(name)
    assert spec is not None and spec.has_grammar
    rt = spec.runtime()  # raises SpecError if a node type is not in the grammar
    assert rt.query is not None
    parser = rt.parser()
    assert parser.parse(b"").root_node is not None


def test_every_language_has_a_fixture() -> None:
    seen = {detect_language(p.name, p.read_bytes()) for p in FIXTURES.iterdir()}
    assert seen >= EXPECTED


def test_spec_modules_hold_only_data() -> None:
    allowed = (dict, list, tuple, str, int, bool, type(None))

    def check(value: object) -> None:
        assert isinstance(value, allowed), type(value)
        if isinstance(value, dict):
            for k, v in value.items():
                check(k)
                check(v)
        elif isinstance(value, list | tuple):
            for v in value:
                check(v)

    for info in pkgutil.iter_modules(languages_pkg.__path__):
        module = importlib.import_module(f"{languages_pkg.__name__}.{info.name}")
        check(module.SPEC)


def test_bad_specs_are_rejected() -> None:
    with pytest.raises(SpecError):
        spec_from_dict({"name": "x", "definitoins": {}})
    with pytest.raises(SpecError):
        spec_from_dict({"name": "x", "definitions": {"f": {"knd": "function"}}})
    bad = spec_from_dict({"name": "x", "grammar": "tree_sitter_python:language",
                          "definitions": {"no_such_node": {"kind": "function"}}})
    with pytest.raises(SpecError, match="no_such_node"):
        bad.runtime()


def test_a_new_language_is_one_dict() -> None:
    from indexer.chunking.engine import (
        ChunkOptions,
        _Chunker,
        build_chunks,
        collect_defs,
        normalize,
    )
    from indexer.chunking.lines import LineIndex

    spec = spec_from_dict({
        "name": "python-functions-only",
        "grammar": "tree_sitter_python:language",
        "definitions": {"function_definition": {"kind": "function", "body": "body"}},
    })
    data = (FIXTURES / "inventory.py").read_bytes()
    li = LineIndex(data)
    root = spec.runtime().parser().parse(data).root_node
    defs = collect_defs(spec, root, data, li)
    assert [d.name for d in defs][:2] == ["status", "__init__"]
    chunker = _Chunker(spec, data, li, defs, 40, 1500)
    segments = normalize(chunker.run(root), li)
    opts = ChunkOptions("x.py", "python-functions-only", 40, 1500, 12000)
    chunks = build_chunks(spec, segments, defs, data, li, opts, root)
    kinds = {c.kind for c in chunks}
    assert kinds == {"module", "function"}  # no class rule: classes are plain module code
    assert any(c.name == "reorder_requests" and c.kind == "function" for c in chunks)
