"""The registry of channel-post kinds: each names its model, how it renders, and what follows.

A new kind of post is one `PostKind` entry here: the publisher, the outbox's retries and
`/setup show`'s count of waiting posts all go through this registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord

from bot.app import NexusApp
from bot.domain.events import PostKindName
from bot.domain.nudges import digest_window
from bot.domain.schedules import ScheduledPost
from bot.services.outbox import PostedModel
from bot.ui.cohort import announcement_embed, kickoff_embed, kickoff_view
from bot.ui.digest import digest_embed, digest_view, funnel_attachment, funnel_png
from bot.ui.matching import team_embed, team_mentions, team_view
from bot.ui.notices import notice_message
from bot.ui.nudges import nudge_message
from bot.ui.schedules import scheduled_post_embed
from models import Announcement, ChannelNotice, NudgePost, PostDeletion, ScheduleRun, Team


@dataclass(frozen=True)
class Rendered:
    """A record's post as it should look now (or that it should go), and where it currently is."""

    revision: int
    posted_revision: int
    channel_id: int | None
    message_id: int | None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    content: str | None = None
    allowed_mentions: discord.AllowedMentions | None = None
    """Whom the post may notify, when not the bot's default (users by id, never roles)."""
    file: discord.File | None = None
    """An image the embed shows (the digest's funnel chart)."""

    @property
    def delete(self) -> bool:
        """Nothing is left to show: the message is deleted."""
        return self.embed is None

    @property
    def current(self) -> bool:
        return self.posted_revision == self.revision and (self.message_id is not None or self.delete)


Renderer = Callable[[NexusApp, int], Awaitable[Rendered]]


@dataclass(frozen=True)
class PostKind:
    """One kind of channel post: its name, its model (with the ChannelPosted columns), its renderer,
    and whether its record goes once its message is deleted."""

    name: PostKindName
    model: PostedModel
    render: Renderer
    remove_when_deleted: bool = False
    initial: str | None = None
    """The kind's letter in nonces and markers, when its name's first letter is taken."""

    def nonce(self, record_id: int, revision: int) -> str:
        """A nonce unique per kind, record and revision (Discord allows 25 characters)."""
        return f"{self.short_id(record_id)}.{revision}"

    def short_id(self, record_id: int) -> str:
        """The record as a few characters: the kind's initial and its id."""
        return f"{self.initial or self.name.value[0]}{record_id}"

    def marker(self, record_id: int) -> str:
        """What the post's footer ends with, so a retry can find a post whose answer was lost."""
        return f"post {self.short_id(record_id)}"


async def _announcement(app: NexusApp, record_id: int) -> Rendered:
    info = await app.services.announcements.get(record_id)
    return Rendered(info.revision, info.posted_revision, info.channel_id, info.message_id, announcement_embed(info))


async def _team(app: NexusApp, record_id: int) -> Rendered:
    team = await app.services.matching.team(record_id)
    return Rendered(
        team.revision,
        team.posted_revision,
        team.channel_id,
        team.message_id,
        team_embed(team) if team.members else None,
        team_view(team),
        team_mentions(team),
    )


async def _notice(app: NexusApp, record_id: int) -> Rendered:
    notice = await app.services.notices.get(record_id)
    content, embed = notice_message(notice)
    return Rendered(notice.revision, notice.posted_revision, notice.channel_id, notice.message_id, embed, None, content)


async def _deletion(app: NexusApp, record_id: int) -> Rendered:
    gone = await app.services.notices.deletion(record_id)
    return Rendered(gone.revision, gone.posted_revision, gone.channel_id, gone.message_id)


async def _scheduled(app: NexusApp, record_id: int) -> Rendered:
    run = await app.services.schedules.run(record_id)
    where = (run.revision, run.posted_revision, run.channel_id, run.message_id)
    if run.post is ScheduledPost.KICKOFF:
        return Rendered(*where, kickoff_embed(), kickoff_view())
    if run.post is ScheduledPost.DIGEST:
        digest = await app.services.digest.week(run.guild_id, *digest_window(run.due_at))
        embed = digest_embed(digest)
        chart = funnel_attachment(embed, await funnel_png(digest))
        return Rendered(*where, embed, digest_view(digest), file=chart)
    return Rendered(*where, scheduled_post_embed(run))


async def _nudge(app: NexusApp, record_id: int) -> Rendered:
    post = await app.services.nudges.post(record_id)
    content, embed, allowed = nudge_message(post)
    where = (post.revision, post.posted_revision, post.channel_id, post.message_id)
    return Rendered(*where, embed, None, content, allowed_mentions=allowed)


POST_KINDS: dict[PostKindName, PostKind] = {
    kind.name: kind
    for kind in (
        PostKind(PostKindName.ANNOUNCEMENT, Announcement, _announcement),
        PostKind(PostKindName.TEAM, Team, _team),
        PostKind(PostKindName.NOTICE, ChannelNotice, _notice),
        PostKind(PostKindName.DELETION, PostDeletion, _deletion, remove_when_deleted=True),
        PostKind(PostKindName.SCHEDULED, ScheduleRun, _scheduled),
        PostKind(PostKindName.NUDGE, NudgePost, _nudge, initial="r"),
    )
}
"""Every kind of channel post, by name."""
