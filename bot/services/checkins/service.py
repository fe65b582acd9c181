"""Check-ins: members set their team's plan, pause and resume it, prompt everyone now, and answer;
answers ready the report (everyone answered) or edit it (late), and a blocker names an endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import transaction
from bot.domain.checkins import (
    VIA_CHANNEL,
    VIA_THREAD,
    CheckinPlan,
    EndpointRef,
    ensure_answers,
    linked_endpoint,
    streak,
)
from bot.domain.errors import ConflictError, NotFoundError, PermissionDeniedError
from bot.domain.events import CheckinFlagged, CheckinReportChanged, Event
from bot.domain.readme import CheckinSummary
from bot.services.checkins.prompts import CheckinPrompts, ClaimedPrompt, answered_runs, member_zones, reschedule
from bot.services.checkins.views import (
    BlockerView,
    CheckinFlagView,
    ReportView,
    flag_view,
    guild_streaks,
    open_blockers,
    open_thread_id,
    report_view,
    team_history,
    team_is_active,
    with_project_name,
)
from bot.services.notices import retire_posts
from bot.services.staff import shown_or_on_its_way
from bot.services.team_queries import current_members, formed_team_of
from models import (
    ApiEndpoint,
    CheckinAnswer,
    CheckinFlag,
    CheckinMember,
    CheckinPrompt,
    CheckinReport,
    CheckinSchedule,
    Team,
)

FORGOTTEN_MEMBER_ID = 0
"""Who set a team's check-ins, once that member is forgotten."""

NOT_IN_TEAM = "Check-ins are for a formed team: you are not in one (`/partner find` finds partners)."
PAUSED = "Your team's check-ins are paused: `/checkin resume` starts them again."


@dataclass(frozen=True)
class CheckinSetup:
    """A team's plan as set, and when the member who set it is prompted next (in their zone)."""

    team_id: int
    plan: CheckinPlan
    paused: bool
    zone: str
    next_prompt_at: datetime | None


@dataclass(frozen=True)
class PromptInfo:
    id: int
    guild_id: int
    team_id: int
    user_id: int
    report_id: int
    project_name: str
    thread_id: int | None
    deliverable: bool = True
    """The team is still active and the member still in it: a prompt claimed before the team ended
    (or before they left), and sent after, goes nowhere."""


@dataclass(frozen=True)
class CheckinAnswered:
    guild_id: int
    report_id: int
    late: bool
    blocker: bool
    endpoint: EndpointRef | None
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class BlockerClosed:
    guild_id: int
    events: tuple[Event, ...] = ()


async def _team_of(session: AsyncSession, guild_id: int, user_id: int) -> Team:
    team = await formed_team_of(session, guild_id, user_id)
    if team is None:
        raise PermissionDeniedError(NOT_IN_TEAM)
    return team


class CheckinService(CheckinPrompts):
    """Team check-ins, one transaction per call."""

    async def setup(self, guild_id: int, user_id: int, days: str, at: str) -> CheckinSetup:
        """Set (or change) the team's days and time; each member's next prompt follows in their zone."""
        plan = CheckinPlan.parse(days, at)
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            team = await _team_of(session, guild_id, user_id)
            schedule = await session.get(CheckinSchedule, team.id)
            if schedule is None:
                schedule = CheckinSchedule(team_id=team.id, guild_id=guild_id, paused=False)
                session.add(schedule)
            schedule.days, schedule.at, schedule.set_by, schedule.set_at = plan.days_text, plan.time_text, user_id, now
            nexts = await reschedule(session, schedule, now)
            zone = (await member_zones(session, guild_id, [user_id]))[user_id]
            return CheckinSetup(team.id, plan, schedule.paused, zone, nexts.get(user_id))

    async def set_paused(self, guild_id: int, user_id: int, paused: bool) -> CheckinSetup:
        """Pause the team's check-ins (no prompts) or resume them (next prompts from now)."""
        async with transaction(self._sessions) as session:
            team = await _team_of(session, guild_id, user_id)
            schedule = await session.get(CheckinSchedule, team.id)
            if schedule is None:
                raise NotFoundError("Your team has no check-ins yet: set them up with `/checkin setup`.")
            if schedule.paused == paused:
                raise ConflictError(PAUSED if paused else "Your team's check-ins are already running.")
            schedule.paused = paused
            nexts = await reschedule(session, schedule, self._clock.now()) if not paused else {}
            zone = (await member_zones(session, guild_id, [user_id]))[user_id]
            plan = CheckinPlan.stored(schedule.days, schedule.at)
            return CheckinSetup(team.id, plan, paused, zone, nexts.get(user_id))

    async def prompt_now(self, guild_id: int, user_id: int) -> list[ClaimedPrompt]:
        """Prompt every member of the team now, as one new check-in."""
        now = self._clock.now()
        try:
            async with transaction(self._sessions) as session:
                team = await _team_of(session, guild_id, user_id)
                schedule = await session.get(CheckinSchedule, team.id)
                if schedule is None:
                    raise NotFoundError("Your team has no check-ins yet: set them up with `/checkin setup`.")
                if schedule.paused:
                    raise ConflictError(PAUSED)
                claimed = []
                for index, member in enumerate(await current_members(session, team.id, accepted_only=True)):
                    claimed.append(await self._store_prompt(session, team, member.user_id, now, now, fresh=index == 0))
                return claimed
        except IntegrityError:
            raise ConflictError("Your team was prompted this very moment already.") from None

    async def prompt(self, prompt_id: int) -> PromptInfo:
        """A prompt as its member reads it."""
        async with self._sessions() as session:
            prompt, project_name = await with_project_name(
                session, CheckinPrompt, prompt_id, "That check-in no longer exists."
            )
            # two small reads, not the whole report: a prompt is sent once per member and round
            members = {member.user_id for member in await current_members(session, prompt.team_id)}
            return PromptInfo(
                prompt.id,
                prompt.guild_id,
                prompt.team_id,
                prompt.user_id,
                prompt.report_id,
                project_name,
                await open_thread_id(session, prompt.team_id),
                prompt.user_id in members and await team_is_active(session, prompt.team_id),
            )

    async def answer(self, prompt_id: int, user_id: int, done: str, next_: str, blocked: str) -> CheckinAnswered:
        """Record the member's answers to their prompt (again: replaced); the report is readied
        when every member answered, or edited when it was posted already."""
        done, next_, blocked = ensure_answers(done, next_, blocked)
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            prompt = await session.get(CheckinPrompt, prompt_id)
            if prompt is None:
                raise NotFoundError("That check-in no longer exists.")
            if prompt.user_id != user_id:
                raise PermissionDeniedError("This check-in is another member's: only they can answer it.")
            members = {m.user_id for m in await current_members(session, prompt.team_id, accepted_only=True)}
            if user_id not in members:
                raise PermissionDeniedError("You are no longer in this team, so its check-ins are closed to you.")
            report = await session.get(CheckinReport, prompt.report_id, with_for_update=True)
            assert report is not None
            endpoints = [
                EndpointRef(e.id, e.method, e.path)
                for e in await session.scalars(select(ApiEndpoint).where(ApiEndpoint.team_id == prompt.team_id))
            ]
            endpoint = linked_endpoint(blocked, endpoints) if blocked else None
            row = await session.scalar(
                select(CheckinAnswer).where(CheckinAnswer.report_id == report.id, CheckinAnswer.user_id == user_id)
            )
            if row is None:
                row = CheckinAnswer(
                    guild_id=prompt.guild_id, team_id=prompt.team_id, report_id=report.id, user_id=user_id
                )
                session.add(row)
            row.done, row.next, row.blocked, row.answered_at = done, next_, blocked, now
            row.endpoint_id = endpoint.id if endpoint else None
            row.blocker_closed_at = row.blocker_closed_by = None
            await session.flush()
            late = report.ready_at is not None
            events: list[Event] = []
            if late:
                report.revision += 1
                events.append(CheckinReportChanged(report.id))
            else:
                answered = set(
                    await session.scalars(select(CheckinAnswer.user_id).where(CheckinAnswer.report_id == report.id))
                )
                if members and members <= answered:
                    report.ready_at, report.revision = now, report.revision + 1
                    events.append(CheckinReportChanged(report.id))
            return CheckinAnswered(prompt.guild_id, report.id, late, bool(blocked), endpoint, tuple(events))

    async def close_blocker(self, answer_id: int, user_id: int) -> BlockerClosed:
        """A member of the team closes one of its blockers; its report shows it closed."""
        async with transaction(self._sessions) as session:
            answer = await session.get(CheckinAnswer, answer_id)
            if answer is None or not answer.blocked:
                raise NotFoundError("That blocker no longer exists.")
            members = {m.user_id for m in await current_members(session, answer.team_id, accepted_only=True)}
            if user_id not in members:
                raise PermissionDeniedError("Only the team's members can close its blockers.")
            if answer.blocker_closed_at is not None:
                raise ConflictError("That blocker is closed already.")
            answer.blocker_closed_at, answer.blocker_closed_by = self._clock.now(), user_id
            report = await session.get(CheckinReport, answer.report_id)
            events: list[Event] = []
            if report is not None and report.ready_at is not None:
                report.revision += 1
                events.append(CheckinReportChanged(report.id))
            return BlockerClosed(answer.guild_id, tuple(events))

    async def report(self, report_id: int) -> ReportView:
        async with self._sessions() as session:
            return await report_view(session, report_id)

    async def history(self, guild_id: int, user_id: int) -> list[ReportView]:
        """The member's team's past reports, newest first."""
        async with self._sessions() as session:
            return await team_history(session, (await _team_of(session, guild_id, user_id)).id)

    async def blockers(self, guild_id: int) -> list[BlockerView]:
        """Open blockers across the server's teams, oldest first."""
        async with self._sessions() as session:
            return await open_blockers(session, guild_id)

    async def streaks(self, guild_id: int) -> dict[int, int]:
        """Each member's check-in streak (members of teams with check-ins)."""
        async with self._sessions() as session:
            return await guild_streaks(session, guild_id)

    async def flag(self, flag_id: int) -> CheckinFlagView:
        async with self._sessions() as session:
            return await flag_view(session, flag_id)

    async def summary(self, guild_id: int, user_id: int) -> CheckinSummary | None:
        """The member's check-ins for the README export (None when their team has none)."""
        async with self._sessions() as session:
            team = await formed_team_of(session, guild_id, user_id)
            if team is None:
                return None
            reports = await team_history(session, team.id)
            if not reports:
                return None
            mine = [a for r in reports for a in r.answers if a.user_id == user_id]
            blockers = [a.blocker for a in mine if a.blocker is not None]
            return CheckinSummary(
                reports=len(reports),
                answered=len(mine),
                streak=streak(await answered_runs(session, team.id, user_id)),
                blockers=len(blockers),
                open_blockers=sum(not b.closed for b in blockers),
            )


async def forget_checkins(session: AsyncSession, guild_id: int, user_id: int) -> tuple[int, list[Event]]:
    """Remove a member's answers, prompts and next prompts (forget-me); how many answers, and the
    posted reports to edit."""
    reports = list(
        await session.scalars(
            select(CheckinAnswer.report_id).where(CheckinAnswer.guild_id == guild_id, CheckinAnswer.user_id == user_id)
        )
    )
    removed = len(reports)
    await session.execute(
        delete(CheckinAnswer).where(CheckinAnswer.guild_id == guild_id, CheckinAnswer.user_id == user_id)
    )
    await session.execute(
        update(CheckinAnswer)
        .where(CheckinAnswer.guild_id == guild_id, CheckinAnswer.blocker_closed_by == user_id)
        .values(blocker_closed_by=None)
    )
    await session.execute(
        delete(CheckinMember).where(CheckinMember.guild_id == guild_id, CheckinMember.user_id == user_id)
    )
    reports += list(
        await session.scalars(
            select(CheckinPrompt.report_id).where(CheckinPrompt.guild_id == guild_id, CheckinPrompt.user_id == user_id)
        )
    )
    # a prompt posted for her (her DMs closed) in her team's thread or the project channel names her
    posted = await session.execute(
        select(CheckinPrompt.channel_id, CheckinPrompt.message_id).where(
            CheckinPrompt.guild_id == guild_id,
            CheckinPrompt.user_id == user_id,
            CheckinPrompt.via.in_((VIA_THREAD, VIA_CHANNEL)),
        )
    )
    events: list[Event] = await retire_posts(session, guild_id, posted)
    await session.execute(
        delete(CheckinPrompt).where(CheckinPrompt.guild_id == guild_id, CheckinPrompt.user_id == user_id)
    )
    for report_id in sorted(set(reports)):
        bumped = await session.scalar(
            update(CheckinReport)
            .where(CheckinReport.id == report_id, CheckinReport.ready_at.is_not(None))
            .values(revision=CheckinReport.revision + 1)
            .returning(CheckinReport.id)
            .execution_options(synchronize_session=False)
        )
        if bumped is not None:
            events.append(CheckinReportChanged(report_id))
    # the staff flag names the silent members: drop her, and edit the post
    flags = await session.execute(
        select(CheckinFlag, shown_or_on_its_way(CheckinFlag)).where(CheckinFlag.guild_id == guild_id)
    )
    for flag, shown in flags:
        silent = [part for part in flag.silent.split(",") if part]
        if str(user_id) in silent:
            flag.silent = ",".join(part for part in silent if part != str(user_id))
            if shown:
                flag.revision += 1
                events.append(CheckinFlagged(flag.id))
    await session.execute(
        update(CheckinSchedule)
        .where(CheckinSchedule.guild_id == guild_id, CheckinSchedule.set_by == user_id)
        .values(set_by=FORGOTTEN_MEMBER_ID)
    )
    return removed, events
