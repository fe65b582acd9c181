"""Proposal posts with persistent Accept/Decline buttons, team embeds and plan summaries."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.app import app_of
from bot.domain.api_diff import describe_diff
from bot.domain.matching import ProjectOutcome
from bot.domain.teams import TeamStatus, describe_ending
from bot.domain.text import code_span, safe_text, truncate
from bot.domain.unplaced import describe_unplaced
from bot.services.api_queries import ContractHealth
from bot.services.matching import TeamView, Waiting
from bot.ui.api import endpoint_title
from bot.ui.embeds import EMBED_FIELD_LIMIT, NEXUS_COLOUR, chunk_lines
from bot.ui.notices import mention
from bot.ui.views import guarded

CONTRACT_DIFF_LINES = 5
"""Changes of the last contract change shown on the team's post."""
STATUS_COLOUR = {
    TeamStatus.PROPOSED: discord.Colour.gold(),
    TeamStatus.ACTIVE: discord.Colour.green(),
}


def team_mentions(team: TeamView) -> str:
    return " ".join(mention(uid) for uid in team.user_ids)


def team_embed(team: TeamView) -> discord.Embed:
    """The proposal/team post: project, members with their tracks and answers, status."""
    status = team.status.label
    if team.status is TeamStatus.ACTIVE and team.pending:
        newcomers = ", ".join(f"<@{m.user_id}>" for m in team.pending)
        status = f"Team formed; {newcomers} proposed to join as a trio (accept to join)"
    embed = discord.Embed(
        title=f"🤝 {safe_text(team.project_name)}",
        description=status,
        colour=STATUS_COLOUR.get(team.status, discord.Colour.light_grey()),
    )
    for member in team.members:
        answer = ("✅ accepted" if member.accepted else "⏳ waiting") if team.status.is_open else ""
        embed.add_field(name=member.track.label, value=f"<@{member.user_id}> {answer}".strip())
    if team.status is TeamStatus.PROPOSED or team.pending:
        embed.add_field(name="Answer by", value=f"<t:{int(team.expires_at.timestamp())}:R>", inline=False)
    if team.ending is not None and not team.status.is_open:
        embed.add_field(name="Why", value=describe_ending(team.ending, mention), inline=False)
    if team.status is TeamStatus.ACTIVE and team.api is not None and (team.api.total or team.last_change):
        embed.add_field(name="API contract", value=contract_line(team), inline=False)
    if team.status is TeamStatus.ACTIVE and not team.pending and not (team.api and team.api.all_agreed):
        embed.set_footer(text="Next: agree your API with /api add and /api agree")
    return embed


def contract_line(team: TeamView) -> str:
    """The team's contract on its post: version, agreement, and the last change with its diff."""
    api = team.api or ContractHealth()
    text = f"v{team.api_version} · {api.agreed}/{api.total} endpoint(s) agreed"
    if api.changed:
        text += f" · {api.changed} changed since agreed"
    change = team.last_change
    if change is not None:
        who = mention(change.actor_id) if change.actor_id else "a former member"
        lines = describe_diff(change.changes, limit=CONTRACT_DIFF_LINES) if change.action == "changed" else []
        text += f"\nLast change: {who} {change.action} {code_span(endpoint_title(change.endpoint))}"
        text += "".join(f"\n{code_span(line)}" for line in lines)
    return truncate(text, EMBED_FIELD_LIMIT)


def team_view(team: TeamView) -> discord.ui.View:
    """Accept/Decline while someone still has to answer; no buttons otherwise."""
    if not team.status.is_open or not team.pending:
        return discord.ui.View(timeout=None)  # an empty view removes old buttons on edit
    view = discord.ui.View(timeout=None)
    view.add_item(ProposalButton("accept", team.id))
    view.add_item(ProposalButton("decline", team.id))
    return view


class ProposalButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nexus:match:(?P<action>accept|decline):(?P<team>[0-9]+)"
):
    """Accept or Decline on a proposal post; rebuilt from its custom_id after a restart."""

    def __init__(self, action: str, team_id: int) -> None:
        self.action = action
        self.team_id = team_id
        super().__init__(
            discord.ui.Button(
                label="Accept" if action == "accept" else "Decline",
                style=discord.ButtonStyle.success if action == "accept" else discord.ButtonStyle.secondary,
                custom_id=f"nexus:match:{action}:{team_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ProposalButton:
        return cls(match["action"], int(match["team"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        app = app_of(interaction)
        if interaction.guild_id is None:
            raise discord.app_commands.NoPrivateMessage()
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await app.services.matching.answer(
            interaction.guild_id, self.team_id, interaction.user.id, accept=self.action == "accept"
        )
        # the post is brought up to date before the member's private answer, so both agree
        await app.delivery.deliver(interaction.guild_id, result.events)
        await interaction.followup.send(result.message, ephemeral=True)


def plan_pages(outcomes: dict[str, ProjectOutcome], names: dict[int, str], *, dry_run: bool) -> list[discord.Embed]:
    """The plan of a /match run: pairs, trios, joins into existing pairs, and the unplaced with reasons."""

    def who(uid: int) -> str:
        return f"<@{uid}>"

    lines: list[str] = []
    total_groups = total_unplaced = 0
    for project, outcome in sorted(outcomes.items()):
        if not (outcome.groups or outcome.joins or outcome.unplaced):
            continue
        lines.append(f"**{safe_text(project)}**")
        for group in outcome.groups:
            kind = "trio" if group.is_trio else "pair"
            lines.append(f"• {kind}: " + ", ".join(f"{who(m.user_id)} ({m.track.value})" for m in group.members))
        for join in outcome.joins:
            lines.append(f"• joins team #{join.team_id} as a trio: {who(join.candidate.user_id)}")
        for unplaced in outcome.unplaced:
            lines.append(f"• unplaced: {who(unplaced.user_id)}: {unplaced.description}")
        total_groups += len(outcome.groups)
        total_unplaced += len(outcome.unplaced)
    title = "Matching plan (dry run: nothing was posted)" if dry_run else "Matching run"
    blocks = chunk_lines(lines, 3800) or ["Nobody is waiting for a partner."]
    pages = []
    for index, block in enumerate(blocks):
        embed = discord.Embed(title=title, description=block, colour=NEXUS_COLOUR)
        embed.set_footer(
            text=f"{total_groups} proposal(s) · {total_unplaced} unplaced · page {index + 1}/{len(blocks)}"
        )
        pages.append(embed)
    return pages


def waiting_text(waiting: Waiting) -> str:
    """Why a learner in the pool still waits, as `/partner status` and `/partner find` say it."""
    if waiting.reason is None or waiting.needs is None:
        return "You are in the pool: waiting for a partner."
    return (
        f"You are in the pool: {describe_unplaced(waiting.reason, waiting.needs)}. Nexus proposes a partner "
        "as soon as one is free (staff also run cohort-wide matching with `/match run`)."
    )
