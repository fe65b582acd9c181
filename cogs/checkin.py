"""/checkin: a team's asynchronous stand-ups (days and time in each member's zone, prompt now,
pause and resume, history), and the loop that claims each member's prompt exactly once and posts
reports whose 12 hours are over."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import writes
from bot.client import NexusBot
from bot.domain.events import CheckinPromptsClaimed
from bot.services.checkins import CheckinSetup
from bot.ui.checkins import history_pages
from bot.ui.views import send_list

log = logging.getLogger("nexus.checkin")

HISTORY_LIST = "checkin_history"


def setup_text(result: CheckinSetup) -> str:
    """What a member is told about the team's plan."""
    plan = f"on **{result.plan.days_text}** at **{result.plan.time_text}**, each member in their own time zone"
    if result.paused:
        return f"Your team's check-ins ({plan}) are paused: `/checkin resume` starts them again."
    when = (
        f" Your next prompt: <t:{int(result.next_prompt_at.timestamp())}:F> ({result.zone})."
        if result.next_prompt_at
        else ""
    )
    return f"Your team checks in {plan}.{when}"


@app_commands.guild_only()
class CheckinCog(commands.GroupCog, group_name="checkin", group_description="Your team's asynchronous stand-ups"):
    """Check-in commands, and the pass that prompts members and posts reports when due."""

    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        bot.list_sources[HISTORY_LIST] = self._history_pages
        self.due_pass = bot.background_loop("Check-in pass", bot.settings.checkin_interval_seconds, self.run_due)

    async def cog_load(self) -> None:
        self.due_pass.start()

    async def cog_unload(self) -> None:
        self.due_pass.cancel()
        self.bot.list_sources.pop(HISTORY_LIST, None)

    @app_commands.command(name="setup", description="Set your team's check-in days and time (each member's own zone)")
    @app_commands.describe(days="Days, e.g. mon,wed,fri", time="Time of day, HH:MM on the 24-hour clock, e.g. 09:30")
    @writes()
    async def setup(
        self,
        interaction: discord.Interaction[NexusBot],
        days: app_commands.Range[str, 1, 60],
        time: app_commands.Range[str, 1, 10],
    ) -> None:
        assert interaction.guild_id is not None
        result = await self.bot.services.checkins.setup(interaction.guild_id, interaction.user.id, days, time)
        await interaction.response.send_message(setup_text(result), ephemeral=True)

    @app_commands.command(name="now", description="Prompt every member of your team to check in now")
    @writes()
    async def now(self, interaction: discord.Interaction[NexusBot]) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        claimed = await self.bot.services.checkins.prompt_now(interaction.guild_id, interaction.user.id)
        await self.bot.delivery.deliver(
            interaction.guild_id, [CheckinPromptsClaimed(tuple(c.prompt_id for c in claimed))]
        )
        await interaction.followup.send(f"Prompted {len(claimed)} member(s) of your team.", ephemeral=True)

    @app_commands.command(name="pause", description="Pause your team's check-ins (no prompts until resumed)")
    @writes()
    async def pause(self, interaction: discord.Interaction[NexusBot]) -> None:
        assert interaction.guild_id is not None
        result = await self.bot.services.checkins.set_paused(interaction.guild_id, interaction.user.id, True)
        await interaction.response.send_message(setup_text(result), ephemeral=True)

    @app_commands.command(name="resume", description="Resume your team's paused check-ins")
    @writes()
    async def resume(self, interaction: discord.Interaction[NexusBot]) -> None:
        assert interaction.guild_id is not None
        result = await self.bot.services.checkins.set_paused(interaction.guild_id, interaction.user.id, False)
        await interaction.response.send_message(setup_text(result), ephemeral=True)

    @app_commands.command(name="history", description="Your team's past check-ins")
    async def history(self, interaction: discord.Interaction[NexusBot]) -> None:
        await send_list(interaction, await self._history_pages(interaction, ""), name=HISTORY_LIST)

    async def _history_pages(self, interaction: discord.Interaction[NexusBot], _arg: str) -> list[discord.Embed]:
        assert interaction.guild_id is not None
        return history_pages(await self.bot.services.checkins.history(interaction.guild_id, interaction.user.id))

    async def run_due(self) -> int:
        """Claim every prompt due in the guilds this process serves and send it, then post the
        reports whose time is up; how many prompts were sent."""
        guild_ids = [guild.id for guild in self.bot.guilds]
        claimed = await self.bot.services.checkins.run_pass(guild_ids)
        by_guild: dict[int, list[int]] = {}
        for prompt in claimed:
            by_guild.setdefault(prompt.guild_id, []).append(prompt.prompt_id)
        for guild_id, prompt_ids in by_guild.items():
            await self.bot.delivery.deliver(guild_id, [CheckinPromptsClaimed(tuple(prompt_ids))])
        for guild_id in guild_ids:
            events = await self.bot.services.checkins.ready_pass([guild_id])
            if events:
                await self.bot.delivery.deliver(guild_id, events)
        return len(claimed)


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(CheckinCog(bot))
