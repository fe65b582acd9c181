"""How scheduled posts and the list of schedules read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.app import app_of
from bot.domain.schedules import SCHEDULE_TEXT_MAX, NudgeDelivery, Repeat, ScheduledPost, local_text
from bot.domain.text import safe_text, truncate
from bot.services.schedules import RunView, ScheduleInfo, ScheduleList
from bot.ui.drafts import refuse_form
from bot.ui.embeds import NEXUS_COLOUR, chunk_lines

SCHEDULE_PAGE_CHARS = 3500
"""Characters of schedule lines per page of /schedule list (an embed description holds 4,096)."""
PREVIEW_CHARS = 80
FORM_TIMEOUT_SECONDS = 900

StoreText = Callable[[discord.Interaction[Any], str], Awaitable[None]]
"""Stores the schedule with the text typed in the form and answers the form's interaction."""


def scheduled_post_embed(run: RunView) -> discord.Embed:
    """A scheduled post as it appears in the channel: the staff's text, which never pings anyone
    (mentions inside an embed do not notify)."""
    embed = discord.Embed(description=run.text, colour=NEXUS_COLOUR)
    embed.set_footer(text="Scheduled post")
    return embed


def when_text(info: ScheduleInfo) -> str:
    """`weekly on mon,wed at 09:00` or `once on 2026-03-30 at 09:00`."""
    if info.repeat is Repeat.WEEKLY:
        return f"weekly on {info.days} at {info.local_time}"
    return f"once on {info.start.isoformat()} at {info.local_time}"


def schedule_line(info: ScheduleInfo) -> str:
    """One schedule in the list."""
    if info.post is ScheduledPost.TEXT:
        preview = safe_text(truncate(" ".join(info.text.split()), PREVIEW_CHARS))
    else:
        preview = f"*{info.post.label}*" + (" (DMs)" if info.delivery is NudgeDelivery.DM else "")
    upcoming = local_text(info.next_run_at, info.zone) if info.next_run_at else "nothing left to run"
    counts = f" · posted {info.posted}" if info.posted else ""
    if info.skipped:
        counts += f" · skipped {info.skipped}"
    return f"`#{info.id}` {when_text(info)} · next: {upcoming}{counts}\n> {preview}"


def schedule_pages(listing: ScheduleList) -> list[discord.Embed]:
    """The server's schedules, and the runs skipped because the bot was down, as pages."""
    lines = [schedule_line(info) for info in listing.schedules]
    if listing.skipped:
        lines.append("**Skipped** (missed while Nexus was down, older than the grace):")
        lines += [f"• `#{s.schedule_id}` due {local_text(s.due_at, s.zone)}" for s in listing.skipped]
    blocks = chunk_lines(lines, SCHEDULE_PAGE_CHARS) or ["No schedules yet: `/schedule add`."]
    pages = []
    for index, block in enumerate(blocks):
        embed = discord.Embed(title="Scheduled posts", description=block, colour=NEXUS_COLOUR)
        page = f" · page {index + 1}/{len(blocks)}" if len(blocks) > 1 else ""
        embed.set_footer(text=f"{len(listing.schedules)} schedule(s) · times in {listing.zone}{page}")
        pages.append(embed)
    return pages


class ScheduleTextModal(discord.ui.Modal, title="Scheduled post"):
    """The text of a `/schedule add` that left out `text`: a paragraph, line breaks included."""

    def __init__(self, store: StoreText, draft: str | None = None) -> None:
        super().__init__(timeout=FORM_TIMEOUT_SECONDS)
        self._store = store
        self.text: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="nexus:schedule:text",
            style=discord.TextStyle.paragraph,
            max_length=SCHEDULE_TEXT_MAX,
            default=draft,
        )
        self.add_item(discord.ui.Label(text="What Nexus posts (it never pings anyone)", component=self.text))

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        # the same write budget as the command: a form is one more door to the same use case
        app_of(interaction).write_gate.spend(interaction.guild_id, interaction.user.id)
        await self._store(interaction, self.text.value)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        typed = self.text.value
        await refuse_form(interaction, error, lambda: ScheduleTextModal(self._store, typed))
