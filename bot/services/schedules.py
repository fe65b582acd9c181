"""Scheduled posts: add, list, remove, and claiming each due occurrence exactly once.

Exactly once, with any number of processes on one database and restarts at any moment: an
occurrence is claimed in one transaction that moves the schedule's `next_run_at` on with a
conditional UPDATE (`WHERE next_run_at = <the occurrence>`; the row lock makes a second claimant
find it changed and do nothing) and inserts its `ScheduleRun` (unique per schedule and due time).
The run is a channel post, leased to the claiming process for the outbox's CLAIM_LEASE: that
process posts it at once, and if it dies first the outbox posts it once the lease ends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db import transaction
from bot.domain.errors import NotFoundError, ValidationError
from bot.domain.schedules import (
    CATCH_UP_RUNS_MAX,
    DEFAULT_ZONE,
    SCHEDULES_PER_GUILD_MAX,
    NudgeDelivery,
    Repeat,
    RunOutcome,
    ScheduledPost,
    ScheduleEvent,
    ScheduleState,
    Timing,
    check_post_options,
    clean_text,
    days_text,
    new_timing,
    parse_days,
    parse_time,
    run_outcome,
    transition,
)
from bot.services.nudges import NudgePlan, StoredNudge, store_nudge
from bot.services.outbox import CLAIM_LEASE
from models import GuildSettings, Schedule, ScheduleRun

RECENT_SKIPS_SHOWN = 10
"""Skipped runs /schedule list reports."""

NudgePlanner = Callable[[int], Awaitable[NudgePlan]]
"""Who a nudge in a guild names now (the nudge service's `plan`)."""


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as staff see it."""

    id: int
    text: str
    post: ScheduledPost
    delivery: NudgeDelivery
    repeat: Repeat
    days: str
    start: date
    local_time: str
    zone: str
    state: ScheduleState
    next_run_at: datetime | None
    posted: int
    skipped: int


@dataclass(frozen=True)
class SkippedRun:
    schedule_id: int
    due_at: datetime
    zone: str


@dataclass(frozen=True)
class ScheduleList:
    schedules: tuple[ScheduleInfo, ...]
    skipped: tuple[SkippedRun, ...]
    zone: str


@dataclass(frozen=True)
class ClaimedRun:
    """An occurrence this process claimed: post it (`POSTED`) or nothing more to do (`SKIPPED`)."""

    run_id: int
    guild_id: int
    schedule_id: int
    due_at: datetime
    outcome: RunOutcome
    post: ScheduledPost = ScheduledPost.TEXT
    nudge: StoredNudge | None = None


@dataclass(frozen=True)
class RunView:
    """A run with what its post shows."""

    id: int
    guild_id: int
    text: str
    post: ScheduledPost
    due_at: datetime
    revision: int
    posted_revision: int
    channel_id: int | None
    message_id: int | None


def timing_of(row: Schedule) -> Timing:
    return Timing(Repeat(row.repeat), row.start_date, parse_time(row.local_time), parse_days(row.days), row.zone)


async def guild_zone(session: AsyncSession, guild_id: int) -> str:
    """The server's zone for schedules (UTC until staff set one)."""
    return (
        await session.scalar(select(GuildSettings.timezone).where(GuildSettings.guild_id == guild_id)) or DEFAULT_ZONE
    )


async def retime(session: AsyncSession, guild_id: int, zone: str, now: datetime) -> int:
    """Move the server's active schedules to `zone` (same wall-clock times); how many moved."""
    rows = list(
        await session.scalars(
            select(Schedule)
            .where(Schedule.guild_id == guild_id, Schedule.state == ScheduleState.ACTIVE.value)
            .with_for_update()
        )
    )
    for row in rows:
        row.zone = zone
        if row.next_run_at is not None:
            row.next_run_at = timing_of(row).after(now - timedelta(microseconds=1)) or row.next_run_at
    return len(rows)


class ScheduleService:
    """Scheduled posts, one transaction per call; times come from the bot's clock."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, nudge_plan: NudgePlanner | None = None
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._nudge_plan = nudge_plan

    async def add(
        self,
        guild_id: int,
        author_id: int,
        text: str | None,
        *,
        repeat: Repeat,
        start: str,
        at: str,
        days: str | None,
        post: ScheduledPost = ScheduledPost.TEXT,
        delivery: NudgeDelivery = NudgeDelivery.CHANNEL,
    ) -> ScheduleInfo:
        """Store a new schedule of staff's text (`post` text) or of one of Nexus's own posts; a
        ValidationError (nothing stored) for bad or past input."""
        check_post_options(post, delivery, None if post is ScheduledPost.TEXT else text)
        body = clean_text(text or "") if post is ScheduledPost.TEXT else ""
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            zone = await guild_zone(session, guild_id)
            timing = new_timing(repeat, start, at, days, zone, now)
            active = await session.scalar(
                select(func.count()).where(Schedule.guild_id == guild_id, Schedule.state == ScheduleState.ACTIVE.value)
            )
            if (active or 0) >= SCHEDULES_PER_GUILD_MAX:
                raise ValidationError(f"This server has {SCHEDULES_PER_GUILD_MAX} schedules; remove one first.")
            row = Schedule(
                guild_id=guild_id,
                author_id=author_id,
                text=body,
                post=post.value,
                delivery=delivery.value,
                repeat=timing.repeat.value,
                days=days_text(timing.days),
                start_date=timing.start,
                local_time=timing.at.strftime("%H:%M"),
                zone=zone,
                state=ScheduleState.ACTIVE.value,
                next_run_at=timing.first(),
                created_at=now,
            )
            session.add(row)
            await session.flush()
            return _info(row, 0, 0)

    async def listing(self, guild_id: int) -> ScheduleList:
        """The server's active schedules and the latest skipped runs."""
        async with self._sessions() as session:
            zone = await guild_zone(session, guild_id)
            rows = list(
                await session.scalars(
                    select(Schedule)
                    .where(Schedule.guild_id == guild_id, Schedule.state == ScheduleState.ACTIVE.value)
                    .order_by(Schedule.next_run_at, Schedule.id)
                )
            )
            counts: dict[tuple[int, str], int] = {
                (schedule_id, outcome): count
                for schedule_id, outcome, count in await session.execute(
                    select(ScheduleRun.schedule_id, ScheduleRun.outcome, func.count())
                    .where(ScheduleRun.guild_id == guild_id)
                    .group_by(ScheduleRun.schedule_id, ScheduleRun.outcome)
                )
            }
            skipped = await session.execute(
                select(ScheduleRun.schedule_id, ScheduleRun.due_at, Schedule.zone)
                .join(Schedule, Schedule.id == ScheduleRun.schedule_id)
                .where(ScheduleRun.guild_id == guild_id, ScheduleRun.outcome == RunOutcome.SKIPPED.value)
                .order_by(ScheduleRun.due_at.desc())
                .limit(RECENT_SKIPS_SHOWN)
            )
            return ScheduleList(
                tuple(
                    _info(
                        row,
                        counts.get((row.id, RunOutcome.POSTED.value), 0),
                        counts.get((row.id, RunOutcome.SKIPPED.value), 0),
                    )
                    for row in rows
                ),
                tuple(SkippedRun(sid, due, z) for sid, due, z in skipped),
                zone,
            )

    async def get(self, guild_id: int, schedule_id: int) -> ScheduleInfo:
        """One of this server's schedules; NotFoundError for another server's id or a removed one."""
        async with self._sessions() as session:
            row = await session.get(Schedule, schedule_id)
            if row is None or row.guild_id != guild_id or row.state == ScheduleState.REMOVED.value:
                raise NotFoundError(f"This server has no schedule #{schedule_id}; `/schedule list` shows its ids.")
            return _info(row, 0, 0)

    async def remove(self, guild_id: int, schedule_id: int) -> ScheduleInfo:
        """Stop a schedule (its past runs stay recorded); NotFoundError for another server's id."""
        async with transaction(self._sessions) as session:
            row = await session.get(Schedule, schedule_id, with_for_update=True)
            if row is None or row.guild_id != guild_id or row.state == ScheduleState.REMOVED.value:
                raise NotFoundError(f"This server has no schedule #{schedule_id}; `/schedule list` shows its ids.")
            row.state = transition(ScheduleState(row.state), ScheduleEvent.REMOVED).value
            row.next_run_at = None
            return _info(row, 0, 0)

    async def due(
        self, guild_ids: Sequence[int], now: datetime | None = None
    ) -> list[tuple[int, datetime, int, ScheduledPost]]:
        """(schedule id, occurrence, guild, post) of every active schedule due in `guild_ids`, oldest first."""
        if not guild_ids:
            return []
        now = now or self._clock.now()
        async with self._sessions() as session:
            found = await session.execute(
                select(Schedule.id, Schedule.next_run_at, Schedule.guild_id, Schedule.post)
                .where(
                    Schedule.guild_id.in_(guild_ids),
                    Schedule.next_run_at <= now,
                    Schedule.state == ScheduleState.ACTIVE.value,
                )
                .order_by(Schedule.next_run_at)
            )
            return [
                (schedule_id, due, guild_id, ScheduledPost(post))
                for schedule_id, due, guild_id, post in found
                if due is not None
            ]

    async def claim(
        self, schedule_id: int, due_at: datetime, grace: timedelta, nudge: NudgePlan | None = None
    ) -> ClaimedRun | None:
        """Claim the occurrence `due_at` of a schedule; None when another pass claimed it first.

        The conditional UPDATE is the claim: under a concurrent claim, the second waits for the
        first's row lock, then finds `next_run_at` moved on and updates nothing. A nudge's messages
        (or DMs), planned from `nudge`, are stored in the same transaction; the run itself then has
        no post of its own.
        """
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            row = await session.get(Schedule, schedule_id)
            if row is None or row.next_run_at != due_at or row.state != ScheduleState.ACTIVE.value:
                return None
            following = timing_of(row).after(due_at)
            state = (
                ScheduleState.ACTIVE
                if following is not None
                else transition(ScheduleState.ACTIVE, ScheduleEvent.RAN_LAST)
            )
            claimed = await session.scalar(
                update(Schedule)
                .where(
                    Schedule.id == schedule_id,
                    Schedule.next_run_at == due_at,
                    Schedule.state == ScheduleState.ACTIVE.value,
                )
                .values(next_run_at=following, state=state.value)
                .returning(Schedule.id)
                .execution_options(synchronize_session=False)
            )
            if claimed is None:
                return None
            outcome = run_outcome(due_at, now, grace)
            post = ScheduledPost(row.post)
            # a nudge's run posts nothing itself: its messages are records of their own
            skipped = outcome is RunOutcome.SKIPPED or post is ScheduledPost.NUDGE
            run = ScheduleRun(
                guild_id=row.guild_id,
                schedule_id=schedule_id,
                due_at=due_at,
                outcome=outcome.value,
                claimed_at=now,
                revision=1,
                posted_revision=1 if skipped else 0,
                # leased to this process, which posts it now; the outbox takes over if it dies
                next_post_at=None if skipped else now + CLAIM_LEASE,
            )
            session.add(run)
            await session.flush()
            stored = None
            if post is ScheduledPost.NUDGE and outcome is RunOutcome.POSTED:
                plan = nudge or NudgePlan((), ())
                stored = await store_nudge(session, row.guild_id, run.id, NudgeDelivery(row.delivery), plan)
            return ClaimedRun(run.id, row.guild_id, schedule_id, due_at, outcome, post, stored)

    async def run_pass(self, guild_ids: Sequence[int], grace: timedelta) -> list[ClaimedRun]:
        """Claim every occurrence due in `guild_ids` (missed ones included, up to CATCH_UP_RUNS_MAX
        per schedule); what this pass claimed, in order."""
        claimed: list[ClaimedRun] = []
        for _ in range(CATCH_UP_RUNS_MAX):
            due = await self.due(guild_ids)
            if not due:
                break
            for schedule_id, due_at, guild_id, post in due:
                plan = None
                due_now = run_outcome(due_at, self._clock.now(), grace) is RunOutcome.POSTED
                if post is ScheduledPost.NUDGE and due_now and self._nudge_plan is not None:
                    # read before the claim: the claim's transaction stays short, and a pass that
                    # loses the race only read
                    plan = await self._nudge_plan(guild_id)
                run = await self.claim(schedule_id, due_at, grace, plan)
                if run is not None:
                    claimed.append(run)
        return claimed

    async def run(self, run_id: int) -> RunView:
        """A run with the text its post shows."""
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(ScheduleRun, Schedule.text, Schedule.post)
                    .join(Schedule, Schedule.id == ScheduleRun.schedule_id)
                    .where(ScheduleRun.id == run_id)
                )
            ).first()
            if found is None:
                raise NotFoundError("That scheduled post no longer exists.")
            run, text, post = found
            return RunView(
                run.id,
                run.guild_id,
                text,
                ScheduledPost(post),
                run.due_at,
                run.revision,
                run.posted_revision,
                run.channel_id,
                run.message_id,
            )


def _info(row: Schedule, posted: int, skipped: int) -> ScheduleInfo:
    return ScheduleInfo(
        id=row.id,
        text=row.text,
        post=ScheduledPost(row.post),
        delivery=NudgeDelivery(row.delivery),
        repeat=Repeat(row.repeat),
        days=row.days,
        start=row.start_date,
        local_time=row.local_time,
        zone=row.zone,
        state=ScheduleState(row.state),
        next_run_at=row.next_run_at,
        posted=posted,
        skipped=skipped,
    )
