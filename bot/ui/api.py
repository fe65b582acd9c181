"""The API contract on Discord: the endpoint form, the contract and endpoint embeds, the history pages
and the change notice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.domain.api_contract import DESCRIPTION_MAX, QUERY_TEXT_MAX, EndpointForm, EndpointSpec, query_text
from bot.domain.api_diff import describe_diff
from bot.domain.api_examples import EXAMPLE_DEPTH_MAX, EXAMPLE_MAX_CHARS, SchemaField, infer_schema, schema_fields
from bot.domain.text import code_span, safe_text, truncate
from bot.observability.interactions import completed
from bot.services.api_queries import ChangeView, Contract, EndpointView
from bot.ui.drafts import refuse_form
from bot.ui.embeds import EMBED_FIELD_LIMIT, NEXUS_COLOUR, chunk_lines

MODAL_TITLE_LIMIT = 45
CONTRACT_PAGE_CHARS = 3800
"""Characters of endpoint lines per page of /api list (an embed description holds 4,096)."""
HISTORY_PAGE_SIZE = 5
"""Changes per page of /api history."""
SHOWN_FIELDS_MAX = 40
"""Fields of one example /api show lists; the rest are counted."""
NOTICE_TEXT_MAX = 1900
"""Characters of a change notice (a DM holds 2,000)."""


def endpoint_title(spec: EndpointSpec) -> str:
    return f"{spec.method} {spec.path}"


def contract_pages(contract: Contract) -> list[discord.Embed]:
    """The team's contract as pages of endpoints, each within one embed."""
    lines = []
    for e in contract.endpoints:
        if e.agreed:
            mark = "✅"
        else:
            mark = f"{'✏️ changed · ' if e.changed_since_agreement else ''}⏳ {len(e.agreed_by)}/{len(e.members)}"
        lines.append(f"`#{e.id}` **{e.method}** {code_span(e.path)} {safe_text(e.summary)} · {e.spec.status} · {mark}")
    blocks = chunk_lines(lines, CONTRACT_PAGE_CHARS) or ["No endpoints yet: `/api add`."]
    state = "agreed by everyone" if contract.agreed else "not agreed yet"
    pages = []
    for index, block in enumerate(blocks):
        embed = discord.Embed(
            title=f"API contract v{contract.version} · {safe_text(contract.project_name)}",
            description=block,
            colour=NEXUS_COLOUR,
        )
        page = f" · page {index + 1}/{len(blocks)}" if len(blocks) > 1 else ""
        embed.set_footer(text=f"{len(contract.endpoints)} endpoint(s) · {state}{page} · /api export for OpenAPI")
        pages.append(embed)
    return pages


def contract_embed(contract: Contract) -> discord.Embed:
    """The contract's first page (the whole contract when it fits; /api list pages through it)."""
    return contract_pages(contract)[0]


def field_lines(fields: list[SchemaField]) -> list[str]:
    """A compact field list: `name` type (optional)."""
    lines = [f"{code_span(f.name)} {f.type}{'' if f.required else ' · optional'}" for f in fields[:SHOWN_FIELDS_MAX]]
    if len(fields) > SHOWN_FIELDS_MAX:
        lines.append(f"… and {len(fields) - SHOWN_FIELDS_MAX} more")
    return lines


def _schema_lines(value: Any) -> list[str]:
    schema = infer_schema(value)
    fields = schema_fields(schema)
    return field_lines(fields) if fields else [f"a {schema.get('type', 'value')}"]


def endpoint_embed(endpoint: EndpointView) -> discord.Embed:
    """One endpoint: summary, status, parameters, and the request and response schemas as field lists."""
    spec = endpoint.spec
    embed = discord.Embed(
        title=truncate(f"#{endpoint.id} {endpoint_title(spec)}", 256),
        description=safe_text(spec.summary) + (f"\n\n{safe_text(spec.description)}" if spec.description else ""),
        colour=NEXUS_COLOUR,
    )
    embed.add_field(name="Status", value=str(spec.status))
    if spec.path_params:
        embed.add_field(name="Path parameters", value=", ".join(code_span(p) for p in spec.path_params))
    if spec.query:
        embed.add_field(name="Query parameters", value=truncate(safe_text(query_text(spec.query)), EMBED_FIELD_LIMIT))
    for name, value in (("Request body", spec.request_value), ("Response", spec.response_value)):
        example = spec.request_example if name == "Request body" else spec.response_example
        if example is None:
            continue
        block = chunk_lines(_schema_lines(value), EMBED_FIELD_LIMIT)
        embed.add_field(name=f"{name} fields", value=block[0], inline=False)
    if endpoint.agreed:
        state = "agreed by everyone ✅"
    else:
        waiting = sorted(endpoint.members - endpoint.agreed_by)
        changed = " · changed since agreed" if endpoint.changed_since_agreement else ""
        state = f"waiting for {' '.join(f'<@{u}>' for u in waiting)}{changed}"
    embed.add_field(name="Agreement", value=state, inline=False)
    embed.set_footer(text=f"revision {endpoint.revision} · /api edit to change it · /api export for the examples")
    return embed


def change_heading(change: ChangeView) -> str:
    return f"v{change.version} · {change.action} {endpoint_title(change.endpoint)}"


def api_change_text(change: ChangeView) -> str:
    """What a teammate is told: who changed which endpoint, the diff, and what to do next."""
    who = f"<@{change.actor_id}>" if change.actor_id else "A former member"
    lines = describe_diff(change.changes) if change.action == "changed" else []
    body = "\n".join(code_span(line) for line in lines)
    todo = (
        "Nothing to agree: it is gone."
        if change.after is None
        else f"Look at it with `/api show id:{change.endpoint_id}` and agree again with `/api agree id:{change.endpoint_id}`."
    )
    text = (
        f"📝 {who} {change.action} {code_span(endpoint_title(change.endpoint))} in the {safe_text(change.project_name)} "
        f"API contract (now v{change.version}).\n{body}{chr(10) if body else ''}{todo}"
    )
    return truncate(text, NOTICE_TEXT_MAX)


def history_pages(changes: list[ChangeView]) -> list[discord.Embed]:
    """The contract's changes, newest first, a few a page, each with who made it and its diff."""
    if not changes:
        return [discord.Embed(title="API contract history", description="No changes yet.", colour=NEXUS_COLOUR)]
    pages = []
    total = -(-len(changes) // HISTORY_PAGE_SIZE)
    for page in range(total):
        embed = discord.Embed(title=f"API contract history · {safe_text(changes[0].project_name)}", colour=NEXUS_COLOUR)
        for change in changes[page * HISTORY_PAGE_SIZE : (page + 1) * HISTORY_PAGE_SIZE]:
            who = f"<@{change.actor_id}>" if change.actor_id else "a former member"
            diff = describe_diff(change.changes, limit=8) if change.action == "changed" else []
            value = f"by {who} · {discord.utils.format_dt(change.created_at, 'R')}" + "".join(
                f"\n{code_span(line)}" for line in diff
            )
            embed.add_field(
                name=truncate(change_heading(change), 256), value=truncate(value, EMBED_FIELD_LIMIT), inline=False
            )
        embed.set_footer(text=f"{len(changes)} change(s) · page {page + 1}/{total}")
        pages.append(embed)
    return pages


EndpointSubmit = Callable[[discord.Interaction[Any], EndpointForm], Awaitable[None]]


class EndpointModal(discord.ui.Modal):
    """The endpoint form: request and response examples (JSON), query parameters, description."""

    def __init__(self, *, heading: str, on_submit: EndpointSubmit, draft: EndpointForm | None = None) -> None:
        super().__init__(title=truncate(" ".join(heading.split()), MODAL_TITLE_LIMIT))
        self._heading, self._on_submit = heading, on_submit
        draft = draft or EndpointForm()
        self.request: discord.ui.TextInput[EndpointModal] = discord.ui.TextInput(
            label="Request body example (JSON)",
            style=discord.TextStyle.paragraph,
            max_length=EXAMPLE_MAX_CHARS,
            required=False,
            default=draft.request_example or None,
            placeholder='{"title": "Junior developer", "remote": true}',
        )
        self.response: discord.ui.TextInput[EndpointModal] = discord.ui.TextInput(
            label="Response example (JSON)",
            style=discord.TextStyle.paragraph,
            max_length=EXAMPLE_MAX_CHARS,
            required=False,
            default=draft.response_example or None,
            placeholder=f'{{"id": 1, "title": "Junior developer"}} (at most {EXAMPLE_DEPTH_MAX} levels deep)',
        )
        self.query: discord.ui.TextInput[EndpointModal] = discord.ui.TextInput(
            label="Query parameters (name: type, one a line)",
            style=discord.TextStyle.paragraph,
            max_length=QUERY_TEXT_MAX,
            required=False,
            default=draft.query or None,
            placeholder="page: integer\nsearch: string, required",
        )
        self.description: discord.ui.TextInput[EndpointModal] = discord.ui.TextInput(
            label="Description",
            style=discord.TextStyle.paragraph,
            max_length=DESCRIPTION_MAX,
            required=False,
            default=draft.description or None,
            placeholder="Who calls it, what it returns on errors…",
        )
        for item in (self.request, self.response, self.query, self.description):
            self.add_item(item)

    @property
    def values(self) -> EndpointForm:
        return EndpointForm(self.request.value, self.response.value, self.query.value, self.description.value)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await self._on_submit(interaction, self.values)
        completed(interaction)

    def reopened(self) -> EndpointModal:
        """The same form again, filled with what was typed in this one."""
        return EndpointModal(heading=self._heading, on_submit=self._on_submit, draft=self.values)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        await refuse_form(interaction, error, self.reopened)


def form_of(spec: EndpointSpec) -> EndpointForm:
    """The form filled with an endpoint as it stands."""
    return EndpointForm(
        spec.request_example or "", spec.response_example or "", query_text(spec.query), spec.description
    )
