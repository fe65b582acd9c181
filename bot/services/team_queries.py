"""The one place that says which team a learner is in: the queries every feature shares.

A learner has at most one *current* membership (database-enforced): a pending proposal, or a team,
possibly as a trio newcomer who has not accepted yet. Their *formed* team is an active team they
accepted; the API contract, the checklist, the roster and the README export count only that.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.domain.teams import TeamStatus
from models import Team, TeamMember


def _current(guild_id: int, user_id: int | InstrumentedAttribute[int]) -> list[ColumnElement[bool]]:
    return [TeamMember.guild_id == guild_id, TeamMember.user_id == user_id, TeamMember.is_current.is_(True)]


def _formed(guild_id: int, user_id: int | InstrumentedAttribute[int]) -> list[ColumnElement[bool]]:
    return [
        *_current(guild_id, user_id),
        TeamMember.accepted_at.is_not(None),
        Team.id == TeamMember.team_id,
        Team.status == TeamStatus.ACTIVE.value,
    ]


async def current_membership(
    session: AsyncSession, guild_id: int, user_id: int, *, lock: bool = False
) -> tuple[TeamMember, Team] | None:
    """The learner's current membership and its team (a proposal or a team), if any."""
    query = select(TeamMember, Team).join(Team, Team.id == TeamMember.team_id).where(*_current(guild_id, user_id))
    if lock:
        query = query.with_for_update()
    found = (await session.execute(query)).first()
    return (found[0], found[1]) if found else None


async def formed_team_of(session: AsyncSession, guild_id: int, user_id: int) -> Team | None:
    """The active team the learner accepted, if any."""
    return await session.scalar(
        select(Team).join(TeamMember, TeamMember.team_id == Team.id).where(*_formed(guild_id, user_id))
    )


def in_formed_team(guild_id: int, user_id: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """SQL: the learner in column `user_id` has a formed team (for queries over many learners)."""
    return exists().where(*_formed(guild_id, user_id))


async def current_members(session: AsyncSession, team_id: int, *, accepted_only: bool = False) -> list[TeamMember]:
    """The team's current members (only those who accepted, if asked), by track then id."""
    query = select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.is_current.is_(True))
    if accepted_only:
        query = query.where(TeamMember.accepted_at.is_not(None))
    return list(await session.scalars(query.order_by(TeamMember.track, TeamMember.user_id)))
