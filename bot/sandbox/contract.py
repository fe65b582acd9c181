"""What Discord accepts: every request body held to Discord's published contract.

Two sources, checked together by `check_request`:

* Discord's own OpenAPI 3.1 description of API v10 (`discord_api_spec/openapi.json`, vendored), whose
  request schemas (`paths` -> `requestBody`) give field types, required fields, enums and most lengths.
  Each route's schema is read from the spec's `paths`, never named here by hand.
* The limits Discord documents but the spec leaves out (or states more loosely, as 4,000 characters of
  `content` where a bot gets 2,000): the named constants below, each citing the page that states it.

A violation is a `Violation(path, code, message)`; `error_tree` turns a list of them into the nested
`errors` object of Discord's `50035 Invalid Form Body` answer. Pure functions: no I/O after the spec is
loaded (once, lazily), no Discord objects.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).with_name("discord_api_spec") / "openapi.json"
SPEC_URI = "https://discord.com/api/v10/openapi.json"
JSON = "application/json"

# ---------------------------------------------------------------------- documented limits
# https://discord.com/developers/docs/resources/message#create-message : "the message contents (up to
# 2000 characters)"; the spec allows 4,000 (what Nitro users may send), a bot gets 2,000.
MAX_CONTENT = 2000
# https://discord.com/developers/docs/resources/message#create-message : "Up to 10 rich embeds".
MAX_EMBEDS = 10
# https://discord.com/developers/docs/resources/message#embed-object-embed-limits : the characters in
# all title, description, field.name, field.value, footer.text and author.name of all embeds of one
# message "must not exceed 6000 characters"; the spec has no cross-field limit.
MAX_EMBED_TOTAL = 6000
# https://discord.com/developers/docs/resources/message#embed-object-embed-limits : "Up to 25 field objects".
MAX_EMBED_FIELDS = 25
# https://discord.com/developers/docs/components/reference#action-row : "can contain up to 5 action
# rows"... "up to 5 contextually grouped buttons" per row (without the IS_COMPONENTS_V2 flag).
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
# https://discord.com/developers/docs/resources/message#message-object-message-flags : IS_COMPONENTS_V2
# lifts the 5-row rule (layout components, up to 40 in total, which the spec states).
IS_COMPONENTS_V2 = 1 << 15
# https://discord.com/developers/docs/components/reference#anatomy-of-a-component : "custom_id ...
# max 100 characters", for every interactive component and for a modal.
MAX_CUSTOM_ID = 100
# https://discord.com/developers/docs/components/reference#button : "Text that appears on the button; max 80 characters".
MAX_BUTTON_LABEL = 80
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-modal :
# "title: Title of the popup modal, max 45 characters"; "components: Between 1 and 5".
MAX_MODAL_TITLE = 45
MAX_MODAL_COMPONENTS = 5
# https://discord.com/developers/docs/components/reference#text-input and #label : a label "max 45
# characters"; a pre-filled value "max 4000 characters"; a placeholder "max 100 characters".
MAX_TEXT_INPUT_LABEL = 45
MAX_TEXT_INPUT_VALUE = 4000
MAX_TEXT_INPUT_PLACEHOLDER = 100
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-autocomplete :
# "autocomplete suggestions, max 25 choices"; a choice's name is "1-100 character[s]".
MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
# https://discord.com/developers/docs/resources/message#create-message : nonce "integer or string (max 25 characters)".
MAX_NONCE = 25
# https://discord.com/developers/docs/interactions/application-commands#application-command-object :
# names match ^[-_\p{L}\p{N}...]{1,32}$ (lower case for slash commands), descriptions are 1-100
# characters, "up to 25" options and choices, subcommands nest two levels deep, and "required options
# must be listed before optional options".
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
MAX_COMMAND_DESCRIPTION = 100
MAX_COMMAND_OPTIONS = 25
MAX_OPTION_CHOICES = 25

MESSAGE_CALLBACKS = (4, 7)
"""CHANNEL_MESSAGE_WITH_SOURCE and UPDATE_MESSAGE: callbacks whose `data` is a message."""
AUTOCOMPLETE_CALLBACK, MODAL_CALLBACK = 8, 9
SUBCOMMAND, SUBCOMMAND_GROUP = 1, 2
ACTION_ROW, BUTTON, TEXT_INPUT, LABEL = 1, 2, 4, 18

Path_ = tuple[str, ...]


class Violation(NamedTuple):
    """One broken rule: where in the JSON body (keys and list indexes), Discord's code, a sentence."""

    path: Path_
    code: str
    message: str


def _too_long(path: Path_, limit: int) -> Violation:
    return Violation(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _bad_length(path: Path_, low: int, high: int) -> Violation:
    return Violation(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


# ---------------------------------------------------------------------- the spec


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _discriminator(schemas: dict[str, Any], branch: Any) -> list[Any] | None:
    """The `type` values a union branch (a $ref to an object that requires `type`) accepts."""
    if (
        not isinstance(branch, dict)
        or set(branch) != {"$ref"}
        or not branch["$ref"].startswith("#/components/schemas/")
    ):
        return None
    target = schemas.get(branch["$ref"].rsplit("/", 1)[1], {})
    enum = target.get("properties", {}).get("type", {}).get("enum")
    if not isinstance(enum, list) or "type" not in target.get("required", []):
        return None
    return enum


def _adapt(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with its unions in a form that validates fast and reports errors where they are.

    Equivalent rewrites only, plus the quirks listed inline (where Discord accepts what its preview
    spec does not say):
    * `oneOf: [{type: null}, X]` becomes `if: {type: null}, else: X`;
    * a union whose branches are objects told apart by their `type` (components, callbacks, options)
      becomes one `if: {type is v}, then: branch` per branch plus an enum on `type`, so a wrong button
      is reported at the button, not as "valid under none of 7 schemas" at the row.
    """
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    # Quirk: snowflakes are strings in what Discord sends, but it takes integers in requests, and
    # discord.py sends some as integers (allowed_mentions.users and roles, for one).
    snowflake = schemas["SnowflakeType"]
    schemas["SnowflakeType"] = {"anyOf": [snowflake, {"type": "integer", "minimum": 0}]}
    for node in list(_walk(spec)):
        for key in ("oneOf", "anyOf"):
            branches = node.get(key)
            if not isinstance(branches, list):
                continue
            others = [b for b in branches if b != {"type": "null"}]
            if len(branches) == 2 and len(others) == 1:
                del node[key]
                node["if"] = {"type": "null"}
                node["else"] = others[0]
                break
            values = [_discriminator(schemas, b) for b in branches]
            if all(v is not None for v in values) and len(branches) > 1:
                flat = [v for vs in values if vs is not None for v in vs]
                if len(flat) != len(set(flat)):
                    continue
                del node[key]
                node.setdefault("allOf", []).extend(
                    [
                        {"type": "object", "required": ["type"], "properties": {"type": {"enum": flat}}},
                        *(
                            {"if": {"properties": {"type": {"enum": vs}}}, "then": b}
                            for vs, b in zip(values, branches, strict=True)
                        ),
                    ]
                )
                break
    return spec


@functools.cache
def _spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as f:
        return _adapt(json.load(f))


@functools.cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(_spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


class Route(NamedTuple):
    """One path template and method of the spec that takes a JSON body."""

    template: str
    method: str
    pattern: re.Pattern[str]
    literals: int

    @property
    def pointer(self) -> str:
        escaped = self.template.replace("~", "~0").replace("/", "~1")
        return f"/paths/{escaped}/{self.method.lower()}/requestBody/content/{JSON.replace('/', '~1')}/schema"


@functools.cache
def _routes() -> dict[str, list[Route]]:
    """The spec's routes with a JSON request body, by method, most literal template first."""
    routes: dict[str, list[Route]] = {}
    for template, item in _spec()["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or JSON not in operation.get("requestBody", {}).get("content", {}):
                continue
            parts = template.strip("/").split("/")
            regex = "/".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
            literals = sum(not p.startswith("{") for p in parts)
            routes.setdefault(method.upper(), []).append(
                Route(template, method.upper(), re.compile(f"/{regex}"), literals)
            )
    for found in routes.values():
        found.sort(key=lambda r: -r.literals)
    return routes


def route_for(method: str, path: str) -> Route | None:
    """The spec's route for `method path` (path after `/api/v10`), if it takes a JSON body."""
    for route in _routes().get(method.upper(), []):
        if route.pattern.fullmatch(path):
            return route
    return None


@functools.cache
def _validator(route: Route) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{SPEC_URI}#{route.pointer}"}, registry=_registry())


def request_schema(method: str, path: str) -> dict[str, Any] | None:
    """The spec's JSON request schema for a route, as the spec states it (for reports and tests)."""
    route = route_for(method, path)
    if route is None:
        return None
    with SPEC_PATH.open(encoding="utf-8") as f:
        schema: dict[str, Any] = json.load(f)["paths"][route.template][route.method.lower()]["requestBody"]
    return schema["content"][JSON]["schema"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- schema errors as Discord words them


def _path(error: ValidationError) -> Path_:
    return tuple(str(p) for p in error.absolute_path)


_TYPE_WORDS = {
    "object": ("MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType"),
    "array": ("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"),
    "integer": ("NUMBER_TYPE_COERCE", "Value is not int."),
    "number": ("NUMBER_TYPE_COERCE", "Value is not a number."),
    "boolean": ("BOOLEAN_TYPE_CONVERT", "Value must be one of (True, False)."),
    "string": ("STRING_TYPE_CONVERT", "Could not interpret value as string."),
}


def _schema_violations(error: ValidationError) -> Iterator[Violation]:
    """Discord's wording of one jsonschema error (descending into the branch a union meant)."""
    path = _path(error)
    kind, limit = error.validator, cast(Any, error.validator_value)
    if kind in ("oneOf", "anyOf"):
        yield from _union_violations(error)
    elif kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        for name in limit:
            if name not in present:
                yield Violation((*path, name), "BASE_TYPE_REQUIRED", "This field is required")
    elif kind in ("maxLength", "maxItems", "maxProperties"):
        yield _too_long(path, limit)
    elif kind in ("minLength", "minItems"):
        yield Violation(path, "BASE_TYPE_MIN_LENGTH", f"Must be {limit} or more in length.")
    elif kind in ("enum", "const"):
        values = limit if kind == "enum" else [limit]
        yield Violation(path, "BASE_TYPE_CHOICES", f"Value must be one of {{{', '.join(map(str, values))}}}.")
    elif kind == "type":
        wanted = [t for t in ([limit] if isinstance(limit, str) else limit) if t != "null"]
        code, message = _TYPE_WORDS.get(wanted[0] if wanted else "", ("BASE_TYPE_INVALID", "Invalid type."))
        yield Violation(path, code, message)
    elif kind in ("minimum", "exclusiveMinimum"):
        yield Violation(path, "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {limit}.")
    elif kind in ("maximum", "exclusiveMaximum"):
        yield Violation(path, "NUMBER_TYPE_MAX", f"int value should be less than or equal to {limit}.")
    elif kind == "pattern":
        yield Violation(path, "STRING_TYPE_REGEX", "String value did not match validation regex.")
    elif kind == "uniqueItems":
        yield Violation(path, "SET_TYPE_ALREADY_CONTAINS_VALUE", "The set contains duplicate values.")
    else:
        yield Violation(path, "BASE_TYPE_INVALID", f"Invalid value ({kind}).")


def _union_violations(error: ValidationError) -> Iterator[Violation]:
    """A union no branch accepted: report the errors of the branch the body most plausibly meant."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)
    here = _path(error)
    plausible = [
        errors
        for errors in branches.values()
        if not any(
            (_path(e) == here and e.validator == "type")
            or (_path(e) == (*here, "type") and e.validator in ("enum", "const"))
            for e in errors
        )
    ]
    if not plausible:
        yield Violation(here, "UNION_TYPE_CHOICES", "Value does not match any of the accepted shapes.")
        return
    for sub in min(plausible, key=len):
        yield from _schema_violations(sub)


# ---------------------------------------------------------------------- the documented rules


def _components(items: Any, path: Path_) -> Iterator[tuple[Path_, dict[str, Any]]]:
    """Every component under `items` with its path (rows, their children, section accessories)."""
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        here = (*path, str(index))
        yield here, item
        yield from _components(item.get("components"), (*here, "components"))
        if isinstance(item.get("component"), dict):
            yield (*here, "component"), item["component"]
        if isinstance(item.get("accessory"), dict):
            yield (*here, "accessory"), item["accessory"]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _embed_characters(embed: dict[str, Any]) -> int:
    """What counts towards MAX_EMBED_TOTAL: title, description, field names and values, footer, author."""
    fields, footer, author = embed.get("fields"), embed.get("footer"), embed.get("author")
    fields = fields if isinstance(fields, list) else []
    footer = footer if isinstance(footer, dict) else {}
    author = author if isinstance(author, dict) else {}
    return (
        len(_text(embed.get("title")))
        + len(_text(embed.get("description")))
        + sum(len(_text(f.get("name"))) + len(_text(f.get("value"))) for f in fields if isinstance(f, dict))
        + len(_text(footer.get("text")))
        + len(_text(author.get("name")))
    )


def message_rules(body: Any, path: Path_ = ()) -> list[Violation]:
    """The documented limits of a message body (create, edit, interaction reply, follow-up)."""
    if not isinstance(body, dict):
        return []
    found: list[Violation] = []
    if len(_text(body.get("content"))) > MAX_CONTENT:
        found.append(_too_long((*path, "content"), MAX_CONTENT))
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > MAX_NONCE:
        found.append(_too_long((*path, "nonce"), MAX_NONCE))
    embeds = body.get("embeds")
    if isinstance(embeds, list):
        if len(embeds) > MAX_EMBEDS:
            found.append(_too_long((*path, "embeds"), MAX_EMBEDS))
        embed_dicts = [e for e in embeds if isinstance(e, dict)]
        for index, embed in enumerate(embeds):
            fields = embed.get("fields") if isinstance(embed, dict) else None
            if isinstance(fields, list) and len(fields) > MAX_EMBED_FIELDS:
                found.append(_too_long((*path, "embeds", str(index), "fields"), MAX_EMBED_FIELDS))
        if sum(_embed_characters(e) for e in embed_dicts) > MAX_EMBED_TOTAL:
            found.append(
                Violation(
                    (*path, "embeds"),
                    "MAX_EMBED_SIZE_EXCEEDED",
                    f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
                )
            )
    components = body.get("components")
    flags: int = body["flags"] if isinstance(body.get("flags"), int) else 0
    if isinstance(components, list) and not flags & IS_COMPONENTS_V2 and len(components) > MAX_ACTION_ROWS:
        found.append(_bad_length((*path, "components"), 1, MAX_ACTION_ROWS))
    for where, component in _components(components, (*path, "components")):
        found.extend(_component_rules(component, where))
    return found


def _component_rules(component: dict[str, Any], path: Path_) -> list[Violation]:
    found: list[Violation] = []
    custom_id = component.get("custom_id")
    if isinstance(custom_id, str) and not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
        found.append(_bad_length((*path, "custom_id"), 1, MAX_CUSTOM_ID))
    kind = component.get("type")
    children = component.get("components")
    if kind == ACTION_ROW and isinstance(children, list) and len(children) > MAX_ROW_BUTTONS:
        found.append(_bad_length((*path, "components"), 1, MAX_ROW_BUTTONS))
    if kind == BUTTON and len(_text(component.get("label"))) > MAX_BUTTON_LABEL:
        found.append(_too_long((*path, "label"), MAX_BUTTON_LABEL))
    if kind == LABEL and len(_text(component.get("label"))) > MAX_TEXT_INPUT_LABEL:
        found.append(_too_long((*path, "label"), MAX_TEXT_INPUT_LABEL))
    if kind == TEXT_INPUT:
        if len(_text(component.get("label"))) > MAX_TEXT_INPUT_LABEL:
            found.append(_too_long((*path, "label"), MAX_TEXT_INPUT_LABEL))
        if len(_text(component.get("value"))) > MAX_TEXT_INPUT_VALUE:
            found.append(_too_long((*path, "value"), MAX_TEXT_INPUT_VALUE))
        if len(_text(component.get("placeholder"))) > MAX_TEXT_INPUT_PLACEHOLDER:
            found.append(_too_long((*path, "placeholder"), MAX_TEXT_INPUT_PLACEHOLDER))
    return found


def modal_rules(data: Any, path: Path_ = ()) -> list[Violation]:
    """The documented limits of a modal (the `data` of a MODAL callback)."""
    if not isinstance(data, dict):
        return []
    found: list[Violation] = []
    if not 1 <= len(_text(data.get("custom_id"))) <= MAX_CUSTOM_ID:
        found.append(_bad_length((*path, "custom_id"), 1, MAX_CUSTOM_ID))
    if not 1 <= len(_text(data.get("title"))) <= MAX_MODAL_TITLE:
        found.append(_bad_length((*path, "title"), 1, MAX_MODAL_TITLE))
    components = data.get("components")
    count = len(components) if isinstance(components, list) else 0
    if not 1 <= count <= MAX_MODAL_COMPONENTS:
        found.append(_bad_length((*path, "components"), 1, MAX_MODAL_COMPONENTS))
    for where, component in _components(components, (*path, "components")):
        found.extend(_component_rules(component, where))
    return found


def choice_rules(data: Any, path: Path_ = ()) -> list[Violation]:
    """The documented limits of autocomplete suggestions (the `data` of an AUTOCOMPLETE callback)."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list):
        return []
    found: list[Violation] = []
    if len(choices) > MAX_CHOICES:
        found.append(_too_long((*path, "choices"), MAX_CHOICES))
    for index, choice in enumerate(choices):
        name = choice.get("name") if isinstance(choice, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_CHOICE_NAME:
            found.append(_bad_length((*path, "choices", str(index), "name"), 1, MAX_CHOICE_NAME))
    return found


def command_rules(command: Any, path: Path_ = ()) -> list[Violation]:
    """The documented rules of one application command as the bot registers it."""
    if not isinstance(command, dict):
        return []
    found: list[Violation] = []
    name = _text(command.get("name"))
    slash = command.get("type", 1) in (1, None)
    if not COMMAND_NAME.match(name) or (slash and name != name.lower()):
        found.append(Violation((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"))
    if slash and not 1 <= len(_text(command.get("description"))) <= MAX_COMMAND_DESCRIPTION:
        found.append(_bad_length((*path, "description"), 1, MAX_COMMAND_DESCRIPTION))
    found.extend(_option_rules(command.get("options"), (*path, "options"), None))
    return found


def _option_rules(options: Any, path: Path_, parent: int | None) -> list[Violation]:
    """Options under a command (parent None), a subcommand group or a subcommand."""
    if not isinstance(options, list):
        return []
    found: list[Violation] = []
    if len(options) > MAX_COMMAND_OPTIONS:
        found.append(_too_long(path, MAX_COMMAND_OPTIONS))
    seen_optional = False
    for index, option in enumerate(options):
        if not isinstance(option, dict):
            continue
        here = (*path, str(index))
        name = _text(option.get("name"))
        if not COMMAND_NAME.match(name) or name != name.lower():
            found.append(Violation((*here, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"))
        if not 1 <= len(_text(option.get("description"))) <= MAX_COMMAND_DESCRIPTION:
            found.append(_bad_length((*here, "description"), 1, MAX_COMMAND_DESCRIPTION))
        if option.get("type") in (SUBCOMMAND, SUBCOMMAND_GROUP):
            # a group sits only on the command, a subcommand on the command or a group
            if parent == SUBCOMMAND or (parent is not None and option.get("type") == SUBCOMMAND_GROUP):
                found.append(Violation(here, "APPLICATION_COMMAND_TOO_DEEP", "Subcommands nest two levels at most"))
            found.extend(_option_rules(option.get("options"), (*here, "options"), option.get("type")))
            continue
        if option.get("required"):
            if seen_optional:
                found.append(
                    Violation(
                        (*here, "required"),
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
                )
        else:
            seen_optional = True
        choices = option.get("choices")
        if isinstance(choices, list) and len(choices) > MAX_OPTION_CHOICES:
            found.append(_too_long((*here, "choices"), MAX_OPTION_CHOICES))
    return found


_MESSAGE_ROUTES = frozenset(
    {
        ("POST", "/channels/{channel_id}/messages"),
        ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
        ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
    }
)
_COMMAND_ROUTES = frozenset(
    {
        ("PUT", "/applications/{application_id}/commands"),
        ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"),
    }
)
_CALLBACK_ROUTE = ("POST", "/interactions/{interaction_id}/{interaction_token}/callback")


def documented_rules(route: Route, body: Any) -> list[Violation]:
    """The documented limits the spec does not state, for the routes they apply to."""
    key = (route.method, route.template)
    if key in _MESSAGE_ROUTES:
        return message_rules(body)
    if key in _COMMAND_ROUTES and isinstance(body, list):
        return [v for index, command in enumerate(body) for v in command_rules(command, (str(index),))]
    if key == _CALLBACK_ROUTE and isinstance(body, dict):
        kind, data = body.get("type"), body.get("data")
        if kind in MESSAGE_CALLBACKS:
            return message_rules(data, ("data",))
        if kind == AUTOCOMPLETE_CALLBACK:
            return choice_rules(data, ("data",))
        if kind == MODAL_CALLBACK:
            return modal_rules(data, ("data",))
    return []


def check_request(method: str, path: str, body: Any) -> list[Violation]:
    """Every way `body` breaks Discord's contract for `method path` (path after `/api/v10`).

    Routes the spec gives no JSON body, and requests without a body, have nothing to check.
    """
    route = route_for(method, path)
    if route is None or body is None:
        return []
    key = json.dumps(body, sort_keys=True)
    return list(_check(route, key))


@functools.lru_cache(maxsize=4096)
def _check(route: Route, body_json: str) -> tuple[Violation, ...]:
    """The violations of one body (cached: bots send the same deferrals and pages again and again)."""
    body = json.loads(body_json)
    found: list[Violation] = []
    seen: set[Path_] = set()
    schema_errors = (v for e in _validator(route).iter_errors(body) for v in _schema_violations(e))
    # one violation per place: where the spec already objects, the documented rule adds nothing
    for violation in (*schema_errors, *documented_rules(route, body)):
        if violation.path not in seen:
            seen.add(violation.path)
            found.append(violation)
    return tuple(found)


def error_tree(violations: list[Violation]) -> dict[str, Any]:
    """Discord's nested `errors` object: keys down the path, then `_errors: [{code, message}]`."""
    tree: dict[str, Any] = {}
    for violation in violations:
        node = tree
        for key in violation.path:
            node = node.setdefault(key, {})
        node.setdefault("_errors", []).append({"code": violation.code, "message": violation.message})
    return tree
