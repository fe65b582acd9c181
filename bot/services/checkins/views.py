"""Check-ins as members and staff read them: a report, a team's history, open blockers across
teams, members' streaks and the staff flag."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.checkins import streak
from bot.domain.errors import NotFoundError
from bot.domain.teams import TeamStatus
from bot.domain.threads import ThreadState
from bot.services.checkins.prompts import answered_runs
from bot.services.team_queries import current_members
from models import ApiEndpoint, CheckinAnswer, CheckinFlag, CheckinPrompt, CheckinReport, Project, Team, TeamThread


@dataclass(frozen=True)
class BlockerView:
    """An answer's "blocked by", with the contract endpoint it names."""

    answer_id: int
    team_id: int
    project_name: str
    user_id: int
    text: str
    since: datetime
    endpoint_id: int | None
    endpoint_method: str | None
    endpoint_path: str | None
    closed: bool


@dataclass(frozen=True)
class AnswerView:
    user_id: int
    done: str
    next: str
    blocker: BlockerView | None
    answered_at: datetime


@dataclass(frozen=True)
class ReportView:
    """One check-in of a team: who was prompted, their answers, and where its post is."""

    id: int
    guild_id: int
    team_id: int
    project_name: str
    opened_at: datetime
    ready_at: datetime | None
    prompted: tuple[int, ...]
    answers: tuple[AnswerView, ...]
    thread_id: int | None
    revision: int
    posted_revision: int
    channel_id: int | None
    message_id: int | None
    team_active: bool = True
    """False once the team ended: a report not shown by then is shown nowhere (not the public channel)."""

    @property
    def silent(self) -> tuple[int, ...]:
        """Members prompted who did not answer."""
        given = {a.user_id for a in self.answers}
        return tuple(uid for uid in self.prompted if uid not in given)


@dataclass(frozen=True)
class CheckinFlagView:
    id: int
    guild_id: int
    team_id: int
    project_name: str
    silent: tuple[int, ...]
    flagged_at: datetime
    revision: int
    posted_revision: int
    channel_id: int | None
    message_id: int | None


def _blocker(answer: CheckinAnswer, project_name: str, endpoint: ApiEndpoint | None) -> BlockerView | None:
    if not answer.blocked:
        return None
    return BlockerView(
        answer.id,
        answer.team_id,
        project_name,
        answer.user_id,
        answer.blocked,
        answer.answered_at,
        endpoint.id if endpoint else None,
        endpoint.method if endpoint else None,
        endpoint.path if endpoint else None,
        answer.blocker_closed_at is not None,
    )


TeamRecord = TypeVar("TeamRecord", CheckinPrompt, CheckinReport, CheckinFlag)


async def with_project_name(
    session: AsyncSession, model: type[TeamRecord], record_id: int, missing: str
) -> tuple[TeamRecord, str]:
    """A check-in record of a team, with the name of the team's project; NotFoundError(`missing`)."""
    found = (
        await session.execute(
            select(model, Project.name)
            .join(Team, Team.id == model.team_id)
            .join(Project, Project.id == Team.project_id)
            .where(model.id == record_id)
        )
    ).first()
    if found is None:
        raise NotFoundError(missing)
    record, project_name = found
    return record, project_name


async def report_view(session: AsyncSession, report_id: int) -> ReportView:
    """The report with its prompts and answers."""
    report, project_name = await with_project_name(session, CheckinReport, report_id, "That check-in no longer exists.")
    prompted = list(
        await session.scalars(
            select(CheckinPrompt.user_id).where(CheckinPrompt.report_id == report_id).order_by(CheckinPrompt.due_at)
        )
    )
    rows = await session.execute(
        select(CheckinAnswer, ApiEndpoint)
        .outerjoin(ApiEndpoint, ApiEndpoint.id == CheckinAnswer.endpoint_id)
        .where(CheckinAnswer.report_id == report_id)
        .order_by(CheckinAnswer.answered_at, CheckinAnswer.id)
    )
    answers = tuple(AnswerView(a.user_id, a.done, a.next, _blocker(a, project_name, e), a.answered_at) for a, e in rows)
    thread_id = await open_thread_id(session, report.team_id)
    return ReportView(
        report.id,
        report.guild_id,
        report.team_id,
        project_name,
        report.opened_at,
        report.ready_at,
        tuple(dict.fromkeys(prompted)),
        answers,
        thread_id,
        report.revision,
        report.posted_revision,
        report.channel_id,
        report.message_id,
        await team_is_active(session, report.team_id),
    )


async def open_thread_id(session: AsyncSession, team_id: int) -> int | None:
    """The team's thread while it is open (made, and the team not ended), else None."""
    return await session.scalar(
        select(TeamThread.channel_id).where(TeamThread.id == team_id, TeamThread.state == ThreadState.OPEN.value)
    )


async def team_is_active(session: AsyncSession, team_id: int) -> bool:
    """Whether the team is formed and has not ended."""
    return await session.scalar(select(Team.status).where(Team.id == team_id)) == TeamStatus.ACTIVE.value


async def team_history(session: AsyncSession, team_id: int) -> list[ReportView]:
    """The team's ready reports, newest first."""
    ids = await session.scalars(
        select(CheckinReport.id)
        .where(CheckinReport.team_id == team_id, CheckinReport.ready_at.is_not(None))
        .order_by(CheckinReport.id.desc())
    )
    return [await report_view(session, report_id) for report_id in list(ids)]


async def open_blockers(session: AsyncSession, guild_id: int) -> list[BlockerView]:
    """Every open blocker of the server's active teams, oldest first (a team that ended has nobody
    left to close its blockers, nor any work they block)."""
    rows = await session.execute(
        select(CheckinAnswer, Project.name, ApiEndpoint)
        .join(Team, Team.id == CheckinAnswer.team_id)
        .join(Project, Project.id == Team.project_id)
        .outerjoin(ApiEndpoint, ApiEndpoint.id == CheckinAnswer.endpoint_id)
        .where(
            CheckinAnswer.guild_id == guild_id,
            Team.status == TeamStatus.ACTIVE.value,
            CheckinAnswer.blocked != "",
            CheckinAnswer.blocker_closed_at.is_(None),
        )
        .order_by(CheckinAnswer.answered_at, CheckinAnswer.id)
    )
    return [b for a, name, e in rows if (b := _blocker(a, name, e)) is not None]


async def team_streaks(session: AsyncSession, team_id: int) -> dict[int, int]:
    """Each current member's check-in streak."""
    return {
        m.user_id: streak(await answered_runs(session, team_id, m.user_id))
        for m in await current_members(session, team_id, accepted_only=True)
    }


async def guild_streaks(session: AsyncSession, guild_id: int, user_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Every member of a team with check-ins in the server, and their streak."""
    streaks: dict[int, int] = {}
    for team_id in set(await session.scalars(select(CheckinReport.team_id).where(CheckinReport.guild_id == guild_id))):
        streaks.update(await team_streaks(session, team_id))
    if user_ids is not None:
        return {uid: s for uid, s in streaks.items() if uid in user_ids}
    return streaks


async def flag_view(session: AsyncSession, flag_id: int) -> CheckinFlagView:
    flag, project_name = await with_project_name(session, CheckinFlag, flag_id, "That flag no longer exists.")
    return CheckinFlagView(
        flag.id,
        flag.guild_id,
        flag.team_id,
        project_name,
        tuple(int(uid) for uid in flag.silent.split(",") if uid),
        flag.flagged_at,
        flag.revision,
        flag.posted_revision,
        flag.channel_id,
        flag.message_id,
    )
