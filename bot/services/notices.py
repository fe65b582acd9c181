"""Channel notices and messages to delete: stored first, posted (or deleted) by the delivery layer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import transaction
from bot.domain.cohort import Track
from bot.domain.errors import NotFoundError
from bot.domain.events import Event, PostRetired
from bot.domain.notices import NoticeKind, NoticeRole
from bot.domain.teams import EndReason
from models import ChannelNotice, NoticeMember, PostDeletion, Project, Team


@dataclass(frozen=True)
class NoticeLine:
    """A member a notice mentions and their part in it."""

    user_id: int
    role: NoticeRole
    track: Track | None = None
    reason: str | None = None


@dataclass(frozen=True)
class NoticeView:
    """A notice with everything needed to render it."""

    id: int
    guild_id: int
    kind: NoticeKind
    team_id: int | None
    project_name: str | None
    reason: EndReason | None
    actor_id: int | None
    count: int
    lines: tuple[NoticeLine, ...]
    revision: int
    posted_revision: int
    channel_id: int | None
    message_id: int | None
    api_change_id: int | None = None


@dataclass(frozen=True)
class DeletionView:
    id: int
    channel_id: int | None
    message_id: int | None
    revision: int
    posted_revision: int


async def add_notice(
    session: AsyncSession,
    guild_id: int,
    kind: NoticeKind,
    lines: Sequence[NoticeLine],
    *,
    team_id: int | None = None,
    reason: EndReason | None = None,
    actor_id: int | None = None,
    count: int = 0,
    api_change_id: int | None = None,
) -> ChannelNotice:
    """Store a notice and the members it mentions in the caller's transaction."""
    notice = ChannelNotice(
        guild_id=guild_id,
        kind=kind.value,
        team_id=team_id,
        reason=reason.value if reason else None,
        actor_id=actor_id,
        count=count,
        api_change_id=api_change_id,
    )
    session.add(notice)
    await session.flush()
    session.add_all(
        NoticeMember(
            notice_id=notice.id,
            guild_id=guild_id,
            user_id=line.user_id,
            role=line.role.value,
            track=line.track.value if line.track else None,
            reason=line.reason,
        )
        for line in dict((line.user_id, line) for line in lines).values()
    )
    return notice


async def retire_posts(
    session: AsyncSession, guild_id: int, posts: Iterable[tuple[int | None, int | None]]
) -> list[Event]:
    """Queue the deletion of channel messages, each (channel id, message id); a post with no message
    is skipped. The events deliver the deletions once the transaction commits."""
    events: list[Event] = []
    for channel_id, message_id in posts:
        if channel_id is None or message_id is None:
            continue
        deletion = PostDeletion(guild_id=guild_id, channel_id=channel_id, message_id=message_id)
        session.add(deletion)
        await session.flush()
        events.append(PostRetired(deletion.id))
    return events


class NoticeService:
    """Notices and deletions, one transaction each."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def team_ended(
        self, guild_id: int, team_id: int, reason: EndReason, actor_id: int | None, user_ids: Sequence[int]
    ) -> int:
        """Store the channel notice telling `user_ids` that their team ended; its id."""
        async with transaction(self._sessions) as session:
            lines = [NoticeLine(uid, NoticeRole.TOLD) for uid in user_ids]
            notice = await add_notice(
                session, guild_id, NoticeKind.TEAM_ENDED, lines, team_id=team_id, reason=reason, actor_id=actor_id
            )
            return notice.id

    async def api_changed(self, guild_id: int, team_id: int, change_id: int, user_ids: Sequence[int]) -> int:
        """Store the channel notice telling `user_ids` what changed in their team's API contract; its id."""
        async with transaction(self._sessions) as session:
            lines = [NoticeLine(uid, NoticeRole.TOLD) for uid in user_ids]
            notice = await add_notice(
                session, guild_id, NoticeKind.API_CHANGED, lines, team_id=team_id, api_change_id=change_id
            )
            return notice.id

    async def follow_up(self, guild_id: int, team_id: int, user_ids: Sequence[int]) -> int:
        """Store the channel notice asking `user_ids` their team's follow-up question; its id."""
        async with transaction(self._sessions) as session:
            lines = [NoticeLine(uid, NoticeRole.ASKED) for uid in user_ids]
            notice = await add_notice(session, guild_id, NoticeKind.FOLLOW_UP, lines, team_id=team_id)
            return notice.id

    async def get(self, notice_id: int) -> NoticeView:
        async with self._sessions() as session:
            notice = await session.get(ChannelNotice, notice_id)
            if notice is None:
                raise NotFoundError("That notice no longer exists.")
            project_name = None
            if notice.team_id is not None:
                project_name = await session.scalar(
                    select(Project.name).join(Team, Team.project_id == Project.id).where(Team.id == notice.team_id)
                )
            members = await session.scalars(
                select(NoticeMember).where(NoticeMember.notice_id == notice_id).order_by(NoticeMember.user_id)
            )
            return NoticeView(
                id=notice.id,
                guild_id=notice.guild_id,
                kind=NoticeKind(notice.kind),
                team_id=notice.team_id,
                project_name=project_name,
                reason=EndReason(notice.reason) if notice.reason else None,
                actor_id=notice.actor_id,
                count=notice.count,
                lines=tuple(
                    NoticeLine(m.user_id, NoticeRole(m.role), Track(m.track) if m.track else None, m.reason)
                    for m in members
                ),
                revision=notice.revision,
                posted_revision=notice.posted_revision,
                channel_id=notice.channel_id,
                message_id=notice.message_id,
                api_change_id=notice.api_change_id,
            )

    async def deletion(self, deletion_id: int) -> DeletionView:
        async with self._sessions() as session:
            row = await session.get(PostDeletion, deletion_id)
            if row is None:
                raise NotFoundError("Nothing is left to delete there.")
            return DeletionView(row.id, row.channel_id, row.message_id, row.revision, row.posted_revision)
