"""/nexus: help, about, your progress and your learning-hub README."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_staff_command, writes
from bot.client import NexusBot
from bot.domain.readme import render_readme
from bot.ui.cohort import checklist_embed
from bot.ui.embeds import NEXUS_COLOUR, chunk_lines, format_duration
from bot.ui.notes import readme_file
from bot.ui.views import confirm_then


def help_lines(tree: app_commands.CommandTree[Any]) -> dict[str, list[str]]:
    """Every command of the tree grouped by its top-level name, one line each."""
    groups: dict[str, list[str]] = {}
    for top in sorted(tree.get_commands(type=discord.AppCommandType.chat_input), key=lambda c: c.name):
        leaves = (
            [c for c in top.walk_commands() if isinstance(c, app_commands.Command)]
            if isinstance(top, app_commands.Group)
            else [top]
        )
        lines = []
        for command in leaves:
            staff = " *(staff)*" if isinstance(command, app_commands.Command) and is_staff_command(command) else ""
            lines.append(f"`/{command.qualified_name}` {command.description}{staff}")
        groups[top.name] = lines
    return groups


@app_commands.guild_only()
class NexusCog(commands.GroupCog, group_name="nexus", group_description="About Nexus and your progress"):
    """Help and status for everyone."""

    reminders = app_commands.Group(name="reminders", description="Week-1 reminders from Nexus (nudges)")

    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot

    @reminders.command(name="off", description="Stop Nexus naming you in reminders or DMing them to you")
    @writes()
    async def reminders_off(self, interaction: discord.Interaction[NexusBot]) -> None:
        await self._set_reminders(interaction, on=False)

    @reminders.command(name="on", description="Get Week-1 reminders from Nexus again")
    @writes()
    async def reminders_on(self, interaction: discord.Interaction[NexusBot]) -> None:
        await self._set_reminders(interaction, on=True)

    async def _set_reminders(self, interaction: discord.Interaction[NexusBot], *, on: bool) -> None:
        assert interaction.guild_id is not None
        changed = await self.bot.services.nudges.set_reminders(interaction.guild_id, interaction.user.id, on=on)
        if on:
            text = "Reminders are on: Nexus's nudges name you for a Week-1 step still open."
        else:
            text = "Reminders are off: Nexus's nudges will not name or DM you. `/nexus reminders on` brings them back."
        if not changed:
            text = "They already were. " + text
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="help", description="Every Nexus command with one line on what it does")
    async def help(self, interaction: discord.Interaction[NexusBot]) -> None:
        embed = discord.Embed(
            title="Nexus commands",
            description=(
                "Nexus runs Project Nexus: announce your project, find your frontend/backend partner, "
                "agree your API and share what you learn. Replies marked *(staff)* need Manage Server "
                "or the cohort's staff role."
            ),
            colour=NEXUS_COLOUR,
        )
        for group, lines in help_lines(self.bot.tree).items():
            for index, block in enumerate(chunk_lines(lines)):
                embed.add_field(name=f"/{group}" + (" (more)" if index else ""), value=block, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="about", description="Version, uptime, database and gateway latency")
    async def about(self, interaction: discord.Interaction[NexusBot]) -> None:
        latency = self.bot.latency
        latency_text = "measuring…" if math.isnan(latency) or math.isinf(latency) else f"{latency * 1000:.0f} ms"
        embed = discord.Embed(title="About Nexus", colour=NEXUS_COLOUR)
        embed.add_field(name="Version", value=self.bot.version)
        embed.add_field(name="Uptime", value=format_duration(self.bot.uptime_seconds))
        embed.add_field(name="Database", value=self.bot.database_backend)
        embed.add_field(name="Gateway latency", value=latency_text)
        embed.add_field(name="Servers", value=str(len(self.bot.guilds)))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="progress", description="Your Week-1 checklist")
    async def progress(self, interaction: discord.Interaction[NexusBot]) -> None:
        assert interaction.guild_id is not None
        checklist = await self.bot.services.cohort.checklist(interaction.guild_id, interaction.user.id)
        embed = checklist_embed(checklist, interaction.user.display_name)
        streak = (await self.bot.services.checkins.streaks(interaction.guild_id)).get(interaction.user.id)
        if streak is not None:
            embed.add_field(name="Check-in streak", value=f"{streak} in a row", inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="export", description="Your notes compiled into a learning hub README")
    @app_commands.describe(
        member="Whose notes (default: yours); for another member only their public notes, project and partners"
    )
    async def export(self, interaction: discord.Interaction[NexusBot], member: discord.Member | None = None) -> None:
        assert interaction.guild_id is not None
        learner = member or interaction.user
        own = learner.id == interaction.user.id
        notes = await self.bot.services.notes.export_notes(interaction.guild_id, learner.id, interaction.user.id)
        # the team's agreed endpoints and check-ins are the team's own (as /api list and /nexus progress)
        collaboration = await self.bot.services.cohort.collaboration(interaction.guild_id, learner.id, contract=own)
        if collaboration is not None and own:
            checkins = await self.bot.services.checkins.summary(interaction.guild_id, learner.id)
            collaboration = replace(collaboration, checkins=checkins)
        markdown = render_readme(learner.display_name, notes, collaboration, generated_on=self.bot.clock.now())
        text = f"{len(notes)} note{'' if len(notes) == 1 else 's'} compiled into a README."
        attachment = readme_file(markdown, learner.name)
        await interaction.response.send_message(text, file=attachment, ephemeral=True)

    @app_commands.command(name="forget-me", description="Delete everything Nexus stores about you in this server")
    @writes()
    async def forget_me(self, interaction: discord.Interaction[NexusBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        user_id = interaction.user.id

        async def forget() -> str:
            forgotten = await self.bot.services.privacy.forget(guild.id, user_id)
            await self.bot.delivery.deliver(guild.id, forgotten.events)
            if not forgotten.anything:
                return "Nexus had nothing stored about you in this server."
            lines = [f"• {count} {what}" for what, count in forgotten.removed.items() if count]
            return "Done. Removed:\n" + "\n".join(lines)

        await confirm_then(
            interaction,
            "Delete your profile, announcement, notes, votes and partner history in this server? "
            "Your team, if any, is dissolved, and Nexus's posts that name you are edited or deleted. "
            "Out of Nexus's reach: DMs already sent, replies only you saw, and other members' own messages. "
            "This cannot be undone.",
            forget,
            confirm_label="Forget me",
        )


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(NexusCog(bot))
