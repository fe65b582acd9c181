"""Cohort-wide views: the project board, a learner's Week-1 checklist, the facilitator roster."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import transaction
from bot.domain.cohort import Checklist, ChecklistStep, RosterStep, Track
from bot.domain.readme import Collaboration
from bot.services.api import load_contract
from bot.services.catalog import ensure_catalog
from bot.services.team_queries import current_members, formed_team_of, in_formed_team
from models import Announcement, Learner, Project

ROSTER_MAX = 5000


@dataclass(frozen=True)
class BoardRow:
    project_name: str
    backend: int
    frontend: int
    without_partner: int


@dataclass(frozen=True)
class RosterEntry:
    user_id: int
    display_name: str
    project_name: str | None
    track: Track | None
    missing: tuple[RosterStep, ...]


NoteAuthors = Callable[[int, Sequence[int]], Awaitable[set[int]]]
"""Which of the given members have written at least one note in a guild."""


def _in_active_team(guild_id: int) -> ColumnElement[bool]:
    return in_formed_team(guild_id, Announcement.user_id)


class CohortService:
    """Read-only cohort summaries."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], note_authors: NoteAuthors | None = None) -> None:
        self._sessions = sessions
        self._note_authors = note_authors

    async def board(self, guild_id: int) -> list[BoardRow]:
        """Every catalog project with its active backend and frontend counts and the unpaired."""
        async with transaction(self._sessions) as session:
            await ensure_catalog(session, guild_id)
            in_team = _in_active_team(guild_id)
            counts = (
                select(
                    Announcement.project_id.label("project_id"),
                    func.sum(case((Announcement.track == Track.BACKEND.value, 1), else_=0)).label("backend"),
                    func.sum(case((Announcement.track == Track.FRONTEND.value, 1), else_=0)).label("frontend"),
                    func.sum(case((in_team, 0), else_=1)).label("alone"),
                )
                .where(Announcement.guild_id == guild_id, Announcement.active.is_(True))
                .group_by(Announcement.project_id)
                .subquery()
            )
            rows = await session.execute(
                select(Project.name, counts.c.backend, counts.c.frontend, counts.c.alone)
                .outerjoin(counts, counts.c.project_id == Project.id)
                .where(Project.guild_id == guild_id)
                .order_by(Project.name)
            )
            return [BoardRow(name, int(be or 0), int(fe or 0), int(alone or 0)) for name, be, fe, alone in rows]

    async def checklist(self, guild_id: int, user_id: int) -> Checklist:
        """Which Week-1 steps the learner has done."""
        done: set[ChecklistStep] = set()
        async with self._sessions() as session:
            learner = await session.get(Learner, (guild_id, user_id))
            if learner is not None and learner.profile_set_at is not None:
                done.add(ChecklistStep.PROFILE)
            announced = await session.scalar(
                select(Announcement.id).where(
                    Announcement.guild_id == guild_id,
                    Announcement.user_id == user_id,
                    Announcement.active.is_(True),
                )
            )
            if announced:
                done.add(ChecklistStep.ANNOUNCED)
            team = await formed_team_of(session, guild_id, user_id)
            if team is not None:
                done.add(ChecklistStep.PARTNER)
                if (await load_contract(session, team)).agreed:
                    done.add(ChecklistStep.API)
        if self._note_authors is not None and user_id in await self._note_authors(guild_id, [user_id]):
            done.add(ChecklistStep.NOTE)
        return Checklist(frozenset(done))

    async def collaboration(self, guild_id: int, user_id: int) -> Collaboration | None:
        """The learner's project, track and current partners, for the README export."""
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(Announcement, Project.name)
                    .join(Project, Project.id == Announcement.project_id)
                    .where(
                        Announcement.guild_id == guild_id,
                        Announcement.user_id == user_id,
                        Announcement.active.is_(True),
                    )
                )
            ).first()
            if found is None:
                return None
            announcement, project_name = found
            team = await formed_team_of(session, guild_id, user_id)
            partners: tuple[str, ...] = ()
            if team is not None:
                others = [
                    m for m in await current_members(session, team.id, accepted_only=True) if m.user_id != user_id
                ]
                names = dict(
                    (
                        await session.execute(
                            select(Learner.user_id, Learner.display_name).where(
                                Learner.guild_id == guild_id, Learner.user_id.in_([m.user_id for m in others])
                            )
                        )
                    ).all()
                )
                partners = tuple(sorted(f"{names.get(m.user_id, 'a member')} ({m.track})" for m in others))
            return Collaboration(project_name, Track(announcement.track).label, partners)

    async def known_learners(self, guild_id: int) -> int:
        """How many members of the guild Nexus has seen."""
        async with self._sessions() as session:
            return await _count_learners(session, guild_id)

    async def roster(self, guild_id: int, step: RosterStep | None = None) -> list[RosterEntry]:
        """Learners Nexus knows who are missing `step` (or any step), by name."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Learner, Announcement, Project.name, _in_active_team(guild_id).label("teamed"))
                    .outerjoin(
                        Announcement,
                        and_(Announcement.guild_id == Learner.guild_id, Announcement.user_id == Learner.user_id),
                    )
                    .outerjoin(Project, Project.id == Announcement.project_id)
                    .where(Learner.guild_id == guild_id)
                    .order_by(Learner.display_name, Learner.user_id)
                    .limit(ROSTER_MAX)
                )
            ).all()
        authors: set[int] = set()
        if self._note_authors is not None:
            authors = await self._note_authors(guild_id, [learner.user_id for learner, *_ in rows])
        entries = []
        for learner, announcement, project_name, teamed in rows:
            announced = announcement is not None and announcement.active
            missing: list[RosterStep] = []
            if not announced:
                missing.append(RosterStep.NOT_ANNOUNCED)
            elif not teamed:
                missing.append(RosterStep.NO_PARTNER)
            if learner.user_id not in authors:
                missing.append(RosterStep.NO_NOTES)
            if step is not None and step not in missing:
                continue
            if step is None and not missing:
                continue
            entries.append(
                RosterEntry(
                    learner.user_id,
                    learner.display_name,
                    project_name if announced else None,
                    Track(announcement.track) if announced else None,
                    tuple(missing),
                )
            )
        return entries


async def _count_learners(session: AsyncSession, guild_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(Learner.guild_id == guild_id)) or 0)
