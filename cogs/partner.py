"""/partner and /match: frontend/backend partner matching, and the expiry of unanswered proposals."""

from __future__ import annotations

import logging
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.checks import staff_only, writes
from bot.client import NexusBot
from bot.domain.text import safe_text
from bot.publish import post_or_edit
from bot.ui.matching import notify_members, plan_pages, team_embed
from bot.ui.views import Paginator, confirm_then
from cogs.catalog import project_autocomplete

log = logging.getLogger("nexus.partner")
SUMMARY_MENTIONS_MAX = 1900


@app_commands.guild_only()
class PartnerCog(commands.GroupCog, group_name="partner", group_description="Find your frontend/backend partner"):
    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        self.expiry.change_interval(seconds=bot.settings.expiry_check_seconds)

    async def cog_load(self) -> None:
        self.bot.register_loop(self.expiry)
        self.expiry.start()

    async def cog_unload(self) -> None:
        self.expiry.cancel()

    @app_commands.command(name="find", description="Get proposed the best partner on the other track, or join the pool")
    @writes()
    async def find(self, interaction: discord.Interaction[NexusBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.bot.services.matching.find(guild.id, interaction.user.id)
        if result.team is None:
            await interaction.followup.send(
                f"You are in the pool: {result.reason}. Nexus will propose a partner as soon as one is free "
                "(staff also run cohort-wide matching with `/match run`).",
                ephemeral=True,
            )
            return
        outcome = await self.bot.publisher.publish_within(guild, "team", result.team.id)
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
            await interaction.response.send_message(f"You are in the pool: {waiting}.", ephemeral=True)
        else:
            await interaction.response.send_message(
                "You have no partner yet. Announce your project, then run `/partner find`.", ephemeral=True
            )

    @app_commands.command(name="leave", description="Dissolve your team or cancel your proposal")
    @writes()
    async def leave(self, interaction: discord.Interaction[NexusBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        user_id = interaction.user.id

        async def leave() -> str:
            result = await self.bot.services.matching.leave(guild.id, user_id)
            await self.bot.publisher.publish_team(guild, result.team.id)
            if result.notify:
                await notify_members(
                    self.bot,
                    guild,
                    result.notify,
                    f"<@{user_id}> left your Project Nexus team on {safe_text(result.team.project_name)}. "
                    "You are back in the pool; run `/partner find` for a new partner.",
                )
            return "You left the team. You are both back in the pool."

        await confirm_then(
            interaction, "Leave your team? Your partner will be told.", leave, confirm_label="Leave team"
        )

    @tasks.loop(seconds=300)
    async def expiry(self) -> None:
        async with self.bot.background_pass("Proposal expiry") as go:
            if go:
                await self.expire_proposals()

    @expiry.before_loop
    async def _wait_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def expire_proposals(self, now: datetime | None = None) -> int:
        """Expire unanswered proposals, update their posts, and match their learners again."""
        expired = await self.bot.services.matching.expire_due(now, [guild.id for guild in self.bot.guilds])
        for team in expired:
            guild = self.bot.get_guild(team.guild_id)
            if guild is None:
                continue
            await self.bot.publisher.publish_team(guild, team.id)
            for user_id in team.user_ids:
                try:
                    result = await self.bot.services.matching.find(guild.id, user_id)
                except Exception:  # an announcement withdrawn meanwhile, a race: they stay in the pool
                    log.debug("Re-matching %s after expiry failed", user_id, exc_info=True)
                    continue
                if result.team is not None:
                    await self.bot.publisher.publish_team(guild, result.team.id)
        return len(expired)


@app_commands.guild_only()
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
            failed = 0
            for team in (*result.created, *result.extended):
                outcome = await self.bot.publisher.publish_team(guild, team.id)
                failed += not outcome.ok
            summary = pages[0].copy()
            summary.title = "Partner matching: proposals are up"
            # new proposals ping their members in their own posts; joiners and the unplaced are pinged here
            told = [j.candidate.user_id for o in result.outcomes.values() for j in o.joins]
            told += [u.user_id for o in result.outcomes.values() for u in o.unplaced]
            mentions = " ".join(f"<@{uid}>" for uid in told) or None
            if mentions and len(mentions) > SUMMARY_MENTIONS_MAX:
                mentions = mentions[:SUMMARY_MENTIONS_MAX].rsplit(" ", 1)[0]
            await post_or_edit(self.bot, guild, embed=summary, content=mentions)
            if failed:
                pages[0].add_field(name="Not posted yet", value=f"{failed} proposal(s); they will be posted later.")
        await Paginator(interaction.user.id, pages).send(interaction)


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(PartnerCog(bot))
    await bot.add_cog(MatchCog(bot))
