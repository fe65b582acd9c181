"""A team's API contract: endpoint validation and the OpenAPI 3.1 document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.errors import ValidationError
from bot.domain.text import strip_control

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PATH_MAX = 200
SUMMARY_MAX = 200
ENDPOINTS_MAX = 100
ENDPOINT_ID_MAX = 2**31 - 1
"""The largest endpoint id (the column is a 32-bit integer); a larger option is refused by Discord."""
OPENAPI_VERSION = "3.1.0"

_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\})$")
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class EndpointSpec:
    method: str
    path: str
    summary: str
    agreed: bool = False


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
    segments = value.rstrip("/").split("/")[1:]
    if not all(_SEGMENT.match(segment) for segment in segments):
        raise ValidationError(
            "A path is made of /segments with letters, digits, - . _ ~ or {parameter} names, e.g. /jobs/{job_id}."
        )
    names = _PARAM.findall(value)
    if len(names) != len(set(names)):
        raise ValidationError("Each {parameter} may appear only once in a path.")
    return value


def clean_summary(summary: str) -> str:
    value = " ".join(strip_control(summary, keep_newlines=False).split())
    if not value:
        raise ValidationError("Say in a few words what the endpoint does.")
    if len(value) > SUMMARY_MAX:
        raise ValidationError(f"A summary has at most {SUMMARY_MAX} characters.")
    return value


def _operation_id(method: str, path: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", path.replace("{", "by_").replace("}", "")) if w]
    slash = "Slash" if len(path) > 1 and path.endswith("/") else ""  # operation ids must differ for /x and /x/
    return method.lower() + "".join(w[:1].upper() + w[1:] for w in words) + slash


def openapi_document(title: str, endpoints: Sequence[EndpointSpec], *, description: str = "") -> dict[str, Any]:
    """An OpenAPI 3.1 document for the endpoints, with path parameters declared."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in sorted(endpoints, key=lambda e: (e.path, HTTP_METHODS.index(e.method))):
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "operationId": _operation_id(endpoint.method, endpoint.path),
            "responses": {"200": {"description": "Successful response"}},
            "x-nexus-agreed": endpoint.agreed,
        }
        params = _PARAM.findall(endpoint.path)
        if params:
            operation["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in params
            ]
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": "0.1.0", "description": description},
        "paths": paths,
    }
