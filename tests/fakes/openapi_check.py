"""A small OpenAPI 3.0 response checker: required keys, types, nullability, enums, $ref."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parents[1] / "fixtures/github-api/openapi/github-rest-subset.json"
TYPES = {
    "integer": int,
    "number": (int, float),
    "string": str,
    "boolean": bool,
    "array": list,
    "object": dict,
}


@cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


def response_schema(path: str) -> dict[str, Any]:
    """The 200 response schema of GET `path` (an OpenAPI path template)."""
    return spec()["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        _, _, kind, name = schema["$ref"].split("/")
        schema = spec()["components"][kind][name]
    return schema


def problems(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Every way `value` violates `schema` (empty when it conforms)."""
    schema = _resolve(schema)
    if value is None:
        return [] if schema.get("nullable") or not schema else [f"{where}: null not allowed"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [problems(value, option, where) for option in schema[key]]
            return [] if any(not p for p in options) else min(options, key=len)
    if "allOf" in schema:
        return [p for part in schema["allOf"] for p in problems(value, part, where)]
    kind = schema.get("type")
    if kind:
        is_bool = isinstance(value, bool)
        if not isinstance(value, TYPES[kind]) or (is_bool and kind != "boolean"):
            return [f"{where}: expected {kind}, got {type(value).__name__}"]
    found: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                found.append(f"{where}: missing required {key!r}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += problems(value[key], sub, f"{where}.{key}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, item in value.items():
                if key not in schema.get("properties", {}):
                    found += problems(item, extra, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += problems(item, schema["items"], f"{where}[{i}]")
    return found
