"""Query understanding on long, messy questions: the parts are found, each is routed to the
signal that fits it, and common identifiers do not flood the symbol signal."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.retrieval.query_parse import parse_query
from indexer.retrieval.semantic import AskRequest
from indexer.workspace import Workspace
from tests.conftest import make_repo

REPORT = '''Crash when loading an empty settings file

When I call `SettingsLoader.load_file()` on an empty file the program dies. Steps: create the
file, then run the command line tool with the default arguments and watch it fail. It looks
like nobody checks for empty input before parsing, which seems like an easy thing to guard.

```
Traceback (most recent call last):
  File "/usr/lib/python3.11/site-packages/app/settings/loader.py", line 9, in load_file
    return parse_text(text)
  File "app/settings/parsing.py", line 6, in parse_text
    raise ValueError("unexpected end of input while reading a section")
ValueError: unexpected end of input while reading a section
```
'''

COMMON = "\n".join(f"def helper_{i}(value, config):\n    return value or config\n"
                   for i in range(3))
FILES = {
    "app/settings/loader.py": '''from app.settings.parsing import parse_text


class SettingsLoader:
    """Reads settings files."""

    def load_file(self, path, value=None, config=None):
        text = open(path).read()
        return parse_text(text)
''',
    "app/settings/parsing.py": '''

def parse_text(text, value=None, config=None):
    if not text.strip():
        raise ValueError("unexpected end of input while reading a section")
    return dict(line.split("=", 1) for line in text.splitlines())
''',
    **{f"app/util/mod{i}.py": f"# module {i}\n" + COMMON for i in range(12)},
    "app/cli.py": "def main(value=None, config=None):\n    print(value, config)\n",
}


def test_a_report_is_split_into_its_parts() -> None:
    parts = parse_query(REPORT)
    assert parts.is_long and parts.has_traceback
    assert [(f.path.split("/")[-1], f.line, f.function) for f in parts.frames] == [
        ("loader.py", 9, "load_file"), ("parsing.py", 6, "parse_text")]
    assert "unexpected end of input while reading a section" in parts.errors
    assert {"load_file", "parse_text", "SettingsLoader"} <= set(parts.identifiers)
    assert "app/settings/parsing.py" in parts.paths
    assert "Traceback" not in parts.prose and parts.dense_text().startswith("Crash when")


@pytest.fixture
def ws(tmp_path: Path, index_root: Path):
    workspace = Workspace.open(make_repo(tmp_path / "app", FILES))
    yield workspace
    workspace.close()


def test_each_part_reaches_the_signal_that_fits_it(ws: Workspace) -> None:
    searcher = ws.semantic(None)
    stage = searcher.first_stage(AskRequest(REPORT, rerank="none",
                                            signals=("lexical", "symbol", "regex", "path",
                                                     "literal")))
    table = searcher.table

    def top(signal: str) -> tuple[str, str]:
        row = stage.hits[signal].rows[0]
        return table.paths[row], table.names[row]

    # the innermost frame's line picks parse_text; the quoted error is found verbatim there
    assert ("app/settings/parsing.py", "parse_text") in [
        (table.paths[r], table.names[r]) for r in stage.hits["path"].rows[:2]]
    assert top("literal") == ("app/settings/parsing.py", "parse_text")
    # identifiers are weighted by specificity: `value`/`config` appear in most files and are
    # not routed; the definitions named in the report lead the symbol signal
    routed = {s.token for s in stage.identifiers}
    assert {"parse_text", "load_file", "SettingsLoader"} <= routed
    assert "value" not in routed and "config" not in routed
    names = {table.names[r] for r in stage.hits["symbol"].rows[:3]}
    assert {"parse_text", "SettingsLoader.load_file"} & names
    assert not any(table.paths[r].startswith("app/util/") for r in stage.hits["symbol"].rows)


def test_a_question_of_common_identifiers_does_not_flood_the_symbol_signal(
        ws: Workspace) -> None:
    searcher = ws.semantic(None)
    question = ("Every helper takes value and config; " * 12 + "why do `value` and `config` "
                "default to None in helper_0, helper_1 and helper_2, unlike parse_text?")
    stage = searcher.first_stage(AskRequest(question, rerank="none",
                                            signals=("symbol", "regex")))
    assert [s.token for s in stage.identifiers] == ["parse_text"]
    rows = stage.hits["symbol"].rows
    assert [searcher.table.names[r] for r in rows] == ["parse_text"]


def test_files_answer_a_traceback(ws: Workspace) -> None:
    searcher = ws.semantic(None)
    searcher.embed()
    response = searcher.ask(AskRequest(REPORT, k=3, files=True))
    # the two files of the traceback lead, ahead of the many that share its common words
    assert {f.path for f in response.files[:2]} == {"app/settings/parsing.py",
                                                   "app/settings/loader.py"}
