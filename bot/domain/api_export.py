"""A team's contract as files tools read: OpenAPI 3.1 (Prism, Swagger UI) and a Postman collection v2.1."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from bot.domain.api_contract import HTTP_METHODS, EndpointSpec
from bot.domain.api_examples import infer_schema, shape_key

OPENAPI_VERSION = "3.1.0"
MOCK_SERVER_URL = "http://127.0.0.1:4010"
"""Where `prism mock openapi.yaml` listens by default: the export's server and Postman's {{baseUrl}}."""
POSTMAN_SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
JSON_MEDIA_TYPE = "application/json"


def operation_id(method: str, path: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", path.replace("{", "by_").replace("}", "")) if w]
    slash = "Slash" if len(path) > 1 and path.endswith("/") else ""  # operation ids must differ for /x and /x/
    return method.lower() + "".join(w[:1].upper() + w[1:] for w in words) + slash


def _ordered(endpoints: Sequence[EndpointSpec]) -> list[EndpointSpec]:
    return sorted(endpoints, key=lambda e: (e.path, HTTP_METHODS.index(e.method)))


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"


@dataclass
class _Components:
    """Schemas inferred from examples, one component per shape: two examples of the same shape share it."""

    schemas: dict[str, dict[str, Any]]
    names: dict[str, str]

    def ref(self, value: Any, wanted: str) -> dict[str, Any]:
        schema = infer_schema(value)
        if schema.get("type") not in ("object", "array"):
            return schema  # a bare number or string is clearer inline
        key = shape_key(schema)
        name = self.names.get(key)
        if name is None:
            name, n = wanted, 2
            while name in self.schemas:
                name, n = f"{wanted}{n}", n + 1
            self.names[key] = name
            self.schemas[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}


def _parameters(endpoint: EndpointSpec) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in endpoint.path_params
    ]
    params += [
        {"name": q.name, "in": "query", "required": q.required, "schema": {"type": q.type}} for q in endpoint.query
    ]
    return params


def openapi_document(
    title: str, endpoints: Sequence[EndpointSpec], *, version: int = 0, description: str = ""
) -> dict[str, Any]:
    """An OpenAPI 3.1 document: each endpoint's parameters, request and response schemas (inferred
    from the examples, shared in `components/schemas` by shape) and the examples themselves."""
    components = _Components({}, {})
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in _ordered(endpoints):
        op_id = operation_id(endpoint.method, endpoint.path)
        base = op_id[:1].upper() + op_id[1:]
        operation: dict[str, Any] = {"summary": endpoint.summary, "operationId": op_id}
        if endpoint.description:
            operation["description"] = endpoint.description
        params = _parameters(endpoint)
        if params:
            operation["parameters"] = params
        if endpoint.request_example is not None:
            value = endpoint.request_value
            operation["requestBody"] = {
                "required": True,
                "content": {JSON_MEDIA_TYPE: {"schema": components.ref(value, f"{base}Request"), "example": value}},
            }
        response: dict[str, Any] = {"description": _reason(endpoint.status)}
        if endpoint.response_example is not None:
            value = endpoint.response_value
            response["content"] = {
                JSON_MEDIA_TYPE: {"schema": components.ref(value, f"{base}Response"), "example": value}
            }
        operation["responses"] = {str(endpoint.status): response}
        operation["x-nexus-agreed"] = endpoint.agreed
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": str(version), "description": description},
        "servers": [{"url": MOCK_SERVER_URL, "description": "A mock server: prism mock openapi.yaml"}],
        "paths": paths,
    }
    if components.schemas:
        document["components"] = {"schemas": components.schemas}
    return document


def _postman_url(endpoint: EndpointSpec) -> dict[str, Any]:
    segments = [s for s in endpoint.path.split("/")[1:]]
    path = [f":{s[1:-1]}" if s.startswith("{") else s for s in segments]
    query = [
        {"key": q.name, "value": f"<{q.type}>", "description": "required" if q.required else "optional"}
        for q in endpoint.query
    ]
    raw = "{{baseUrl}}/" + "/".join(path)
    if query:
        raw += "?" + "&".join(f"{q['key']}={q['value']}" for q in query)
    url: dict[str, Any] = {"raw": raw, "host": ["{{baseUrl}}"], "path": path}
    if query:
        url["query"] = query
    if endpoint.path_params:
        url["variable"] = [{"key": name, "value": ""} for name in endpoint.path_params]
    return url


def _postman_request(endpoint: EndpointSpec) -> dict[str, Any]:
    request: dict[str, Any] = {"method": endpoint.method, "header": [], "url": _postman_url(endpoint)}
    if endpoint.request_example is not None:
        request["header"] = [{"key": "Content-Type", "value": JSON_MEDIA_TYPE}]
        request["body"] = {"mode": "raw", "raw": endpoint.request_example, "options": {"raw": {"language": "json"}}}
    if endpoint.description:
        request["description"] = endpoint.description
    return request


def postman_collection(title: str, endpoints: Sequence[EndpointSpec], *, description: str = "") -> dict[str, Any]:
    """A Postman collection v2.1: one request per endpoint, its example response saved with it, and a
    {{baseUrl}} variable pointing at the mock server."""
    items = []
    for endpoint in _ordered(endpoints):
        request = _postman_request(endpoint)
        response: dict[str, Any] = {
            "name": f"{endpoint.status} {_reason(endpoint.status)}",
            "originalRequest": request,
            "status": _reason(endpoint.status),
            "code": endpoint.status,
            "header": [],
            "body": "",
        }
        if endpoint.response_example is not None:
            response["header"] = [{"key": "Content-Type", "value": JSON_MEDIA_TYPE}]
            response["body"] = endpoint.response_example
            response["_postman_previewlanguage"] = "json"
        items.append(
            {
                "name": f"{endpoint.method} {endpoint.path} · {endpoint.summary}",
                "request": request,
                "response": [response],
            }
        )
    return {
        "info": {"name": title, "description": description, "schema": POSTMAN_SCHEMA},
        "item": items,
        "variable": [{"key": "baseUrl", "value": MOCK_SERVER_URL, "type": "string"}],
    }
