"""Follow-up rounds: finding the teams due one, and claiming each round exactly once.

Exactly once, with any number of processes on one database: a team's first round is claimed by
inserting its `TeamFollowUp` row (the team id is its primary key: a second claimant waits for the
first's insert and then fails on it); a later round by a conditional UPDATE that moves `next_ask_at`
on (`WHERE next_ask_at = <the round's due time>`). Either way the round's `FollowUpAsk` row is
unique per team and round, the last line of defence, and leased to the claiming process, which asks
the members at once: if it dies first, a pass asks them once the lease ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db import transaction
from bot.domain.team_follow_ups import FollowUpState, after_asking, after_team_ended, first_due
from bot.domain.teams import TeamStatus
from bot.services.outbox import CLAIM_LEASE
from models import FollowUpAsk, GuildSettings, Team, TeamFollowUp

PASS_ROUNDS_MAX = 500
"""Rounds one pass claims at most; the rest wait for the next pass."""


@dataclass(frozen=True)
class DueRound:
    """A round of a team's follow-up that is due: ask it once claimed."""

    team_id: int
    round: int
    due_at: datetime


@dataclass(frozen=True)
class AskedRound:
    """A round this process claimed: its members are to be asked now."""

    team_id: int
    guild_id: int
    round: int


class FollowUpRounds:
    """Finding and claiming follow-up rounds, one transaction per call; times from the bot's clock."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, hours: float) -> None:
        self._sessions = sessions
        self._clock = clock
        self.interval = timedelta(hours=hours)

    async def due(self, guild_ids: Sequence[int], now: datetime | None = None) -> list[DueRound]:
        """The rounds due in `guild_ids`: teams formed an interval ago never asked, and teams that
        said "not yet" an interval ago; oldest first. Teams that ended are not followed up."""
        if not guild_ids:
            return []
        now = now or self._clock.now()
        async with self._sessions() as session:
            own = await guild_intervals(session, guild_ids)
            default = [guild_id for guild_id in guild_ids if guild_id not in own]
            windows = [and_(Team.guild_id == g, Team.formed_at <= now - interval) for g, interval in own.items()]
            if default:
                windows.append(and_(Team.guild_id.in_(default), Team.formed_at <= now - self.interval))
            first = await session.execute(
                select(Team.id, Team.guild_id, Team.formed_at)
                .outerjoin(TeamFollowUp, TeamFollowUp.team_id == Team.id)
                .where(
                    or_(*windows),
                    Team.status == TeamStatus.ACTIVE.value,
                    TeamFollowUp.team_id.is_(None),
                )
                .order_by(Team.formed_at)
                .limit(PASS_ROUNDS_MAX)
            )
            again = await session.execute(
                select(TeamFollowUp.team_id, TeamFollowUp.round, TeamFollowUp.next_ask_at)
                .where(
                    TeamFollowUp.guild_id.in_(guild_ids),
                    TeamFollowUp.next_ask_at <= now,
                    TeamFollowUp.state == FollowUpState.WAITING.value,
                )
                .order_by(TeamFollowUp.next_ask_at)
                .limit(PASS_ROUNDS_MAX)
            )
            rounds = [
                DueRound(team_id, 1, first_due(formed, own.get(guild_id, self.interval)))
                for team_id, guild_id, formed in first
                if formed
            ]
            rounds += [DueRound(team_id, asked + 1, when) for team_id, asked, when in again if when]
        return sorted(rounds, key=lambda r: r.due_at)[:PASS_ROUNDS_MAX]

    async def interval_of(self, session: AsyncSession, guild_id: int) -> timedelta:
        """The server's follow-up interval: its own, else the FOLLOW_UP_HOURS setting."""
        return (await guild_intervals(session, [guild_id])).get(guild_id, self.interval)

    async def claim(self, due: DueRound) -> AskedRound | None:
        """Claim a due round; None when another pass claimed it first or the team ended meanwhile."""
        try:
            if due.round == 1:
                return await self._claim_first(due)
            return await self._claim_again(due)
        except IntegrityError:  # another process inserted the same follow-up or round first
            return None

    async def _claim_first(self, due: DueRound) -> AskedRound | None:
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            team = await session.get(Team, due.team_id)
            if team is None or team.status != TeamStatus.ACTIVE.value:
                return None
            state, round_ = after_asking(None, 0)
            session.add(
                TeamFollowUp(team_id=team.id, guild_id=team.guild_id, state=state.value, round=round_, asked_at=now)
            )
            await session.flush()  # the claim: a racing insert of the same team fails here or in ours
            session.add(_ask(team, round_, due.due_at, now))
            await session.flush()
            return AskedRound(team.id, team.guild_id, round_)

    async def _claim_again(self, due: DueRound) -> AskedRound | None:
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            row = await session.get(TeamFollowUp, due.team_id)
            team = await session.get(Team, due.team_id)
            if row is None or team is None or row.next_ask_at != due.due_at or row.round + 1 != due.round:
                return None
            if team.status != TeamStatus.ACTIVE.value:
                ended = after_team_ended(FollowUpState(row.state))
                await session.execute(
                    update(TeamFollowUp)
                    .where(TeamFollowUp.team_id == row.team_id, TeamFollowUp.next_ask_at == due.due_at)
                    .values(state=ended.value, next_ask_at=None)
                    .execution_options(synchronize_session=False)
                )
                return None
            state, round_ = after_asking(FollowUpState(row.state), row.round)
            claimed = await session.scalar(
                update(TeamFollowUp)
                .where(
                    TeamFollowUp.team_id == row.team_id,
                    TeamFollowUp.next_ask_at == due.due_at,
                    TeamFollowUp.state == FollowUpState.WAITING.value,
                )
                .values(state=state.value, round=round_, asked_at=now, next_ask_at=None, waiting_since=None)
                .returning(TeamFollowUp.team_id)
                .execution_options(synchronize_session=False)
            )
            if claimed is None:
                return None
            session.add(_ask(team, round_, due.due_at, now))
            await session.flush()
            return AskedRound(team.id, team.guild_id, round_)

    async def run_pass(self, guild_ids: Sequence[int]) -> list[AskedRound]:
        """Claim every round due in `guild_ids`, and the rounds whose claiming process died before
        asking (lease over); what this pass claimed, in order."""
        claimed = []
        for due in await self.due(guild_ids):
            asked = await self.claim(due)
            if asked is not None:
                claimed.append(asked)
        for ask_id in await self.unasked(guild_ids):
            asked = await self.reclaim(ask_id)
            if asked is not None:
                claimed.append(asked)
        return claimed

    async def unasked(self, guild_ids: Sequence[int]) -> list[int]:
        """Rounds claimed whose members were never asked and whose lease is over."""
        if not guild_ids:
            return []
        async with self._sessions() as session:
            return list(
                await session.scalars(
                    select(FollowUpAsk.id)
                    .where(
                        FollowUpAsk.guild_id.in_(guild_ids),
                        FollowUpAsk.delivered_at.is_(None),
                        FollowUpAsk.lease_until <= self._clock.now(),
                    )
                    .order_by(FollowUpAsk.id)
                    .limit(PASS_ROUNDS_MAX)
                )
            )

    async def reclaim(self, ask_id: int) -> AskedRound | None:
        """Take over asking a round whose lease is over (a conditional UPDATE: once per lease); None
        when another pass took it first. A round overtaken (its team ended, or it was asked
        again since) is settled without asking."""
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            found = await session.execute(
                update(FollowUpAsk)
                .where(FollowUpAsk.id == ask_id, FollowUpAsk.delivered_at.is_(None), FollowUpAsk.lease_until <= now)
                .values(lease_until=now + CLAIM_LEASE)
                .returning(FollowUpAsk.team_id, FollowUpAsk.guild_id, FollowUpAsk.round)
                .execution_options(synchronize_session=False)
            )
            row = found.first()
            if row is None:
                return None
            team_id, guild_id, round_ = row
            current = await session.scalar(
                select(TeamFollowUp.round)
                .join(Team, Team.id == TeamFollowUp.team_id)
                .where(TeamFollowUp.team_id == team_id, Team.status == TeamStatus.ACTIVE.value)
            )
            if current != round_:
                await _delivered(session, team_id, round_, now)
                return None
            return AskedRound(team_id, guild_id, round_)

    async def mark_asked(self, team_id: int, round_: int) -> None:
        """Record that the round's members were asked (its lease ends)."""
        async with transaction(self._sessions) as session:
            await _delivered(session, team_id, round_, self._clock.now())


async def guild_intervals(session: AsyncSession, guild_ids: Sequence[int]) -> dict[int, timedelta]:
    """The follow-up intervals staff set for some of `guild_ids` (the others use the setting)."""
    rows = await session.execute(
        select(GuildSettings.guild_id, GuildSettings.follow_up_hours).where(
            GuildSettings.guild_id.in_(guild_ids), GuildSettings.follow_up_hours.is_not(None)
        )
    )
    return {guild_id: timedelta(hours=hours) for guild_id, hours in rows if hours is not None}


def _ask(team: Team, round_: int, due_at: datetime, now: datetime) -> FollowUpAsk:
    """A claimed round, leased to this process (which asks at once) for the outbox's CLAIM_LEASE."""
    return FollowUpAsk(
        guild_id=team.guild_id,
        team_id=team.id,
        round=round_,
        due_at=due_at,
        claimed_at=now,
        lease_until=now + CLAIM_LEASE,
    )


async def _delivered(session: AsyncSession, team_id: int, round_: int, now: datetime) -> None:
    await session.execute(
        update(FollowUpAsk)
        .where(FollowUpAsk.team_id == team_id, FollowUpAsk.round == round_, FollowUpAsk.delivered_at.is_(None))
        .values(delivered_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )
