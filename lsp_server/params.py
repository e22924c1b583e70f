"""Checked access to the parameters of custom requests.

Custom methods receive plain JSON (dicts, lists, scalars). Anything malformed becomes a
JSON-RPC InvalidParams error whose message names the method and the field.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

logger = logging.getLogger("codeloupe.lsp")
DEFAULT_TIME_LIMIT_S = 60.0
TIME_LIMIT_ENV = "CODELOUPE_REQUEST_TIME_LIMIT_S"


def request_time_limit() -> float:
    """The server-side limit of one request or tool call, in seconds (language server and MCP):
    CODELOUPE_REQUEST_TIME_LIMIT_S, else 60."""
    raw = os.environ.get(TIME_LIMIT_ENV)
    try:
        value = float(raw) if raw else DEFAULT_TIME_LIMIT_S
    except ValueError:
        logger.warning("%s=%r is not a number; using %g s", TIME_LIMIT_ENV, raw,
                       DEFAULT_TIME_LIMIT_S)
        return DEFAULT_TIME_LIMIT_S
    return value if value > 0 else DEFAULT_TIME_LIMIT_S


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed: the request was valid but could not be carried out."""

    CODE = -32803


def invalid(method: str, message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(message=f"{method}: {message}")


# Bounds on what one request may ask for: far above any real use, far below what would hold
# a worker for long (a 10 MB pattern, a 1 MB glob).
MAX_STRING = 100_000  # a pattern, a question, a task (characters)
MAX_ITEM = 4096  # one glob, path or URI in a list (PATH_MAX)
MAX_LIST = 10_000  # items in one list


class Params:
    def __init__(self, method: str, raw: Any) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise invalid(method, f"params must be an object, got {_json_type(raw)}")
        self.method = method
        self.raw = raw

    def error(self, message: str) -> JsonRpcInvalidParams:
        return invalid(self.method, message)

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def string(self, key: str, default: str | None = None, *, required: bool = False,
               allow_empty: bool = True, max_length: int | None = MAX_STRING) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise self.error(f"'{key}' is required")
            return default
        if not isinstance(value, str):
            raise self.error(f"'{key}' must be a string, got {_json_type(value)}")
        if not allow_empty and not value:
            raise self.error(f"'{key}' must not be empty")
        if max_length is not None and len(value) > max_length:
            raise self.error(f"'{key}' is {len(value):,} characters long; at most "
                             f"{max_length:,} are accepted")
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(f"'{key}' must be true or false, got {_json_type(value)}")
        return value

    def integer(self, key: str, default: int | None, *, minimum: int = 0,
                maximum: int | None = None) -> int | None:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"'{key}' must be an integer, got {_json_type(value)}")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else \
                f"at least {minimum}"
            raise self.error(f"'{key}' must be {bound}, got {value}")
        return value

    def strings(self, key: str) -> list[str]:
        value = self.raw.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"'{key}' must be a list of strings")
        if len(value) > MAX_LIST:
            raise self.error(f"'{key}' holds {len(value):,} items; at most {MAX_LIST:,}")
        long = next((v for v in value if len(v) > MAX_ITEM), None)
        if long is not None:
            raise self.error(f"'{key}' holds an item {len(long):,} characters long; at most "
                             f"{MAX_ITEM:,}")
        return list(value)

    def integers(self, key: str) -> list[int]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self.error(f"'{key}' must be a list of integers")
        return list(value)

    def position(self, value: Any, key: str) -> tuple[int, int]:
        """An LSP Position {line, character}: non-negative integers within LSP's uinteger."""
        if not isinstance(value, dict):
            raise self.error(f"'{key}' must be a position {{line, character}}, got "
                             f"{_json_type(value)}")
        out = []
        for field in ("line", "character"):
            n = value.get(field)
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_UINTEGER:
                raise self.error(f"'{key}.{field}' must be an integer between 0 and "
                                 f"{MAX_UINTEGER}, got {_json_type(n)}")
            out.append(n)
        return out[0], out[1]

    def range(self, value: Any, key: str) -> tuple[tuple[int, int], tuple[int, int]]:
        """An LSP Range {start, end}, start not after end."""
        if not isinstance(value, dict):
            raise self.error(f"'{key}' must be a range {{start, end}}, got {_json_type(value)}")
        start = self.position(value.get("start"), f"{key}.start")
        end = self.position(value.get("end"), f"{key}.end")
        if end < start:
            raise self.error(f"'{key}' ends before it starts")
        return start, end


MAX_UINTEGER = 2 ** 31 - 1  # LSP's uinteger


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
