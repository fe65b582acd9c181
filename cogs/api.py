"""/api: a formed team's endpoint contract with examples, versions, change notices and exports."""

from __future__ import annotations

import io
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import writes
from bot.client import NexusBot
from bot.domain.api_contract import (
    DEFAULT_STATUS,
    ENDPOINT_ID_MAX,
    HTTP_METHODS,
    PATH_MAX,
    STATUS_MAX,
    STATUS_MIN,
    SUMMARY_MAX,
    EndpointForm,
    clean_method,
    clean_path,
    clean_status,
    clean_summary,
)
from bot.domain.cohort import ChecklistStep, next_line
from bot.domain.text import truncate
from bot.services.api import ApiOutcome, ExportFormat
from bot.ui.api import (
    EndpointModal,
    contract_embed,
    contract_pages,
    endpoint_embed,
    endpoint_title,
    form_of,
    history_pages,
)
from bot.ui.views import confirm_then, send_list

METHOD_CHOICES = [app_commands.Choice(name=m, value=m) for m in HTTP_METHODS]
FORMAT_CHOICES = [
    app_commands.Choice(name="OpenAPI 3.1 (YAML)", value=ExportFormat.OPENAPI.value),
    app_commands.Choice(name="Postman collection v2.1", value=ExportFormat.POSTMAN.value),
]
API_LIST = "api_list"
API_HISTORY = "api_history"


async def endpoint_autocomplete(
    interaction: discord.Interaction[NexusBot], current: str
) -> list[app_commands.Choice[int]]:
    if interaction.guild_id is None:
        return []
    try:
        contract = await interaction.client.services.api.contract(interaction.guild_id, interaction.user.id)
    except Exception:
        return []
    text = current.lower().strip().removeprefix("#")
    choices = []
    for e in contract.endpoints:
        label = f"#{e.id} {e.method} {e.path} — {e.summary}"
        if not text or text in label.lower():
            choices.append(app_commands.Choice(name=truncate(label, 100), value=e.id))
    return choices[:25]


def _changed_text(outcome: ApiOutcome, verb: str) -> str:
    endpoint = outcome.endpoint
    if outcome.change is None:
        return "Nothing changed."
    others = len(outcome.contract.members) - 1
    told = f" Your teammate{'s' if others > 1 else ''} will be told and must agree again." if others > 0 else ""
    where = f"#{endpoint.id} " if endpoint else ""
    return f"{verb} {where}{endpoint_title(outcome.change.endpoint)}: contract v{outcome.contract.version}.{told}"


@app_commands.guild_only()
class ApiCog(commands.GroupCog, group_name="api", group_description="Agree your team's API contract"):
    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        bot.list_sources[API_LIST] = self._contract_pages
        bot.list_sources[API_HISTORY] = self._history_pages

    async def cog_unload(self) -> None:
        self.bot.list_sources.pop(API_LIST, None)
        self.bot.list_sources.pop(API_HISTORY, None)

    async def _answer(self, interaction: discord.Interaction[Any], outcome: ApiOutcome, verb: str) -> None:
        """Reply to the member, then tell the others (the reply must not wait for their DMs)."""
        assert interaction.guild_id is not None
        embed = endpoint_embed(outcome.endpoint) if outcome.endpoint else contract_embed(outcome.contract)
        await interaction.response.send_message(_changed_text(outcome, verb), embed=embed, ephemeral=True)
        if outcome.events:
            await self.bot.delivery.deliver(interaction.guild_id, outcome.events)

    @app_commands.command(name="add", description="Add an endpoint (then a form for its examples)")
    @writes()
    @app_commands.describe(
        method="HTTP method",
        path="e.g. /jobs/{job_id}",
        summary="What it does",
        status=f"The success status code (default {DEFAULT_STATUS})",
    )
    @app_commands.choices(method=METHOD_CHOICES)
    async def add(
        self,
        interaction: discord.Interaction[NexusBot],
        method: app_commands.Choice[str],
        path: app_commands.Range[str, 1, PATH_MAX],
        summary: app_commands.Range[str, 1, SUMMARY_MAX],
        status: app_commands.Range[int, STATUS_MIN, STATUS_MAX] = DEFAULT_STATUS,
    ) -> None:
        guild_id = interaction.guild_id
        assert guild_id is not None
        api = self.bot.services.api
        # the options and the membership are checked before the form opens, so nothing typed is lost
        verb, path, summary, status = (
            clean_method(method.value),
            clean_path(path),
            clean_summary(summary),
            clean_status(status),
        )
        await api.check_new(guild_id, interaction.user.id, verb, path)

        async def save(modal_interaction: discord.Interaction[Any], form: EndpointForm) -> None:
            outcome = await api.add(guild_id, modal_interaction.user.id, verb, path, summary, status, form)
            await self._answer(modal_interaction, outcome, "Added")

        await interaction.response.send_modal(EndpointModal(heading=f"{verb} {path}", on_submit=save))

    @app_commands.command(name="edit", description="Change an endpoint's examples, parameters or description")
    @writes()
    @app_commands.describe(
        id="The endpoint (see /api list)", summary="A new summary (optional)", status="A new status code (optional)"
    )
    @app_commands.autocomplete(id=endpoint_autocomplete)
    async def edit(
        self,
        interaction: discord.Interaction[NexusBot],
        id: app_commands.Range[int, 1, ENDPOINT_ID_MAX],
        summary: app_commands.Range[str, 1, SUMMARY_MAX] | None = None,
        status: app_commands.Range[int, STATUS_MIN, STATUS_MAX] | None = None,
    ) -> None:
        guild_id = interaction.guild_id
        assert guild_id is not None
        api = self.bot.services.api
        endpoint = await api.endpoint(guild_id, interaction.user.id, id)
        summary = clean_summary(summary) if summary is not None else None
        status = clean_status(status) if status is not None else None

        async def save(modal_interaction: discord.Interaction[Any], form: EndpointForm) -> None:
            outcome = await api.edit(guild_id, modal_interaction.user.id, id, form, summary=summary, status=status)
            await self._answer(modal_interaction, outcome, "Changed")

        heading = f"#{endpoint.id} {endpoint_title(endpoint.spec)}"
        await interaction.response.send_modal(
            EndpointModal(heading=heading, on_submit=save, draft=form_of(endpoint.spec))
        )

    @app_commands.command(name="show", description="One endpoint: parameters, request and response fields")
    @app_commands.describe(id="The endpoint (see /api list)")
    @app_commands.autocomplete(id=endpoint_autocomplete)
    async def show(
        self, interaction: discord.Interaction[NexusBot], id: app_commands.Range[int, 1, ENDPOINT_ID_MAX]
    ) -> None:
        assert interaction.guild_id is not None
        endpoint = await self.bot.services.api.endpoint(interaction.guild_id, interaction.user.id, id)
        await interaction.response.send_message(embed=endpoint_embed(endpoint), ephemeral=True)

    @app_commands.command(name="list", description="Your team's contract and who agreed what")
    async def list_endpoints(self, interaction: discord.Interaction[NexusBot]) -> None:
        await send_list(interaction, await self._contract_pages(interaction, ""), name=API_LIST)

    async def _contract_pages(self, interaction: discord.Interaction[Any], arg: str) -> list[discord.Embed]:
        assert interaction.guild_id is not None
        return contract_pages(await self.bot.services.api.contract(interaction.guild_id, interaction.user.id))

    @app_commands.command(name="history", description="Every change to your team's contract, and who made it")
    async def history(self, interaction: discord.Interaction[NexusBot]) -> None:
        await send_list(interaction, await self._history_pages(interaction, ""), name=API_HISTORY)

    async def _history_pages(self, interaction: discord.Interaction[Any], arg: str) -> list[discord.Embed]:
        assert interaction.guild_id is not None
        return history_pages(await self.bot.services.api.history(interaction.guild_id, interaction.user.id))

    @app_commands.command(name="agree", description="Agree to one endpoint as it stands")
    @writes()
    @app_commands.describe(id="The endpoint (see /api list)")
    @app_commands.autocomplete(id=endpoint_autocomplete)
    async def agree(
        self, interaction: discord.Interaction[NexusBot], id: app_commands.Range[int, 1, ENDPOINT_ID_MAX]
    ) -> None:
        assert interaction.guild_id is not None
        outcome = await self.bot.services.api.agree(interaction.guild_id, interaction.user.id, id)
        contract, endpoint = outcome.contract, outcome.endpoint
        assert endpoint is not None
        state = "agreed by everyone ✅" if endpoint.agreed else "waiting for your teammates"
        following = f"\n{next_line(ChecklistStep.NOTE)}" if contract.agreed else ""
        await interaction.response.send_message(
            f"You agreed to {endpoint.method} `{endpoint.path}`: {state}.{following}",
            embed=contract_embed(contract),
            ephemeral=True,
        )
        await self.bot.delivery.deliver(interaction.guild_id, outcome.events)

    @app_commands.command(name="remove", description="Remove an endpoint from your team's contract")
    @writes()
    @app_commands.describe(id="The endpoint (see /api list)")
    @app_commands.autocomplete(id=endpoint_autocomplete)
    async def remove(
        self, interaction: discord.Interaction[NexusBot], id: app_commands.Range[int, 1, ENDPOINT_ID_MAX]
    ) -> None:
        guild_id = interaction.guild_id
        assert guild_id is not None
        user_id = interaction.user.id
        endpoint = await self.bot.services.api.endpoint(guild_id, user_id, id)  # refused before the question

        async def remove() -> str:
            outcome = await self.bot.services.api.remove(guild_id, user_id, id)
            if outcome.events:
                await self.bot.delivery.deliver(guild_id, outcome.events)
            assert outcome.change is not None
            return f"Removed {outcome.change.endpoint.method} `{outcome.change.endpoint.path}`."

        question = f"Remove endpoint #{id} ({endpoint_title(endpoint.spec)}) from your contract?"
        await confirm_then(interaction, question, remove, confirm_label="Remove")

    @app_commands.command(name="export", description="Your contract as OpenAPI 3.1 YAML or a Postman collection")
    @app_commands.describe(format="OpenAPI 3.1 (default; Prism, Swagger UI) or a Postman collection v2.1")
    @app_commands.choices(format=FORMAT_CHOICES)
    async def export(
        self, interaction: discord.Interaction[NexusBot], format: app_commands.Choice[str] | None = None
    ) -> None:
        assert interaction.guild_id is not None
        fmt = ExportFormat(format.value) if format else ExportFormat.OPENAPI
        name, text = await self.bot.services.api.export(interaction.guild_id, interaction.user.id, fmt)
        what = "OpenAPI 3.1: `prism mock` it" if fmt is ExportFormat.OPENAPI else "a Postman collection v2.1: import it"
        await interaction.response.send_message(
            f"Your API contract ({what}):",
            file=discord.File(io.BytesIO(text.encode()), filename=name),
            ephemeral=True,
        )


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(ApiCog(bot))
