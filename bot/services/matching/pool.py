"""Who can be matched in a project, and the waiting pool that matches itself.

Reads shared by `/partner find`, `/match run`, `/partner status` and the pool: the free learners,
the pair rules, the open pairs a leftover may join, and where every learner of a project stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cohort import Track
from bot.domain.events import Event, ProposalMade
from bot.domain.matching import ExistingPair, plan_project
from bot.domain.pairs import Candidate, PairRules
from bot.domain.teams import TeamStatus
from bot.domain.unplaced import Counterpart
from bot.services.matching.lifecycle import create_team, to_pool
from bot.services.matching.views import utc_offset_minutes
from models import Announcement, Learner, PairHistory, PoolEntry, Team, TeamMember

FORBIDDING_OUTCOMES = frozenset(status.value for status in TeamStatus if status.forbids_repeat)
OPEN_STATUSES = tuple(status.value for status in TeamStatus if status.is_open)


def _candidate(user_id: int, track: str, zone: str | None, skills: str | None, at: datetime) -> Candidate:
    return Candidate(
        user_id, Track(track), utc_offset_minutes(zone, at), Candidate.normalise_skills((skills or "").split(","))
    )


async def free_candidates(
    session: AsyncSession, guild_id: int, project_ids: Sequence[int] | None, at: datetime
) -> dict[int, list[Candidate]]:
    """Learners with an active announcement and no open proposal or team, per project."""
    busy = (
        select(TeamMember.user_id)
        .where(TeamMember.guild_id == guild_id, TeamMember.is_current.is_(True))
        .scalar_subquery()
    )
    query = (
        select(Announcement.project_id, Announcement.user_id, Announcement.track, Learner.timezone, Learner.skills)
        .join(Learner, (Learner.guild_id == Announcement.guild_id) & (Learner.user_id == Announcement.user_id))
        .where(Announcement.guild_id == guild_id, Announcement.active.is_(True), Announcement.user_id.not_in(busy))
    )
    if project_ids is not None:
        query = query.where(Announcement.project_id.in_(project_ids))
    found: dict[int, list[Candidate]] = {}
    for project_id, user_id, track, zone, skills in await session.execute(query):
        found.setdefault(project_id, []).append(_candidate(user_id, track, zone, skills, at))
    return found


async def pair_rules(session: AsyncSession, guild_id: int) -> PairRules:
    """Pairs never to propose again (declined, dissolved) and pairs proposed before."""
    rows = await session.execute(
        select(PairHistory.user_low, PairHistory.user_high, PairHistory.outcome).where(PairHistory.guild_id == guild_id)
    )
    forbidden: set[tuple[int, int]] = set()
    previous: set[tuple[int, int]] = set()
    for low, high, outcome in rows:
        previous.add((low, high))
        if outcome in FORBIDDING_OUTCOMES:
            forbidden.add((low, high))
    return PairRules(frozenset(forbidden), frozenset(previous))


async def open_teams(
    session: AsyncSession, guild_id: int, project_ids: Sequence[int] | None, at: datetime
) -> tuple[dict[int, list[ExistingPair]], dict[int, list[Counterpart]]]:
    """Per project: the open pairs a leftover may join as a trio, and every learner in an open
    proposal or team (trios included) with their team's member ids."""
    query = (
        select(Team.id, Team.project_id, TeamMember.user_id, TeamMember.track, Learner.timezone, Learner.skills)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .join(Learner, (Learner.guild_id == TeamMember.guild_id) & (Learner.user_id == TeamMember.user_id))
        .where(Team.guild_id == guild_id, Team.status.in_(OPEN_STATUSES), TeamMember.is_current.is_(True))
    )
    if project_ids is not None:
        query = query.where(Team.project_id.in_(project_ids))
    teams: dict[int, tuple[int, list[Candidate]]] = {}
    for team_id, project_id, user_id, track, zone, skills in await session.execute(query):
        teams.setdefault(team_id, (project_id, []))[1].append(_candidate(user_id, track, zone, skills, at))
    pairs: dict[int, list[ExistingPair]] = {}
    taken: dict[int, list[Counterpart]] = {}
    for team_id, (project_id, members) in sorted(teams.items()):
        ids = tuple(m.user_id for m in members)
        taken.setdefault(project_id, []).extend(Counterpart(m.user_id, m.track, ids) for m in members)
        if len(members) == 2:
            pairs.setdefault(project_id, []).append(ExistingPair(team_id, tuple(members)))
    return pairs, taken


async def waiting_ids(session: AsyncSession, guild_id: int) -> set[int]:
    """Learners in the guild's waiting pool."""
    return set(await session.scalars(select(PoolEntry.user_id).where(PoolEntry.guild_id == guild_id)))


async def projects_with_waiting(
    session: AsyncSession, guild_id: int, project_ids: Sequence[int] | None = None
) -> list[int]:
    """Projects (of `project_ids`, or all) with at least one waiting learner who has an active announcement."""
    query = (
        select(Announcement.project_id)
        .join(PoolEntry, (PoolEntry.guild_id == Announcement.guild_id) & (PoolEntry.user_id == Announcement.user_id))
        .where(Announcement.guild_id == guild_id, Announcement.active.is_(True))
        .distinct()
    )
    if project_ids is not None:
        query = query.where(Announcement.project_id.in_(project_ids))
    return sorted(await session.scalars(query))


async def match_pool(
    session: AsyncSession, guild_id: int, project_id: int, newcomer: int | None, at: datetime, expiry: timedelta
) -> list[Event]:
    """Propose the best pairs (and trios) among the project's waiting learners and `newcomer`.

    The same rules as a matching run (same project, opposite tracks, never a declined pair, trios for
    uneven numbers) among these learners only: a newcomer who only announced is placed only with
    someone who waits (two who only announced are left to `/partner find` and `/match run`), and
    joining a team formed outside the pool is left to `/match run`. Waiting learners who stay
    unplaced keep the true reason in the pool.
    """
    waiting = await waiting_ids(session, guild_id)
    free = (await free_candidates(session, guild_id, [project_id], at)).get(project_id, [])
    pool = [c for c in free if c.user_id in waiting or c.user_id == newcomer]
    if not any(c.user_id in waiting for c in pool):
        return []
    rules = await pair_rules(session, guild_id)
    _, taken = await open_teams(session, guild_id, [project_id], at)
    # only among the pool: joining a team someone else formed stays the job of /match run
    outcome = plan_project(pool, rules, (), taken.get(project_id, ()))
    events: list[Event] = []
    for group in outcome.groups:
        team = await create_team(session, guild_id, project_id, group.members, group.score, at + expiry)
        events.append(ProposalMade(team.id))
    for unplaced in outcome.unplaced:
        if unplaced.user_id in waiting:
            await to_pool(session, guild_id, [unplaced.user_id], unplaced.reason)
    await session.flush()
    return events
