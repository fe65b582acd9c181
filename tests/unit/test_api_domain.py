"""The API contract's pure logic: examples checked, schemas inferred, diffs, and the two exports."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from openapi_spec_validator import validate

from bot.domain.api_contract import (
    EndpointForm,
    EndpointSpec,
    QueryParam,
    clean_endpoint,
    clean_path,
    parse_query_params,
    query_text,
)
from bot.domain.api_diff import ChangeKind, FieldChange, Part, describe_diff, diff_endpoints
from bot.domain.api_examples import EXAMPLE_DEPTH_MAX, SchemaField, infer_schema, parse_example, schema_fields
from bot.domain.api_export import openapi_document, postman_collection
from bot.domain.errors import ValidationError

POSTMAN_SCHEMA = Path(__file__).parents[1] / "data" / "postman" / "collection-v2.1.0.json"


def spec(response: object = None, *, status: int = 200, query: str = "", request: object = None) -> EndpointSpec:
    form = EndpointForm(
        json.dumps(request) if request is not None else "",
        json.dumps(response) if response is not None else "",
        query,
    )
    return clean_endpoint("POST" if request is not None else "GET", "/jobs/{job_id}", "A job", status, form)


# examples


def test_an_empty_example_is_none_and_a_valid_one_is_kept_as_typed():
    assert parse_example("  \n ", "response example") is None
    assert parse_example('{ "a" : 1 }\n', "response example") == '{ "a" : 1 }'


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"a": 1,}', "line 1, column 9"),
        ('{\n  "a": 1\n  "b": 2\n}', "line 3, column 3"),
        ("[1, 2", "line 1, column 6"),
        ("{'a': 1}", "line 1, column 2"),
    ],
)
def test_bad_json_names_the_line_and_column(text, where):
    with pytest.raises(ValidationError, match="response example is not valid JSON") as raised:
        parse_example(text, "response example")
    assert where in str(raised.value)


def test_json_constants_that_are_not_json_are_refused():
    with pytest.raises(ValidationError, match="NaN is not JSON"):
        parse_example('{"a": NaN}', "request body example")


def test_nesting_up_to_the_limit_is_fine_and_one_more_is_refused():
    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    assert parse_example(nested(EXAMPLE_DEPTH_MAX), "response example")
    with pytest.raises(ValidationError, match=f"nests {EXAMPLE_DEPTH_MAX + 1} levels deep"):
        parse_example(nested(EXAMPLE_DEPTH_MAX + 1), "response example")
    with pytest.raises(ValidationError, match=r"not valid JSON|levels deep|at most"):
        parse_example(nested(100_000), "response example")


def test_too_long_and_too_many_fields_are_refused():
    with pytest.raises(ValidationError, match="at most 4000 characters"):
        parse_example(json.dumps({"a": "x" * 5000}), "response example")
    with pytest.raises(ValidationError, match="more than 200 fields"):
        parse_example(json.dumps({f"f{i}": i for i in range(201)}), "response example")


def test_schema_fields_are_flat_with_types_and_required():
    schema = infer_schema([{"id": 1, "tags": ["a"], "owner": {"name": "x"}}, {"id": 2, "tags": [], "owner": None}])
    fields = {f.name: f for f in schema_fields(schema)}
    assert fields["[].id"] == SchemaField("[].id", "integer", True)
    assert fields["[].tags"].type == "array of string"
    assert fields["[].owner"].type == "null or object"
    assert fields["[].owner.name"] == SchemaField("[].owner.name", "string", True)  # within an owner


# path, query, form


@pytest.mark.parametrize("path", ["/api/jobs/{id", "/jobs/id}", "/jobs/{{id}}", "/jobs/}id{", "/a/{b}/{c"])
def test_unbalanced_braces_are_named(path):
    with pytest.raises(ValidationError, match="unbalanced braces"):
        clean_path(path)


def test_a_path_keeps_its_parameters_and_trailing_slash():
    assert clean_path(" /jobs/{job_id}/ ") == "/jobs/{job_id}/"
    assert spec().path_params == ["job_id"]


def test_query_parameters_round_trip_and_refuse_what_they_cannot_read():
    params = parse_query_params("page: integer\n\n  q : String, required ")
    assert params == (QueryParam("page", "integer"), QueryParam("q", "string", True))
    assert parse_query_params(query_text(params)) == params
    for text, message in (
        ("page integer", "line 1"),
        ("page: int", "must be one of"),
        ("a: string\na: integer", "declared twice"),
    ):
        with pytest.raises(ValidationError, match=message):
            parse_query_params(text)


def test_bodies_where_http_has_none_are_refused():
    with pytest.raises(ValidationError, match="GET request has no body"):
        clean_endpoint("GET", "/jobs", "List", 200, EndpointForm(request_example="{}"))
    with pytest.raises(ValidationError, match="204 response has no body"):
        clean_endpoint("DELETE", "/jobs/{id}", "Delete", 204, EndpointForm(response_example="{}"))


# diffs


def test_a_new_and_a_removed_endpoint():
    assert diff_endpoints(None, spec()) == [FieldChange(ChangeKind.ADDED, Part.ENDPOINT, after="200")]
    assert diff_endpoints(spec(), None) == [FieldChange(ChangeKind.REMOVED, Part.ENDPOINT, before="200")]
    assert diff_endpoints(spec({"a": 1}), spec({"a": 1})) == []


def test_response_fields_added_removed_and_changed():
    before = spec({"id": 1, "title": "Dev", "remote": True})
    after = spec({"id": "1", "title": "Dev", "salary": 5})
    assert describe_diff(diff_endpoints(before, after)) == [
        "+ response field salary (integer)",
        "− response field remote (boolean)",
        "~ response field id: integer → string",
    ]


def test_status_query_request_and_values_only():
    before = spec({"id": 1}, query="page: integer", request={"a": 1})
    after = spec({"id": 2}, status=201, query="page: string\nq: string, required", request={"a": 1, "b": [1]})
    lines = describe_diff(diff_endpoints(before, after))
    assert lines == [
        "~ status 200 → 201",
        "+ request field b (array of integer)",
        "~ response example values changed",
        "+ query parameter q (string, required)",
        "~ query parameter page: integer → string",
    ]


def test_an_example_added_or_removed_and_a_field_made_optional():
    assert describe_diff(diff_endpoints(spec(), spec({"a": 1}))) == [
        "+ response example added",
        "+ response field a (integer)",
    ]
    assert describe_diff(diff_endpoints(spec({"a": 1}), spec())) == ["− response example removed"]
    before, after = spec([{"a": 1, "b": 2}]), spec([{"a": 1, "b": 2}, {"a": 3}])
    assert describe_diff(diff_endpoints(before, after)) == ["~ response field [].b: integer → integer, optional"]


def test_a_long_diff_is_cut_and_counted():
    changes = diff_endpoints(spec({}), spec({f"f{i}": i for i in range(20)}))
    lines = describe_diff(changes, limit=5)
    assert len(lines) == 6 and lines[-1] == "… and 15 more change(s)"
    assert describe_diff([]) == ["no visible change"]


def test_a_snapshot_round_trips():
    original = spec({"id": 1}, query="page: integer, required", request={"a": [1]})
    assert EndpointSpec.from_snapshot(json.loads(json.dumps(original.snapshot()))) == original


# exports


def endpoints() -> list[EndpointSpec]:
    job = {"id": 1, "title": "Dev", "owner": {"name": "Acme"}}
    return [
        clean_endpoint(
            "GET", "/jobs", "List", 200, EndpointForm(response_example=json.dumps([job]), query="page: integer")
        ),
        clean_endpoint("GET", "/jobs/{job_id}", "One", 200, EndpointForm(response_example=json.dumps(job))),
        clean_endpoint(
            "PUT",
            "/jobs/{job_id}",
            "Replace",
            200,
            EndpointForm(request_example=json.dumps({**job, "id": 2}), response_example=json.dumps(job)),
        ),
        clean_endpoint("DELETE", "/jobs/{job_id}", "Delete", 204, EndpointForm(description="Gone.")),
        clean_endpoint("GET", "/health", "Alive", 200, EndpointForm(response_example='"ok"')),
    ]


def test_openapi_is_valid_and_shares_one_component_per_shape():
    document = openapi_document("Jobs API", endpoints(), version=4)
    validate(document)
    schemas = document["components"]["schemas"]
    assert sorted(schemas) == ["GetJobsByJobIdResponse", "GetJobsResponse"]
    put = document["paths"]["/jobs/{job_id}"]["put"]
    ref = {"$ref": "#/components/schemas/GetJobsByJobIdResponse"}
    assert put["requestBody"]["content"]["application/json"]["schema"] == ref
    assert put["responses"]["200"]["content"]["application/json"]["schema"] == ref
    health = document["paths"]["/health"]["get"]["responses"]["200"]["content"]["application/json"]
    assert health == {"schema": {"type": "string"}, "example": "ok"}
    assert document["paths"]["/jobs/{job_id}"]["delete"]["description"] == "Gone."
    assert document["info"]["version"] == "4"


def test_postman_collection_matches_postmans_schema():
    collection = postman_collection("Jobs API", endpoints())
    schema = json.loads(POSTMAN_SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(collection)
    one = collection["item"][2]
    assert one["request"]["url"]["raw"] == "{{baseUrl}}/jobs/:job_id"
    assert one["request"]["url"]["variable"] == [{"key": "job_id", "value": ""}]
    assert list(jsonschema.Draft7Validator(schema).iter_errors({"info": {"name": "x"}, "item": [{"request": 5}]}))
