"""The code-aware tokenizer for the lexical index."""

from __future__ import annotations

import time

from indexer.code_tokens import split_identifier, split_identifiers, tokenize_query


def test_camel_case_with_acronym_and_digits() -> None:
    assert split_identifiers("getHTTPResponse2") == [
        "gethttpresponse2", "get", "http", "response", "2"]


def test_snake_case_and_dunder() -> None:
    assert split_identifiers("get_text_size") == ["get_text_size", "get", "text", "size"]
    assert split_identifiers("__init__") == ["__init__", "init"]
    assert split_identifiers("MAX_RETRY_COUNT") == ["max_retry_count", "max", "retry", "count"]


def test_simple_words_are_not_repeated() -> None:
    assert split_identifiers("Item item ITEM x") == ["item", "item", "item", "x"]
    assert split_identifiers("42 3.14") == ["42", "3", "14"]


def test_code_line() -> None:
    tokens = split_identifiers("self.userId = parseJSON(raw_body)  # v2 API")
    assert tokens == ["self", "userid", "user", "id", "parsejson", "parse", "json",
                      "raw_body", "raw", "body", "v2", "v", "2", "api"]


def test_mixed_patterns() -> None:
    assert split_identifier("XMLHttpRequest") == ["xml", "http", "request"]
    assert split_identifier("IOError") == ["io", "error"]
    assert split_identifier("utf8Decode") == ["utf", "8", "decode"]
    assert split_identifier("ÜberClass_größe") == ["über", "class", "größe"]
    assert split_identifiers("ÜberClass") == ["überclass", "über", "class"]


def test_long_tokens_are_dropped_but_parts_kept() -> None:
    blob = "A" * 100
    assert split_identifiers(blob) == []
    long_ident = "very" + "Long" * 20
    tokens = split_identifiers(long_ident)
    assert long_ident.lower() not in tokens and "very" in tokens and "long" in tokens


def test_query_tokens_dedupe() -> None:
    assert tokenize_query("get getText get_text") == ["get", "gettext", "text", "get_text"]


def test_fast() -> None:
    text = ("def getHTTPResponse2(self, request_id: int) -> HttpResponse:\n"
            "    return self._client.fetch(request_id, timeout=DEFAULT_TIMEOUT)\n") * 20_000
    start = time.perf_counter()
    tokens = split_identifiers(text)
    elapsed = time.perf_counter() - start
    assert len(tokens) > 100_000
    assert len(text) / elapsed > 2_000_000  # well above 2 MB/s (measured ~15 MB/s)
