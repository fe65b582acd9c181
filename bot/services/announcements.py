"""Week-1 announcements: who builds which project on which side, and their channel posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import transaction
from bot.domain.cohort import Track, clean_pitch, parse_track, repo_to_store
from bot.domain.errors import ConflictError, NotFoundError
from bot.domain.events import Announced as AnnouncedEvent
from bot.domain.events import Event, Withdrew
from bot.domain.teams import TeamEvent
from bot.domain.text import safe_text
from bot.services.catalog import ensure_catalog, resolve_project
from bot.services.matching import end_membership
from bot.services.matching.lifecycle import leave_pool
from bot.services.profiles import touch_learner
from bot.services.team_queries import current_membership
from models import Announcement, AnnouncementRevision, Learner, Project


@dataclass(frozen=True)
class AnnouncementInfo:
    """An announcement with everything needed to render its post."""

    id: int
    guild_id: int
    user_id: int
    display_name: str
    project_id: int
    project_name: str
    track: Track
    pitch: str
    repo_url: str | None
    active: bool
    revision: int
    channel_id: int | None
    message_id: int | None
    posted_revision: int
    post_error: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def needs_post(self) -> bool:
        """Whether the channel post is missing or shows an older revision."""
        return self.posted_revision != self.revision


@dataclass(frozen=True)
class Announced:
    """The stored announcement, and whether it replaced an active one (an update, not a first post)."""

    info: AnnouncementInfo
    updated: bool

    @property
    def events(self) -> tuple[Event, ...]:
        return (AnnouncedEvent(self.info.id, self.info.user_id, self.info.project_id),)


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawn announcement, and what followed (the team it ended, if any)."""

    announcement: AnnouncementInfo
    events: tuple[Event, ...]


@dataclass(frozen=True)
class ProjectMember:
    user_id: int
    display_name: str
    track: Track
    repo_url: str | None
    pitch: str


@dataclass(frozen=True)
class ProjectTeamList:
    project_name: str
    backend: list[ProjectMember]
    frontend: list[ProjectMember]


@dataclass(frozen=True)
class BoardRow:
    project_name: str
    backend: int
    frontend: int
    without_partner: int


def _info(row: Announcement, project: Project, learner: Learner) -> AnnouncementInfo:
    return AnnouncementInfo(
        id=row.id,
        guild_id=row.guild_id,
        user_id=row.user_id,
        display_name=learner.display_name,
        project_id=project.id,
        project_name=project.name,
        track=Track(row.track),
        pitch=row.pitch,
        repo_url=row.repo_url,
        active=row.active,
        revision=row.revision,
        channel_id=row.channel_id,
        message_id=row.message_id,
        posted_revision=row.posted_revision,
        post_error=row.post_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _load(session: AsyncSession, announcement_id: int) -> AnnouncementInfo:
    found = (
        await session.execute(
            select(Announcement, Project, Learner)
            .join(Project, Project.id == Announcement.project_id)
            .join(
                Learner,
                (Learner.guild_id == Announcement.guild_id) & (Learner.user_id == Announcement.user_id),
            )
            .where(Announcement.id == announcement_id)
        )
    ).one_or_none()
    if found is None:
        raise NotFoundError("That announcement no longer exists.")
    return _info(*found)


def _remember(session: AsyncSession, row: Announcement, project_name: str) -> None:
    session.add(
        AnnouncementRevision(
            guild_id=row.guild_id,
            announcement_id=row.id,
            revision=row.revision,
            project_name=project_name,
            track=row.track,
            pitch=row.pitch,
            repo_url=row.repo_url,
            active=row.active,
        )
    )


class AnnouncementService:
    """Stores announcements; posting them to Discord is the publisher's job."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def announce(
        self,
        guild_id: int,
        user_id: int,
        display_name: str,
        *,
        project: str,
        track: str,
        pitch: str,
        repo_url: str | None,
    ) -> Announced:
        """Create or replace the learner's announcement; the old version goes to the history.

        No `repo_url` keeps the repository the announcement has; one of CLEAR_WORDS removes it."""
        parsed_track = parse_track(track)
        clean = clean_pitch(pitch)
        repo = repo_to_store(repo_url, None)  # checked before the transaction opens
        async with transaction(self._sessions) as session:
            await ensure_catalog(session, guild_id)
            chosen = await resolve_project(session, guild_id, project)
            await touch_learner(session, guild_id, user_id, display_name)
            row = await session.scalar(
                select(Announcement)
                .where(Announcement.guild_id == guild_id, Announcement.user_id == user_id)
                .with_for_update()
            )
            updated = row is not None and row.active
            if row is None:
                row = Announcement(
                    guild_id=guild_id,
                    user_id=user_id,
                    project_id=chosen.id,
                    track=parsed_track.value,
                    pitch=clean,
                    repo_url=repo,
                    active=True,
                    revision=1,
                    posted_revision=0,
                )
                session.add(row)
            else:
                previous = await session.get(Project, row.project_id)
                moving = row.project_id != chosen.id or row.track != parsed_track.value
                if row.active and moving and await current_membership(session, guild_id, user_id) is not None:
                    # the team (or proposal) is on this project and track: it would not follow
                    raise ConflictError(
                        f"You have a team or an open proposal on {safe_text(previous.name if previous else '')} "
                        f"as {Track(row.track).label.lower()}: leave it first with `/partner leave`, then "
                        "announce the new project or track. Your pitch and repository can change without leaving."
                    )
                _remember(session, row, previous.name if previous else "")
                row.project_id = chosen.id
                row.track = parsed_track.value
                row.pitch = clean
                row.repo_url = repo_to_store(repo_url, row.repo_url)
                row.active = True
                row.revision += 1
            await session.flush()
            return Announced(await _load(session, row.id), updated)

    async def withdraw(self, guild_id: int, user_id: int) -> Withdrawal:
        """Withdraw the learner's active announcement (kept in history; the post is edited).

        Their open proposal or team ends in the same transaction.
        """
        async with transaction(self._sessions) as session:
            row = await session.scalar(
                select(Announcement)
                .where(Announcement.guild_id == guild_id, Announcement.user_id == user_id)
                .with_for_update()
            )
            if row is None or not row.active:
                raise NotFoundError("You have no active announcement to withdraw.")
            project = await session.get(Project, row.project_id)
            _remember(session, row, project.name if project else "")
            row.active = False
            row.revision += 1
            ended = await end_membership(session, guild_id, user_id, TeamEvent.MEMBER_WITHDREW)
            await leave_pool(session, guild_id, [user_id])
            await session.flush()
            info = await _load(session, row.id)
            return Withdrawal(info, (Withdrew(info.id, user_id), *ended))

    async def current(self, guild_id: int, user_id: int) -> AnnouncementInfo | None:
        """The learner's announcement (active or withdrawn), if any."""
        async with self._sessions() as session:
            announcement_id = await session.scalar(
                select(Announcement.id).where(Announcement.guild_id == guild_id, Announcement.user_id == user_id)
            )
            return await _load(session, announcement_id) if announcement_id else None

    async def get(self, announcement_id: int) -> AnnouncementInfo:
        async with self._sessions() as session:
            return await _load(session, announcement_id)

    async def who(self, guild_id: int, project: str) -> ProjectTeamList:
        """Every learner with an active announcement for `project`, per track, by name."""
        async with transaction(self._sessions) as session:
            await ensure_catalog(session, guild_id)
            chosen = await resolve_project(session, guild_id, project)
            rows = await session.execute(
                select(Announcement, Learner)
                .join(
                    Learner,
                    (Learner.guild_id == Announcement.guild_id) & (Learner.user_id == Announcement.user_id),
                )
                .where(
                    Announcement.guild_id == guild_id,
                    Announcement.project_id == chosen.id,
                    Announcement.active.is_(True),
                )
                .order_by(Learner.display_name, Announcement.user_id)
            )
            members = [
                ProjectMember(a.user_id, learner.display_name, Track(a.track), a.repo_url, a.pitch)
                for a, learner in rows
            ]
            return ProjectTeamList(
                chosen.name,
                [m for m in members if m.track is Track.BACKEND],
                [m for m in members if m.track is Track.FRONTEND],
            )
