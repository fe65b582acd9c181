"""The weekly digest's content: the week's new teams, its most helpful notes, the cohort's progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.cohort import ChecklistStep
from bot.domain.events import ScheduledRunClaimed
from bot.domain.notes import NoteKind
from bot.domain.nudges import DIGEST_NOTES_MAX, DIGEST_TEAMS_MAX, digest_window, progress_counts
from bot.domain.schedules import ScheduledPost
from bot.domain.teams import TeamStatus
from bot.services.cohort import CohortService
from models import Note, NoteVote, Project, Schedule, ScheduleRun, Team, TeamMember


@dataclass(frozen=True)
class DigestTeam:
    team_id: int
    project_name: str
    member_ids: tuple[int, ...]


@dataclass(frozen=True)
class DigestNote:
    """A public note and the helpful marks it received in the week."""

    note_id: int
    title: str
    kind: NoteKind
    author_id: int
    votes: int


@dataclass(frozen=True)
class Digest:
    """One week of the cohort: [start, end)."""

    start: datetime
    end: datetime
    new_teams: tuple[DigestTeam, ...]
    new_team_count: int
    top_notes: tuple[DigestNote, ...]
    known: int
    progress: dict[ChecklistStep, int]


class DigestService:
    """Read-only: what a weekly digest shows."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], cohort: CohortService) -> None:
        self._sessions = sessions
        self._cohort = cohort

    async def week(self, guild_id: int, start: datetime, end: datetime) -> Digest:
        """The digest of the week [start, end): teams formed in it (still together), the public notes
        marked helpful most often in it, and how many learners reached each Week-1 step now."""
        async with self._sessions() as session:
            teams, team_count = await _new_teams(session, guild_id, start, end)
            notes = await _top_notes(session, guild_id, start, end)
        known = await self._cohort.known_learners(guild_id)
        roster = await self._cohort.roster(guild_id)
        progress = progress_counts(known, (entry.missing for entry in roster))
        return Digest(start, end, teams, team_count, notes, known, progress)


async def _new_teams(
    session: AsyncSession, guild_id: int, start: datetime, end: datetime
) -> tuple[tuple[DigestTeam, ...], int]:
    formed = (
        Team.guild_id == guild_id,
        Team.status == TeamStatus.ACTIVE.value,
        Team.formed_at >= start,
        Team.formed_at < end,
    )
    count = int(await session.scalar(select(func.count()).select_from(Team).where(*formed)) or 0)
    rows = (
        await session.execute(
            select(Team.id, Project.name)
            .join(Project, Project.id == Team.project_id)
            .where(*formed)
            .order_by(Team.formed_at, Team.id)
            .limit(DIGEST_TEAMS_MAX)
        )
    ).all()
    members: dict[int, list[int]] = {}
    for team_id, user_id in await session.execute(
        select(TeamMember.team_id, TeamMember.user_id)
        .where(
            TeamMember.team_id.in_([team_id for team_id, _ in rows]),
            TeamMember.is_current.is_(True),
            TeamMember.accepted_at.is_not(None),
        )
        .order_by(TeamMember.id)
    ):
        members.setdefault(team_id, []).append(user_id)
    teams = tuple(DigestTeam(team_id, name, tuple(members.get(team_id, ()))) for team_id, name in rows)
    return teams, count


async def _top_notes(session: AsyncSession, guild_id: int, start: datetime, end: datetime) -> tuple[DigestNote, ...]:
    votes = func.count(NoteVote.member_id).label("votes")
    rows = await session.execute(
        select(Note.id, Note.title, Note.kind, Note.author_id, votes)
        .join(NoteVote, NoteVote.note_id == Note.id)
        .where(
            Note.guild_id == guild_id,
            Note.is_private.is_(False),
            NoteVote.created_at >= start,
            NoteVote.created_at < end,
        )
        .group_by(Note.id, Note.title, Note.kind, Note.author_id)
        .order_by(votes.desc(), Note.id)
        .limit(DIGEST_NOTES_MAX)
    )
    return tuple(
        DigestNote(note_id, title, NoteKind(kind), author_id, int(count))
        for note_id, title, kind, author_id, count in rows
    )


async def reshow_digests_listing(session: AsyncSession, guild_id: int, note_id: int) -> list[ScheduledRunClaimed]:
    """Give a new revision to the guild's posted weekly digests that may list note `note_id` (it was
    marked helpful in their week), so they are shown again as the note now stands (gone, say). Call
    it before the note's votes go."""
    voted = list(await session.scalars(select(NoteVote.created_at).where(NoteVote.note_id == note_id)))
    if not voted:
        return []
    runs = await session.execute(
        select(ScheduleRun.id, ScheduleRun.due_at)
        .join(Schedule, Schedule.id == ScheduleRun.schedule_id)
        .where(
            Schedule.guild_id == guild_id,
            Schedule.post == ScheduledPost.DIGEST.value,
            ScheduleRun.message_id.is_not(None),
        )
    )
    listing = sorted(
        run_id
        for run_id, due_at in runs
        if any(start <= at < end for start, end in [digest_window(due_at)] for at in voted)
    )
    if listing:
        await session.execute(
            update(ScheduleRun).where(ScheduleRun.id.in_(listing)).values(revision=ScheduleRun.revision + 1)
        )
    return [ScheduledRunClaimed(run_id) for run_id in listing]
