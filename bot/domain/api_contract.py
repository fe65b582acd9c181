"""A team's API contract: an endpoint as the team typed it, and the checks each part must pass."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from bot.domain.api_examples import parse_example
from bot.domain.errors import ValidationError
from bot.domain.text import strip_control

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PATH_MAX = 200
SUMMARY_MAX = 200
DESCRIPTION_MAX = 1000
"""Characters of an endpoint's description."""
QUERY_TEXT_MAX = 1000
"""Characters of the query parameters field (one `name: type` a line)."""
QUERY_PARAMS_MAX = 20
"""Query parameters an endpoint declares at most."""
ENDPOINTS_MAX = 100
ENDPOINT_ID_MAX = 2**31 - 1
"""The largest endpoint id (the column is a 32-bit integer); a larger option is refused by Discord."""
STATUS_MIN, STATUS_MAX = 100, 599
DEFAULT_STATUS = 200
NO_BODY_STATUSES = frozenset({204, 205, 304})
"""Responses that never carry a body, so they take no response example."""
QUERY_TYPES = ("string", "integer", "number", "boolean")
"""The types a query parameter may have (the JSON Schema names)."""

_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\})$")
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_QUERY_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\[\]-]*)\s*:\s*([A-Za-z]+)\s*(?:,\s*(required))?$", re.IGNORECASE)


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str
    required: bool = False


@dataclass(frozen=True)
class EndpointSpec:
    """One endpoint as agreed: what the OpenAPI and Postman exports and the change diffs are made of.

    Examples are kept as the JSON text the member typed (validated), so a form reopens as typed."""

    method: str
    path: str
    summary: str
    status: int = DEFAULT_STATUS
    request_example: str | None = None
    response_example: str | None = None
    query: tuple[QueryParam, ...] = field(default_factory=tuple)
    description: str = ""
    agreed: bool = False

    @property
    def path_params(self) -> list[str]:
        return path_params(self.path)

    @property
    def request_value(self) -> Any:
        return None if self.request_example is None else json.loads(self.request_example)

    @property
    def response_value(self) -> Any:
        return None if self.response_example is None else json.loads(self.response_example)

    def snapshot(self) -> dict[str, Any]:
        """The endpoint as plain JSON values (stored with each change, read back by `from_snapshot`)."""
        return {
            "method": self.method,
            "path": self.path,
            "summary": self.summary,
            "status": self.status,
            "request_example": self.request_example,
            "response_example": self.response_example,
            "query": query_text(self.query),
            "description": self.description,
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> EndpointSpec:
        return cls(
            method=str(data["method"]),
            path=str(data["path"]),
            summary=str(data.get("summary", "")),
            status=int(data.get("status", DEFAULT_STATUS)),
            request_example=data.get("request_example"),
            response_example=data.get("response_example"),
            query=parse_query_params(str(data.get("query", ""))),
            description=str(data.get("description", "")),
        )

    def same_contract(self, other: EndpointSpec) -> bool:
        """Whether both say the same (agreement aside)."""
        return replace(self, agreed=False) == replace(other, agreed=False)


@dataclass(frozen=True)
class EndpointForm:
    """The form's four fields, as typed."""

    request_example: str = ""
    response_example: str = ""
    query: str = ""
    description: str = ""


def clean_method(method: str) -> str:
    value = method.strip().upper()
    if value not in HTTP_METHODS:
        raise ValidationError(f"The method must be one of {', '.join(HTTP_METHODS)}.")
    return value


def clean_path(path: str) -> str:
    """An OpenAPI path such as /jobs/{job_id}/applications, kept as typed: a trailing slash stays
    (Django's routes need it), so /jobs/ and /jobs are different endpoints."""
    value = path.strip()
    if len(value) > PATH_MAX:
        raise ValidationError(f"A path has at most {PATH_MAX} characters.")
    if not value.startswith("/"):
        raise ValidationError("A path starts with /, e.g. /jobs/{job_id}.")
    if value == "/":
        return value
    depth = 0
    for char in value:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth not in (0, 1):
            break
    if depth != 0 or value.count("{") != value.count("}"):
        raise ValidationError(
            f"The path `{value.replace('`', '')}` has unbalanced braces: "
            "write each path parameter as {name}, e.g. /jobs/{job_id}."
        )
    segments = value.rstrip("/").split("/")[1:]
    if not all(_SEGMENT.match(segment) for segment in segments):
        raise ValidationError(
            "A path is made of /segments with letters, digits, - . _ ~ or {parameter} names, e.g. /jobs/{job_id}."
        )
    names = _PARAM.findall(value)
    if len(names) != len(set(names)):
        raise ValidationError("Each {parameter} may appear only once in a path.")
    return value


def path_params(path: str) -> list[str]:
    """The {parameter} names of a path, in order."""
    return _PARAM.findall(path)


def clean_summary(summary: str) -> str:
    value = " ".join(strip_control(summary, keep_newlines=False).split())
    if not value:
        raise ValidationError("Say in a few words what the endpoint does.")
    if len(value) > SUMMARY_MAX:
        raise ValidationError(f"A summary has at most {SUMMARY_MAX} characters.")
    return value


def clean_status(status: int) -> int:
    if not STATUS_MIN <= status <= STATUS_MAX:
        raise ValidationError(f"A status code is between {STATUS_MIN} and {STATUS_MAX}, e.g. 200 or 201.")
    return status


def clean_description(description: str) -> str:
    value = strip_control(description).strip()
    if len(value) > DESCRIPTION_MAX:
        raise ValidationError(f"A description has at most {DESCRIPTION_MAX} characters.")
    return value


def parse_query_params(text: str) -> tuple[QueryParam, ...]:
    """`name: type` a line (`, required` at the end makes it required); blank lines are skipped."""
    if len(text) > QUERY_TEXT_MAX:
        raise ValidationError(f"The query parameters take at most {QUERY_TEXT_MAX} characters.")
    params: list[QueryParam] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        found = _QUERY_LINE.match(line)
        if found is None:
            raise ValidationError(
                f"Query parameters, line {number}: write `name: type` (e.g. `page: integer`), "
                "one a line, with `, required` at the end if it must be given."
            )
        name, kind, required = found[1], found[2].lower(), bool(found[3])
        if kind not in QUERY_TYPES:
            raise ValidationError(
                f"Query parameters, line {number}: the type of `{name}` must be one of {', '.join(QUERY_TYPES)}."
            )
        if any(p.name == name for p in params):
            raise ValidationError(f"Query parameters, line {number}: `{name}` is declared twice.")
        params.append(QueryParam(name, kind, required))
    if len(params) > QUERY_PARAMS_MAX:
        raise ValidationError(f"An endpoint has at most {QUERY_PARAMS_MAX} query parameters.")
    return tuple(params)


def query_text(params: tuple[QueryParam, ...]) -> str:
    """The query parameters as the form shows them (what `parse_query_params` reads)."""
    return "\n".join(f"{p.name}: {p.type}{', required' if p.required else ''}" for p in params)


def clean_endpoint(method: str, path: str, summary: str, status: int, form: EndpointForm) -> EndpointSpec:
    """The endpoint the command's options and the form describe, or a ValidationError naming what is wrong."""
    method, path, summary, status = clean_method(method), clean_path(path), clean_summary(summary), clean_status(status)
    request = parse_example(form.request_example, "request body example")
    response = parse_example(form.response_example, "response example")
    if request is not None and method == "GET":
        raise ValidationError("A GET request has no body: leave the request body example empty.")
    if response is not None and status in NO_BODY_STATUSES:
        raise ValidationError(
            f"A {status} response has no body: leave the response example empty or pick another status."
        )
    return EndpointSpec(
        method=method,
        path=path,
        summary=summary,
        status=status,
        request_example=request,
        response_example=response,
        query=parse_query_params(form.query),
        description=clean_description(form.description),
    )
