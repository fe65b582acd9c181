"""JSON examples of an endpoint: checked as typed, and the JSON Schema inferred from each (genson)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from genson import SchemaBuilder

from bot.domain.errors import ValidationError

EXAMPLE_MAX_CHARS = 4000
"""Characters of one JSON example (a form field holds 4,000)."""
EXAMPLE_DEPTH_MAX = 8
"""Objects and arrays nest at most this deep in an example: deeper is a sign of a mistake, and
unreadable as a field list."""
EXAMPLE_FIELDS_MAX = 200
"""Fields (object keys, at any depth) an example has at most."""


@dataclass(frozen=True)
class SchemaField:
    """One field of an example's schema: `user.tags[]`, its type(s), and whether it is required."""

    name: str
    type: str
    required: bool


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """How deep objects and arrays nest in `value` (a number or string is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: list[Any] = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _field_count(value: Any) -> int:
    count = 0
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            count += len(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def parse_example(text: str, what: str) -> str | None:
    """The example as typed (None when empty), or a ValidationError naming `what`, the line and the
    column of the mistake, or the limit it passes."""
    stripped = text.strip()
    if not stripped:
        return None
    if len(stripped) > EXAMPLE_MAX_CHARS:
        raise ValidationError(f"The {what} has at most {EXAMPLE_MAX_CHARS} characters.")
    try:
        value = json.loads(stripped, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"The {what} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except (ValueError, RecursionError) as error:
        raise ValidationError(f"The {what} is not valid JSON: {error}.") from None
    depth = _depth(value)
    if depth > EXAMPLE_DEPTH_MAX:
        raise ValidationError(
            f"The {what} nests {depth} levels deep; at most {EXAMPLE_DEPTH_MAX} are allowed: flatten it a little."
        )
    if _field_count(value) > EXAMPLE_FIELDS_MAX:
        raise ValidationError(f"The {what} has more than {EXAMPLE_FIELDS_MAX} fields: keep one or two items of a list.")
    return stripped


def infer_schema(value: Any) -> dict[str, Any]:
    """The JSON Schema genson infers from one example: types, nested objects, array items, and every
    key of an object as required."""
    builder = SchemaBuilder(schema_uri=None)
    builder.add_object(value)
    schema: dict[str, Any] = builder.to_schema()
    return schema


def shape_key(schema: dict[str, Any]) -> str:
    """A key equal for two schemas of the same shape (same fields, types and required fields)."""
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


def _types(schema: dict[str, Any]) -> list[str]:
    if "anyOf" in schema:
        return [t for option in schema["anyOf"] for t in _types(option)]
    kind = schema.get("type", "any")
    return list(kind) if isinstance(kind, list) else [str(kind)]


def _type_label(schema: dict[str, Any]) -> str:
    labels = []
    for kind in _types(schema):
        if kind == "array":
            items = schema.get("items")
            if isinstance(items, dict) and "anyOf" not in schema:
                kind = f"array of {_type_label(items)}" if items else "array"
        labels.append(kind)
    return " or ".join(dict.fromkeys(labels))


def schema_fields(schema: dict[str, Any], prefix: str = "", required: bool = True) -> list[SchemaField]:
    """The schema as a flat list of fields (`owner.name`, `tags[]`), depth first. A top-level array
    of objects lists its items' fields as `[].field`."""
    fields: list[SchemaField] = []
    options = schema.get("anyOf", [schema])
    for option in options:
        kinds = _types(option)
        if "object" in kinds:
            needed = set(option.get("required", []))
            for name, sub in option.get("properties", {}).items():
                path = f"{prefix}.{name}" if prefix else name
                fields.append(SchemaField(path, _type_label(sub), name in needed))
                fields.extend(schema_fields(sub, path, name in needed))
        if "array" in kinds and isinstance(option.get("items"), dict):
            fields.extend(schema_fields(option["items"], f"{prefix}[]", required))
    seen: dict[str, SchemaField] = {}
    for entry in fields:
        seen.setdefault(entry.name, entry)
    return list(seen.values())
