"""How a roster nudge reads in the channel: the mentions in the content, a short embed, and whom
the message may notify (exactly the learners it names)."""

from __future__ import annotations

import discord

from bot.domain.nudges import mentioned, nudge_content
from bot.services.nudges import NudgePostView
from bot.ui.embeds import NEXUS_COLOUR

NUDGE_INTRO = (
    "A Week-1 step is still open for the learners named above: the command next to each step does it. "
    "`/nexus progress` shows your checklist; `/nexus reminders off` stops these reminders."
)
FALLBACK_INTRO = (
    "Your DMs are closed, so this reminder comes here: the command next to each step does it. "
    "`/nexus reminders off` stops these reminders."
)


def nudge_message(post: NudgePostView) -> tuple[str, discord.Embed | None, discord.AllowedMentions]:
    """The message's content (the mentions), its embed (None once nobody is left to name, after a
    member asked to be forgotten: the message goes), and the mentions it may make: the named users
    only, never a role or @everyone."""
    users = mentioned(post.sections)
    allowed = discord.AllowedMentions(
        everyone=False, roles=False, replied_user=False, users=[discord.Object(user_id) for user_id in users]
    )
    if not users:
        return "", None, allowed
    embed = discord.Embed(description=FALLBACK_INTRO if post.dm_fallback else NUDGE_INTRO, colour=NEXUS_COLOUR)
    embed.set_footer(text="Week-1 reminder")
    return nudge_content(post.sections), embed, allowed
