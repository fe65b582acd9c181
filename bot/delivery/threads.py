"""Team threads in Discord: made once (a retry finds a thread whose answer was lost), members added,
the opening message kept in step, archived and locked when the team ends; and the staff notices
about them, posted in the staff channel."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, cast

import discord

from bot.app import NexusApp
from bot.delivery.channel import (
    delete_message,
    missing_thread_permissions,
    project_channel,
    show_in,
)
from bot.delivery.outcome import PostOutcome
from bot.domain.events import StaffNoticeStored
from bot.domain.threads import THREAD_CAP_CODE, thread_marker
from bot.services.matching.views import TeamView

if TYPE_CHECKING:
    from discord.types.threads import ThreadArchiveDuration

    from bot.delivery.rendered import PostKind, Rendered, ThreadPlan

log = logging.getLogger("nexus.delivery")


def team_destination(team: TeamView) -> int | None:
    """Where the team's posts (contract changes, check-ins, follow-ups) go: its private thread's id,
    or None when it has none (not made yet, the team ended, or Discord's thread cap refused it), in
    which case they go to its team message and its members' DMs."""
    return team.thread_id


async def post_in_team_thread(
    guild: discord.Guild, team: TeamView, text: str, mention_ids: Sequence[int] = ()
) -> discord.Message | None:
    """Post `text` in the team's thread, pinging `mention_ids` only (members of the team); the post,
    or None when the team has no thread or Discord refused, so the caller falls back to its team
    message and DMs. An archived (idle) thread is reopened by the post, as in Discord."""
    thread_id = team_destination(team)
    if thread_id is None:
        return None
    thread = await _known_thread(guild, thread_id)
    if thread is None or thread.locked:
        return None
    # only members who accepted: a mention in a private thread adds the member to it
    members = [discord.Object(uid) for uid in mention_ids if uid in team.accepted_ids]
    mentions = " ".join(f"<@{member.id}>" for member in members)
    try:
        return await thread.send(
            f"{mentions}\n{text}" if mentions else text,
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=members),
        )
    except discord.HTTPException as exc:
        log.info("Posting in team %s's thread failed (%s); telling its members directly", team.id, exc)
        return None


async def show_team_thread(
    app: NexusApp, guild: discord.Guild, kind: PostKind, record_id: int, rendered: Rendered, *, retry: bool
) -> PostOutcome:
    """Make the team's thread if it has none yet, add its members and post (or edit) its opening
    message; once the team ended, archive and lock it."""
    plan = rendered.thread
    assert plan is not None and rendered.embed is not None
    thread: discord.Thread | None = None
    try:
        if rendered.channel_id is not None:
            thread = await _known_thread(guild, rendered.channel_id)
        if thread is None and plan.closed:
            return PostOutcome(guild_id=guild.id)  # ended before it had a thread: nothing to close
        if thread is None:
            thread, outcome = await _make_thread(app, guild, record_id, plan, retry=retry)
            if thread is None:
                return outcome
            rendered = _moved(rendered, thread.id)
        if plan.closed:
            return await _close(thread, kind, record_id, rendered)
        if thread.archived:
            await thread.edit(archived=False)
        for user_id in plan.member_ids:
            await thread.add_user(discord.Object(user_id))  # idempotent: Discord ignores a member already in
        return await _opening(thread, kind, record_id, rendered, retry=retry)
    except discord.Forbidden:
        where = f" {thread.mention}" if thread is not None else ""
        return PostOutcome(
            problem=f"Discord refused a change to the team thread{where} (missing permission)", guild_id=guild.id
        )
    except discord.HTTPException as exc:
        log.warning("Keeping team %s's thread failed: %s", record_id, exc)
        return PostOutcome(
            problem="Discord did not accept a thread change just now; it will be retried", guild_id=guild.id
        )


def _moved(rendered: Rendered, thread_id: int) -> Rendered:
    """The rendered record, now in a freshly made thread (no message there yet)."""
    return replace(rendered, channel_id=thread_id, message_id=None)


async def _known_thread(guild: discord.Guild, thread_id: int) -> discord.Thread | None:
    """The thread recorded for the team (archived ones are not cached: asked of Discord), or None if gone."""
    thread = guild.get_thread(thread_id)
    if thread is not None:
        return thread
    try:
        channel = await guild.fetch_channel(thread_id)
    except discord.NotFound:
        return None
    return channel if isinstance(channel, discord.Thread) else None


async def _make_thread(
    app: NexusApp, guild: discord.Guild, record_id: int, plan: ThreadPlan, *, retry: bool
) -> tuple[discord.Thread | None, PostOutcome]:
    channel, problem = await project_channel(app, guild)
    if channel is None:
        return None, PostOutcome(problem=problem, guild_id=guild.id)
    missing = missing_thread_permissions(channel, guild.me)
    if missing:
        problem = f"I can't keep team threads in {channel.mention}: I need {', '.join(missing)} there"
        return None, PostOutcome(problem=problem, guild_id=guild.id)
    thread = await _earlier_thread(guild, channel, record_id) if retry else None
    if thread is None:
        try:
            thread = await channel.create_thread(
                name=plan.name,
                type=discord.ChannelType.private_thread,
                invitable=False,
                auto_archive_duration=cast("ThreadArchiveDuration", plan.archive_minutes),
            )
        except discord.HTTPException as exc:
            if exc.code != THREAD_CAP_CODE:
                raise
            log.warning("Discord's thread cap refused team %s's thread in guild %s", record_id, guild.id)
            notice_id = await app.services.team_threads.capped(guild.id, record_id)
            if notice_id is not None:
                await app.delivery.deliver(guild.id, [StaffNoticeStored(notice_id)])
            return None, PostOutcome(guild_id=guild.id)
    thread = await _only_thread(guild, channel, record_id, thread)
    await app.services.team_threads.made(record_id, thread.id, channel.id)
    return thread, PostOutcome(thread.id, guild_id=guild.id)


async def _only_thread(
    guild: discord.Guild, channel: discord.TextChannel, record_id: int, made: discord.Thread
) -> discord.Thread:
    """The team's one thread. Making a thread takes no nonce, so should another have been made for
    it (discord.py retries a 502 or 504 on its own; two processes overlapping in a rolling restart),
    the oldest is kept and the others deleted: every process picks the same one."""
    marker = thread_marker(record_id)
    try:
        threads = await guild.active_threads()
    except discord.HTTPException as exc:
        log.info("Could not list the active threads of %s to check team %s has one: %s", guild.id, record_id, exc)
        return made
    ours = sorted(
        (t for t in threads if t.parent_id == channel.id and t.owner_id == guild.me.id and t.name.endswith(marker)),
        key=lambda t: t.id,
    )
    if not ours:
        return made
    for extra in ours[1:]:
        try:
            await extra.delete()
            log.info("Deleted a second thread %s made for team %s", extra.id, record_id)
        except discord.HTTPException as exc:
            log.warning("Could not delete the second thread %s of team %s: %s", extra.id, record_id, exc)
    return ours[0]


async def _earlier_thread(guild: discord.Guild, channel: discord.TextChannel, record_id: int) -> discord.Thread | None:
    """Nexus's active thread for this team in `channel`, made by an attempt whose answer was lost."""
    marker = thread_marker(record_id)
    try:
        threads = await guild.active_threads()
    except discord.HTTPException as exc:
        log.info("Could not list the active threads of %s: %s", guild.id, exc)
        return None
    for thread in threads:
        if thread.parent_id == channel.id and thread.owner_id == guild.me.id and thread.name.endswith(marker):
            return thread
    return None


async def _opening(
    thread: discord.Thread, kind: PostKind, record_id: int, rendered: Rendered, *, retry: bool
) -> PostOutcome:
    assert rendered.embed is not None
    return await show_in(
        thread,
        embed=_marked(rendered.embed, kind.marker(record_id)),
        content=rendered.content,
        message_id=rendered.message_id,
        nonce=kind.nonce(record_id, rendered.revision),
        marker=kind.marker(record_id) if retry and rendered.message_id is None else None,
        allowed_mentions=rendered.allowed_mentions,
    )


async def _close(thread: discord.Thread, kind: PostKind, record_id: int, rendered: Rendered) -> PostOutcome:
    """The opening message says the team ended (and names only who is left: forget-me edits it
    again), then the thread is archived and locked; Manage Threads lets Nexus reopen a locked one."""
    outcome = PostOutcome(thread.id, rendered.message_id, guild_id=thread.guild.id)
    try:
        if thread.archived:
            await thread.edit(archived=False)
        if rendered.message_id is not None:
            outcome = await _opening(thread, kind, record_id, rendered, retry=False)
    except discord.HTTPException as exc:  # the cap refused unarchiving it: lock it as it is
        log.info("Could not reopen thread %s to say the team ended: %s", thread.id, exc)
    assert rendered.thread is not None
    await thread.edit(name=rendered.thread.name, archived=True, locked=True)  # the name no longer names anyone
    return PostOutcome(thread.id, outcome.message_id or rendered.message_id, guild_id=thread.guild.id)


def _marked(embed: discord.Embed, marker: str) -> discord.Embed:
    footer = embed.footer.text
    if not (footer and footer.endswith(marker)):
        embed.set_footer(text=f"{footer} · {marker}" if footer else marker)
    return embed


async def known_thread(guild: discord.Guild, thread_id: int) -> discord.Thread | None:
    """The thread `thread_id` of `guild` (archived ones asked of Discord), or None if it is gone."""
    return await _known_thread(guild, thread_id)


async def delete_post(
    app: NexusApp, guild: discord.Guild, kind: PostKind, record_id: int, rendered: Rendered, *, retry: bool
) -> PostOutcome:
    """Delete a queued message (forget-me's), in a channel or in a thread. Discord deletes nothing
    in an archived thread (50083), so an archived one (an ended team's) is reopened for it and
    archived again, locked again if it was; a message, channel or thread already gone counts as
    done. A thread Nexus cannot reach or reopen now is a problem the outbox retries and
    `/setup show` reports."""
    channel_id, message_id = rendered.channel_id, rendered.message_id
    if channel_id is None or message_id is None or isinstance(guild.get_channel(channel_id), discord.TextChannel):
        return await delete_message(guild, channel_id, message_id)
    try:
        thread = await _known_thread(guild, channel_id)
        if thread is None:
            return PostOutcome(channel_id, message_id, guild_id=guild.id)
        async with reopened(thread, close_again=True):
            await thread.get_partial_message(message_id).delete()
    except discord.NotFound:
        pass
    except discord.HTTPException as exc:
        return PostOutcome(problem=_deletion_problem(exc), guild_id=guild.id)
    return PostOutcome(channel_id, message_id, guild_id=guild.id)


@contextlib.asynccontextmanager
async def reopened(thread: discord.Thread, *, close_again: bool) -> AsyncIterator[None]:
    """An archived thread unarchived for the block (Discord edits and deletes nothing in an archived
    thread, 50083); afterwards, with `close_again`, archived again, locked again if it was. A refused
    unarchiving raises from the block's start."""
    if not thread.archived:
        yield
        return
    await thread.edit(archived=False)
    try:
        yield
    finally:
        if close_again:
            await archive_again(thread)


async def archive_again(thread: discord.Thread) -> None:
    """Archive a thread Nexus reopened (to delete or edit a post in an ended team's thread), and lock
    it again if it was locked (never unlock it: the team's close may have locked it meanwhile)."""
    try:
        if thread.locked:
            await thread.edit(archived=True, locked=True)
        else:
            await thread.edit(archived=True)
    except discord.HTTPException as exc:  # Discord archives an idle thread again by itself
        log.info("Could not archive thread %s again: %s", thread.id, exc)


def _deletion_problem(error: discord.HTTPException) -> str:
    """Why a message in a thread was not deleted, as staff read it in `/setup show`."""
    if error.code == THREAD_CAP_CODE:
        return "Discord's limit of active threads is reached, so an ended team's thread can't be reopened to delete a message"
    if isinstance(error, discord.Forbidden):
        return "I can't reach a team thread to delete a message there (I need View Channel and Manage Threads)"
    return f"Discord did not delete a message in a team thread just now ({error.status})"
