"""Changing a team inside a use case's transaction: every status change goes through `transition`.

Each function records what it changed as events (bot.domain.events) for the delivery layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.events import BecameWaiting, Event, TeamChanged, TeamEnded
from bot.domain.pairs import Candidate, pair_key
from bot.domain.teams import TeamEnding, TeamEvent, TeamStatus, transition
from bot.domain.unplaced import UnplacedReason
from bot.services.team_queries import current_members, current_membership
from bot.services.team_threads import close_thread
from models import PairHistory, PoolEntry, Team, TeamMember, utcnow

PAIR_FORMED = "formed"
"""Pair-history outcome of a team that formed (every other outcome is the team's final status)."""


def record_pairs(session: AsyncSession, guild_id: int, team_id: int, user_ids: Sequence[int], outcome: str) -> None:
    """Remember how the pairing of every two of `user_ids` ended (declined pairs never return)."""
    for i, a in enumerate(user_ids):
        for b in user_ids[i + 1 :]:
            low, high = pair_key(a, b)
            session.add(PairHistory(guild_id=guild_id, user_low=low, user_high=high, outcome=outcome, team_id=team_id))


async def to_pool(
    session: AsyncSession, guild_id: int, user_ids: Sequence[int], reason: UnplacedReason | None = None
) -> None:
    """Put learners in the waiting pool (or update why they wait)."""
    for user_id in user_ids:
        entry = await session.get(PoolEntry, (guild_id, user_id))
        code = reason.value if reason else None
        if entry is None:
            session.add(PoolEntry(guild_id=guild_id, user_id=user_id, reason=code))
        else:
            entry.reason = code


async def leave_pool(session: AsyncSession, guild_id: int, user_ids: Sequence[int]) -> None:
    await session.execute(delete(PoolEntry).where(PoolEntry.guild_id == guild_id, PoolEntry.user_id.in_(user_ids)))


async def create_team(
    session: AsyncSession,
    guild_id: int,
    project_id: int,
    members: Sequence[Candidate],
    score: int,
    expires_at: datetime,
) -> Team:
    """A new proposal for `members`; they leave the pool."""
    team = Team(
        guild_id=guild_id, project_id=project_id, status=TeamStatus.PROPOSED.value, score=score, expires_at=expires_at
    )
    session.add(team)
    await session.flush()
    for member in members:
        session.add(TeamMember(guild_id=guild_id, team_id=team.id, user_id=member.user_id, track=member.track.value))
    await leave_pool(session, guild_id, [m.user_id for m in members])
    await session.flush()
    return team


def move(team: Team, event: TeamEvent, *, actor_id: int | None = None, now: datetime | None = None) -> TeamStatus:
    """Apply `event` to the team (refused with a clear error when it cannot happen); bumps its revision.

    An event that ends the team stores why (a code) and who ended it, when the reason names anyone.
    """
    status = transition(TeamStatus(team.status), event)
    team.status = status.value
    team.revision += 1
    if event.ending is not None:
        ending = TeamEnding(event.ending, actor_id)
        team.ended_at = now or utcnow()
        team.end_reason = ending.reason.value
        team.end_actor_id = ending.actor_id
    return status


async def end_membership(session: AsyncSession, guild_id: int, user_id: int, event: TeamEvent) -> list[Event]:
    """End the learner's open proposal or team because they left, withdrew or were forgotten.

    A pending trio newcomer leaving leaves the pair as it was. Otherwise the proposal is cancelled
    or the team dissolved, and the others go back to the pool (and are told).
    """
    found = await current_membership(session, guild_id, user_id, lock=True)
    if found is None:
        return []
    member, team = found
    members = await current_members(session, team.id)
    others = tuple(m.user_id for m in members if m.user_id != user_id)
    if team.status == TeamStatus.ACTIVE and member.accepted_at is None:
        move(team, TeamEvent.NEWCOMER_LEFT)
        member.is_current = False
        record_pairs(session, guild_id, team.id, [user_id, *others], TeamStatus.DECLINED.value)
        await session.flush()
        return [TeamChanged(team.id)]
    status = move(team, event, actor_id=user_id)
    for m in members:
        m.is_current = False
    await close_thread(session, team.id)
    if status is TeamStatus.DISSOLVED:
        record_pairs(session, guild_id, team.id, [m.user_id for m in members], status.value)
    await to_pool(session, guild_id, others)
    await session.flush()
    assert event.ending is not None
    ending = TeamEnding(event.ending, user_id)
    return [TeamEnded(team.id, ending.reason, ending.actor_id, others), BecameWaiting(team.project_id, others)]
