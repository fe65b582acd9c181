"""Putting records into the project channel: post once, then edit the same message."""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord
from discord.utils import MISSING

from bot.services.announcements import AnnouncementInfo
from bot.services.outbox import POSTED_KINDS
from bot.services.settings import GuildConfig
from models import utcnow

if TYPE_CHECKING:
    from bot.client import NexusBot

log = logging.getLogger("nexus.publish")

POSTING_PERMISSIONS = ("view_channel", "send_messages", "embed_links")
MAX_CATCH_UP = 3
"""Edits in a row while the record keeps changing under us, before giving up for now."""
POST_DRAIN_SECONDS = 3.0
"""At shutdown, how long posts still queued may finish; the outbox makes the rest after a restart."""
POST_WAIT_SECONDS = 1.0
"""How long a command waits for its channel post before it answers the member without the link.

Discord lets a bot post 5 new messages per channel every 5 seconds, so in a Week-1 burst posts
queue; the member is told the post is on its way, and it goes on in the background."""


def missing_post_permissions(channel: discord.abc.GuildChannel, me: discord.Member) -> list[str]:
    """The permissions Nexus lacks to post its embeds in `channel`."""
    perms = channel.permissions_for(me)
    return [name.replace("_", " ").title() for name in POSTING_PERMISSIONS if not getattr(perms, name)]


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


@dataclass(frozen=True)
class PostOutcome:
    """Where a record now shows, or why it could not be shown (a sentence for people)."""

    channel_id: int | None = None
    message_id: int | None = None
    problem: str | None = None
    guild_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.message_id is not None

    @property
    def jump_url(self) -> str | None:
        if not self.ok or self.guild_id is None:
            return None
        return f"https://discord.com/channels/{self.guild_id}/{self.channel_id}/{self.message_id}"


async def project_channel(bot: NexusBot, guild: discord.Guild) -> tuple[discord.TextChannel | None, str | None]:
    """The project channel and None, or None and the reason it can't be used."""
    config = await bot.services.settings.get(guild.id)
    channel = resolve_project_channel(guild, config, bot.settings.project_channel_name)
    if channel is None:
        if config.project_channel_id is not None:
            return None, "the project channel that staff set no longer exists (staff: run `/setup channel`)"
        return None, "no project channel is set yet (staff: run `/setup channel`)"
    missing = missing_post_permissions(channel, guild.me)
    if missing:
        return None, f"I can't post in {channel.mention}: I need {', '.join(missing)} there"
    return channel, None


async def post_or_edit(
    bot: NexusBot,
    guild: discord.Guild,
    *,
    embed: discord.Embed,
    view: discord.ui.View | None = None,
    content: str | None = None,
    channel_id: int | None = None,
    message_id: int | None = None,
    nonce: str | None = None,
) -> PostOutcome:
    """Edit the existing message when it is still there, else post a new one in the project channel."""
    channel, problem = await project_channel(bot, guild)
    if channel is None:
        return PostOutcome(problem=problem, guild_id=guild.id)
    try:
        if message_id is not None and channel_id == channel.id:
            try:
                if view is None:
                    await channel.get_partial_message(message_id).edit(content=content, embed=embed)
                else:
                    await channel.get_partial_message(message_id).edit(content=content, embed=embed, view=view)
                return PostOutcome(channel.id, message_id, guild_id=guild.id)
            except discord.NotFound:
                log.info("Message %s vanished from %s; posting a new one", message_id, channel.id)
        # the nonce makes Discord return the first message if a post is retried after a crash
        if view is None:
            message = await channel.send(content, embed=embed, nonce=nonce or MISSING)
        else:
            message = await channel.send(content, embed=embed, view=view, nonce=nonce or MISSING)
        return PostOutcome(channel.id, message.id, guild_id=guild.id)
    except discord.Forbidden:
        return PostOutcome(
            problem=f"Discord refused my post in {channel.mention} (missing permission)", guild_id=guild.id
        )
    except discord.NotFound:
        return PostOutcome(
            problem="the project channel no longer exists (staff: run `/setup channel`)", guild_id=guild.id
        )
    except discord.HTTPException as exc:
        log.warning("Posting in %s failed: %s", channel.id, exc)
        return PostOutcome(problem="Discord did not accept the post just now; it will be retried", guild_id=guild.id)


@dataclass(frozen=True)
class Rendered:
    """A record's post as it should look now, and where it currently is."""

    revision: int
    posted_revision: int
    channel_id: int | None
    message_id: int | None
    embed: discord.Embed
    view: discord.ui.View | None = None
    content: str | None = None

    @property
    def current(self) -> bool:
        return self.posted_revision == self.revision and self.message_id is not None


def _rendered_announcement(info: AnnouncementInfo) -> Rendered:
    from bot.ui.cohort import announcement_embed

    return Rendered(info.revision, info.posted_revision, info.channel_id, info.message_id, announcement_embed(info))


def _log_background_failure(task: asyncio.Task[PostOutcome]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("A channel post failed in the background", exc_info=task.exception())


class Publisher:
    """Keeps each record's channel post in step with the database: one post per record, edited.

    Called right after a change is committed, and by the outbox task for whatever is still waiting
    (a failed post, a process killed between the commit and the post).
    """

    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        # one lock per record while someone uses it; a weak map, so records posted long ago cost nothing
        self._locks: weakref.WeakValueDictionary[tuple[str, int], asyncio.Lock] = weakref.WeakValueDictionary()
        self._in_flight: set[asyncio.Task[PostOutcome]] = set()
        self._draining = False

    async def publish_within(
        self,
        guild: discord.Guild,
        kind: str,
        record_id: int,
        *,
        latest: Rendered | None = None,
        seconds: float = POST_WAIT_SECONDS,
    ) -> PostOutcome | None:
        """publish(), waiting at most `seconds`: None when the post is still queued behind Discord's
        limit. It then finishes in the background (and if the process stops first, the record is
        still waiting in the database and the outbox posts it). While the bot shuts down, nothing new
        is started: None at once, and the outbox posts it after the restart."""
        if self._draining:
            return None
        task = asyncio.create_task(self.publish(guild, kind, record_id, latest=latest))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        try:
            done, _ = await asyncio.wait({task}, timeout=seconds)
        finally:
            if not task.done():
                # nobody waits for it any more: a failure is reported here, not to the member
                task.add_done_callback(_log_background_failure)
        return task.result() if done else None

    async def drain(self, seconds: float) -> None:
        """At shutdown: start no new background posts, let those in flight finish for up to
        `seconds`, then stop the rest (their records are still waiting; the outbox has them)."""
        self._draining = True
        if self._in_flight:
            _, pending = await asyncio.wait(set(self._in_flight), timeout=seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)  # their transactions end before the engine is disposed

    async def _render(self, kind: str, record_id: int) -> Rendered:
        if kind == "announcement":
            return _rendered_announcement(await self.bot.services.announcements.get(record_id))
        from bot.ui.matching import team_embed, team_mentions, team_view

        team = await self.bot.services.matching.team(record_id)
        return Rendered(
            team.revision,
            team.posted_revision,
            team.channel_id,
            team.message_id,
            team_embed(team),
            team_view(team),
            team_mentions(team),
        )

    async def publish(
        self, guild: discord.Guild, kind: str, record_id: int, *, latest: Rendered | None = None
    ) -> PostOutcome:
        """Post or edit the record's message until it shows the latest revision.

        `latest` is the record as the caller's transaction just committed it, which saves reading it
        again; if something newer was committed meanwhile, `mark_posted` says so and the loop renders
        from the database.
        """
        outbox = self.bot.services.outbox
        lock = self._locks.get((kind, record_id))
        if lock is None:
            lock = self._locks[(kind, record_id)] = asyncio.Lock()
        async with lock:
            outcome = PostOutcome(problem="not attempted", guild_id=guild.id)
            for _ in range(MAX_CATCH_UP):
                rendered = latest if latest is not None else await self._render(kind, record_id)
                latest = None
                if rendered.current:
                    return PostOutcome(rendered.channel_id, rendered.message_id, guild_id=guild.id)
                outcome = await post_or_edit(
                    self.bot,
                    guild,
                    embed=rendered.embed,
                    view=rendered.view,
                    content=rendered.content,
                    channel_id=rendered.channel_id,
                    message_id=rendered.message_id,
                    nonce=f"{kind[0]}{record_id}.{rendered.revision}",
                )
                if not outcome.ok:
                    await outbox.mark_failed(kind, record_id, outcome.problem or "unknown")
                    return outcome
                assert outcome.channel_id is not None and outcome.message_id is not None
                if await outbox.mark_posted(kind, record_id, rendered.revision, outcome.channel_id, outcome.message_id):
                    return outcome
            return outcome

    async def publish_announcement(self, guild: discord.Guild, announcement_id: int) -> PostOutcome:
        return await self.publish(guild, "announcement", announcement_id)

    async def announcement_within(self, guild: discord.Guild, latest: AnnouncementInfo) -> PostOutcome | None:
        """publish_within() for an announcement just committed."""
        return await self.publish_within(guild, "announcement", latest.id, latest=_rendered_announcement(latest))

    async def publish_team(self, guild: discord.Guild, team_id: int) -> PostOutcome:
        return await self.publish(guild, "team", team_id)

    async def flush_guild(self, guild: discord.Guild, *, due_only: bool = False) -> tuple[int, int]:
        """Post what is still waiting in this guild (only what is due for a retry, if asked).

        Returns (posted, still waiting).
        """
        outbox = self.bot.services.outbox
        now = utcnow() if due_only else None
        posted = waiting = 0
        for kind in POSTED_KINDS:
            for record_id in await outbox.due(kind, guild.id, now=now):
                lock = self._locks.get((kind, record_id))
                if due_only and lock is not None and lock.locked():
                    continue  # being posted right now (queued behind the channel limit, say)
                # a retry pass claims each post just before making it, so two passes (in two
                # processes, say during a rolling restart) never both make it
                if due_only and not await outbox.claim(kind, record_id, utcnow()):
                    continue
                try:
                    outcome = await self.publish(guild, kind, record_id)
                except Exception:
                    # one record that cannot be posted must not hold up the others
                    log.exception("Posting %s %s failed", kind, record_id)
                    waiting += 1
                    continue
                if outcome.ok:
                    posted += 1
                else:
                    waiting += 1
        return posted, waiting
