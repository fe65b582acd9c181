"""How a team's thread opens, and what staff are told about threads."""

from __future__ import annotations

import discord

from bot.domain.teams import TeamStatus
from bot.domain.text import safe_text
from bot.domain.threads import MAX_ACTIVE_THREADS, StaffNoticeKind
from bot.services.matching.views import TeamView
from bot.ui.embeds import NEXUS_COLOUR
from bot.ui.notices import mention


def thread_opening(team: TeamView) -> tuple[str, discord.Embed]:
    """The thread's first message: its members' mentions, and what the thread is for (or that the
    team ended and the thread is closed)."""
    mentions = " ".join(mention(uid) for uid in team.accepted_ids)
    if team.status is TeamStatus.ACTIVE:
        text = (
            f"Welcome to your team's thread for {safe_text(team.project_name)}. Nexus posts your API "
            "contract's changes here; talk freely, only your team and staff can read it."
        )
    else:
        text = f"This team on {safe_text(team.project_name)} ended: the thread is archived and locked."
    embed = discord.Embed(title=f"🧵 {safe_text(team.project_name)}", description=text, colour=NEXUS_COLOUR)
    return mentions or "Your team", embed


def thread_mentions(team: TeamView) -> discord.AllowedMentions:
    """Only the team's own members are pinged (those who accepted: a mention in a private thread
    adds the member to it)."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(uid) for uid in team.accepted_ids], replied_user=False
    )


def staff_notice_embed(kind: StaffNoticeKind) -> discord.Embed:
    """What staff are told once per server."""
    texts = {
        StaffNoticeKind.THREAD_CAP: (
            f"Discord's limit of {MAX_ACTIVE_THREADS:,} active threads in this server was reached, so new "
            "teams get no private thread: their posts go to their team message and DMs. Archive threads "
            "that are no longer needed to make room (`/setup show` counts the teams without one)."
        )
    }
    text = texts[kind]
    return discord.Embed(title="⚠️ Team threads", description=text, colour=discord.Colour.orange())
