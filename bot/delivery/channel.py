"""The project channel: finding it, and posting, editing or deleting one message there."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.utils import MISSING

from bot.app import NexusApp
from bot.delivery.outcome import PostOutcome
from bot.services.settings import GuildConfig

log = logging.getLogger("nexus.delivery")

POSTING_PERMISSIONS = ("view_channel", "send_messages", "embed_links")
THREAD_PERMISSIONS = ("create_private_threads", "send_messages_in_threads", "manage_threads")
"""What a team's private thread needs in the project channel: making it, posting in it, archiving and
locking it when the team ends."""
LOOK_BACK_MESSAGES = 50
"""Recent messages a retried post searches for an earlier attempt that reached Discord unrecorded.

Discord drops a repeated nonce only within a few minutes; the outbox may retry after 15."""


def missing_post_permissions(channel: discord.abc.GuildChannel, me: discord.Member) -> list[str]:
    """The permissions Nexus lacks to post its embeds in `channel`."""
    perms = channel.permissions_for(me)
    return [name.replace("_", " ").title() for name in POSTING_PERMISSIONS if not getattr(perms, name)]


def missing_thread_permissions(channel: discord.abc.GuildChannel, me: discord.Member) -> list[str]:
    """The permissions Nexus lacks to keep team threads in `channel`."""
    perms = channel.permissions_for(me)
    return [name.replace("_", " ").title() for name in THREAD_PERMISSIONS if not getattr(perms, name)]


def resolve_project_channel(guild: discord.Guild, config: GuildConfig, default_name: str) -> discord.TextChannel | None:
    """The configured project channel, else a text channel named like the default, else None."""
    if config.project_channel_id is not None:
        channel = guild.get_channel(config.project_channel_id)
        return channel if isinstance(channel, discord.TextChannel) else None
    wanted = default_name.lower().lstrip("#")
    for candidate in guild.text_channels:
        if candidate.name.lower() == wanted:
            return candidate
    return None


async def project_channel(app: NexusApp, guild: discord.Guild) -> tuple[discord.TextChannel | None, str | None]:
    """The project channel and None, or None and the reason it can't be used."""
    config = await app.services.settings.get(guild.id)
    channel = resolve_project_channel(guild, config, app.settings.project_channel_name)
    if channel is None:
        if config.project_channel_id is not None:
            return None, PROJECT_CHANNEL_GONE
        return None, "no project channel is set yet (staff: run `/setup channel`)"
    missing = missing_post_permissions(channel, guild.me)
    if missing:
        return None, f"I can't post in {channel.mention}: I need {', '.join(missing)} there"
    return channel, None


PROJECT_CHANNEL_GONE = "the project channel that staff set no longer exists (staff: run `/setup channel`)"
STAFF_CHANNEL_GONE = "the staff channel that was set no longer exists (staff: run `/setup staff-channel`)"

ChannelFinder = Callable[[NexusApp, discord.Guild], Awaitable[tuple[discord.TextChannel | None, str | None]]]
"""Where a kind of post goes: the channel and None, or None and why it can't be used."""


async def staff_channel(app: NexusApp, guild: discord.Guild) -> tuple[discord.TextChannel | None, str | None]:
    """The staff channel and None, or None and the reason it can't be used."""
    config = await app.services.settings.get(guild.id)
    if config.staff_channel_id is None:
        return None, "no staff channel is set (staff: run `/setup staff-channel`)"
    channel = guild.get_channel(config.staff_channel_id)
    if not isinstance(channel, discord.TextChannel):
        return None, STAFF_CHANNEL_GONE
    missing = missing_post_permissions(channel, guild.me)
    if missing:
        return None, f"I can't post in {channel.mention}: I need {', '.join(missing)} there"
    return channel, None


async def post_or_edit(
    app: NexusApp,
    guild: discord.Guild,
    *,
    embed: discord.Embed,
    view: discord.ui.View | None = None,
    content: str | None = None,
    allowed_mentions: discord.AllowedMentions | None = None,
    file: discord.File | None = None,
    channel_id: int | None = None,
    message_id: int | None = None,
    nonce: str | None = None,
    marker: str | None = None,
    find_channel: ChannelFinder | None = None,
) -> PostOutcome:
    """Edit the existing message when it is still there, else post a new one in the project channel.

    With a `marker`, a message of Nexus's among the channel's recent ones whose footer ends with it
    (an earlier attempt whose answer was lost) is edited instead of posting the record twice.
    `find_channel` says where the post goes (the project channel unless given)."""
    finder = find_channel or project_channel
    channel, problem = await finder(app, guild)
    if channel is None:
        return PostOutcome(problem=problem, guild_id=guild.id)
    moved = channel_id is not None and message_id is not None and channel_id != channel.id
    outcome = await show_in(
        channel,
        gone=STAFF_CHANNEL_GONE if finder is staff_channel else PROJECT_CHANNEL_GONE,
        embed=embed,
        view=view,
        content=content,
        message_id=message_id if channel_id == channel.id else None,
        nonce=nonce,
        marker=marker,
        allowed_mentions=allowed_mentions,
        file=file,
    )
    if moved and outcome.problem is None:
        # staff chose another channel since: the record's post moves there, and the old message
        # (which may name someone since forgotten, or carry stale buttons) goes
        gone = await delete_message(guild, channel_id, message_id)
        if gone.problem is not None:
            log.info("Could not delete the old post %s in %s: %s", message_id, channel_id, gone.problem)
    return outcome


async def show_in(
    channel: discord.TextChannel | discord.Thread,
    *,
    embed: discord.Embed,
    view: discord.ui.View | None = None,
    content: str | None = None,
    message_id: int | None = None,
    nonce: str | None = None,
    marker: str | None = None,
    allowed_mentions: discord.AllowedMentions | None = None,
    file: discord.File | None = None,
    gone: str | None = None,
) -> PostOutcome:
    """Edit message `message_id` of `channel` when it is still there, else post a new one (after
    looking for an earlier attempt's by its `marker`, when one is given). A `file` (an image the
    embed shows) replaces the message's attachments on an edit. `gone` is the problem reported when
    Discord says the channel no longer exists (by default, one naming the channel or thread)."""
    guild = channel.guild
    extra: dict[str, Any] = {}
    if allowed_mentions is not None:
        extra["allowed_mentions"] = allowed_mentions
    if marker is not None and message_id is None:
        message_id = await _earlier_post(channel, guild.me.id, marker)
    try:
        if message_id is not None:
            try:
                message = channel.get_partial_message(message_id)
                edits: dict[str, Any] = {"attachments": [file]} if file is not None else {}
                # the render is the whole message: without a view its buttons go (a digest whose
                # notes were all deleted), where leaving the view out would keep the old ones
                await message.edit(content=content, embed=embed, view=view, **edits, **extra)
                return PostOutcome(channel.id, message_id, guild_id=guild.id)
            except discord.NotFound:
                log.info("Message %s vanished from %s; posting a new one", message_id, channel.id)
                if file is not None:
                    file.reset()  # the failed edit read the image; the post sends it again
        # the nonce makes Discord return the first message if a post is retried after a crash
        sent = await channel.send(
            content,
            embed=embed,
            view=view if view is not None else MISSING,
            file=file or MISSING,
            nonce=nonce or MISSING,
            **extra,
        )
        return PostOutcome(channel.id, sent.id, guild_id=guild.id)
    except discord.Forbidden:
        return PostOutcome(
            problem=f"Discord refused my post in {channel.mention} (missing permission)", guild_id=guild.id
        )
    except discord.NotFound:
        if gone is None:
            where = "the thread" if isinstance(channel, discord.Thread) else "the channel"
            gone = f"{where} {channel.mention} no longer exists"
        return PostOutcome(problem=gone, guild_id=guild.id)
    except discord.HTTPException as exc:
        log.warning("Posting in %s failed: %s", channel.id, exc)
        return PostOutcome(problem="Discord did not accept the post just now; it will be retried", guild_id=guild.id)


async def _earlier_post(channel: discord.TextChannel | discord.Thread, me: int, marker: str) -> int | None:
    """The id of Nexus's recent message in `channel` whose footer ends with `marker`, if any."""
    try:
        async for message in channel.history(limit=LOOK_BACK_MESSAGES):
            footer = message.embeds[0].footer.text if message.embeds else None
            if message.author.id == me and footer and footer.endswith(marker):
                return message.id
    except discord.HTTPException as exc:  # no Read Message History: post, as before
        log.info("Could not look back in %s for %s: %s", channel.id, marker, exc)
    return None


async def delete_message(guild: discord.Guild, channel_id: int | None, message_id: int | None) -> PostOutcome:
    """Delete one message; a message or channel already gone counts as done."""
    if channel_id is None or message_id is None:
        return PostOutcome(channel_id, message_id, guild_id=guild.id, problem=None)
    channel = guild.get_channel(channel_id)
    if not isinstance(channel, discord.TextChannel):
        return PostOutcome(channel_id, message_id, guild_id=guild.id)
    try:
        await channel.get_partial_message(message_id).delete()
    except discord.NotFound:
        pass
    except discord.HTTPException as exc:
        return PostOutcome(problem=f"Discord did not delete the message just now ({exc.status})", guild_id=guild.id)
    return PostOutcome(channel_id, message_id, guild_id=guild.id)
