"""The registry of channel-post kinds: each names its model, how it renders, and what follows.

A new kind of post is one `PostKind` entry here: the publisher, the outbox's retries and
`/setup show`'s count of waiting posts all go through this registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord

from bot.app import NexusApp
from bot.delivery.channel import ChannelFinder, staff_channel
from bot.domain.events import PostKindName
from bot.domain.notices import NoticeKind
from bot.services.outbox import PostedModel
from bot.ui.cohort import announcement_embed
from bot.ui.follow_ups import flag_embed, follow_up_view
from bot.ui.matching import team_embed, team_mentions, team_view
from bot.ui.notices import notice_message
from bot.ui.schedules import scheduled_post_embed
from models import Announcement, ChannelNotice, FollowUpFlag, PostDeletion, ScheduleRun, Team


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
    whether its record goes once its message is deleted, and where it is posted (the project
    channel unless `channel` says otherwise)."""

    name: PostKindName
    model: PostedModel
    render: Renderer
    remove_when_deleted: bool = False
    channel: ChannelFinder | None = None

    def nonce(self, record_id: int, revision: int) -> str:
        """A nonce unique per kind, record and revision (Discord allows 25 characters)."""
        return f"{self.short_id(record_id)}.{revision}"

    def short_id(self, record_id: int) -> str:
        """The record as a few characters: the kind's initial and its id."""
        return f"{self.name.value[0]}{record_id}"

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
    view = None
    if notice.kind is NoticeKind.FOLLOW_UP and notice.team_id is not None and embed is not None:
        view = follow_up_view(notice.team_id)
    return Rendered(notice.revision, notice.posted_revision, notice.channel_id, notice.message_id, embed, view, content)


async def _deletion(app: NexusApp, record_id: int) -> Rendered:
    gone = await app.services.notices.deletion(record_id)
    return Rendered(gone.revision, gone.posted_revision, gone.channel_id, gone.message_id)


async def _scheduled(app: NexusApp, record_id: int) -> Rendered:
    run = await app.services.schedules.run(record_id)
    return Rendered(run.revision, run.posted_revision, run.channel_id, run.message_id, scheduled_post_embed(run))


async def _flag(app: NexusApp, record_id: int) -> Rendered:
    flagged = await app.services.follow_ups.flag(record_id)
    return Rendered(
        flagged.flag_revision,
        flagged.flag_posted_revision,
        flagged.flag_channel_id,
        flagged.flag_message_id,
        flag_embed(flagged),
    )


POST_KINDS: dict[PostKindName, PostKind] = {
    kind.name: kind
    for kind in (
        PostKind(PostKindName.ANNOUNCEMENT, Announcement, _announcement),
        PostKind(PostKindName.TEAM, Team, _team),
        PostKind(PostKindName.NOTICE, ChannelNotice, _notice),
        PostKind(PostKindName.DELETION, PostDeletion, _deletion, remove_when_deleted=True),
        PostKind(PostKindName.SCHEDULED, ScheduleRun, _scheduled),
        PostKind(PostKindName.FLAG, FollowUpFlag, _flag, channel=staff_channel),
    )
}
"""Every kind of channel post, by name."""
