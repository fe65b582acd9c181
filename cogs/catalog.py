"""/catalog: the projects learners can announce."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import staff_only, writes
from bot.client import NexusBot
from bot.domain.cohort import PROJECT_DESCRIPTION_MAX, PROJECT_NAME_MAX
from bot.domain.text import safe_text
from bot.ui.embeds import NEXUS_COLOUR, chunk_lines
from bot.ui.views import confirm_then, send_list

CATALOG_LIST = "catalog_list"
CATALOG_PAGE_CHARS = 3000
"""Characters of briefs a page of /catalog list holds (within an embed's 4,096)."""

PROJECT_OPTION_MAX = 100
"""Longest project name an option takes (catalog names are shorter; autocomplete names are ≤ 100)."""


async def project_autocomplete(
    interaction: discord.Interaction[NexusBot], current: str
) -> list[app_commands.Choice[str]]:
    """Catalog names matching what the member has typed so far."""
    if interaction.guild_id is None:
        return []
    names = await interaction.client.services.catalog.autocomplete(interaction.guild_id, current)
    return [app_commands.Choice(name=name[:100], value=name[:100]) for name in names]


@app_commands.guild_only()
class CatalogCog(commands.GroupCog, group_name="catalog", group_description="The projects learners can pick"):
    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        bot.list_sources[CATALOG_LIST] = self._pages

    async def cog_unload(self) -> None:
        self.bot.list_sources.pop(CATALOG_LIST, None)

    @app_commands.command(name="list", description="Every project in this server's catalog")
    async def list_projects(self, interaction: discord.Interaction[NexusBot]) -> None:
        await send_list(interaction, await self._pages(interaction, ""), name=CATALOG_LIST)

    async def _pages(self, interaction: discord.Interaction[NexusBot], arg: str) -> list[discord.Embed]:
        """The catalog, a page per CATALOG_PAGE_CHARS of briefs (the page buttons rebuild it)."""
        assert interaction.guild_id is not None
        projects = await self.bot.services.catalog.projects(interaction.guild_id)
        lines = [
            f"**{safe_text(p.name)}**\nBackend: {safe_text(p.description) or '—'}\n"
            f"Frontend: {safe_text(p.frontend) or '—'}"
            for p in projects
        ]
        blocks = chunk_lines(lines, CATALOG_PAGE_CHARS) or [
            "The catalog is empty: staff can add projects with `/catalog add`."
        ]
        footer = f"{len(projects)} project(s) · announce with /project announce"
        return [
            discord.Embed(title="Project catalog", description=block, colour=NEXUS_COLOUR).set_footer(text=footer)
            for block in blocks
        ]

    @app_commands.command(name="add", description="Add a project to the catalog")
    @writes()
    @app_commands.describe(
        name="Project name, unique in this server",
        description="The backend brief: one line on what the API does",
        frontend="The frontend brief: one line on what the interface does (optional)",
    )
    @staff_only()
    async def add(
        self,
        interaction: discord.Interaction[NexusBot],
        name: app_commands.Range[str, 2, PROJECT_NAME_MAX],
        description: app_commands.Range[str, 0, PROJECT_DESCRIPTION_MAX] = "",
        frontend: app_commands.Range[str, 0, PROJECT_DESCRIPTION_MAX] = "",
    ) -> None:
        assert interaction.guild_id is not None
        project = await self.bot.services.catalog.add(interaction.guild_id, name, description, frontend)
        await interaction.response.send_message(f"Added **{safe_text(project.name)}** to the catalog.", ephemeral=True)

    @app_commands.command(name="remove", description="Remove a project nobody has announced")
    @writes()
    @app_commands.describe(project="The project to remove")
    @app_commands.autocomplete(project=project_autocomplete)
    @staff_only()
    async def remove(
        self, interaction: discord.Interaction[NexusBot], project: app_commands.Range[str, 1, PROJECT_OPTION_MAX]
    ) -> None:
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id

        async def remove() -> str:
            removed = await self.bot.services.catalog.remove(guild_id, project)
            return f"Removed **{safe_text(removed.name)}**."

        await confirm_then(
            interaction,
            f"Remove **{safe_text(project, limit=PROJECT_OPTION_MAX)}** from the catalog?",
            remove,
            confirm_label="Remove",
        )


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(CatalogCog(bot))
