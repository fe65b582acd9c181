"""Follow-ups on teams as members and staff see them: the question with its persistent buttons, the
staff flag, and the roster's follow-up pages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.app import app_of
from bot.domain.team_follow_ups import FollowUpAnswer, FollowUpState
from bot.domain.text import safe_text
from bot.services.follow_ups import Answered, FollowUpPrompt, MemberAnswer, TeamFollowUpView
from bot.ui.embeds import NEXUS_COLOUR, chunk_lines
from bot.ui.views import guarded

QUESTION = "Have you met your partner(s)? Have you agreed the API?"
FOLLOW_UP_PAGE_CHARS = 3500
"""Characters of team lines per page of the roster's follow-ups (an embed description holds 4,096)."""
FLAG_COLOUR = discord.Colour.red()
STATE_LABELS = {
    FollowUpState.ASKED: "asked, waiting for answers",
    FollowUpState.WAITING: "said not yet: asked again",
    FollowUpState.DONE: "met and agreed the API",
    FollowUpState.FLAGGED: "🚩 said not yet twice: flagged to staff",
    FollowUpState.ENDED: "team ended",
}


def _mention(user_id: int) -> str:
    return f"<@{user_id}>"


def question_text(prompt: FollowUpPrompt, user_id: int | None = None) -> str:
    """The follow-up question as a member reads it (in a DM, or a channel notice for all)."""
    others = [uid for uid in prompt.user_ids if uid != user_id]
    team = f" with {', '.join(_mention(uid) for uid in others)}" if user_id is not None and others else ""
    again = " (asked again: last time your team said not yet)" if prompt.round > 1 else ""
    return f"Project Nexus follow-up on your **{safe_text(prompt.project_name)}** team{team}{again}.\n{QUESTION}"


def follow_up_view(team_id: int) -> discord.ui.View:
    """The answers as persistent buttons."""
    view = discord.ui.View(timeout=None)
    for answer in FollowUpAnswer:
        view.add_item(FollowUpButton(answer, team_id))
    return view


def answer_marks(answer: FollowUpAnswer | None) -> str:
    """`met ✅ · API ⏳`, or `no answer yet`."""
    if answer is None:
        return "no answer yet"
    return f"met {'✅' if answer.met else '⏳'} · API {'✅' if answer.api_agreed else '⏳'}"


def answered_text(answered: Answered) -> str:
    """What a member is told once their answer is recorded."""
    text = f"Thanks, recorded: {answer_marks(answered.answer)}."
    if answered.state is FollowUpState.WAITING and answered.next_ask_at is not None:
        text += f" Nexus asks your team again <t:{int(answered.next_ask_at.timestamp())}:R>."
    elif answered.state is FollowUpState.DONE:
        text += " Your whole team is on its way. 🎉"
    elif answered.state is FollowUpState.FLAGGED:
        text += " A facilitator will check in with your team to help."
    if not answered.answer.api_agreed:
        text += " Next: agree your API with `/api add` and `/api agree`."
    return text


class FollowUpButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"nexus:followup:(?P<answer>both|met|not_yet):(?P<team>[0-9]+)",
):
    """An answer to a team's follow-up (in a DM or a channel notice); rebuilt after a restart.
    Only the team's members may answer; it applies to the team's current round."""

    def __init__(self, answer: FollowUpAnswer, team_id: int) -> None:
        self.answer = answer
        self.team_id = team_id
        super().__init__(
            discord.ui.Button(
                label=answer.label,
                style=discord.ButtonStyle.success if answer is FollowUpAnswer.BOTH else discord.ButtonStyle.secondary,
                custom_id=f"nexus:followup:{answer.value}:{team_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FollowUpButton:
        return cls(FollowUpAnswer(match["answer"]), int(match["team"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        app = app_of(interaction)
        app.write_gate.spend(interaction.guild_id, interaction.user.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        answered = await app.services.follow_ups.answer(self.team_id, interaction.user.id, self.answer)
        await app.delivery.deliver(answered.guild_id, answered.events)
        await interaction.followup.send(answered_text(answered), ephemeral=True)


def _member_line(member: MemberAnswer) -> str:
    return f"{_mention(member.user_id)} {answer_marks(member.answer)}"


def flag_embed(view: TeamFollowUpView) -> discord.Embed:
    """The staff-channel post for a team that said "not yet" twice (mentions in an embed never ping)."""
    embed = discord.Embed(
        title=f"🚩 Follow-up: a {safe_text(view.project_name)} team said not yet twice",
        description="\n".join(_member_line(m) for m in view.members) or "The team has ended since.",
        colour=FLAG_COLOUR,
    )
    embed.add_field(name="Asked", value=f"{view.round} times, last <t:{int(view.asked_at.timestamp())}:R>")
    embed.set_footer(text=f"Team #{view.team_id} · /cohort roster step: flagged by a follow-up")
    return embed


def team_line(view: TeamFollowUpView) -> str:
    """One followed-up team in the roster."""
    members = "; ".join(_member_line(m) for m in view.members) or "no current members"
    return f"**{safe_text(view.project_name)}** (team #{view.team_id}) · {STATE_LABELS[view.state]}\n> {members}"


def follow_up_pages(views: Sequence[TeamFollowUpView], *, flagged_only: bool) -> list[discord.Embed]:
    """The followed-up teams (or only the flagged ones) with every member's answers, as pages."""
    title = "Roster: teams flagged by a follow-up" if flagged_only else "Roster: follow-up answers"
    empty = "No team has been flagged. 🎉" if flagged_only else "No team has been followed up yet."
    blocks = chunk_lines([team_line(v) for v in views], FOLLOW_UP_PAGE_CHARS) or [empty]
    flagged = sum(v.flagged for v in views)
    pages = []
    for index, block in enumerate(blocks):
        embed = discord.Embed(title=title, description=block, colour=NEXUS_COLOUR)
        page = f" · page {index + 1}/{len(blocks)}" if len(blocks) > 1 else ""
        embed.set_footer(text=f"{len(views)} team(s) · {flagged} flagged{page}")
        pages.append(embed)
    return pages


@dataclass(frozen=True)
class FollowUpMarks:
    """A learner's latest follow-up answer and whether their team was flagged."""

    answer: FollowUpAnswer | None
    flagged: bool


def member_follow_ups(views: Sequence[TeamFollowUpView]) -> dict[int, FollowUpMarks]:
    """Each followed-up team member's marks, by member."""
    return {m.user_id: FollowUpMarks(m.answer, v.flagged) for v in views for m in v.members}


def follow_up_marks(marks: FollowUpMarks | None) -> str:
    """What a roster line adds for a followed-up learner: ` · follow-up: met ✅ · API ⏳ · 🚩 flagged`."""
    if marks is None:
        return ""
    return f" · follow-up: {answer_marks(marks.answer)}{' · 🚩 flagged' if marks.flagged else ''}"


FLAGS_SHOWN = 5
"""Flagged teams `/setup show` names; the roster lists them all."""


def flags_summary(views: Sequence[TeamFollowUpView]) -> str:
    """The teams flagged by a follow-up, as `/setup show` lists them."""
    if not views:
        return "none"
    lines = [
        f"🚩 {safe_text(v.project_name)} (team #{v.team_id}): {', '.join(_mention(m.user_id) for m in v.members)}"
        for v in views[:FLAGS_SHOWN]
    ]
    if len(views) > FLAGS_SHOWN:
        lines.append(f"… and {len(views) - FLAGS_SHOWN} more")
    lines.append("`/cohort roster` with step *flagged by a follow-up* lists them with their answers.")
    return "\n".join(lines)


def interval_text(own_hours: int | None, default_hours: float) -> str:
    """When teams are asked, as `/setup follow-up` and `/setup show` say it."""
    if own_hours is not None:
        return f'asked {own_hours} h after a team forms and after a "not yet" (set with `/setup follow-up`)'
    return (
        f'asked {default_hours:g} h after a team forms and after a "not yet" '
        "(the default, FOLLOW_UP_HOURS; `/setup follow-up` sets this server's)"
    )
