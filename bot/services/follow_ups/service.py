"""Follow-ups on teams: members' answers, what they are asked, and what staff see (the roster's
answers and the flag raised, once per team, when a team says "not yet" twice)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import transaction
from bot.domain.errors import NotFoundError, PermissionDeniedError
from bot.domain.events import Event, FollowUpFlagged
from bot.domain.team_follow_ups import (
    FollowUpAnswer,
    FollowUpClosed,
    FollowUpState,
    Verdict,
    after_answers,
    verdict,
)
from bot.domain.teams import TeamStatus
from bot.services.follow_ups.rounds import FollowUpRounds
from bot.services.staff import add_staff_post
from bot.services.team_queries import current_members
from models import FollowUpFlag, FollowUpReply, Project, Team, TeamFollowUp, TeamMember


@dataclass(frozen=True)
class FollowUpPrompt:
    """What a member of the team is asked."""

    team_id: int
    guild_id: int
    round: int
    project_name: str
    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class Answered:
    """A member's answer as recorded, where the follow-up now stands, and what follows."""

    guild_id: int
    answer: FollowUpAnswer
    state: FollowUpState
    next_ask_at: datetime | None
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class MemberAnswer:
    user_id: int
    answer: FollowUpAnswer | None
    round: int | None


@dataclass(frozen=True)
class TeamFollowUpView:
    """A team's follow-up as staff see it in the roster."""

    team_id: int
    guild_id: int
    project_name: str
    state: FollowUpState
    round: int
    asked_at: datetime
    next_ask_at: datetime | None
    members: tuple[MemberAnswer, ...]
    flagged: bool
    flag_revision: int = 0
    flag_posted_revision: int = 0
    flag_channel_id: int | None = None
    flag_message_id: int | None = None
    flag_id: int | None = None


class FollowUpService(FollowUpRounds):
    """Follow-ups on teams, one transaction per call: the rounds (claimed by the loop), answers and
    what staff see."""

    async def prompt(self, team_id: int) -> FollowUpPrompt:
        """What the team's members are asked, and who they are."""
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(Team, TeamFollowUp.round, Project.name)
                    .join(TeamFollowUp, TeamFollowUp.team_id == Team.id)
                    .join(Project, Project.id == Team.project_id)
                    .where(Team.id == team_id)
                )
            ).first()
            if found is None:
                raise NotFoundError("That follow-up no longer exists.")
            team, round_, project_name = found
            members = await current_members(session, team_id, accepted_only=True)
            ids = tuple(m.user_id for m in members) if team.status == TeamStatus.ACTIVE.value else ()
            return FollowUpPrompt(team_id, team.guild_id, round_, project_name, ids)

    async def answer(self, team_id: int, user_id: int, answer: FollowUpAnswer) -> Answered:
        """Record a member's answer to their team's current round; a non-member is refused.

        The second "not yet" flags the team to staff, once: stored here, posted in the staff channel
        by the delivery layer (with no staff channel set, it shows in the roster and /setup show only).
        """
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            row = await session.get(TeamFollowUp, team_id, with_for_update=True)
            team = await session.get(Team, team_id)
            if row is None or team is None:
                raise NotFoundError("That follow-up no longer exists.")
            ended = team.status != TeamStatus.ACTIVE.value
            members = [] if ended else [m.user_id for m in await current_members(session, team_id, accepted_only=True)]
            state = FollowUpState(row.state)
            if ended or not state.takes_answers:
                raise FollowUpClosed("This team has ended; there is nothing left to answer.")
            if user_id not in members:
                who = ", ".join(f"<@{uid}>" for uid in members)
                raise PermissionDeniedError(f"This follow-up is for the team of {who}; only they can answer it.")
            reply = await session.get(FollowUpReply, (team_id, user_id))
            if reply is None:
                reply = FollowUpReply(team_id=team_id, user_id=user_id, guild_id=team.guild_id)
                session.add(reply)
            reply.round, reply.answer, reply.answered_at = row.round, answer.value, now
            await session.flush()
            answers = {
                r.user_id: FollowUpAnswer(r.answer)
                for r in await session.scalars(
                    select(FollowUpReply).where(FollowUpReply.team_id == team_id, FollowUpReply.round == row.round)
                )
            }
            outcome = verdict(answers, members)
            interval = await self.interval_of(session, team.guild_id)
            new_state, next_at = after_answers(state, row.round, outcome, now, interval, row.waiting_since)
            row.waiting_since = (row.waiting_since or now) if outcome is Verdict.NOT_YET else None
            row.state, row.next_ask_at = new_state.value, next_at
            events: list[Event] = []
            if new_state is FollowUpState.FLAGGED and state is not FollowUpState.FLAGGED:
                flag_id = await _flag(session, team, now)
                if flag_id is not None:
                    events.append(FollowUpFlagged(flag_id))
            await session.flush()
            return Answered(team.guild_id, answer, new_state, next_at, tuple(events))

    async def teams(self, guild_id: int, *, flagged_only: bool = False) -> list[TeamFollowUpView]:
        """The server's followed-up teams with each current member's latest answer, flagged first;
        with `flagged_only`, the flagged teams still active (one that ended has nobody to chase)."""
        async with self._sessions() as session:
            query = (
                select(TeamFollowUp, Team, Project.name, FollowUpFlag)
                .join(Team, Team.id == TeamFollowUp.team_id)
                .join(Project, Project.id == Team.project_id)
                .outerjoin(FollowUpFlag, FollowUpFlag.team_id == Team.id)
                .where(TeamFollowUp.guild_id == guild_id)
                .order_by(TeamFollowUp.asked_at, Team.id)
            )
            if flagged_only:
                query = query.where(FollowUpFlag.id.is_not(None), Team.status == TeamStatus.ACTIVE.value)
            rows = (await session.execute(query)).all()
            replies: dict[tuple[int, int], FollowUpReply] = {
                (r.team_id, r.user_id): r
                for r in await session.scalars(select(FollowUpReply).where(FollowUpReply.guild_id == guild_id))
            }
            views = []
            for row, team, project_name, flag in rows:
                members = await current_members(session, team.id, accepted_only=True)
                views.append(_view(row, team, project_name, flag, members, replies))
        return sorted(views, key=lambda v: not v.flagged)

    async def team(self, team_id: int) -> TeamFollowUpView:
        """One team's follow-up (what its staff flag shows)."""
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(TeamFollowUp, Team, Project.name, FollowUpFlag)
                    .join(Team, Team.id == TeamFollowUp.team_id)
                    .join(Project, Project.id == Team.project_id)
                    .outerjoin(FollowUpFlag, FollowUpFlag.team_id == Team.id)
                    .where(TeamFollowUp.team_id == team_id)
                )
            ).first()
            if found is None:
                raise NotFoundError("That follow-up no longer exists.")
            row, team, project_name, flag = found
            replies = {
                (r.team_id, r.user_id): r
                for r in await session.scalars(select(FollowUpReply).where(FollowUpReply.team_id == team_id))
            }
            members = await current_members(session, team_id, accepted_only=True)
            return _view(row, team, project_name, flag, members, replies)

    async def flag(self, flag_id: int) -> TeamFollowUpView:
        """The follow-up a staff flag is about, with the flag's post state."""
        async with self._sessions() as session:
            team_id = await session.scalar(select(FollowUpFlag.team_id).where(FollowUpFlag.id == flag_id))
        if team_id is None:
            raise NotFoundError("That flag no longer exists.")
        return await self.team(team_id)


async def _flag(session: AsyncSession, team: Team, now: datetime) -> int | None:
    """Store the team's staff flag (once); its id when it is to be posted in the staff channel."""
    existing = await session.scalar(select(FollowUpFlag.id).where(FollowUpFlag.team_id == team.id))
    if existing is not None:
        return None
    return await add_staff_post(session, FollowUpFlag(guild_id=team.guild_id, team_id=team.id, flagged_at=now))


def _view(
    row: TeamFollowUp,
    team: Team,
    project_name: str,
    flag: FollowUpFlag | None,
    members: Sequence[TeamMember],
    replies: dict[tuple[int, int], FollowUpReply],
) -> TeamFollowUpView:
    answers = []
    for member in members:
        reply = replies.get((team.id, member.user_id))
        answers.append(
            MemberAnswer(
                member.user_id, FollowUpAnswer(reply.answer) if reply else None, reply.round if reply else None
            )
        )
    return TeamFollowUpView(
        team_id=team.id,
        guild_id=team.guild_id,
        project_name=project_name,
        state=FollowUpState(row.state),
        round=row.round,
        asked_at=row.asked_at,
        next_ask_at=row.next_ask_at,
        members=tuple(answers),
        flagged=flag is not None,
        flag_revision=flag.revision if flag else 0,
        flag_posted_revision=flag.posted_revision if flag else 0,
        flag_channel_id=flag.channel_id if flag else None,
        flag_message_id=flag.message_id if flag else None,
        flag_id=flag.id if flag else None,
    )
