"""The engine's symbol index as the language server uses it: layered updates answer exactly
as a fresh build, overlays of unsaved texts replace their files, filters, completeness."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.retrieval.symbol_search import SymbolIndex
from indexer.workspace import Workspace
from tests.conftest import make_repo

FILES = {
    "src/shapes.py": "class Shape:\n    def area(self):\n        return 0\n\n\n"
                     "class Circle(Shape):\n    def area(self):\n        return 3\n",
    "src/text.py": "def getTextSize(text):\n    return len(text)\n\n\n"
                   "def get_text_size(text):\n    return len(text)\n",
    "lib/util.js": "function formatDate(d) {\n  return d;\n}\nclass DateFormatter {}\n",
    "lib/deep/more.py": "def helper_one():\n    pass\n\n\ndef helper_two():\n    pass\n",
    "docs/readme.md": "# Shapes\n\nNothing to see.\n",
}
FILES.update({f"pkg/mod_{i:02}.py": f"class Model{i}:\n    def save_{i}(self):\n        pass\n"
              f"\n\ndef load_model_{i}(path):\n    return Model{i}()\n" for i in range(40)})
QUERIES = ["area", "Shape", "gTS", "get_ts", "text", "helper", "fD", "e", "DateF", "zzz",
           "Model1", "save", "lm"]


def facts(hits: list) -> list[tuple]:
    return [(score, s.path, s.name, s.record.name_line, s.record.name_column,
             s.record.qualified_name) for score, s in hits]


@pytest.fixture
def ws(tmp_path: Path, index_root: Path) -> Workspace:
    repo = make_repo(tmp_path / "repo", FILES)
    workspace = Workspace.open(repo)
    workspace.enrich(None)
    yield workspace
    workspace.close()


def test_layered_update_answers_as_a_fresh_build(ws: Workspace) -> None:
    first = SymbolIndex(ws, ws.snapshot(None, refresh=False))
    assert first.complete and not first.layered
    root = ws.root
    (root / "src/text.py").write_text(FILES["src/text.py"] + "\n\ndef textWidth(t):\n    pass\n")
    (root / "lib/util.js").unlink()
    (root / "src/new_mod.py").write_text("class AreaCalculator:\n    def area(self):\n"
                                         "        return 1\n")
    ws.enrich(None)
    snap = ws.snapshot(None, refresh=False)
    layered = SymbolIndex(ws, snap, previous=first)
    fresh = SymbolIndex(ws, snap)
    assert layered.layered and layered.complete and len(layered) == len(fresh)
    for query in QUERIES:
        for kwargs in ({}, {"kinds": [5]}, {"scopes": ["src"]}, {"kinds": [6, 12]}):
            assert facts(layered.search(query, 50, **kwargs)) == \
                facts(fresh.search(query, 50, **kwargs)), (query, kwargs)
    assert "textWidth" in [s.name for _, s in layered.search("textWidth", 5)]
    assert all(s.path != "lib/util.js" for _, s in layered.search("formatDate", 5))


def test_overlay_replaces_files_and_keeps_positions(ws: Workspace) -> None:
    index = SymbolIndex(ws, ws.snapshot(None, refresh=False))
    text = "# é\ndef onlyInBuffer(x):\n    return x\n"
    overlay = index.overlay({"src/text.py": text.encode(), "src/brand_new.py": b"class Nw:\n"
                                                                                b"    pass\n"})
    assert overlay is not None
    hits = index.search("onlyInBuffer", 5, overlay=overlay)
    assert [(s.path, s.record.name_line, s.record.name_column) for _, s in hits] == [
        ("src/text.py", 2, 4)]
    assert index.source(hits[0][1], overlay) == text.encode()
    # the indexed version of the file is hidden, other files are not
    assert not index.search("getTextSize", 5, overlay=overlay)
    assert index.search("Nw", 5, overlay=overlay)[0][1].path == "src/brand_new.py"
    assert index.search("Circle", 5, overlay=overlay)[0][1].name == "Circle"
    # a text equal to the indexed one, or a deletion of an unknown path, is no overlay
    assert index.overlay({"src/shapes.py": FILES["src/shapes.py"].encode()}) is None
    assert index.overlay({"nowhere.py": None}) is None
    gone = index.overlay({"src/shapes.py": None})
    assert gone is not None and not index.search("Circle", 5, overlay=gone)


def test_changes_in_a_later_snapshot(ws: Workspace) -> None:
    index = SymbolIndex(ws, ws.snapshot(None, refresh=False))
    (ws.root / "src/text.py").write_text("def renamedThing():\n    pass\n")
    ws.index(None)
    later = ws.snapshot(None, refresh=False)
    assert index.changes_in(later, 0) is None  # more changes than allowed
    texts = index.changes_in(later, 10)
    assert texts == {"src/text.py": b"def renamedThing():\n    pass\n"}
    overlay = index.overlay(texts)
    assert index.search("renamedThing", 5, overlay=overlay)[0][1].path == "src/text.py"


def test_an_index_before_the_enrich_stage_is_incomplete(tmp_path: Path,
                                                        index_root: Path) -> None:
    repo = make_repo(tmp_path / "plain", FILES)
    ws = Workspace.open(repo)
    try:
        ws.index(None)
        index = SymbolIndex(ws, ws.snapshot(None, refresh=False))
        assert not index.complete and index.search("Shape", 5) == []
        ws.enrich(None)
        after = SymbolIndex(ws, ws.snapshot(None, refresh=False), previous=index)
        assert after.complete and not after.layered  # an incomplete base is not layered on
        assert after.search("Shape", 5)[0][1].name == "Shape"
    finally:
        ws.close()
