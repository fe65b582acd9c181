"""Check-in prompts: finding each member's due prompt and claiming it exactly once, grouping the
prompts of one round into a report, and readying reports whose 12 hours are over.

Exactly once, with any number of processes on one database: a member's prompt is claimed by a
conditional UPDATE that moves `checkin_members.next_prompt_at` on (`WHERE next_prompt_at = <due>`),
and the `CheckinPrompt` row is unique per team, member and due time, the last line of defence. The
row is leased to the claiming process, which delivers it at once; if it dies first, a pass delivers
it once the lease ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db import transaction
from bot.domain.checkins import REPORT_HOURS, CheckinPlan, missed_twice, next_prompt
from bot.domain.events import CheckinFlagged, CheckinReportChanged, Event
from bot.domain.schedules import DEFAULT_ZONE
from bot.domain.teams import TeamStatus
from bot.services.outbox import CLAIM_LEASE
from bot.services.staff import add_staff_post
from bot.services.team_queries import current_members
from models import (
    CheckinAnswer,
    CheckinFlag,
    CheckinMember,
    CheckinPrompt,
    CheckinReport,
    CheckinSchedule,
    GuildSettings,
    Learner,
    Team,
    TeamMember,
)

PASS_PROMPTS_MAX = 500
"""Prompts one pass claims at most; the rest wait for the next pass."""


@dataclass(frozen=True)
class DuePrompt:
    team_id: int
    user_id: int
    due_at: datetime


@dataclass(frozen=True)
class ClaimedPrompt:
    """A prompt this process claimed: deliver it now."""

    guild_id: int
    prompt_id: int


async def member_zones(session: AsyncSession, guild_id: int, user_ids: Sequence[int]) -> dict[int, str]:
    """Each member's zone: their profile's, else the server's, else UTC."""
    server = await session.scalar(select(GuildSettings.timezone).where(GuildSettings.guild_id == guild_id))
    own = dict(
        (
            await session.execute(
                select(Learner.user_id, Learner.timezone).where(
                    Learner.guild_id == guild_id, Learner.user_id.in_(user_ids)
                )
            )
        ).all()
    )
    return {uid: own.get(uid) or server or DEFAULT_ZONE for uid in user_ids}


async def reschedule(session: AsyncSession, schedule: CheckinSchedule, now: datetime) -> dict[int, datetime]:
    """Set each current member's next prompt from the team's plan (members who left drop out)."""
    plan = CheckinPlan.stored(schedule.days, schedule.at)
    members = [m.user_id for m in await current_members(session, schedule.team_id, accepted_only=True)]
    zones = await member_zones(session, schedule.guild_id, members)
    await session.execute(
        delete(CheckinMember).where(CheckinMember.team_id == schedule.team_id, CheckinMember.user_id.not_in(members))
    )
    nexts = {}
    for user_id in members:
        when = nexts[user_id] = next_prompt(plan, zones[user_id], now)
        row = await session.get(CheckinMember, (schedule.team_id, user_id))
        if row is None:
            session.add(
                CheckinMember(
                    team_id=schedule.team_id, user_id=user_id, guild_id=schedule.guild_id, next_prompt_at=when
                )
            )
        else:
            row.next_prompt_at = when
    return nexts


async def retime_prompts(session: AsyncSession, guild_id: int, now: datetime, user_id: int | None = None) -> int:
    """After a time-zone change (member `user_id`'s own, or the server's when None), move the next
    prompts not yet due to the plan's time of day in each member's zone as it now is; how many moved.
    A prompt already due is left for the pass that sends it."""
    query = (
        select(CheckinMember, CheckinSchedule)
        .join(CheckinSchedule, CheckinSchedule.team_id == CheckinMember.team_id)
        .where(CheckinMember.guild_id == guild_id, CheckinMember.next_prompt_at > now)
    )
    if user_id is not None:
        query = query.where(CheckinMember.user_id == user_id)
    rows = (await session.execute(query)).all()
    zones = await member_zones(session, guild_id, [member.user_id for member, _ in rows])
    moved = 0
    for member, schedule in rows:
        when = next_prompt(CheckinPlan.stored(schedule.days, schedule.at), zones[member.user_id], now)
        if when != member.next_prompt_at:
            member.next_prompt_at = when
            moved += 1
    return moved


async def report_for(
    session: AsyncSession, team: Team, user_id: int, due_at: datetime, *, fresh: bool
) -> CheckinReport:
    """The report a prompt belongs to: the team's open one from the last REPORT_HOURS that has no
    prompt of this member yet, else a new one (always new when `fresh`)."""
    latest = await session.scalar(
        select(CheckinReport).where(CheckinReport.team_id == team.id).order_by(CheckinReport.id.desc()).limit(1)
    )
    if (
        not fresh
        and latest is not None
        and latest.ready_at is None
        and due_at < latest.opened_at + timedelta(hours=REPORT_HOURS)
    ):
        taken = await session.scalar(
            select(CheckinPrompt.id).where(CheckinPrompt.report_id == latest.id, CheckinPrompt.user_id == user_id)
        )
        if taken is None:
            return latest
    report = CheckinReport(guild_id=team.guild_id, team_id=team.id, opened_at=due_at, revision=0, posted_revision=0)
    session.add(report)
    await session.flush()
    return report


class CheckinPrompts:
    """Claiming prompts and readying reports, one transaction per call; times from the bot's clock."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def due(self, guild_ids: Sequence[int]) -> list[DuePrompt]:
        """The members' prompts due in `guild_ids` (teams active and not paused), oldest first."""
        if not guild_ids:
            return []
        async with self._sessions() as session:
            rows = await session.execute(
                select(CheckinMember.team_id, CheckinMember.user_id, CheckinMember.next_prompt_at)
                .join(CheckinSchedule, CheckinSchedule.team_id == CheckinMember.team_id)
                .join(Team, Team.id == CheckinMember.team_id)
                .where(
                    CheckinMember.guild_id.in_(guild_ids),
                    CheckinMember.next_prompt_at <= self._clock.now(),
                    CheckinSchedule.paused.is_(False),
                    Team.status == TeamStatus.ACTIVE.value,
                )
                .order_by(CheckinMember.next_prompt_at)
                .limit(PASS_PROMPTS_MAX)
            )
            return [DuePrompt(t, u, when) for t, u, when in rows if when is not None]

    async def claim(self, due: DuePrompt) -> ClaimedPrompt | None:
        """Claim a due prompt; None when another pass claimed it first (or the plan changed)."""
        now = self._clock.now()
        try:
            async with transaction(self._sessions) as session:
                schedule = await session.get(CheckinSchedule, due.team_id)
                team = await session.get(Team, due.team_id)
                if schedule is None or team is None or schedule.paused or team.status != TeamStatus.ACTIVE.value:
                    return None
                members = {m.user_id for m in await current_members(session, team.id, accepted_only=True)}
                if due.user_id not in members:  # left the team: never prompted again
                    await session.execute(
                        delete(CheckinMember).where(
                            CheckinMember.team_id == team.id,
                            CheckinMember.user_id == due.user_id,
                            CheckinMember.next_prompt_at == due.due_at,
                        )
                    )
                    return None
                zone = (await member_zones(session, team.guild_id, [due.user_id]))[due.user_id]
                after = next_prompt(CheckinPlan.stored(schedule.days, schedule.at), zone, max(due.due_at, now))
                claimed = await session.scalar(
                    update(CheckinMember)
                    .where(
                        CheckinMember.team_id == due.team_id,
                        CheckinMember.user_id == due.user_id,
                        CheckinMember.next_prompt_at == due.due_at,
                    )
                    .values(next_prompt_at=after)
                    .returning(CheckinMember.user_id)
                    .execution_options(synchronize_session=False)
                )
                if claimed is None:
                    return None
                return await self._store_prompt(session, team, due.user_id, due.due_at, now, fresh=False)
        except IntegrityError:  # another process stored the same prompt first
            return None

    async def _store_prompt(
        self, session: AsyncSession, team: Team, user_id: int, due_at: datetime, now: datetime, *, fresh: bool
    ) -> ClaimedPrompt:
        report = await report_for(session, team, user_id, due_at, fresh=fresh)
        prompt = CheckinPrompt(
            guild_id=team.guild_id,
            team_id=team.id,
            report_id=report.id,
            user_id=user_id,
            due_at=due_at,
            lease_until=now + CLAIM_LEASE,
        )
        session.add(prompt)
        await session.flush()
        return ClaimedPrompt(team.guild_id, prompt.id)

    async def undelivered(self, guild_ids: Sequence[int]) -> list[ClaimedPrompt]:
        """Prompts claimed by a process that died before delivering them (lease over): take them over."""
        if not guild_ids:
            return []
        now = self._clock.now()
        taken = []
        async with transaction(self._sessions) as session:
            rows = await session.scalars(
                select(CheckinPrompt).where(
                    CheckinPrompt.guild_id.in_(guild_ids),
                    CheckinPrompt.delivered_at.is_(None),
                    CheckinPrompt.lease_until <= now,
                )
            )
            for prompt in rows:
                moved = await session.scalar(
                    update(CheckinPrompt)
                    .where(CheckinPrompt.id == prompt.id, CheckinPrompt.lease_until == prompt.lease_until)
                    .values(lease_until=now + CLAIM_LEASE)
                    .returning(CheckinPrompt.id)
                    .execution_options(synchronize_session=False)
                )
                if moved is not None:
                    taken.append(ClaimedPrompt(prompt.guild_id, prompt.id))
        return taken

    async def schedule_newcomers(self, guild_ids: Sequence[int]) -> int:
        """Give members who joined a team with check-ins (a trio's newcomer) their next prompt."""
        if not guild_ids:
            return 0
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            rows = await session.execute(
                select(CheckinSchedule, TeamMember.user_id)
                .join(TeamMember, TeamMember.team_id == CheckinSchedule.team_id)
                .outerjoin(
                    CheckinMember,
                    (CheckinMember.team_id == TeamMember.team_id) & (CheckinMember.user_id == TeamMember.user_id),
                )
                .where(
                    CheckinSchedule.guild_id.in_(guild_ids),
                    CheckinSchedule.paused.is_(False),
                    TeamMember.is_current.is_(True),
                    TeamMember.accepted_at.is_not(None),
                    CheckinMember.user_id.is_(None),
                )
            )
            added = 0
            for schedule, user_id in rows.all():
                zone = (await member_zones(session, schedule.guild_id, [user_id]))[user_id]
                when = next_prompt(CheckinPlan.stored(schedule.days, schedule.at), zone, now)
                session.add(
                    CheckinMember(
                        team_id=schedule.team_id, user_id=user_id, guild_id=schedule.guild_id, next_prompt_at=when
                    )
                )
                added += 1
            return added

    async def run_pass(self, guild_ids: Sequence[int]) -> list[ClaimedPrompt]:
        """Claim every prompt due in `guild_ids`, and those whose claimer died; what to deliver."""
        with suppress(IntegrityError):  # another process scheduled the same newcomer first
            await self.schedule_newcomers(guild_ids)
        claimed = [c for due in await self.due(guild_ids) if (c := await self.claim(due)) is not None]
        return claimed + await self.undelivered(guild_ids)

    async def mark_delivered(
        self, prompt_id: int, via: str, channel_id: int | None = None, message_id: int | None = None
    ) -> None:
        """The member was prompted: by DM, or posted in a channel (the team's thread, or the project
        channel), where `channel_id` and `message_id` are the post."""
        async with transaction(self._sessions) as session:
            await session.execute(
                update(CheckinPrompt)
                .where(CheckinPrompt.id == prompt_id, CheckinPrompt.delivered_at.is_(None))  # the first post
                .values(
                    delivered_at=self._clock.now(),
                    via=via,
                    lease_until=None,
                    channel_id=channel_id,
                    message_id=message_id,
                )
            )

    async def ready_pass(self, guild_ids: Sequence[int]) -> list[Event]:
        """Ready the reports whose REPORT_HOURS are over (posted whoever answered), and flag teams
        with a member silent on two check-ins in a row (once per team); what to deliver."""
        if not guild_ids:
            return []
        now = self._clock.now()
        events: list[Event] = []
        async with self._sessions() as session:
            overdue = list(
                await session.scalars(
                    select(CheckinReport.id).where(
                        CheckinReport.guild_id.in_(guild_ids),
                        CheckinReport.ready_at.is_(None),
                        CheckinReport.opened_at <= now - timedelta(hours=REPORT_HOURS),
                    )
                )
            )
        for report_id in overdue:
            async with transaction(self._sessions) as session:
                team_id = await session.scalar(
                    update(CheckinReport)
                    .where(CheckinReport.id == report_id, CheckinReport.ready_at.is_(None))
                    .values(ready_at=now, revision=CheckinReport.revision + 1)
                    .returning(CheckinReport.team_id)
                    .execution_options(synchronize_session=False)
                )
                if team_id is None:
                    continue  # another pass readied it
                events.append(CheckinReportChanged(report_id))
                flag_id = await _flag_if_silent(session, team_id, now)
                if flag_id is not None:
                    events.append(CheckinFlagged(flag_id))
        return events


async def answered_runs(session: AsyncSession, team_id: int, user_id: int) -> list[bool]:
    """Whether the member answered each ready report they were prompted for, newest first."""
    rows = await session.execute(
        select(CheckinReport.id, func.count(CheckinAnswer.id))
        .join(CheckinPrompt, CheckinPrompt.report_id == CheckinReport.id)
        .outerjoin(CheckinAnswer, (CheckinAnswer.report_id == CheckinReport.id) & (CheckinAnswer.user_id == user_id))
        .where(
            CheckinReport.team_id == team_id,
            CheckinReport.ready_at.is_not(None),
            CheckinPrompt.user_id == user_id,
        )
        .group_by(CheckinReport.id)
        .order_by(CheckinReport.id.desc())
    )
    return [count > 0 for _, count in rows]


async def _flag_if_silent(session: AsyncSession, team_id: int, now: datetime) -> int | None:
    """Flag the team to staff once when a current member missed two check-ins in a row."""
    if await session.scalar(select(CheckinFlag.id).where(CheckinFlag.team_id == team_id)) is not None:
        return None
    team = await session.get(Team, team_id)
    if team is None:
        return None
    silent = [
        m.user_id
        for m in await current_members(session, team_id, accepted_only=True)
        if missed_twice(await answered_runs(session, team_id, m.user_id))
    ]
    if not silent:
        return None
    flag = CheckinFlag(
        guild_id=team.guild_id, team_id=team_id, silent=",".join(str(uid) for uid in silent), flagged_at=now
    )
    return await add_staff_post(session, flag)
