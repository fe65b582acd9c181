"""Check-ins in Discord: each claimed prompt sent to its member by DM with the check-in button, or,
when their DMs are closed, in the team's thread mentioning only them; and the report shown in the
team's thread (the project channel when the team has none)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.app import NexusApp
from bot.delivery.channel import post_or_edit, show_in
from bot.delivery.outcome import PostOutcome
from bot.delivery.threads import known_thread
from bot.ui.checkins import prompt_text, prompt_view

if TYPE_CHECKING:
    from bot.delivery.rendered import PostKind, Rendered

log = logging.getLogger("nexus.delivery")

VIA_DM = "dm"
VIA_THREAD = "thread"
VIA_NONE = "none"
"""Neither a DM nor the team's thread took the prompt: the member answers nothing this time."""


async def prompt_members(app: NexusApp, guild: discord.Guild, prompt_ids: Sequence[int]) -> None:
    """Send each claimed prompt and record how it went; a failure leaves it to the next pass."""
    for prompt_id in prompt_ids:
        try:
            via = await _send_prompt(app, guild, prompt_id)
            await app.services.checkins.mark_delivered(prompt_id, via)
        except Exception:
            log.exception("Sending check-in prompt %s failed; a pass sends it after the lease", prompt_id)


async def _send_prompt(app: NexusApp, guild: discord.Guild, prompt_id: int) -> str:
    info = await app.services.checkins.prompt(prompt_id)
    text = prompt_text(info)
    try:
        user = app.get_user(info.user_id) or await app.fetch_user(info.user_id)
        await user.send(text, view=prompt_view(info.id))
        return VIA_DM
    except discord.HTTPException as exc:
        log.info("Could not DM check-in prompt %s (%s); trying the team's thread", prompt_id, exc)
    thread = await known_thread(guild, info.thread_id) if info.thread_id is not None else None
    if thread is None or thread.locked:
        return VIA_NONE
    member = discord.Object(info.user_id)
    try:
        await thread.send(
            f"<@{info.user_id}> {text}",
            view=prompt_view(info.id),
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=[member]),
        )
    except discord.HTTPException as exc:
        log.info("Could not post check-in prompt %s in the team's thread: %s", prompt_id, exc)
        return VIA_NONE
    return VIA_THREAD


async def show_checkin_report(
    app: NexusApp, guild: discord.Guild, kind: PostKind, record_id: int, rendered: Rendered, *, retry: bool
) -> PostOutcome:
    """Post or edit the report in the team's thread (`rendered.channel_id`), else the project channel."""
    assert rendered.embed is not None
    marker = kind.marker(record_id)
    footer = rendered.embed.footer.text
    if not (footer and footer.endswith(marker)):
        rendered.embed.set_footer(text=f"{footer} · {marker}" if footer else marker)
    thread = await known_thread(guild, rendered.channel_id) if rendered.channel_id is not None else None
    # a locked thread (the team ended) keeps its posted report up to date, but takes no new one; nor
    # does the public project channel: an ended team's answers stay in its thread or nowhere
    if thread is not None and thread.locked and rendered.message_id is None:
        return PostOutcome(guild_id=guild.id)
    if thread is not None and (not thread.locked or rendered.message_id is not None):
        locked = thread.locked
        try:
            if thread.archived:
                await thread.edit(archived=False)
            outcome = await show_in(
                thread,
                embed=rendered.embed,
                view=rendered.view,
                message_id=rendered.message_id,
                nonce=kind.nonce(record_id, rendered.revision),
                marker=marker if retry and rendered.message_id is None else None,
            )
            if locked:
                await thread.edit(archived=True, locked=True)
            return outcome
        except discord.HTTPException as exc:
            log.info("Posting check-in report %s in the team's thread failed (%s); using the channel", record_id, exc)
    return await post_or_edit(
        app,
        guild,
        embed=rendered.embed,
        view=rendered.view,
        channel_id=rendered.channel_id,
        message_id=rendered.message_id,
        nonce=kind.nonce(record_id, rendered.revision),
        marker=marker if retry and rendered.message_id is None else None,
    )
