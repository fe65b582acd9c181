"""Discord's contract as the emulator holds it: one valid and one invalid body per rule (pure, no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox import contract
from bot.sandbox.contract import (
    IS_COMPONENTS_V2,
    MAX_ACTION_ROWS,
    MAX_BUTTON_LABEL,
    MAX_CHOICE_NAME,
    MAX_CHOICES,
    MAX_COMMAND_OPTIONS,
    MAX_CONTENT,
    MAX_CUSTOM_ID,
    MAX_EMBED_FIELDS,
    MAX_EMBED_TOTAL,
    MAX_EMBEDS,
    MAX_MODAL_COMPONENTS,
    MAX_MODAL_TITLE,
    MAX_NONCE,
    MAX_ROW_BUTTONS,
    MAX_TEXT_INPUT_LABEL,
    MAX_TEXT_INPUT_PLACEHOLDER,
    MAX_TEXT_INPUT_VALUE,
    Violation,
    check_request,
    error_tree,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED_SPEC = ROOT.parent / "shared" / "discord-api-spec" / "openapi.json"

POST = ("POST", "/channels/1/messages")
EDIT = ("PATCH", "/channels/1/messages/2")
CALLBACK = ("POST", "/interactions/1/tok/callback")
FOLLOWUP = ("POST", "/webhooks/1/tok")
FOLLOWUP_EDIT = ("PATCH", "/webhooks/1/tok/messages/@original")
SYNC = ("PUT", "/applications/1/guilds/2/commands")
MESSAGE_ROUTES = [POST, EDIT, FOLLOWUP, FOLLOWUP_EDIT]


def paths(route: tuple[str, str], body: Any) -> dict[tuple[str, ...], str]:
    return {v.path: v.code for v in check_request(*route, body)}


def button(custom_id: str = "nexus:x:1", label: str = "Go") -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}


def row(*items: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(items)}


def text_input(**extra: Any) -> dict[str, Any]:
    return {"type": 4, "custom_id": "pitch", "style": 2, **extra}


def modal(**extra: Any) -> dict[str, Any]:
    data = {"custom_id": "nexus:announce", "title": "Announce", "components": [row(text_input(label="Pitch"))]}
    return {"type": 9, "data": {**data, **extra}}


def command(**extra: Any) -> dict[str, Any]:
    return {"name": "nexus", "description": "Nexus", "type": 1, "options": [], **extra}


def option(name: str, *, required: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": 3, "name": name, "description": "d", "required": required, **extra}


# ---------------------------------------------------------------------- the spec, its routes, its copy


@pytest.mark.skipif(not SHARED_SPEC.exists(), reason="no ../shared/discord-api-spec beside this checkout")
def test_the_vendored_spec_is_the_shared_copy() -> None:
    assert contract.SPEC_PATH.read_bytes() == SHARED_SPEC.read_bytes()
    assert (contract.SPEC_PATH.parent / "LICENSE").read_bytes() == (SHARED_SPEC.parent / "LICENSE").read_bytes()


@pytest.mark.parametrize(
    ("route", "schema"),
    [
        (POST, {"$ref": "#/components/schemas/MessageCreateRequest"}),
        (EDIT, {"$ref": "#/components/schemas/MessageEditRequestPartial"}),
        (FOLLOWUP_EDIT, {"$ref": "#/components/schemas/IncomingWebhookUpdateRequestPartial"}),
        (("POST", "/users/@me/channels"), {"$ref": "#/components/schemas/CreatePrivateChannelRequest"}),
    ],
)
def test_each_route_takes_the_schema_the_spec_gives_it(route: tuple[str, str], schema: dict[str, Any]) -> None:
    assert contract.request_schema(*route) == schema


def test_unions_and_command_sync_come_from_the_spec_paths() -> None:
    callback = contract.request_schema(*CALLBACK)
    assert callback is not None
    assert {"$ref": "#/components/schemas/ModalInteractionCallbackRequest"} in callback["anyOf"]
    followup = contract.request_schema(*FOLLOWUP)
    assert followup is not None
    assert {"$ref": "#/components/schemas/IncomingWebhookRequestPartial"} in followup["anyOf"]
    sync = contract.request_schema(*SYNC)
    assert sync is not None
    assert sync["items"] == {"$ref": "#/components/schemas/ApplicationCommandUpdateRequest"}


def test_routes_without_a_json_body_have_nothing_to_check() -> None:
    assert contract.route_for("GET", "/channels/1/messages") is None
    assert check_request("DELETE", "/channels/1/messages/2", None) == []
    assert check_request("POST", "/not/a/route", {"x": 1}) == []


# ---------------------------------------------------------------------- the spec's own rules


def test_a_typical_reply_is_valid_on_every_message_route() -> None:
    body = {
        "content": "hi",
        "embeds": [{"title": "t", "description": "d", "fields": [{"name": "n", "value": "v", "inline": True}]}],
        "components": [row(button("a"), button("b"))],
        "allowed_mentions": {"parse": [], "users": [123], "roles": ["456"]},
    }
    for route in MESSAGE_ROUTES:
        assert check_request(*route, body) == [], route


def test_spec_lengths_are_reported_where_they_are() -> None:
    assert paths(POST, {"embeds": [{"description": "d" * 4097}]}) == {
        ("embeds", "0", "description"): "BASE_TYPE_MAX_LENGTH"
    }
    assert paths(POST, {"embeds": [{"description": "d" * 4096}]}) == {}


def test_spec_required_fields() -> None:
    assert paths(FOLLOWUP, {"embeds": [{"fields": [{"name": "n"}]}]}) == {
        ("embeds", "0", "fields", "0", "value"): "BASE_TYPE_REQUIRED"
    }


def test_spec_types_and_nullable_fields() -> None:
    assert paths(POST, {"content": None, "embeds": None, "allowed_mentions": None, "tts": False}) == {}
    assert paths(POST, {"tts": "yes"}) == {("tts",): "BOOLEAN_TYPE_CONVERT"}


def test_a_wrong_component_is_reported_at_the_component() -> None:
    bad = paths(POST, {"components": [row({"type": 2, "label": "no style"})]})
    assert bad == {("components", "0", "components", "0", "style"): "BASE_TYPE_REQUIRED"}
    assert paths(POST, {"components": [{"type": 99}]}) == {("components", "0", "type"): "BASE_TYPE_CHOICES"}


def test_callback_types_pick_their_schema() -> None:
    assert paths(CALLBACK, {"type": 5, "data": {"flags": 64}}) == {}
    assert paths(CALLBACK, {"type": 6}) == {}
    assert paths(CALLBACK, {"type": 3}) == {("type",): "BASE_TYPE_CHOICES"}
    assert paths(CALLBACK, {"type": 9}) == {("data",): "BASE_TYPE_REQUIRED"}


def test_command_sync_against_the_spec() -> None:
    assert paths(SYNC, [command(options=[option("name", required=True)])]) == {}
    assert paths(SYNC, [command(name="n" * 33)]) == {("0", "name"): "BASE_TYPE_MAX_LENGTH"}


# ---------------------------------------------------------------------- the documented rules


@pytest.mark.parametrize("route", MESSAGE_ROUTES)
def test_content_is_at_most_2000_characters(route: tuple[str, str]) -> None:
    assert paths(route, {"content": "x" * MAX_CONTENT}) == {}
    assert paths(route, {"content": "x" * (MAX_CONTENT + 1)}) == {("content",): "BASE_TYPE_MAX_LENGTH"}


def test_content_rule_in_an_interaction_reply() -> None:
    assert paths(CALLBACK, {"type": 4, "data": {"content": "x" * MAX_CONTENT}}) == {}
    assert paths(CALLBACK, {"type": 7, "data": {"content": "x" * (MAX_CONTENT + 1)}}) == {
        ("data", "content"): "BASE_TYPE_MAX_LENGTH"
    }


def test_all_embeds_together_are_at_most_6000_characters() -> None:
    # 4 embeds of 1,500 characters each (every counted field is used once) are exactly at the limit
    def embed(size: int) -> dict[str, Any]:
        part = size // 6
        return {
            "title": "t" * part,
            "description": "d" * part,
            "fields": [{"name": "n" * part, "value": "v" * part}],
            "footer": {"text": "f" * part},
            "author": {"name": "a" * (size - 5 * part)},
        }

    assert paths(POST, {"embeds": [embed(1500)] * 4}) == {}
    assert sum(contract._embed_characters(embed(1500)) for _ in range(4)) == MAX_EMBED_TOTAL
    assert paths(POST, {"embeds": [embed(1500)] * 3 + [embed(1501)]}) == {("embeds",): "MAX_EMBED_SIZE_EXCEEDED"}


def test_at_most_25_fields_and_10_embeds() -> None:
    fields = [{"name": "n", "value": "v"}] * MAX_EMBED_FIELDS
    assert contract.message_rules({"embeds": [{"fields": fields}]}) == []
    assert contract.message_rules({"embeds": [{"fields": [*fields, fields[0]]}]}) == [
        Violation(("embeds", "0", "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    ]
    assert contract.message_rules({"embeds": [{}] * MAX_EMBEDS}) == []
    assert [v.path for v in contract.message_rules({"embeds": [{}] * (MAX_EMBEDS + 1)})] == [("embeds",)]
    assert paths(POST, {"embeds": [{"fields": [*fields, fields[0]]}]}) == {
        ("embeds", "0", "fields"): "BASE_TYPE_MAX_LENGTH"
    }


def test_at_most_5_action_rows_unless_components_v2() -> None:
    rows = [row(button(f"b{i}")) for i in range(MAX_ACTION_ROWS)]
    assert contract.message_rules({"components": rows}) == []
    assert [v.path for v in contract.message_rules({"components": [*rows, row(button("x"))]})] == [("components",)]
    v2 = {"flags": IS_COMPONENTS_V2, "components": [*rows, row(button("x"))]}
    assert contract.message_rules(v2) == []


def test_at_most_5_buttons_a_row() -> None:
    buttons = [button(f"b{i}") for i in range(MAX_ROW_BUTTONS)]
    assert contract.message_rules({"components": [row(*buttons)]}) == []
    assert [v.path for v in contract.message_rules({"components": [row(*buttons, button("x"))]})] == [
        ("components", "0", "components")
    ]
    assert paths(POST, {"components": [row(*buttons, button("x"))]}) == {
        ("components", "0", "components"): "BASE_TYPE_MAX_LENGTH"
    }


def test_custom_id_is_1_to_100_characters() -> None:
    assert contract.message_rules({"components": [row(button("c" * MAX_CUSTOM_ID))]}) == []
    too_long = {"components": [row(button("c" * (MAX_CUSTOM_ID + 1)))]}
    assert [v.path for v in contract.message_rules(too_long)] == [("components", "0", "components", "0", "custom_id")]
    assert paths(POST, too_long) == {("components", "0", "components", "0", "custom_id"): "BASE_TYPE_MAX_LENGTH"}


def test_button_label_is_at_most_80_characters() -> None:
    assert contract.message_rules({"components": [row(button(label="l" * MAX_BUTTON_LABEL))]}) == []
    bad = {"components": [row(button(label="l" * (MAX_BUTTON_LABEL + 1)))]}
    assert [v.path for v in contract.message_rules(bad)] == [("components", "0", "components", "0", "label")]


def test_modal_title_and_component_count() -> None:
    assert contract.modal_rules(modal(title="t" * MAX_MODAL_TITLE)["data"]) == []
    assert [v.path for v in contract.modal_rules(modal(title="t" * (MAX_MODAL_TITLE + 1))["data"])] == [("title",)]
    rows = [row(text_input(custom_id=f"f{i}", label="L")) for i in range(MAX_MODAL_COMPONENTS)]
    assert contract.modal_rules(modal(components=rows)["data"]) == []
    too_many = modal(components=[*rows, row(text_input(custom_id="x", label="L"))])
    assert [v.path for v in contract.modal_rules(too_many["data"])] == [("components",)]
    assert paths(CALLBACK, too_many) == {("data", "components"): "BASE_TYPE_BAD_LENGTH"}
    assert paths(CALLBACK, modal(title="t" * 46)) == {("data", "title"): "BASE_TYPE_MAX_LENGTH"}
    assert [v.path for v in contract.modal_rules(modal(custom_id="")["data"])] == [("custom_id",)]


@pytest.mark.parametrize(
    ("field", "limit"),
    [("label", MAX_TEXT_INPUT_LABEL), ("value", MAX_TEXT_INPUT_VALUE), ("placeholder", MAX_TEXT_INPUT_PLACEHOLDER)],
)
def test_text_input_lengths(field: str, limit: int) -> None:
    fine = modal(components=[row(text_input(**{"label": "L", field: "x" * limit}))])
    assert contract.modal_rules(fine["data"]) == []
    assert paths(CALLBACK, fine) == {}
    bad = modal(components=[row(text_input(**{"label": "L", field: "x" * (limit + 1)}))])
    where = ("components", "0", "components", "0", field)
    assert [v.path for v in contract.modal_rules(bad["data"])] == [where]
    assert paths(CALLBACK, bad) == {("data", *where): "BASE_TYPE_MAX_LENGTH"}


def test_a_label_component_holds_its_text_input() -> None:
    label = {"type": 18, "label": "Pitch", "component": text_input(value="v" * MAX_TEXT_INPUT_VALUE)}
    assert paths(CALLBACK, modal(components=[label])) == {}
    label["label"] = "l" * (MAX_TEXT_INPUT_LABEL + 1)
    label["component"] = text_input(value="v" * (MAX_TEXT_INPUT_VALUE + 1))
    assert paths(CALLBACK, modal(components=[label])) == {
        ("data", "components", "0", "label"): "BASE_TYPE_MAX_LENGTH",
        ("data", "components", "0", "component", "value"): "BASE_TYPE_MAX_LENGTH",
    }


def test_autocomplete_choices() -> None:
    choices = [{"name": "n" * MAX_CHOICE_NAME, "value": "v"}] * MAX_CHOICES
    assert contract.choice_rules({"choices": choices}) == []
    assert paths(CALLBACK, {"type": 8, "data": {"choices": choices}}) == {}
    assert [v.path for v in contract.choice_rules({"choices": [*choices, choices[0]]})] == [("choices",)]
    bad_names = [{"name": "", "value": "v"}, {"name": "n" * (MAX_CHOICE_NAME + 1), "value": "v"}]
    assert [v.path for v in contract.choice_rules({"choices": bad_names})] == [
        ("choices", "0", "name"),
        ("choices", "1", "name"),
    ]
    assert paths(CALLBACK, {"type": 8, "data": {"choices": bad_names}}) == {
        ("data", "choices", "0", "name"): "BASE_TYPE_MIN_LENGTH",
        ("data", "choices", "1", "name"): "BASE_TYPE_MAX_LENGTH",
    }


def test_nonce_is_at_most_25_characters() -> None:
    assert paths(POST, {"content": "x", "nonce": "n" * MAX_NONCE, "enforce_nonce": True}) == {}
    assert paths(POST, {"content": "x", "nonce": 12345678901234567}) == {}
    assert contract.message_rules({"nonce": "n" * (MAX_NONCE + 1)}) == [
        Violation(("nonce",), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    ]
    assert paths(POST, {"content": "x", "nonce": "n" * (MAX_NONCE + 1)}) == {("nonce",): "BASE_TYPE_MAX_LENGTH"}


def test_command_rules() -> None:
    good = command(options=[option("a", required=True), option("b")])
    assert contract.command_rules(good) == []
    assert [v.path for v in contract.command_rules(command(name="Nexus"))] == [("name",)]
    assert [v.path for v in contract.command_rules(command(description=""))] == [("description",)]
    late = command(options=[option("a"), option("b", required=True)])
    assert [v.code for v in contract.command_rules(late)] == ["APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"]
    many = command(options=[option(f"o{i}") for i in range(MAX_COMMAND_OPTIONS + 1)])
    assert [v.path for v in contract.command_rules(many)] == [("options",)]
    deep = command(
        options=[
            {"type": 2, "name": "g", "description": "d", "options": [{"type": 2, "name": "h", "description": "d"}]}
        ]
    )
    assert [v.code for v in contract.command_rules(deep)] == ["APPLICATION_COMMAND_TOO_DEEP"]
    assert paths(SYNC, [good, late]) == {
        ("1", "options", "1", "required"): "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"
    }


# ---------------------------------------------------------------------- Discord's error format


def test_error_tree_is_discords_nested_form() -> None:
    tree = error_tree(check_request(*POST, {"content": "x" * 2001, "embeds": [{"description": "d" * 4097}]}))
    assert tree == {
        "content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]},
        "embeds": {
            "0": {
                "description": {
                    "_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 4096 or fewer in length."}]
                }
            }
        },
    }
    json.dumps(tree)


def test_one_violation_per_place() -> None:
    # the spec and the documented rule both object to this custom_id; Discord names it once
    found = check_request(*POST, {"components": [row(button("c" * 101))]})
    assert len(found) == 1
