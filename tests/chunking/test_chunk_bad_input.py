"""Bad input: syntax errors, minified files, deep nesting, invalid UTF-8, empty files."""

from __future__ import annotations

import time

from _chunking_helpers import assert_partition, read_fixture

from indexer.chunking import analyze_file, chunk_file, detect_language, symbols_for_file


def test_empty_and_blank_files_give_no_chunks() -> None:
    for data in (b"", b"\n", b"\n\n   \n\t\n", b"\r\n\r\n"):
        assert chunk_file("a.py", data) == []
        assert chunk_file("a.unknown", data) == []
        assert symbols_for_file("a.py", data) == []


def test_minified_megabyte_line_goes_to_the_fallback_capped() -> None:
    data = b"var a=function(b){return b+1};" * (1024 * 1024 // 30 + 1)
    assert len(data) > 1024 * 1024 and b"\n" not in data
    start = time.perf_counter()
    analysis = analyze_file("bundle.min.js", data, max_tokens=1500)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0
    assert not analysis.parsed and analysis.reason == "minified"
    [chunk] = analysis.chunks
    assert chunk.truncated
    assert (chunk.start_line, chunk.end_line) == (1, 1)
    assert (chunk.start_byte, chunk.end_byte) == (0, len(data))
    assert len(chunk.text) <= 1500 * 8
    assert_partition(data, analysis.chunks)


def test_minified_file_with_a_few_lines() -> None:
    line = b"function f(a){return a*2}" * 4000
    data = b"// header\n" + line + b"\n" + line + b"\n"
    analysis = analyze_file("app.min.js", data)
    assert_partition(data, analysis.chunks)
    assert analysis.reason == "minified"
    assert [(c.start_line, c.end_line, c.truncated) for c in analysis.chunks] == [
        (1, 1, False), (2, 2, True), (3, 3, True)]


def test_deep_nesting_does_not_hit_the_recursion_limit() -> None:
    depth = 200
    py = "".join("    " * i + f"def f{i}():\n" for i in range(depth)) + "    " * depth + "pass\n"
    data = py.encode()
    chunks = chunk_file("deep.py", data, max_tokens=50)
    assert_partition(data, chunks)
    symbols = symbols_for_file("deep.py", data)
    assert len(symbols) == depth
    assert [s.qualified_name for s in symbols[:3]] == ["f0", "f0.f1", "f0.f1.f2"]
    # absurd nesting keeps the innermost 31 enclosing names
    assert symbols[-1].qualified_name == "….f168." + ".".join(f"f{i}" for i in range(169, depth))
    assert symbols[-1].name_start_line == depth
    js = ("function g() {\n" + "if (x) {\n" * depth + "y();\n" + "}\n" * depth + "}\n").encode()
    assert_partition(js, chunk_file("deep.js", js, max_tokens=30))
    arr = ("[" * 5000 + "1" + "]" * 5000).encode()
    assert_partition(arr, chunk_file("deep.json", arr))
    nested = ("{\n" + '"k": {\n' * 300 + '"v": 1\n' + "}\n" * 300 + "}\n").encode()
    assert_partition(nested, chunk_file("deep2.json", nested, max_tokens=40))
    fns = ("".join(f"function f{i}() {{\n" for i in range(1000)) + "}\n" * 1000).encode()
    start = time.perf_counter()
    chunks = chunk_file("deep.js", fns, max_tokens=30)
    assert time.perf_counter() - start < 5
    assert_partition(fns, chunks)


def test_invalid_utf8_keeps_byte_ranges_right() -> None:
    data = (
        b"def caf\xc3\xa9():\n    return '\xff\xfe broken'\n\n\n"
        b"class K\xe9:\n    def m(self):\n        return 1\n"
        b"\ndef after():\n    pass\n"
    )
    chunks = chunk_file("bad.py", data, min_tokens=0)
    assert_partition(data, chunks)
    assert "\ufffd" in "".join(c.text for c in chunks)
    for sym in symbols_for_file("bad.py", data):
        raw = data[sym.name_start_byte : sym.name_end_byte]
        assert raw.decode("utf-8", "replace") == sym.name
    after = next(s for s in symbols_for_file("bad.py", data) if s.name == "after")
    assert data[after.start_byte :].startswith(b"def after")


def test_syntax_errors_chunk_without_dropping_lines() -> None:
    samples = {
        "a.py": b"def f(:\n    x = [1, 2\n\nclass C\n    pass\n\ndef g():\n    return 1\n",
        "a.js": b"function f( {\n  let x = ;\n}\n}}}\nclass A { m() { return 1 }\n",
        "a.go": b"package x\nfunc (s *S) M( {\n\treturn\n}\ntype T struct {\n",
        "a.rs": b"fn main() {\n    let x = ;\n}\nimpl {\n",
        "a.json": b'{"a": 1,, "b": [1, 2\n, "c": }\n',
        "a.md": b"# T\n```\nunclosed fence\n\n## U\n|a|b|\n|-|\n",
    }
    for name, data in samples.items():
        assert_partition(data, chunk_file(name, data, min_tokens=0, max_tokens=20))
    broken = read_fixture("broken_syntax.py")
    assert_partition(broken, chunk_file("broken_syntax.py", broken))


def test_file_the_grammar_cannot_make_sense_of_gets_windows() -> None:
    data = b"\x00\x01\x02 binary \xff\n" * 50 + b"\n\nsome text\n"
    analysis = analyze_file("blob.py", data, max_tokens=20)
    assert_partition(data, analysis.chunks)
    assert (analysis.parsed, analysis.reason) == (False, "syntax errors")
    assert analysis.language == "python"
    assert all(c.kind == "block" for c in analysis.chunks)
    assert analysis.chunks[-1].text.endswith("some text")


def test_unknown_extension_uses_blank_line_windows() -> None:
    paragraphs = [b"\n".join(b"line %d of paragraph %d with words" % (j, i) for j in range(6))
                  for i in range(10)]
    data = b"\n\n".join(paragraphs) + b"\n"
    analysis = analyze_file("notes.weird", data, max_tokens=120)
    assert analysis.language == "text" and not analysis.parsed
    chunks = analysis.chunks
    assert_partition(data, chunks)
    assert all(c.kind == "block" for c in chunks)
    # windows end at paragraph boundaries: every chunk ends right before a blank line or EOF
    lines = data.split(b"\n")
    for c in chunks:
        assert c.end_line == len(lines) - 1 or lines[c.end_line] == b""
    assert len(chunks) > 1


def test_crlf_and_cr_only_files() -> None:
    data = b"def a():\r\n    return 1\r\n\r\ndef b():\r\n    return 2\r\n"
    chunks = chunk_file("crlf.py", data, min_tokens=0)
    assert_partition(data, chunks)
    assert [c.name for c in chunks] == ["a", "b"]
    assert not chunks[0].text.endswith("\r")
    cr = b"def a():\r    return 1\r\rdef b():\r    return 2\r"
    assert_partition(cr, chunk_file("cr.py", cr))


def test_huge_function_is_windowed() -> None:
    body = "".join(f"    x{i} = compute({i}, {i + 1})\n" for i in range(2000))
    data = f"def huge():\n{body}".encode()
    chunks = chunk_file("huge.py", data, max_tokens=300)
    assert_partition(data, chunks)
    assert len(chunks) > 5
    assert all(c.kind == "function" and c.name == "huge" for c in chunks)
    assert all(c.tokens_estimate <= 300 * 2 for c in chunks)
    assert chunks[1].context == "def huge():"


def test_detection() -> None:
    assert detect_language("src/app.tsx") == "tsx"
    assert detect_language("src/app.ts") == "typescript"
    assert detect_language("x.H") is None or detect_language("x.H") in ("c", "cpp")
    assert detect_language("lib.h", b"int add(int a, int b);\n") == "c"
    assert detect_language("lib.h", b"namespace x {\nclass A {};\n}\n") == "cpp"
    assert detect_language("script", b"#!/usr/bin/env python3\nprint(1)\n") == "python"
    assert detect_language("script", b"#!/usr/bin/env -S node --harmony\n") == "javascript"
    assert detect_language("run", b"#!/bin/bash\necho hi\n") == "bash"
    assert detect_language("run", b"#!/usr/bin/python3.12\n") == "python"
    assert detect_language("page", b"<!DOCTYPE html>\n<html></html>\n") == "html"
    assert detect_language("data", b'{\n  "a": 1\n}\n') == "json"
    assert detect_language("index", b"<?php\necho 1;\n") == "php"
    assert detect_language("Makefile", b"all:\n\techo hi\n") is None
    assert detect_language("notes.txt", b"hello\n") is None
    assert detect_language("C:\\work\\Main.JAVA") == "java"
    assert detect_language("Gemfile") == "ruby"
    manage = read_fixture("manage")
    assert detect_language("manage", manage) == "python"
    assert chunk_file("manage", manage)[1].name == "cmd_export"


def test_max_tokens_is_validated() -> None:
    import pytest

    with pytest.raises(ValueError):
        chunk_file("a.py", b"x = 1\n", max_tokens=0)
