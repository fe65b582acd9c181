"""/api: a formed team's endpoint contract, exported as OpenAPI 3.1."""

from __future__ import annotations

import io
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import writes
from bot.client import NexusBot
from bot.domain.api_contract import ENDPOINT_ID_MAX, HTTP_METHODS, PATH_MAX, SUMMARY_MAX
from bot.domain.cohort import ChecklistStep, next_line
from bot.domain.text import safe_text, truncate
from bot.services.api import Contract
from bot.ui.embeds import NEXUS_COLOUR, chunk_lines
from bot.ui.views import confirm_then, send_list

METHOD_CHOICES = [app_commands.Choice(name=m, value=m) for m in HTTP_METHODS]


CONTRACT_PAGE_CHARS = 3800
"""Characters of endpoint lines per page of /api list (an embed description holds 4,096)."""
API_LIST = "api_list"


def contract_pages(contract: Contract) -> list[discord.Embed]:
    """The team's contract as pages of endpoints, each within one embed."""
    lines = []
    for e in contract.endpoints:
        mark = "✅" if e.agreed else f"⏳ {len(e.agreed_by)}/{len(e.members)}"
        lines.append(f"`#{e.id}` **{e.method}** `{e.path.replace('`', '')}` {safe_text(e.summary)} · {mark}")
    blocks = chunk_lines(lines, CONTRACT_PAGE_CHARS) or ["No endpoints yet: `/api add`."]
    state = "agreed by everyone" if contract.agreed else "not agreed yet"
    pages = []
    for index, block in enumerate(blocks):
        embed = discord.Embed(
            title=f"API contract · {safe_text(contract.project_name)}", description=block, colour=NEXUS_COLOUR
        )
        page = f" · page {index + 1}/{len(blocks)}" if len(blocks) > 1 else ""
        embed.set_footer(text=f"{len(contract.endpoints)} endpoint(s) · {state}{page} · /api export for OpenAPI")
        pages.append(embed)
    return pages


def contract_embed(contract: Contract) -> discord.Embed:
    """The contract's first page (the whole contract when it fits; /api list pages through it)."""
    return contract_pages(contract)[0]


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


@app_commands.guild_only()
class ApiCog(commands.GroupCog, group_name="api", group_description="Agree your team's API contract"):
    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        bot.list_sources[API_LIST] = self._contract_pages

    async def cog_unload(self) -> None:
        self.bot.list_sources.pop(API_LIST, None)

    @app_commands.command(name="add", description="Add an endpoint to your team's contract")
    @writes()
    @app_commands.describe(method="HTTP method", path="e.g. /jobs/{job_id}", summary="What it does")
    @app_commands.choices(method=METHOD_CHOICES)
    async def add(
        self,
        interaction: discord.Interaction[NexusBot],
        method: app_commands.Choice[str],
        path: app_commands.Range[str, 1, PATH_MAX],
        summary: app_commands.Range[str, 1, SUMMARY_MAX],
    ) -> None:
        assert interaction.guild_id is not None
        contract = await self.bot.services.api.add(
            interaction.guild_id, interaction.user.id, method.value, path, summary
        )
        await interaction.response.send_message(
            "Added. Your teammates agree with `/api agree`.", embed=contract_embed(contract), ephemeral=True
        )

    @app_commands.command(name="list", description="Your team's contract and who agreed what")
    async def list_endpoints(self, interaction: discord.Interaction[NexusBot]) -> None:
        assert interaction.guild_id is not None
        await send_list(interaction, await self._contract_pages(interaction, ""), name=API_LIST)

    async def _contract_pages(self, interaction: discord.Interaction[Any], arg: str) -> list[discord.Embed]:
        assert interaction.guild_id is not None
        return contract_pages(await self.bot.services.api.contract(interaction.guild_id, interaction.user.id))

    @app_commands.command(name="agree", description="Agree to one endpoint as it stands")
    @writes()
    @app_commands.describe(id="The endpoint (see /api list)")
    @app_commands.autocomplete(id=endpoint_autocomplete)
    async def agree(
        self, interaction: discord.Interaction[NexusBot], id: app_commands.Range[int, 1, ENDPOINT_ID_MAX]
    ) -> None:
        assert interaction.guild_id is not None
        contract, endpoint = await self.bot.services.api.agree(interaction.guild_id, interaction.user.id, id)
        state = "agreed by everyone ✅" if endpoint.agreed else "waiting for your teammates"
        following = f"\n{next_line(ChecklistStep.NOTE)}" if contract.agreed else ""
        await interaction.response.send_message(
            f"You agreed to {endpoint.method} `{endpoint.path}`: {state}.{following}",
            embed=contract_embed(contract),
            ephemeral=True,
        )

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

        async def remove() -> str:
            removed = await self.bot.services.api.remove(guild_id, user_id, id)
            return f"Removed {removed.method} `{removed.path}`."

        await confirm_then(interaction, f"Remove endpoint #{id} from your contract?", remove, confirm_label="Remove")

    @app_commands.command(name="export", description="Your contract as an OpenAPI 3.1 YAML file")
    async def export(self, interaction: discord.Interaction[NexusBot]) -> None:
        assert interaction.guild_id is not None
        name, text = await self.bot.services.api.export_yaml(interaction.guild_id, interaction.user.id)
        await interaction.response.send_message(
            "Your API contract (OpenAPI 3.1):",
            file=discord.File(io.BytesIO(text.encode()), filename=name),
            ephemeral=True,
        )


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(ApiCog(bot))
