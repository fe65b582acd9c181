"""/partner and /match: frontend/backend partner matching, and the expiry of unanswered proposals."""

from __future__ import annotations

import logging
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import staff_group, staff_only, writes
from bot.client import NexusBot
from bot.delivery.outcome import POST_WAIT_SECONDS
from bot.domain.text import safe_text
from bot.ui.matching import plan_pages, team_embed, waiting_text
from bot.ui.views import Paginator, confirm_then
from cogs.catalog import project_autocomplete

log = logging.getLogger("nexus.partner")


@app_commands.guild_only()
class PartnerCog(commands.GroupCog, group_name="partner", group_description="Find your frontend/backend partner"):
    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        self.expiry = bot.background_loop("Proposal expiry", bot.settings.expiry_check_seconds, self._expiry_pass)

    async def cog_load(self) -> None:
        self.expiry.start()

    async def cog_unload(self) -> None:
        self.expiry.cancel()

    @app_commands.command(name="find", description="Get proposed the best partner on the other track, or join the pool")
    @writes()
    async def find(self, interaction: discord.Interaction[NexusBot]) -> None:
        guild_id = interaction.guild_id
        assert guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.bot.services.matching.find(guild_id, interaction.user.id)
        # waiting: the pool is matched before answering, so the reply says what really happened
        outcome = await self.bot.delivery.deliver(
            guild_id, result.events, wait=POST_WAIT_SECONDS if result.team else None
        )
        if result.team is None:
            status = await self.bot.services.matching.status(guild_id, interaction.user.id)
            if status[0] is not None:  # someone waiting was proposed to this learner at once
                result_text = (
                    "Nexus found you a partner: see `/partner status` and the proposal in the project channel."
                )
            else:
                result_text = waiting_text(status[1]) if status[1] else "You are in the pool."
            await interaction.followup.send(result_text, ephemeral=True)
            return
        partner = ", ".join(f"<@{uid}>" for uid in result.team.others(interaction.user.id))
        if outcome is None:
            where = "the proposal, which will appear in the project channel in a moment (it is busy)"
        elif outcome.ok:
            where = f"[the proposal]({outcome.jump_url})"
        else:
            where = f"the proposal (not posted yet: {outcome.problem})"
        await interaction.followup.send(
            f"Proposed: you and {partner} on **{safe_text(result.team.project_name)}**. "
            f"Both of you accept on {where} to form the team.",
            ephemeral=True,
        )

    @app_commands.command(name="status", description="Your team, your pending proposal, or your place in the pool")
    async def status(self, interaction: discord.Interaction[NexusBot]) -> None:
        assert interaction.guild_id is not None
        team, waiting = await self.bot.services.matching.status(interaction.guild_id, interaction.user.id)
        if team is not None:
            await interaction.response.send_message(embed=team_embed(team), ephemeral=True)
        elif waiting is not None:
            await interaction.response.send_message(waiting_text(waiting), ephemeral=True)
        else:
            await interaction.response.send_message(
                "You have no partner yet. Announce your project, then run `/partner find`.", ephemeral=True
            )

    @app_commands.command(name="leave", description="Dissolve your team or cancel your proposal")
    @writes()
    async def leave(self, interaction: discord.Interaction[NexusBot]) -> None:
        guild_id = interaction.guild_id
        assert guild_id is not None
        user_id = interaction.user.id
        if not await self.bot.services.matching.has_open_team(guild_id, user_id):
            await interaction.response.send_message("You have no team or pending proposal to leave.", ephemeral=True)
            return

        async def leave() -> str:
            events = await self.bot.services.matching.leave(guild_id, user_id)
            await self.bot.delivery.deliver(guild_id, events)
            return "You left the team. You are both back in the pool."

        await confirm_then(
            interaction, "Leave your team? Your partner will be told.", leave, confirm_label="Leave team"
        )

    async def _expiry_pass(self) -> None:
        """Expire unanswered proposals, then match the pools again (a learner freed may fit now)."""
        await self.expire_proposals()
        for guild in list(self.bot.guilds):
            await self.bot.delivery.sweep_pool(guild.id)

    async def expire_proposals(self, now: datetime | None = None) -> int:
        """Expire unanswered proposals; delivery updates their posts and matches their learners again."""
        expired = await self.bot.services.matching.expire_due(now, [guild.id for guild in self.bot.guilds])
        for guild_id, events in expired.items():
            await self.bot.delivery.deliver(guild_id, events)
        return sum(len(events) for events in expired.values()) // 2


@app_commands.guild_only()
@staff_group()
class MatchCog(commands.GroupCog, group_name="match", group_description="Cohort-wide partner matching (staff)"):
    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot

    @app_commands.command(name="run", description="Match everyone without a partner; dry_run shows the plan only")
    @writes()
    @app_commands.describe(project="Only this project (default: all)", dry_run="Show the plan without posting")
    @app_commands.autocomplete(project=project_autocomplete)
    @staff_only()
    async def run(
        self, interaction: discord.Interaction[NexusBot], project: str | None = None, dry_run: bool = False
    ) -> None:
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.bot.services.matching.run(guild.id, project, dry_run=dry_run)
        pages = plan_pages(result.outcomes, result.names, dry_run=dry_run)
        if not dry_run:
            # new proposals ping their members in their own posts; joiners and the unplaced in the notice
            await self.bot.delivery.deliver(guild.id, result.events)
            waiting = await self.bot.delivery.summary(guild.id)
            if waiting.waiting:
                pages[0].add_field(
                    name="Not posted yet", value=f"{waiting.waiting} post(s); Nexus posts them automatically."
                )
        await Paginator(interaction.user.id, pages).send(interaction)


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(PartnerCog(bot))
    await bot.add_cog(MatchCog(bot))
