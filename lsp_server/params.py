"""Checked access to the parameters of custom requests.

Custom methods receive plain JSON (dicts, lists, scalars). Anything malformed becomes a
JSON-RPC InvalidParams error whose message names the method and the field.
"""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed: the request was valid but could not be carried out."""

    CODE = -32803


def invalid(method: str, message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(message=f"{method}: {message}")


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
               allow_empty: bool = True) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise self.error(f"'{key}' is required")
            return default
        if not isinstance(value, str):
            raise self.error(f"'{key}' must be a string, got {_json_type(value)}")
        if not allow_empty and not value:
            raise self.error(f"'{key}' must not be empty")
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
