"""The JSON Schemas of docs/protocol.md, and a small validator for what the tests use of
JSON Schema (type, required, properties, items, enum, const, oneOf, $ref to #/$defs)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def schemas() -> dict[str, dict[str, Any]]:
    """title -> schema, for every JSON block of the document that is a schema."""
    out = {}
    for block in re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S):
        value = json.loads(block)
        if isinstance(value, dict) and "$schema" in value:
            out[value["title"]] = value
    return out


def json_blocks() -> list[Any]:
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S)]


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def validate(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None,
             where: str = "$") -> list[str]:
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return validate(value, root["$defs"][name], root, where)
    errors: list[str] = []
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        if not any(_is_type(value, n) for n in names):
            return [f"{where}: {value!r} is not {types}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: {value!r} != {schema['const']!r}")
    if "oneOf" in schema and not any(not validate(value, s, root, where)
                                     for s in schema["oneOf"]):
        errors.append(f"{where}: matches none of oneOf")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{where}: missing {key!r}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                errors += validate(value[key], sub, root, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], root, f"{where}[{i}]")
    return errors
