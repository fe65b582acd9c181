"""Check-ins in Discord: each claimed prompt sent to its member by DM with the check-in button, or,
when their DMs are closed, posted mentioning only them in the team's thread (the project channel
when the team has none, as its reports are); and the report shown in the team's thread (the project
channel when the team has none)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.app import NexusApp
from bot.delivery.channel import post_or_edit, project_channel, show_in
from bot.delivery.outcome import PostOutcome
from bot.delivery.threads import known_thread, reopened
from bot.domain.checkins import VIA_CHANNEL, VIA_DM, VIA_NONE, VIA_THREAD
from bot.ui.checkins import prompt_text, prompt_view

if TYPE_CHECKING:
    from bot.delivery.rendered import PostKind, Rendered

log = logging.getLogger("nexus.delivery")


def prompt_nonce(prompt_id: int) -> str:
    """The prompt's nonce: a re-send after a lease (a process that died before recording it) within
    Discord's few minutes returns the first message instead of posting a second."""
    return f"cp{prompt_id}"


async def prompt_members(app: NexusApp, guild: discord.Guild, prompt_ids: Sequence[int]) -> None:
    """Send each claimed prompt and record how it went; a failure leaves it to the next pass."""
    for prompt_id in prompt_ids:
        try:
            via, post = await _send_prompt(app, guild, prompt_id)
            channel_id, message_id = (post.channel.id, post.id) if post is not None else (None, None)
            await app.services.checkins.mark_delivered(prompt_id, via, channel_id, message_id)
        except Exception:
            log.exception("Sending check-in prompt %s failed; a pass sends it after the lease", prompt_id)


async def _send_prompt(app: NexusApp, guild: discord.Guild, prompt_id: int) -> tuple[str, discord.Message | None]:
    """How the prompt went, and its post when it was posted in a channel (not a DM)."""
    info = await app.services.checkins.prompt(prompt_id)
    if not info.deliverable:
        return VIA_NONE, None  # the team ended, or the member left it, since the prompt was claimed
    text = prompt_text(info)
    try:
        user = app.get_user(info.user_id) or await app.fetch_user(info.user_id)
        await user.send(text, view=prompt_view(info.id), nonce=prompt_nonce(info.id))
        return VIA_DM, None
    except discord.HTTPException as exc:
        log.info("Could not DM check-in prompt %s (%s); posting it for them", prompt_id, exc)
    if info.thread_id is not None:
        thread = await known_thread(guild, info.thread_id)
        if thread is None or thread.locked:
            return VIA_NONE, None  # the thread is gone or the team ended: not the public channel
        return await _post_prompt(thread, info.user_id, text, prompt_id, VIA_THREAD)
    channel, problem = await project_channel(app, guild)
    if channel is None:
        log.info("Check-in prompt %s has nowhere to go: %s", prompt_id, problem)
        return VIA_NONE, None
    return await _post_prompt(channel, info.user_id, text, prompt_id, VIA_CHANNEL)


async def _post_prompt(
    channel: discord.Thread | discord.TextChannel, user_id: int, text: str, prompt_id: int, via: str
) -> tuple[str, discord.Message | None]:
    """The prompt posted in `channel`, mentioning (and pinging) only its member."""
    member = discord.Object(user_id)
    try:
        post = await channel.send(
            f"<@{user_id}> {text}",
            view=prompt_view(prompt_id),
            nonce=prompt_nonce(prompt_id),
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=[member]),
        )
    except discord.HTTPException as exc:
        log.info("Could not post check-in prompt %s in %s: %s", prompt_id, channel.id, exc)
        return VIA_NONE, None
    return via, post


async def show_checkin_report(
    app: NexusApp, guild: discord.Guild, kind: PostKind, record_id: int, rendered: Rendered, *, retry: bool
) -> PostOutcome:
    """Post or edit the report in the team's thread (`rendered.channel_id`), else the project channel."""
    if rendered.embed is None:
        return PostOutcome(guild_id=guild.id)  # the team ended before its report was shown: nowhere
    marker = kind.marker(record_id)
    footer = rendered.embed.footer.text
    if not (footer and footer.endswith(marker)):
        rendered.embed.set_footer(text=f"{footer} · {marker}" if footer else marker)
    thread: discord.Thread | None = None
    if rendered.channel_id is not None and not isinstance(guild.get_channel(rendered.channel_id), discord.TextChannel):
        try:
            thread = await known_thread(guild, rendered.channel_id)
        except discord.HTTPException as exc:
            return PostOutcome(problem=_report_problem(exc), guild_id=guild.id)
        if thread is None and rendered.message_id is not None:
            return PostOutcome(guild_id=guild.id)  # its thread is gone, and the report with it
    if thread is not None:
        # a locked thread (the team ended) keeps its posted report up to date, but takes no new one;
        # and a report that belongs in a thread never goes to the public channel instead
        locked = thread.locked
        if locked and rendered.message_id is None:
            return PostOutcome(guild_id=guild.id)
        try:
            # an active team's thread stays open afterwards, as a post leaves it
            async with reopened(thread, close_again=locked):
                return await show_in(
                    thread,
                    embed=rendered.embed,
                    view=rendered.view,
                    message_id=rendered.message_id,
                    nonce=kind.nonce(record_id, rendered.revision),
                    marker=marker if retry and rendered.message_id is None else None,
                )
        except discord.HTTPException as exc:
            return PostOutcome(problem=_report_problem(exc), guild_id=guild.id)
    # a team without a thread: the project channel, as its prompts
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


def _report_problem(error: discord.HTTPException) -> str:
    """Why a check-in report is not in its team's thread yet, as staff read it in `/setup show`."""
    return f"Discord refused a check-in report in its team's thread just now ({error.status}); retrying there"
