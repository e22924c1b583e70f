"""A code-aware tokenizer for lexical (BM25) indexes.

``split_identifiers`` emits every word of a text lower-cased and kept whole, followed, when the
word is a compound identifier, by its parts split at camelCase humps, underscores and digit
runs::

    >>> split_identifiers("getHTTPResponse2")
    ['gethttpresponse2', 'get', 'http', 'response', '2']

So a query for ``response`` finds ``getHTTPResponse2`` and one for ``get_http_response``
(tokenized the same way) finds it too. Regex based; no per-character Python loop.
"""

from __future__ import annotations

import re
import threading

import Stemmer  # PyStemmer: Snowball stemmers in C

_WORD = re.compile(r"\w+")
# Humps: an acronym before a capitalised word (HTTP|Response), a capitalised or lower-case
# run, a trailing acronym, or a digit run. (Non-ASCII words take the slower path below.)
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

DEFAULT_MAX_TOKEN_LEN = 64


def _parts(word: str) -> list[str]:
    if word.isascii():
        return _PART.findall(word)
    parts: list[str] = []
    cur = ""
    for i, ch in enumerate(word):
        if ch == "_" or not ch.isalnum():
            if cur:
                parts.append(cur)
            cur = ""
            continue
        if cur:
            prev = cur[-1]
            nxt = word[i + 1] if i + 1 < len(word) else ""
            boundary = (
                prev.isdigit() != ch.isdigit()
                or (prev.islower() and ch.isupper())
                or (prev.isupper() and ch.isupper() and nxt.islower())
            )
            if boundary:
                parts.append(cur)
                cur = ""
        cur += ch
    if cur:
        parts.append(cur)
    return parts


def split_identifier(word: str) -> list[str]:
    """The lower-cased parts of one identifier (``get_textSize`` → get, text, size)."""
    return [p.lower() for p in _parts(word)]


def _is_simple(word: str) -> bool:
    # One hump already: all lower, all upper, or Capitalised letters only.
    return word.isalpha() and (word.islower() or word.isupper() or word[1:].islower())


def split_identifiers(text: str, *, max_token_len: int = DEFAULT_MAX_TOKEN_LEN) -> list[str]:
    """Tokens for a lexical index: each word whole (lower-cased), then its parts.

    Tokens longer than ``max_token_len`` are dropped (base64 blobs, hashes); the parts of an
    over-long identifier are still emitted.
    """
    out: list[str] = []
    append, extend = out.append, out.extend
    for word in _WORD.findall(text):
        lw = word.lower()
        if len(lw) <= max_token_len:
            append(lw)
        if _is_simple(word):
            continue
        parts = _parts(word)
        if len(parts) > 1 or (parts and parts[0].lower() != lw):
            extend(p.lower() for p in parts if len(p) <= max_token_len)
    return out


_stemmers = threading.local()  # a Stemmer object is not safe to share between threads


def stem_tokens(tokens: list[str]) -> list[str]:
    """English (Snowball) stems, so `refunds`, `refunding` and `refund` meet in BM25."""
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = Stemmer.Stemmer("english")
    return stemmer.stemWords(tokens)


def lexical_tokens(text: str) -> list[str]:
    """Document-side tokens of the lexical index: split identifiers, stemmed."""
    return stem_tokens(split_identifiers(text))


def tokenize_query(text: str) -> list[str]:
    """Query-side tokens: the same analysis, without duplicates, order kept."""
    return list(dict.fromkeys(lexical_tokens(text)))
