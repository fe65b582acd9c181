"""/project: Week-1 announcements, who is on a project, and the board."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import writes
from bot.client import NexusBot
from bot.domain.cohort import PITCH_MAX, REPO_URL_MAX
from bot.domain.progress import sides_from_board
from bot.domain.text import safe_text, truncate
from bot.services.cohort import BoardRow
from bot.ui.charts import board_chart_file
from bot.ui.cohort import announce_flow, who_pages
from bot.ui.embeds import NEXUS_COLOUR
from bot.ui.views import confirm_then, send_list
from cogs.catalog import project_autocomplete
from cogs.profile import TRACK_CHOICES

BOARD_PAGE_SIZE = 15
WHO_LIST = "project_who"
BOARD_LIST = "project_board"


@app_commands.guild_only()
class ProjectCog(commands.GroupCog, group_name="project", group_description="Announce your capstone project"):
    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        bot.list_sources[WHO_LIST] = self._who_pages
        bot.list_sources[BOARD_LIST] = self._board_pages

    async def cog_unload(self) -> None:
        for name in (WHO_LIST, BOARD_LIST):
            self.bot.list_sources.pop(name, None)

    @app_commands.command(name="announce", description="Announce (or update) the project you are building")
    @writes()
    @app_commands.describe(
        project="A project from the catalog",
        track="Which side you build",
        pitch=f"What you are building, in up to {PITCH_MAX} characters",
        repo="Your repository, e.g. github.com/you/project; left out keeps the one you gave, none removes it",
    )
    @app_commands.autocomplete(project=project_autocomplete)
    @app_commands.choices(track=TRACK_CHOICES)
    async def announce(
        self,
        interaction: discord.Interaction[NexusBot],
        project: app_commands.Range[str, 1, 100],
        track: app_commands.Choice[str],
        pitch: app_commands.Range[str, 1, PITCH_MAX],
        repo: app_commands.Range[str, 1, REPO_URL_MAX] | None = None,
    ) -> None:
        await announce_flow(interaction, project=project, track=track.value, pitch=pitch, repo_url=repo)

    @app_commands.command(name="withdraw", description="Withdraw your announcement")
    @writes()
    async def withdraw(self, interaction: discord.Interaction[NexusBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        current = await self.bot.services.announcements.current(guild.id, interaction.user.id)
        if current is None or not current.active:
            await interaction.response.send_message("You have no active announcement to withdraw.", ephemeral=True)
            return
        user_id = interaction.user.id

        async def withdraw() -> str:
            withdrawal = await self.bot.services.announcements.withdraw(guild.id, user_id)
            outcome = await self.bot.delivery.deliver(guild.id, withdrawal.events)
            note = (
                "" if outcome is None or outcome.ok else f" (the channel post will be updated later: {outcome.problem})"
            )
            return f"Withdrawn{note}."

        await confirm_then(
            interaction,
            f"Withdraw your announcement for **{safe_text(current.project_name)}**? "
            "Any team you are in will be dissolved.",
            withdraw,
            confirm_label="Withdraw",
        )

    @app_commands.command(name="who", description="Who builds a project, on the backend and the frontend")
    @app_commands.describe(project="A project from the catalog")
    @app_commands.autocomplete(project=project_autocomplete)
    async def who(self, interaction: discord.Interaction[NexusBot], project: app_commands.Range[str, 1, 100]) -> None:
        pages = await self._who_pages(interaction, project)
        await send_list(interaction, pages, name=WHO_LIST, arg=project)

    async def _who_pages(self, interaction: discord.Interaction[Any], project: str) -> list[discord.Embed]:
        assert interaction.guild_id is not None
        return who_pages(await self.bot.services.announcements.who(interaction.guild_id, project))

    @app_commands.command(name="board", description="Every project with its backend and frontend counts, and a chart")
    async def board(self, interaction: discord.Interaction[NexusBot]) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)  # the chart may take a second
        rows = await self.bot.services.cohort.board(interaction.guild_id)
        chart = await self.bot.charts.board(
            [sides_from_board(row.project_name, row.backend, row.frontend, row.without_partner) for row in rows]
        )
        await send_list(interaction, board_pages(rows), name=BOARD_LIST, file=board_chart_file(chart))

    async def _board_pages(self, interaction: discord.Interaction[Any], arg: str) -> list[discord.Embed]:
        assert interaction.guild_id is not None
        return board_pages(await self.bot.services.cohort.board(interaction.guild_id))


def board_pages(rows: Sequence[BoardRow]) -> list[discord.Embed]:
    """The board's counts as text pages (the chart shows the same numbers)."""
    pages = []
    total_pages = max(1, -(-len(rows) // BOARD_PAGE_SIZE))
    for page in range(total_pages):
        chunk = rows[page * BOARD_PAGE_SIZE : (page + 1) * BOARD_PAGE_SIZE]
        lines = [f"{'Project':<32} {'BE':>3} {'FE':>3} {'Alone':>5}"]
        lines += [
            f"{truncate(row.project_name, 32):<32} {row.backend:>3} {row.frontend:>3} {row.without_partner:>5}"
            for row in chunk
        ]
        embed = discord.Embed(
            title="Project board",
            description="```\n" + "\n".join(lines).replace("`", "'") + "\n```",
            colour=NEXUS_COLOUR,
        )
        embed.set_footer(text=f"BE backend · FE frontend · Alone: announced, no partner yet · page {page + 1}")
        pages.append(embed)
    return pages


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(ProjectCog(bot))
