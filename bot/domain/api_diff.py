"""What changed between two versions of an endpoint, as a short list a teammate reads in a DM."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain.api_contract import EndpointSpec, QueryParam
from bot.domain.api_examples import SchemaField, infer_schema, schema_fields

DIFF_LINES_MAX = 15
"""Changes listed at most in a notice; the rest are counted."""


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class Part(StrEnum):
    """Which part of an endpoint a change is in."""

    ENDPOINT = "endpoint"
    STATUS = "status"
    SUMMARY = "summary"
    DESCRIPTION = "description"
    REQUEST = "request"
    RESPONSE = "response"
    QUERY = "query"


@dataclass(frozen=True)
class FieldChange:
    """One difference: a field added, removed or changed (its type, or whether it is required), a
    status code, a summary; `before`/`after` are short descriptions (a type, a code)."""

    kind: ChangeKind
    part: Part
    name: str = ""
    before: str | None = None
    after: str | None = None


def _fields(example: str | None) -> dict[str, SchemaField] | None:
    if example is None:
        return None
    return {f.name: f for f in schema_fields(infer_schema(json.loads(example)))}


def _describe(field: SchemaField) -> str:
    return field.type if field.required else f"{field.type}, optional"


def _body_changes(part: Part, before: str | None, after: str | None) -> list[FieldChange]:
    old, new = _fields(before), _fields(after)
    if old is None and new is None:
        return []
    if old is None:
        return [FieldChange(ChangeKind.ADDED, part, "example")] + [
            FieldChange(ChangeKind.ADDED, part, name, after=_describe(f)) for name, f in (new or {}).items()
        ]
    if new is None:
        return [FieldChange(ChangeKind.REMOVED, part, "example")]
    changes = [
        FieldChange(ChangeKind.ADDED, part, name, after=_describe(f)) for name, f in new.items() if name not in old
    ]
    changes += [
        FieldChange(ChangeKind.REMOVED, part, name, before=_describe(f)) for name, f in old.items() if name not in new
    ]
    changes += [
        FieldChange(ChangeKind.CHANGED, part, name, _describe(old[name]), _describe(f))
        for name, f in new.items()
        if name in old and _describe(old[name]) != _describe(f)
    ]
    if not changes and before != after:
        changes.append(FieldChange(ChangeKind.CHANGED, part, "example", "values", "values"))
    return changes


def _query_changes(before: tuple[QueryParam, ...], after: tuple[QueryParam, ...]) -> list[FieldChange]:
    def describe(p: QueryParam) -> str:
        return p.type + (", required" if p.required else "")

    old, new = {p.name: p for p in before}, {p.name: p for p in after}
    changes = [FieldChange(ChangeKind.ADDED, Part.QUERY, n, after=describe(p)) for n, p in new.items() if n not in old]
    changes += [
        FieldChange(ChangeKind.REMOVED, Part.QUERY, n, before=describe(p)) for n, p in old.items() if n not in new
    ]
    changes += [
        FieldChange(ChangeKind.CHANGED, Part.QUERY, n, describe(old[n]), describe(p))
        for n, p in new.items()
        if n in old and old[n] != p
    ]
    return changes


def diff_endpoints(before: EndpointSpec | None, after: EndpointSpec | None) -> list[FieldChange]:
    """The changes from `before` to `after` (None: the endpoint did not exist / was removed)."""
    if before is None and after is None:
        return []
    if before is None:
        assert after is not None
        return [FieldChange(ChangeKind.ADDED, Part.ENDPOINT, after=f"{after.status}")]
    if after is None:
        return [FieldChange(ChangeKind.REMOVED, Part.ENDPOINT, before=f"{before.status}")]
    changes: list[FieldChange] = []
    if before.status != after.status:
        changes.append(FieldChange(ChangeKind.CHANGED, Part.STATUS, "", str(before.status), str(after.status)))
    if before.summary != after.summary:
        changes.append(FieldChange(ChangeKind.CHANGED, Part.SUMMARY, "", before.summary, after.summary))
    changes += _body_changes(Part.REQUEST, before.request_example, after.request_example)
    changes += _body_changes(Part.RESPONSE, before.response_example, after.response_example)
    changes += _query_changes(before.query, after.query)
    if before.description != after.description:
        changes.append(FieldChange(ChangeKind.CHANGED, Part.DESCRIPTION))
    return changes


_SIGN = {ChangeKind.ADDED: "+", ChangeKind.REMOVED: "−", ChangeKind.CHANGED: "~"}
_WHERE = {Part.REQUEST: "request", Part.RESPONSE: "response", Part.QUERY: "query parameter"}


def describe_change(change: FieldChange) -> str:
    """One change as a line of plain text, e.g. `+ response field salary (integer)`."""
    sign = _SIGN[change.kind]
    match change.part:
        case Part.ENDPOINT:
            return f"{sign} endpoint {change.kind.value}"
        case Part.STATUS:
            return f"{sign} status {change.before} → {change.after}"
        case Part.SUMMARY:
            return f"{sign} summary: {change.after}"
        case Part.DESCRIPTION:
            return f"{sign} description reworded"
        case Part.REQUEST | Part.RESPONSE if change.name == "example":
            what = {ChangeKind.ADDED: "added", ChangeKind.REMOVED: "removed", ChangeKind.CHANGED: "values changed"}
            return f"{sign} {_WHERE[change.part]} example {what[change.kind]}"
    where = _WHERE[change.part] + ("" if change.part is Part.QUERY else " field")
    if change.kind is ChangeKind.CHANGED:
        return f"{sign} {where} {change.name}: {change.before} → {change.after}"
    return f"{sign} {where} {change.name} ({change.after if change.kind is ChangeKind.ADDED else change.before})"


def describe_diff(changes: list[FieldChange], limit: int = DIFF_LINES_MAX) -> list[str]:
    """The changes as lines, at most `limit` of them and a count of the rest."""
    lines = [describe_change(c) for c in changes[:limit]]
    if len(changes) > limit:
        lines.append(f"… and {len(changes) - limit} more change(s)")
    return lines or ["no visible change"]


def snapshot_spec(data: dict[str, Any] | None) -> EndpointSpec | None:
    """An endpoint stored with a change (None when there was none)."""
    return None if data is None else EndpointSpec.from_snapshot(data)
