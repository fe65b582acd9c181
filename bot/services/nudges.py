"""Roster nudges: reminders on or off per member, what a nudge run stores, and its DMs' outcomes.

A nudge run's messages are stored in the transaction that claims the run (`store_nudge`, called by
`ScheduleService.claim`), so each is made exactly once whatever the number of processes; the
outbox posts them. A DM run stores one pending DM per learner; the claiming process sends them
and names those whose DMs are closed in one channel post per run (`fallback`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db import transaction
from bot.domain.cohort import RosterStep
from bot.domain.errors import NotFoundError
from bot.domain.nudges import (
    DmState,
    NudgeSection,
    decode_sections,
    decode_steps,
    encode_sections,
    encode_steps,
    nudge_sections,
    split_nudge,
    without_user,
)
from bot.domain.schedules import NudgeDelivery
from bot.services.cohort import CohortService
from bot.services.outbox import CLAIM_LEASE
from models import NudgeDm, NudgePost, ReminderOptOut, ScheduleRun


@dataclass(frozen=True)
class NudgePlan:
    """Who a nudge names, computed just before its run is claimed: per step for the channel, and
    per learner for DMs (members who turned reminders off are already left out)."""

    sections: tuple[NudgeSection, ...]
    per_learner: tuple[tuple[int, tuple[RosterStep, ...]], ...]


@dataclass(frozen=True)
class StoredNudge:
    """What a claimed nudge run stored: its channel messages, or how many DMs wait to be sent."""

    post_ids: tuple[int, ...] = ()
    dms: int = 0


@dataclass(frozen=True)
class NudgePostView:
    id: int
    guild_id: int
    sections: tuple[NudgeSection, ...]
    dm_fallback: bool
    revision: int
    posted_revision: int
    channel_id: int | None
    message_id: int | None


@dataclass(frozen=True)
class PendingDm:
    id: int
    user_id: int
    steps: tuple[RosterStep, ...]


async def store_nudge(
    session: AsyncSession, guild_id: int, run_id: int, delivery: NudgeDelivery, plan: NudgePlan
) -> StoredNudge:
    """Store a claimed run's messages (channel) or pending DMs, in the claim's transaction."""
    if delivery is NudgeDelivery.DM:
        rows = [
            NudgeDm(guild_id=guild_id, run_id=run_id, user_id=user_id, steps=encode_steps(steps))
            for user_id, steps in plan.per_learner
        ]
        session.add_all(rows)
        await session.flush()
        return StoredNudge(dms=len(rows))
    return StoredNudge(await _store_posts(session, guild_id, run_id, plan.sections, dm_fallback=False))


async def _store_posts(
    session: AsyncSession, guild_id: int, run_id: int, sections: Sequence[NudgeSection], *, dm_fallback: bool
) -> tuple[int, ...]:
    rows = [
        NudgePost(guild_id=guild_id, run_id=run_id, part=part, dm_fallback=dm_fallback, sections=encode_sections(chunk))
        for part, chunk in enumerate(split_nudge(sections), start=1)
    ]
    session.add_all(rows)
    await session.flush()
    return tuple(row.id for row in rows)


class NudgeService:
    """Reminders per member and nudge records, one transaction per call."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, cohort: CohortService) -> None:
        self._sessions = sessions
        self._clock = clock
        self._cohort = cohort

    async def set_reminders(self, guild_id: int, user_id: int, *, on: bool) -> bool:
        """Turn a member's reminders on or off; whether anything changed."""
        async with transaction(self._sessions) as session:
            existing = await session.get(ReminderOptOut, (guild_id, user_id))
            if on:
                if existing is None:
                    return False
                await session.delete(existing)
                return True
            if existing is not None:
                return False
            session.add(ReminderOptOut(guild_id=guild_id, user_id=user_id, created_at=self._clock.now()))
            return True

    async def opted_out(self, guild_id: int) -> set[int]:
        """The members of a guild who turned reminders off."""
        async with self._sessions() as session:
            return set(await session.scalars(select(ReminderOptOut.user_id).where(ReminderOptOut.guild_id == guild_id)))

    async def plan(self, guild_id: int) -> NudgePlan:
        """Who a nudge run in this guild names now."""
        roster = await self._cohort.roster(guild_id)
        opted_out = await self.opted_out(guild_id)
        missing = {entry.user_id: entry.missing for entry in roster}
        return NudgePlan(
            nudge_sections(missing, opted_out),
            tuple((user_id, tuple(steps)) for user_id, steps in missing.items() if user_id not in opted_out),
        )

    async def post(self, post_id: int) -> NudgePostView:
        """One channel message of a nudge, as stored."""
        async with self._sessions() as session:
            row = await session.get(NudgePost, post_id)
            if row is None:
                raise NotFoundError("That reminder no longer exists.")
            return NudgePostView(
                row.id,
                row.guild_id,
                decode_sections(row.sections),
                row.dm_fallback,
                row.revision,
                row.posted_revision,
                row.channel_id,
                row.message_id,
            )

    async def pending_dms(self, run_id: int) -> list[PendingDm]:
        """The DMs of a run still to send."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(NudgeDm)
                .where(NudgeDm.run_id == run_id, NudgeDm.state == DmState.PENDING.value)
                .order_by(NudgeDm.id)
            )
            return [PendingDm(row.id, row.user_id, decode_steps(row.steps)) for row in rows]

    async def claim_dm(self, dm_id: int) -> bool:
        """Claim one pending DM for sending; False when another process claimed it first."""
        async with transaction(self._sessions) as session:
            claimed = await session.scalar(
                update(NudgeDm)
                .where(NudgeDm.id == dm_id, NudgeDm.state == DmState.PENDING.value)
                .values(state=DmState.SENDING.value)
                .returning(NudgeDm.id)
                .execution_options(synchronize_session=False)
            )
            return claimed is not None

    async def mark_dm(self, dm_id: int, state: DmState) -> None:
        """Record what became of one DM claimed for sending."""
        async with transaction(self._sessions) as session:
            await session.execute(
                update(NudgeDm)
                .where(NudgeDm.id == dm_id, NudgeDm.state == DmState.SENDING.value)
                .values(state=state.value)
            )

    async def stalled_dm_runs(self, guild_ids: Sequence[int]) -> list[tuple[int, int]]:
        """(guild, run) of DM runs in `guild_ids` with DMs still pending after the claiming
        process's lease: it died before sending them all, so another process takes over."""
        if not guild_ids:
            return []
        before = self._clock.now() - CLAIM_LEASE
        async with self._sessions() as session:
            rows = await session.execute(
                select(NudgeDm.guild_id, NudgeDm.run_id)
                .join(ScheduleRun, ScheduleRun.id == NudgeDm.run_id)
                .where(
                    NudgeDm.guild_id.in_(guild_ids),
                    NudgeDm.state == DmState.PENDING.value,
                    ScheduleRun.claimed_at < before,
                )
                .distinct()
            )
            return [(guild_id, run_id) for guild_id, run_id in rows]

    async def fallback(self, guild_id: int, run_id: int) -> tuple[int, ...]:
        """Once per run: the channel post naming the learners whose DMs were refused (nothing when
        none were, or when it was stored already)."""
        async with transaction(self._sessions) as session:
            done = await session.scalar(
                select(NudgePost.id).where(NudgePost.run_id == run_id, NudgePost.dm_fallback.is_(True)).limit(1)
            )
            waiting = await session.scalar(
                select(NudgeDm.id).where(NudgeDm.run_id == run_id, NudgeDm.state == DmState.PENDING.value).limit(1)
            )
            if done is not None or waiting is not None:  # the last to finish the run's DMs posts it
                return ()
            refused = {
                user_id: decode_steps(steps)
                for user_id, steps in await session.execute(
                    select(NudgeDm.user_id, NudgeDm.steps)
                    .where(NudgeDm.run_id == run_id, NudgeDm.state == DmState.REFUSED.value)
                    .order_by(NudgeDm.id)
                )
            }
            if not refused:
                return ()
            return await _store_posts(session, guild_id, run_id, nudge_sections(refused, ()), dm_fallback=True)


async def forget_in_nudges(session: AsyncSession, guild_id: int, user_id: int) -> tuple[int, tuple[int, ...]]:
    """Inside a forget-me transaction: drop the member's opt-out and DMs, and take them out of the
    nudge posts that name them; (rows removed, ids of the posts to edit)."""
    removed = 0
    for statement in (
        delete(ReminderOptOut).where(ReminderOptOut.guild_id == guild_id, ReminderOptOut.user_id == user_id),
        delete(NudgeDm).where(NudgeDm.guild_id == guild_id, NudgeDm.user_id == user_id),
    ):
        result = await session.execute(statement)
        removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    edited = []
    for row in await session.scalars(
        select(NudgePost).where(NudgePost.guild_id == guild_id, NudgePost.sections.contains(str(user_id)))
    ):
        sections = decode_sections(row.sections)
        kept = without_user(sections, user_id)
        if kept != sections:
            row.sections = encode_sections(kept)
            row.revision += 1
            edited.append(row.id)
    return removed, tuple(edited)
