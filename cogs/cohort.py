"""/cohort: the Week-1 kickoff post, the facilitator roster and the cohort chart (staff)."""

from __future__ import annotations

import csv
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import staff_group, staff_only, writes
from bot.client import NexusBot
from bot.delivery.channel import post_or_edit
from bot.domain.cohort import RosterStep
from bot.domain.team_follow_ups import FollowUpAnswer
from bot.domain.text import safe_text
from bot.services.api_queries import ContractHealth
from bot.services.cohort import RosterEntry
from bot.services.follow_ups import TeamFollowUpView
from bot.ui.charts import cohort_chart_embed, cohort_chart_file
from bot.ui.checkins import blocker_pages, streak_text
from bot.ui.cohort import kickoff_embed, kickoff_view
from bot.ui.embeds import NEXUS_COLOUR
from bot.ui.follow_ups import FollowUpMarks, follow_up_marks, follow_up_pages, member_follow_ups
from bot.ui.views import Paginator

ROSTER_PAGE_SIZE = 15
STEP_LABELS = {
    RosterStep.NO_PROFILE: "no profile",
    RosterStep.NOT_ANNOUNCED: "not announced",
    RosterStep.NO_PARTNER: "no partner",
    RosterStep.NO_API: "API not agreed",
    RosterStep.NO_NOTES: "no notes",
}
KNOWN_MEMBERS = "Nexus knows members who set a profile, announced or wrote a note"
FOLLOW_UP_ANSWERS = "follow-ups"
FOLLOW_UP_FLAGGED = "flagged"
STEP_CHOICES = [app_commands.Choice(name=label, value=step.value) for step, label in STEP_LABELS.items()] + [
    app_commands.Choice(name="follow-up answers (per team)", value=FOLLOW_UP_ANSWERS),
    app_commands.Choice(name="flagged by a follow-up", value=FOLLOW_UP_FLAGGED),
]


def _cell(text: str) -> str:
    """Text a spreadsheet shows as text, never reads as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _answer_cells(answer: FollowUpAnswer | None) -> list[str]:
    """The met and api_agreed columns: yes, not yet, or empty when never answered."""
    if answer is None:
        return ["", ""]
    return ["yes" if answer.met else "not yet", "yes" if answer.api_agreed else "not yet"]


def roster_csv(entries: list[RosterEntry], follow_ups: dict[int, FollowUpMarks] | None = None) -> bytes:
    """The roster as CSV (one row per learner, with their follow-up answers), safe to open in a
    spreadsheet."""
    follow_ups = follow_ups or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "user_id",
            "name",
            "project",
            "track",
            "missing",
            "endpoints_agreed",
            "endpoints_pending",
            "endpoints_changed",
            "met",
            "api_agreed",
            "flagged",
        ]
    )
    for entry in entries:
        marks = follow_ups.get(entry.user_id)
        writer.writerow(
            [
                entry.user_id,
                _cell(entry.display_name),  # a spreadsheet must not read a member's name as a formula
                entry.project_name or "",
                entry.track.value if entry.track else "",
                "; ".join(STEP_LABELS[s] for s in entry.missing),
                *((entry.api.agreed, entry.api.pending, entry.api.changed) if entry.api else ("", "", "")),
                *_answer_cells(marks.answer if marks else None),
                "yes" if marks and marks.flagged else "",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def contract_health(health: ContractHealth | None) -> str:
    """A team's contract health as a roster line's end: agreed, pending, changed since agreed."""
    if health is None:
        return ""
    if not health.total:
        return " · API: no endpoints"
    return f" · API: {health.agreed} agreed, {health.pending} pending, {health.changed} changed since agreed"


def follow_up_csv(views: list[TeamFollowUpView]) -> bytes:
    """The followed-up teams as CSV, one row per member."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["team_id", "project", "state", "round", "user_id", "met", "api_agreed", "flagged"])
    for view in views:
        for member in view.members:
            writer.writerow(
                [
                    view.team_id,
                    _cell(view.project_name),
                    view.state.value,
                    view.round,
                    member.user_id,
                    *_answer_cells(member.answer),
                    "yes" if view.flagged else "",
                ]
            )
    return buffer.getvalue().encode("utf-8")


def roster_pages(
    entries: list[RosterEntry],
    step: RosterStep | None,
    known: int,
    follow_ups: dict[int, FollowUpMarks] | None = None,
    streaks: dict[int, int] | None = None,
) -> list[discord.Embed]:
    title = f"Roster: {STEP_LABELS[step]}" if step else "Roster: learners missing a step"
    total = max(1, -(-len(entries) // ROSTER_PAGE_SIZE))
    pages = []
    for page in range(total):
        chunk = entries[page * ROSTER_PAGE_SIZE : (page + 1) * ROSTER_PAGE_SIZE]
        lines = [
            f"<@{e.user_id}> · {safe_text(e.project_name) if e.project_name else '—'}"
            f"{f' ({e.track.value})' if e.track else ''} · missing: {', '.join(STEP_LABELS[s] for s in e.missing)}"
            f"{contract_health(e.api)}"
            f"{follow_up_marks((follow_ups or {}).get(e.user_id))}"
            f"{streak_text((streaks or {}).get(e.user_id))}"
            for e in chunk
        ]
        embed = discord.Embed(
            title=title,
            description="\n".join(lines) if lines else "Nobody is missing that step. 🎉",
            colour=NEXUS_COLOUR,
        )
        embed.set_footer(text=f"{len(entries)} of {known} known members · page {page + 1}/{total} · {KNOWN_MEMBERS}")
        pages.append(embed)
    return pages


@app_commands.guild_only()
@staff_group()
class CohortCog(commands.GroupCog, group_name="cohort", group_description="Run the cohort's Week 1 (staff)"):
    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot

    @app_commands.command(name="kickoff", description="Post the Week-1 checklist with an Announce button")
    @writes()
    @staff_only()
    async def kickoff(self, interaction: discord.Interaction[NexusBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await post_or_edit(self.bot, guild, embed=kickoff_embed(), view=kickoff_view())
        if outcome.ok:
            await interaction.followup.send(f"Kickoff posted: {outcome.jump_url}", ephemeral=True)
        else:
            await interaction.followup.send(f"I could not post the kickoff: {outcome.problem}.", ephemeral=True)

    @app_commands.command(name="roster", description="Learners missing a Week-1 step")
    @app_commands.describe(step="Only learners missing this step", csv_file="Attach the list as a CSV file")
    @app_commands.rename(csv_file="csv")
    @app_commands.choices(step=STEP_CHOICES)
    @staff_only()
    async def roster(
        self,
        interaction: discord.Interaction[NexusBot],
        step: app_commands.Choice[str] | None = None,
        csv_file: bool = False,
    ) -> None:
        guild_id = interaction.guild_id
        assert guild_id is not None
        if step is not None and step.value in (FOLLOW_UP_ANSWERS, FOLLOW_UP_FLAGGED):
            await self._follow_ups(interaction, flagged_only=step.value == FOLLOW_UP_FLAGGED, csv_file=csv_file)
            return
        wanted = RosterStep(step.value) if step else None
        entries = await self.bot.services.cohort.roster(guild_id, wanted)
        known = await self.bot.services.cohort.known_learners(guild_id)
        follow_ups = member_follow_ups(await self.bot.services.follow_ups.teams(guild_id))
        if csv_file:
            name = f"roster-{wanted.value if wanted else 'all'}.csv"
            await interaction.response.send_message(
                f"{len(entries)} learner(s). {KNOWN_MEMBERS}.",
                file=discord.File(io.BytesIO(roster_csv(entries, follow_ups)), filename=name),
                ephemeral=True,
            )
            return
        streaks = await self.bot.services.checkins.streaks(guild_id)
        pages = roster_pages(entries, wanted, known, follow_ups, streaks)
        await Paginator(interaction.user.id, pages).send(interaction)

    async def _follow_ups(
        self, interaction: discord.Interaction[NexusBot], *, flagged_only: bool, csv_file: bool
    ) -> None:
        assert interaction.guild_id is not None
        views = await self.bot.services.follow_ups.teams(interaction.guild_id, flagged_only=flagged_only)
        if csv_file:
            name = f"roster-{FOLLOW_UP_FLAGGED if flagged_only else FOLLOW_UP_ANSWERS}.csv"
            await interaction.response.send_message(
                f"{len(views)} team(s).",
                file=discord.File(io.BytesIO(follow_up_csv(views)), filename=name),
                ephemeral=True,
            )
            return
        await Paginator(interaction.user.id, follow_up_pages(views, flagged_only=flagged_only)).send(interaction)

    @app_commands.command(name="blockers", description="Open check-in blockers across teams, oldest first")
    @staff_only()
    async def blockers(self, interaction: discord.Interaction[NexusBot]) -> None:
        assert interaction.guild_id is not None
        pages = blocker_pages(await self.bot.services.checkins.blockers(interaction.guild_id))
        await Paginator(interaction.user.id, pages).send(interaction)

    @app_commands.command(name="chart", description="The Week-1 funnel and each project's sides, as an image")
    @staff_only()
    async def chart(self, interaction: discord.Interaction[NexusBot]) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)  # the first chart loads matplotlib
        picture = await self.bot.services.cohort.chart(interaction.guild_id)
        chart = await self.bot.charts.cohort(picture)
        await interaction.followup.send(embed=cohort_chart_embed(chart), file=cohort_chart_file(chart), ephemeral=True)


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(CohortCog(bot))
