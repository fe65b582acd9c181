"""Cohort-wide views: the project board, a learner's Week-1 checklist, the facilitator roster."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Subquery, and_, case, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import transaction
from bot.domain.cohort import Checklist, ChecklistStep, RosterStep, Track
from bot.domain.progress import CohortPicture, LearnerProgress, cohort_picture
from bot.domain.readme import Collaboration
from bot.domain.teams import TeamStatus
from bot.services.api_queries import ContractHealth, guild_health, load_contract
from bot.services.catalog import ensure_catalog
from bot.services.team_queries import current_members, formed_team_of, in_formed_team
from models import Announcement, Learner, Note, Project, Team, TeamMember

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
    api: ContractHealth | None = None
    """The learner's team contract: endpoints agreed, pending, changed since agreed (None: no team)."""


@dataclass(frozen=True)
class KnownLearner:
    """A member Nexus knows, by name, with their Week-1 facts (the roster's and the chart's source)."""

    user_id: int
    display_name: str
    progress: LearnerProgress
    api: ContractHealth | None = None


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

    async def collaboration(self, guild_id: int, user_id: int, *, contract: bool = True) -> Collaboration | None:
        """The learner's project, track and current partners, for the README export; with
        `contract`, also their team's agreed endpoints (the learner's own export only)."""
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
            agreed: tuple[str, ...] = ()
            if team is not None:
                if contract:
                    endpoints = (await load_contract(session, team)).endpoints
                    agreed = tuple(f"{e.method} {e.path}: {e.summary}" for e in endpoints if e.agreed)
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
            return Collaboration(project_name, Track(announcement.track).label, partners, agreed)

    async def known_learners(self, guild_id: int) -> int:
        """How many members of the guild Nexus knows: they set a profile, announced or wrote a note."""
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(_known_ids(guild_id))) or 0)

    async def roster(self, guild_id: int, step: RosterStep | None = None) -> list[RosterEntry]:
        """Members Nexus knows who are missing `step` (or any step), by name."""
        entries = []
        for learner in await self._known_progress(guild_id, ROSTER_MAX):
            progress = learner.progress
            missing = progress.missing
            if (step is not None and step not in missing) or not missing:
                continue
            entries.append(
                RosterEntry(
                    learner.user_id,
                    learner.display_name,
                    progress.project_name,
                    progress.track,
                    tuple(missing),
                    learner.api,
                )
            )
        return entries

    async def chart(self, guild_id: int) -> CohortPicture:
        """The staff chart's numbers: how many known learners reached each Week-1 step, and each
        announced project's backend, frontend and paired counts (the roster's facts, all of them)."""
        return cohort_picture([learner.progress for learner in await self._known_progress(guild_id, None)])

    async def _known_progress(self, guild_id: int, limit: int | None) -> list[KnownLearner]:
        """Every member Nexus knows (at most `limit`) with their Week-1 facts, by name: one read of
        learners, announcements and teams, then the note authors among them."""
        known = _known_ids(guild_id)
        query = (
            select(
                known.c.user_id,
                Learner.display_name,
                Learner.profile_set_at.is_not(None),
                Announcement.active,
                Announcement.track,
                Project.name,
            )
            .select_from(known)
            .outerjoin(Learner, and_(Learner.guild_id == guild_id, Learner.user_id == known.c.user_id))
            .outerjoin(
                Announcement,
                and_(Announcement.guild_id == guild_id, Announcement.user_id == known.c.user_id),
            )
            .outerjoin(Project, Project.id == Announcement.project_id)
            .order_by(func.coalesce(Learner.display_name, ""), known.c.user_id)
        )
        if limit is not None:
            query = query.limit(limit)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
            teams = await _formed_teams(session, guild_id)
            health = await guild_health(session, guild_id, teams)
        authors: set[int] = set()
        if self._note_authors is not None:
            authors = await self._note_authors(guild_id, [user_id for user_id, *_ in rows])
        learners = []
        # plain columns, not entities: building 2,000 ORM objects on the event loop costs 100+ ms
        for user_id, display_name, profile, active, track, project_name in rows:
            announced = bool(active)
            progress = LearnerProgress(
                profile=bool(profile),
                announced=announced,
                teamed=user_id in teams,
                api_agreed=user_id in teams and health.get(teams[user_id], ContractHealth()).all_agreed,
                noted=user_id in authors,
                project_name=project_name if announced else None,
                track=Track(track) if announced else None,
            )
            api = health.get(teams[user_id], ContractHealth()) if user_id in teams else None
            learners.append(KnownLearner(user_id, display_name or "", progress, api))
        return learners


def _known_ids(guild_id: int) -> Subquery:
    """The members Nexus knows in a guild: a learner row (profile or announcement) or a note."""
    return union(
        select(Learner.user_id.label("user_id")).where(Learner.guild_id == guild_id),
        select(Note.author_id.label("user_id")).where(Note.guild_id == guild_id),
    ).subquery()


async def _formed_teams(session: AsyncSession, guild_id: int) -> dict[int, int]:
    """Each learner in a formed team, with the team's id."""
    rows = await session.execute(
        select(TeamMember.user_id, TeamMember.team_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.guild_id == guild_id,
            TeamMember.is_current.is_(True),
            TeamMember.accepted_at.is_not(None),
            Team.status == TeamStatus.ACTIVE.value,
        )
    )
    return {user_id: team_id for user_id, team_id in rows}
