"""Partner matching use cases: find, answer a proposal, leave, expire, and cohort-wide runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import transaction
from bot.domain.cohort import Track
from bot.domain.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from bot.domain.matching import (
    Candidate,
    ExistingPair,
    PairRules,
    ProjectOutcome,
    best_counterpart,
    pair_key,
    pair_score,
    plan_cohort,
)
from bot.services.catalog import ensure_catalog, resolve_project
from models import Announcement, Learner, PairHistory, PoolEntry, Project, Team, TeamMember, utcnow
from models.matching import (
    TEAM_ACTIVE,
    TEAM_CANCELLED,
    TEAM_DECLINED,
    TEAM_DISSOLVED,
    TEAM_EXPIRED,
    TEAM_PROPOSED,
)

OPEN_STATUSES = (TEAM_PROPOSED, TEAM_ACTIVE)
PAIR_FORMED = "formed"
FORBIDDING_OUTCOMES = (TEAM_DECLINED, TEAM_DISSOLVED)
REASON_MAX = 200


@dataclass(frozen=True)
class MemberView:
    user_id: int
    display_name: str
    track: Track
    accepted: bool


@dataclass(frozen=True)
class TeamView:
    """A proposal or team as the cogs render it."""

    id: int
    guild_id: int
    project_name: str
    status: str
    members: tuple[MemberView, ...]
    expires_at: datetime
    end_reason: str | None
    channel_id: int | None
    message_id: int | None
    revision: int
    posted_revision: int

    @property
    def needs_post(self) -> bool:
        return self.posted_revision != self.revision

    @property
    def user_ids(self) -> tuple[int, ...]:
        return tuple(m.user_id for m in self.members)

    @property
    def pending(self) -> tuple[MemberView, ...]:
        return tuple(m for m in self.members if not m.accepted)

    def others(self, user_id: int) -> tuple[int, ...]:
        return tuple(uid for uid in self.user_ids if uid != user_id)


@dataclass(frozen=True)
class FindResult:
    team: TeamView | None
    reason: str | None = None


@dataclass(frozen=True)
class AnswerResult:
    team: TeamView
    message: str
    formed: bool = False


@dataclass(frozen=True)
class LeaveResult:
    team: TeamView
    notify: tuple[int, ...]


@dataclass(frozen=True)
class RunResult:
    """A cohort-wide plan and, unless it was a dry run, the proposals it created."""

    outcomes: dict[str, ProjectOutcome]
    created: tuple[TeamView, ...]
    extended: tuple[TeamView, ...]
    names: dict[int, str]


def utc_offset_minutes(zone: str | None, at: datetime) -> int | None:
    if not zone:
        return None
    try:
        offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    except (ValueError, KeyError):
        return None
    return int(offset.total_seconds() // 60) if offset is not None else None


async def _team_view(session: AsyncSession, team_id: int) -> TeamView:
    team = await session.get(Team, team_id)
    if team is None:
        raise NotFoundError("That proposal no longer exists.")
    project = await session.get(Project, team.project_id)
    rows = await session.execute(
        select(TeamMember, Learner)
        .join(Learner, (Learner.guild_id == TeamMember.guild_id) & (Learner.user_id == TeamMember.user_id))
        .where(TeamMember.team_id == team_id)
        .order_by(TeamMember.track, TeamMember.user_id)
    )
    keep_ended = team.status not in OPEN_STATUSES
    members = tuple(
        MemberView(member.user_id, learner.display_name, Track(member.track), member.accepted_at is not None)
        for member, learner in rows
        if member.is_current or keep_ended
    )
    return TeamView(
        id=team.id,
        guild_id=team.guild_id,
        project_name=project.name if project else "?",
        status=team.status,
        members=members,
        expires_at=team.expires_at,
        end_reason=team.end_reason,
        channel_id=team.channel_id,
        message_id=team.message_id,
        revision=team.revision,
        posted_revision=team.posted_revision,
    )


async def _current_membership(session: AsyncSession, guild_id: int, user_id: int) -> tuple[TeamMember, Team] | None:
    found = (
        await session.execute(
            select(TeamMember, Team)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.guild_id == guild_id, TeamMember.user_id == user_id, TeamMember.is_current.is_(True))
        )
    ).first()
    return (found[0], found[1]) if found else None


async def _rules(session: AsyncSession, guild_id: int) -> PairRules:
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


async def _candidates(
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
        found.setdefault(project_id, []).append(
            Candidate(
                user_id,
                Track(track),
                utc_offset_minutes(zone, at),
                Candidate.normalise_skills((skills or "").split(",")),
            )
        )
    return found


def _record_pairs(session: AsyncSession, guild_id: int, team_id: int, user_ids: Sequence[int], outcome: str) -> None:
    for i, a in enumerate(user_ids):
        for b in user_ids[i + 1 :]:
            low, high = pair_key(a, b)
            session.add(PairHistory(guild_id=guild_id, user_low=low, user_high=high, outcome=outcome, team_id=team_id))


async def _to_pool(session: AsyncSession, guild_id: int, user_ids: Sequence[int], reason: str | None) -> None:
    for user_id in user_ids:
        entry = await session.get(PoolEntry, (guild_id, user_id))
        if entry is None:
            session.add(PoolEntry(guild_id=guild_id, user_id=user_id, reason=reason))
        else:
            entry.reason = reason


async def _leave_pool(session: AsyncSession, guild_id: int, user_ids: Sequence[int]) -> None:
    await session.execute(delete(PoolEntry).where(PoolEntry.guild_id == guild_id, PoolEntry.user_id.in_(user_ids)))


async def _create_team(
    session: AsyncSession,
    guild_id: int,
    project_id: int,
    members: Sequence[Candidate],
    score: int,
    expires_at: datetime,
) -> Team:
    team = Team(guild_id=guild_id, project_id=project_id, status=TEAM_PROPOSED, score=score, expires_at=expires_at)
    session.add(team)
    await session.flush()
    for member in members:
        session.add(TeamMember(guild_id=guild_id, team_id=team.id, user_id=member.user_id, track=member.track.value))
    await _leave_pool(session, guild_id, [m.user_id for m in members])
    await session.flush()
    return team


async def end_membership(
    session: AsyncSession, guild_id: int, user_id: int, *, reason: str
) -> tuple[int, tuple[int, ...]] | None:
    """End the learner's open proposal or team (used when they leave or withdraw).

    Returns the team id and the other members to tell, or None when they had none.
    """
    found = await _current_membership(session, guild_id, user_id)
    if found is None:
        return None
    member, team = found
    members = list(
        await session.scalars(select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.is_current.is_(True)))
    )
    others = tuple(m.user_id for m in members if m.user_id != user_id)
    if team.status == TEAM_ACTIVE and member.accepted_at is None:
        # a pending trio newcomer withdrawing: the pair stays a team
        member.is_current = False
        _record_pairs(session, guild_id, team.id, [user_id, *others], TEAM_DECLINED)
    else:
        outcome = TEAM_DISSOLVED if team.status == TEAM_ACTIVE else TEAM_CANCELLED
        team.status = outcome
        team.ended_at = utcnow()
        team.end_reason = reason[:REASON_MAX]
        for m in members:
            m.is_current = False
        if outcome == TEAM_DISSOLVED:
            _record_pairs(session, guild_id, team.id, [m.user_id for m in members], TEAM_DISSOLVED)
        await _to_pool(session, guild_id, others, "your partner left; Nexus will match you again")
    team.revision += 1
    await session.flush()
    return team.id, others


class MatchingService:
    """Proposals and teams; every call is one transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], proposal_hours: float) -> None:
        self._sessions = sessions
        self.proposal_hours = proposal_hours

    def _expiry(self) -> datetime:
        return utcnow() + timedelta(hours=self.proposal_hours)

    async def find(self, guild_id: int, user_id: int) -> FindResult:
        """Propose the best available counterpart now, or put the learner in the pool with a reason."""
        try:
            return await self._find(guild_id, user_id)
        except IntegrityError:
            raise ConflictError(
                "Someone was matched with that learner at the same moment; run `/partner find` again."
            ) from None

    async def _find(self, guild_id: int, user_id: int) -> FindResult:
        async with transaction(self._sessions) as session:
            mine = await session.scalar(
                select(Announcement).where(
                    Announcement.guild_id == guild_id, Announcement.user_id == user_id, Announcement.active.is_(True)
                )
            )
            if mine is None:
                raise ValidationError("Announce your project first (`/project announce`), then look for a partner.")
            current = await _current_membership(session, guild_id, user_id)
            if current is not None:
                _, team = current
                what = "a team" if team.status == TEAM_ACTIVE else "a pending proposal"
                raise ConflictError(f"You already have {what}; see `/partner status`.")
            now = utcnow()
            pool = (await _candidates(session, guild_id, [mine.project_id], now)).get(mine.project_id, [])
            me = next((c for c in pool if c.user_id == user_id), None)
            if me is None:  # pragma: no cover - guarded above
                raise ConflictError("You are not available for matching right now.")
            others = [c for c in pool if c.track is not me.track]
            rules = await _rules(session, guild_id)
            partner = best_counterpart(me, others, rules)
            if partner is None:
                side = me.track.opposite.value
                if not others:
                    reason = f"no {side} learner on your project is free right now"
                else:
                    reason = f"every free {side} learner on your project was declined or dissolved with you before"
                await _to_pool(session, guild_id, [user_id], reason)
                return FindResult(None, reason)
            team = await _create_team(
                session, guild_id, mine.project_id, [me, partner], pair_score(me, partner, rules), self._expiry()
            )
            return FindResult(await _team_view(session, team.id))

    async def answer(self, guild_id: int, team_id: int, user_id: int, *, accept: bool) -> AnswerResult:
        """Accept or decline a proposal (or a trio newcomer) from its buttons."""
        async with transaction(self._sessions) as session:
            team = await session.get(Team, team_id, with_for_update=True)
            if team is None or team.guild_id != guild_id:
                raise NotFoundError("That proposal no longer exists.")
            members = list(
                await session.scalars(
                    select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.is_current.is_(True))
                )
            )
            mine = next((m for m in members if m.user_id == user_id), None)
            if team.status not in OPEN_STATUSES:
                raise ConflictError(f"This proposal is {team.status}; there is nothing left to answer.")
            if mine is None:
                names = ", ".join(f"<@{m.user_id}>" for m in members)
                raise PermissionDeniedError(f"This proposal is for {names}; only they can answer it.")
            pending = [m for m in members if m.accepted_at is None]
            if accept:
                if mine.accepted_at is not None:
                    waiting = ", ".join(f"<@{m.user_id}>" for m in pending) or "nobody"
                    return AnswerResult(
                        await _team_view(session, team_id), f"You already accepted; waiting for {waiting}."
                    )
                mine.accepted_at = utcnow()
                pending = [m for m in pending if m is not mine]
                team.revision += 1
                formed = not pending
                if formed:
                    newly = team.status == TEAM_PROPOSED
                    team.status = TEAM_ACTIVE
                    team.formed_at = team.formed_at or utcnow()
                    ids = [m.user_id for m in members]
                    if newly:
                        _record_pairs(session, guild_id, team.id, ids, PAIR_FORMED)
                    else:
                        for other in ids:
                            if other != user_id:
                                _record_pairs(session, guild_id, team.id, [user_id, other], PAIR_FORMED)
                    await _leave_pool(session, guild_id, ids)
                await session.flush()
                view = await _team_view(session, team_id)
                if formed:
                    return AnswerResult(view, "🎉 Team formed! Agree your API next: `/api add`.", formed=True)
                waiting = ", ".join(f"<@{m.user_id}>" for m in pending)
                return AnswerResult(view, f"Accepted. Waiting for {waiting}.")
            # decline
            if team.status == TEAM_ACTIVE and not pending:
                raise ConflictError("Your team is already formed; use `/partner leave` to dissolve it.")
            if team.status == TEAM_ACTIVE:
                # a trio newcomer is pending: declining removes the newcomer, the pair stays
                for newcomer in pending:
                    newcomer.is_current = False
                    _record_pairs(
                        session,
                        guild_id,
                        team.id,
                        [newcomer.user_id, *[m.user_id for m in members if m.accepted_at]],
                        TEAM_DECLINED,
                    )
                    await _to_pool(session, guild_id, [newcomer.user_id], "the team you were proposed to declined")
                team.revision += 1
                await session.flush()
                return AnswerResult(await _team_view(session, team_id), "Declined: the team stays as it was.")
            team.status = TEAM_DECLINED
            team.ended_at = utcnow()
            team.end_reason = f"declined by <@{user_id}>"
            team.revision += 1
            ids = [m.user_id for m in members]
            for m in members:
                m.is_current = False
            _record_pairs(session, guild_id, team.id, ids, TEAM_DECLINED)
            await _to_pool(session, guild_id, ids, "a proposal was declined; Nexus will not pair you two again")
            await session.flush()
            return AnswerResult(
                await _team_view(session, team_id),
                "Declined. You are both back in the pool and will not be proposed to each other again.",
            )

    async def leave(self, guild_id: int, user_id: int) -> LeaveResult:
        """Dissolve the learner's team (or cancel their pending proposal); both return to the pool."""
        async with transaction(self._sessions) as session:
            ended = await end_membership(session, guild_id, user_id, reason=f"<@{user_id}> left")
            if ended is None:
                raise NotFoundError("You have no team or pending proposal to leave.")
            team_id, others = ended
            await _to_pool(session, guild_id, [user_id], None)
            return LeaveResult(await _team_view(session, team_id), others)

    async def status(self, guild_id: int, user_id: int) -> tuple[TeamView | None, str | None]:
        """The learner's open proposal or team, else the reason they are waiting in the pool."""
        async with self._sessions() as session:
            current = await _current_membership(session, guild_id, user_id)
            if current is not None:
                return await _team_view(session, current[1].id), None
            entry = await session.get(PoolEntry, (guild_id, user_id))
            return None, (entry.reason or "waiting for a partner") if entry else None

    async def team(self, team_id: int) -> TeamView:
        async with self._sessions() as session:
            return await _team_view(session, team_id)

    async def active_team_of(self, guild_id: int, user_id: int) -> TeamView | None:
        async with self._sessions() as session:
            current = await _current_membership(session, guild_id, user_id)
            if current is None or current[1].status != TEAM_ACTIVE or current[0].accepted_at is None:
                return None
            return await _team_view(session, current[1].id)

    async def expire_due(self, now: datetime | None = None, guild_ids: Sequence[int] | None = None) -> list[TeamView]:
        """Expire every proposal past its deadline (in `guild_ids`, or all); members go back to the pool.

        Each process passes the guilds it serves, so shards never expire the same proposal twice;
        the row locks make a second pass over the same rows find nothing left to do.
        """
        now = now or utcnow()
        expired: list[TeamView] = []
        async with transaction(self._sessions) as session:
            teams = list(
                await session.scalars(
                    select(Team)
                    .where(
                        Team.status == TEAM_PROPOSED,
                        Team.expires_at <= now,
                        *([Team.guild_id.in_(guild_ids)] if guild_ids is not None else []),
                    )
                    .with_for_update(skip_locked=True)
                )
            )
            for team in teams:
                members = list(
                    await session.scalars(
                        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.is_current.is_(True))
                    )
                )
                team.status = TEAM_EXPIRED
                team.ended_at = now
                team.end_reason = "nobody answered in time"
                team.revision += 1
                for m in members:
                    m.is_current = False
                _record_pairs(session, team.guild_id, team.id, [m.user_id for m in members], TEAM_EXPIRED)
                await _to_pool(session, team.guild_id, [m.user_id for m in members], "your last proposal expired")
            # trio newcomers nobody answered for
            stale = (
                await session.execute(
                    select(TeamMember, Team)
                    .join(Team, Team.id == TeamMember.team_id)
                    .where(
                        Team.status == TEAM_ACTIVE,
                        TeamMember.is_current.is_(True),
                        TeamMember.accepted_at.is_(None),
                        Team.expires_at <= now,
                        *([Team.guild_id.in_(guild_ids)] if guild_ids is not None else []),
                    )
                )
            ).all()
            for member, team in stale:
                member.is_current = False
                team.revision += 1
                await _to_pool(session, team.guild_id, [member.user_id], "your last proposal expired")
                teams.append(team)
            await session.flush()
            for team_id in dict.fromkeys(t.id for t in teams):
                expired.append(await _team_view(session, team_id))
        return expired

    async def pooled(self, guild_id: int) -> list[int]:
        async with self._sessions() as session:
            return list(
                await session.scalars(
                    select(PoolEntry.user_id).where(PoolEntry.guild_id == guild_id).order_by(PoolEntry.joined_at)
                )
            )

    async def run(self, guild_id: int, project: str | None, *, dry_run: bool) -> RunResult:
        """Match everyone unpaired (in one project or all); a dry run changes nothing.

        Two runs at once (two staff, two processes) cannot both place a learner: the database's
        one-current-team index refuses the second, which then changes nothing.
        """
        try:
            return await self._run(guild_id, project, dry_run=dry_run)
        except IntegrityError:
            raise ConflictError(
                "Another matching run placed these learners just now; see the project channel."
            ) from None

    async def _run(self, guild_id: int, project: str | None, *, dry_run: bool) -> RunResult:
        async with transaction(self._sessions) as session:
            await ensure_catalog(session, guild_id)
            project_ids = [(await resolve_project(session, guild_id, project)).id] if project else None
            now = utcnow()
            candidates = await _candidates(session, guild_id, project_ids, now)
            rules = await _rules(session, guild_id)
            existing = await self._existing_pairs(session, guild_id, project_ids, now)
            plan = plan_cohort(candidates, rules, existing)
            projects = {
                p.id: p.name for p in await session.scalars(select(Project).where(Project.guild_id == guild_id))
            }
            names = {
                learner.user_id: learner.display_name
                for learner in await session.scalars(select(Learner).where(Learner.guild_id == guild_id))
            }
            outcomes = {projects[pid]: outcome for pid, outcome in plan.items()}
            if dry_run:
                return RunResult(outcomes, (), (), names)
            created: list[TeamView] = []
            extended: list[TeamView] = []
            expires = self._expiry()
            for project_id, outcome in plan.items():
                for group in outcome.groups:
                    team = await _create_team(session, guild_id, project_id, group.members, group.score, expires)
                    created.append(await _team_view(session, team.id))
                for join in outcome.joins:
                    joined = await session.get(Team, join.team_id, with_for_update=True)
                    assert joined is not None
                    session.add(
                        TeamMember(
                            guild_id=guild_id,
                            team_id=joined.id,
                            user_id=join.candidate.user_id,
                            track=join.candidate.track.value,
                        )
                    )
                    joined.revision += 1
                    if joined.status == TEAM_ACTIVE:
                        joined.expires_at = expires
                    await _leave_pool(session, guild_id, [join.candidate.user_id])
                    await session.flush()
                    extended.append(await _team_view(session, joined.id))
                for unplaced in outcome.unplaced:
                    await _to_pool(session, guild_id, [unplaced.user_id], unplaced.description[:REASON_MAX])
            return RunResult(outcomes, tuple(created), tuple(extended), names)

    async def _existing_pairs(
        self, session: AsyncSession, guild_id: int, project_ids: Sequence[int] | None, now: datetime
    ) -> dict[int, list[ExistingPair]]:
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
            teams.setdefault(team_id, (project_id, []))[1].append(
                Candidate(
                    user_id,
                    Track(track),
                    utc_offset_minutes(zone, now),
                    Candidate.normalise_skills((skills or "").split(",")),
                )
            )
        found: dict[int, list[ExistingPair]] = {}
        for team_id, (project_id, members) in sorted(teams.items()):
            if len(members) == 2:
                found.setdefault(project_id, []).append(ExistingPair(team_id, tuple(members)))
        return found
