"""Partner matching use cases: find, answer, leave, status, expiry, the pool and cohort-wide runs.

Each public coroutine is one transaction and returns what changed as events for the delivery layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.db import transaction
from bot.domain.cohort import Track
from bot.domain.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from bot.domain.events import BecameWaiting, Event, ProposalAnswered, ProposalMade, TeamEnded, TeamFormed
from bot.domain.matching import ProjectOutcome, best_counterpart, pair_score, plan_cohort
from bot.domain.pairs import Candidate, PairRules
from bot.domain.teams import EndReason, TeamEvent, TeamStatus
from bot.domain.unplaced import Counterpart, UnplacedReason, unplaced_reason
from bot.services.catalog import ensure_catalog, resolve_project
from bot.services.matching.lifecycle import (
    PAIR_FORMED,
    create_team,
    end_membership,
    leave_pool,
    move,
    record_pairs,
    to_pool,
)
from bot.services.matching.pool import (
    free_candidates,
    match_pool,
    open_teams,
    pair_rules,
    projects_with_waiting,
)
from bot.services.matching.runs import apply_plan
from bot.services.matching.views import TeamView, load_team
from bot.services.team_queries import current_members, current_membership
from bot.services.team_threads import want_thread
from models import Announcement, Learner, PoolEntry, Project, Team

MATCH_RETRIES = 3
"""Times the pool is matched again when a concurrent change took one of its learners first."""


@dataclass(frozen=True)
class FindResult:
    team: TeamView | None
    reason: UnplacedReason | None = None
    track: Track | None = None
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class AnswerResult:
    team: TeamView
    message: str
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Waiting:
    """Why a learner in the pool still waits: a reason code, for the track they need."""

    reason: UnplacedReason | None
    needs: Track | None


@dataclass(frozen=True)
class RunResult:
    """A cohort-wide plan and, unless it was a dry run, what it changed."""

    outcomes: dict[str, ProjectOutcome]
    names: dict[int, str]
    created: int = 0
    events: tuple[Event, ...] = ()


def _mentions(user_ids: Sequence[int]) -> str:
    return ", ".join(f"<@{uid}>" for uid in user_ids) or "nobody"


class MatchingService:
    """Proposals and teams; every call is one transaction."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], proposal_hours: float, clock: Clock | None = None
    ) -> None:
        self.clock = clock or SystemClock()
        self._sessions = sessions
        self.expiry = timedelta(hours=proposal_hours)

    async def find(self, guild_id: int, user_id: int) -> FindResult:
        """Propose the best free counterpart now, or put the learner in the waiting pool with the reason."""
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
            current = await current_membership(session, guild_id, user_id)
            if current is not None:
                what = "a team" if current[1].status == TeamStatus.ACTIVE else "a pending proposal"
                raise ConflictError(f"You already have {what}; see `/partner status`.")
            now = self.clock.now()
            free = (await free_candidates(session, guild_id, [mine.project_id], now)).get(mine.project_id, [])
            me = next(c for c in free if c.user_id == user_id)
            rules = await pair_rules(session, guild_id)
            partner = best_counterpart(me, [c for c in free if c.track is not me.track], rules)
            if partner is None:
                reason = await self._reason(session, guild_id, mine.project_id, user_id, now, free=free, rules=rules)
                await to_pool(session, guild_id, [user_id], reason)
                return FindResult(None, reason, me.track.opposite, (BecameWaiting(mine.project_id, (user_id,)),))
            team = await create_team(
                session, guild_id, mine.project_id, [me, partner], pair_score(me, partner, rules), now + self.expiry
            )
            return FindResult(await load_team(session, team.id), events=(ProposalMade(team.id),))

    async def _reason(
        self,
        session: AsyncSession,
        guild_id: int,
        project_id: int,
        user_id: int,
        at: datetime,
        *,
        free: list[Candidate] | None = None,
        rules: PairRules | None = None,
    ) -> UnplacedReason:
        """Why the learner has no partner right now, from where every learner of the project stands
        (`free` and `rules` when the caller has just read them)."""
        if free is None:
            free = (await free_candidates(session, guild_id, [project_id], at)).get(project_id, [])
        _, taken = await open_teams(session, guild_id, [project_id], at)
        everyone = [Counterpart(c.user_id, c.track) for c in free] + taken.get(project_id, [])
        me = next((c for c in free if c.user_id == user_id), None)
        if me is None:
            return UnplacedReason.TAKEN
        return unplaced_reason(me, everyone, rules if rules is not None else await pair_rules(session, guild_id))

    async def answer(self, guild_id: int, team_id: int, user_id: int, *, accept: bool) -> AnswerResult:
        """Accept or decline a proposal (or a trio newcomer) from its buttons."""
        async with transaction(self._sessions) as session:
            team = await session.get(Team, team_id, with_for_update=True)
            if team is None or team.guild_id != guild_id:
                raise NotFoundError("That proposal no longer exists.")
            members = await current_members(session, team_id)
            mine = next((m for m in members if m.user_id == user_id), None)
            if not TeamStatus(team.status).is_open:
                raise ConflictError(f"This proposal is {team.status}; there is nothing left to answer.")
            if mine is None:
                raise PermissionDeniedError(
                    f"This proposal is for {_mentions([m.user_id for m in members])}; only they can answer it."
                )
            pending = [m for m in members if m.accepted_at is None]
            newcomers = team.status == TeamStatus.ACTIVE
            answered = ProposalAnswered(team_id, user_id, accept)
            if accept:
                if mine.accepted_at is not None:
                    waiting = _mentions([m.user_id for m in pending])
                    return AnswerResult(
                        await load_team(session, team_id), f"You already accepted; waiting for {waiting}."
                    )
                pending = [m for m in pending if m is not mine]
                if pending:
                    move(team, TeamEvent.NEWCOMER_ACCEPTED if newcomers else TeamEvent.MEMBER_ACCEPTED)
                    mine.accepted_at = self.clock.now()
                    await session.flush()
                    waiting = _mentions([m.user_id for m in pending])
                    return AnswerResult(
                        await load_team(session, team_id), f"Accepted. Waiting for {waiting}.", (answered,)
                    )
                move(team, TeamEvent.NEWCOMER_ACCEPTED if newcomers else TeamEvent.ALL_ACCEPTED)
                mine.accepted_at = self.clock.now()
                team.formed_at = team.formed_at or self.clock.now()
                ids = [m.user_id for m in members]
                if newcomers:
                    for other in ids:
                        if other != user_id:
                            record_pairs(session, guild_id, team.id, [user_id, other], PAIR_FORMED)
                else:
                    record_pairs(session, guild_id, team.id, ids, PAIR_FORMED)
                await leave_pool(session, guild_id, ids)
                await want_thread(session, team)
                await session.flush()
                return AnswerResult(
                    await load_team(session, team_id),
                    "🎉 Team formed! Agree your API next: `/api add`.",
                    (answered, TeamFormed(team_id)),
                )
            if newcomers:
                move(team, TeamEvent.NEWCOMER_DECLINED)
                accepted = [m.user_id for m in members if m.accepted_at]
                for newcomer in pending:
                    newcomer.is_current = False
                    record_pairs(session, guild_id, team.id, [newcomer.user_id, *accepted], TeamStatus.DECLINED.value)
                await to_pool(session, guild_id, [m.user_id for m in pending])
                await session.flush()
                back = tuple(m.user_id for m in pending)
                return AnswerResult(
                    await load_team(session, team_id),
                    "Declined: the team stays as it was.",
                    (answered, BecameWaiting(team.project_id, back)),
                )
            move(team, TeamEvent.DECLINED, actor_id=user_id)
            ids = [m.user_id for m in members]
            for m in members:
                m.is_current = False
            record_pairs(session, guild_id, team.id, ids, TeamStatus.DECLINED.value)
            await to_pool(session, guild_id, ids)
            await session.flush()
            return AnswerResult(
                await load_team(session, team_id),
                "Declined. You are both back in the pool and will not be proposed to each other again.",
                (answered, BecameWaiting(team.project_id, tuple(ids))),
            )

    async def leave(self, guild_id: int, user_id: int) -> tuple[Event, ...]:
        """Dissolve the learner's team (or cancel their pending proposal); everyone returns to the pool."""
        async with transaction(self._sessions) as session:
            events = await end_membership(session, guild_id, user_id, TeamEvent.MEMBER_LEFT)
            if not events:
                raise NotFoundError("You have no team or pending proposal to leave.")
            await to_pool(session, guild_id, [user_id])
            project_id = await session.scalar(
                select(Announcement.project_id).where(
                    Announcement.guild_id == guild_id, Announcement.user_id == user_id
                )
            )
            if project_id is not None:
                events.append(BecameWaiting(project_id, (user_id,)))
            return tuple(events)

    async def has_open_team(self, guild_id: int, user_id: int) -> bool:
        """Whether the learner has a proposal or team to leave."""
        async with self._sessions() as session:
            return await current_membership(session, guild_id, user_id) is not None

    async def status(self, guild_id: int, user_id: int) -> tuple[TeamView | None, Waiting | None]:
        """The learner's open proposal or team, else why they are waiting in the pool (None: not waiting)."""
        async with self._sessions() as session:
            current = await current_membership(session, guild_id, user_id)
            if current is not None:
                return await load_team(session, current[1].id), None
            if await session.get(PoolEntry, (guild_id, user_id)) is None:
                return None, None
            mine = await session.scalar(
                select(Announcement).where(
                    Announcement.guild_id == guild_id, Announcement.user_id == user_id, Announcement.active.is_(True)
                )
            )
            if mine is None:
                return None, Waiting(None, None)
            reason = await self._reason(session, guild_id, mine.project_id, user_id, self.clock.now())
            return None, Waiting(reason, Track(mine.track).opposite)

    async def team(self, team_id: int) -> TeamView:
        async with self._sessions() as session:
            return await load_team(session, team_id)

    async def match_waiting(self, guild_id: int, project_id: int, newcomer: int | None = None) -> list[Event]:
        """Propose the best pairs among the project's waiting learners and `newcomer` (who announced).

        Two changes at once never give one learner two proposals: the database's one-current-team
        index refuses the second, which then reads again and matches whoever is still free.
        """
        async with self._sessions() as session:
            if project_id not in await projects_with_waiting(session, guild_id, [project_id]):
                return []  # the common case after an announcement: nobody waits, no write transaction
        for _ in range(MATCH_RETRIES):
            try:
                async with transaction(self._sessions) as session:
                    return await match_pool(session, guild_id, project_id, newcomer, self.clock.now(), self.expiry)
            except IntegrityError:
                continue
        return []

    async def sweep_pool(self, guild_id: int) -> list[Event]:
        """Match every project's waiting learners (a pass that catches what a restart interrupted)."""
        async with self._sessions() as session:
            project_ids = await projects_with_waiting(session, guild_id)
        events: list[Event] = []
        for project_id in project_ids:
            events += await self.match_waiting(guild_id, project_id)
        return events

    async def expire_due(
        self, now: datetime | None = None, guild_ids: Sequence[int] | None = None
    ) -> dict[int, list[Event]]:
        """Expire every proposal past its deadline (in `guild_ids`, or all); members go back to the pool.

        Each process passes the guilds it serves, so shards never expire the same proposal twice;
        the row locks make a second pass over the same rows find nothing left to do.
        """
        now = now or self.clock.now()
        where = [Team.guild_id.in_(guild_ids)] if guild_ids is not None else []
        events: dict[int, list[Event]] = {}
        async with transaction(self._sessions) as session:
            teams = await session.scalars(
                select(Team)
                .where(
                    Team.status.in_([TeamStatus.PROPOSED.value, TeamStatus.ACTIVE.value]),
                    Team.expires_at <= now,
                    *where,
                )
                .with_for_update(skip_locked=True)
            )
            for team in list(teams):
                members = await current_members(session, team.id)
                pending = [m for m in members if m.accepted_at is None]
                if not pending:
                    continue
                ids = tuple(m.user_id for m in members)
                if team.status == TeamStatus.PROPOSED:
                    move(team, TeamEvent.EXPIRED, now=now)
                    for m in members:
                        m.is_current = False
                    record_pairs(session, team.guild_id, team.id, ids, TeamStatus.EXPIRED.value)
                    back = ids
                    ended: Event = TeamEnded(team.id, EndReason.EXPIRED, None)
                else:  # trio newcomers nobody answered for
                    move(team, TeamEvent.NEWCOMER_EXPIRED)
                    for m in pending:
                        m.is_current = False
                    back = tuple(m.user_id for m in pending)
                    ended = ProposalMade(team.id)
                await to_pool(session, team.guild_id, back)
                events.setdefault(team.guild_id, []).extend([ended, BecameWaiting(team.project_id, back)])
            await session.flush()
        return events

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
            now = self.clock.now()
            candidates = await free_candidates(session, guild_id, project_ids, now)
            rules = await pair_rules(session, guild_id)
            pairs, taken = await open_teams(session, guild_id, project_ids, now)
            plan = plan_cohort(candidates, rules, pairs, taken)
            projects = dict(
                (await session.execute(select(Project.id, Project.name).where(Project.guild_id == guild_id))).all()
            )
            names = dict(
                (
                    await session.execute(
                        select(Learner.user_id, Learner.display_name).where(Learner.guild_id == guild_id)
                    )
                ).all()
            )
            outcomes = {projects[pid]: outcome for pid, outcome in plan.items()}
            if dry_run:
                return RunResult(outcomes, names)
            created, events = await apply_plan(session, guild_id, plan, now + self.expiry)
            return RunResult(outcomes, names, created, tuple(events))
