"""What members are told when their team ends, and how channel notices read."""

from __future__ import annotations

import discord

from bot.domain.notices import NoticeKind, NoticeRole
from bot.domain.teams import EndReason, TeamEnding, describe_ending
from bot.domain.text import safe_text
from bot.domain.unplaced import UnplacedReason, describe_unplaced
from bot.services.api_queries import ChangeView
from bot.services.notices import NoticeView
from bot.ui.api import api_change_text
from bot.ui.embeds import NEXUS_COLOUR, chunk_lines
from bot.ui.follow_ups import QUESTION

CONTENT_LIMIT = 2000
"""Discord's limit for a message's content."""
DESCRIPTION_LIMIT = 4096


def mention(user_id: int) -> str:
    return f"<@{user_id}>"


def team_ended_text(project_name: str, reason: EndReason, actor_id: int | None) -> str:
    """The message telling a member their team (or proposal) ended, and what happens next."""
    why = describe_ending(TeamEnding(reason, actor_id), mention)
    return (
        f"Your Project Nexus team on {safe_text(project_name)} ended: {why}. You are back in the pool: "
        "Nexus proposes a new partner as soon as one is free (`/partner status` shows where you stand)."
    )


def _mentions(user_ids: list[int]) -> str | None:
    text = ""
    for user_id in user_ids:
        piece = f"{' ' if text else ''}{mention(user_id)}"
        if len(text) + len(piece) > CONTENT_LIMIT:
            break
        text += piece
    return text or None


def notice_message(notice: NoticeView, change: ChangeView | None = None) -> tuple[str | None, discord.Embed | None]:
    """The notice's content (its mentions) and embed; (None, None) once nobody is left to address.
    An API-change notice needs its `change`."""
    users = [line.user_id for line in notice.lines]
    if notice.kind is NoticeKind.API_CHANGED:
        if not users or change is None:
            return None, None
        embed = discord.Embed(title="API contract changed", description=api_change_text(change), colour=NEXUS_COLOUR)
        return _mentions(users), embed
    if notice.kind is NoticeKind.TEAM_ENDED:
        if not users:
            return None, None
        reason = notice.reason or EndReason.LEFT
        embed = discord.Embed(
            title="Team ended",
            description=team_ended_text(notice.project_name or "your project", reason, notice.actor_id),
            colour=NEXUS_COLOUR,
        )
        return _mentions(users), embed
    if notice.kind is NoticeKind.FOLLOW_UP:
        if not users:
            return None, None
        embed = discord.Embed(
            title="Team follow-up",
            description=(
                f"Your Project Nexus team on {safe_text(notice.project_name or 'your project')}: {QUESTION}\n"
                "I couldn't ask you by DM; answer with the buttons below (only the team's members can)."
            ),
            colour=NEXUS_COLOUR,
        )
        return _mentions(users), embed
    lines = []
    for line in notice.lines:
        if line.role is NoticeRole.JOINED:
            lines.append(f"• {mention(line.user_id)} is proposed to join a team as its third member")
        elif line.reason and line.track is not None:
            why = describe_unplaced(UnplacedReason(line.reason), line.track.opposite)
            lines.append(f"• {mention(line.user_id)} still waits: {why}")
    body = f"{notice.count} new proposal(s) are up: accept yours with the buttons on its post."
    blocks = chunk_lines([body, *lines], DESCRIPTION_LIMIT)
    embed = discord.Embed(title="Partner matching: proposals are up", description=blocks[0], colour=NEXUS_COLOUR)
    return _mentions(users), embed
