"""Proposals and teams as the rest of Nexus sees them: plain values read in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cohort import Track
from bot.domain.errors import NotFoundError
from bot.domain.teams import EndReason, TeamEnding, TeamStatus
from bot.domain.threads import ThreadState
from bot.domain.timezones import offset_minutes
from bot.services.api_queries import ChangeView, ContractHealth, change_view, load_contract
from models import ApiChange, Learner, Project, Team, TeamMember, TeamThread


@dataclass(frozen=True)
class MemberView:
    user_id: int
    display_name: str
    track: Track
    accepted: bool


@dataclass(frozen=True)
class TeamView:
    """A proposal or team as the ui renders it."""

    id: int
    guild_id: int
    project_id: int
    project_name: str
    status: TeamStatus
    members: tuple[MemberView, ...]
    expires_at: datetime
    ending: TeamEnding | None
    channel_id: int | None
    message_id: int | None
    revision: int
    posted_revision: int
    api: ContractHealth | None = None
    """A formed team's API contract: endpoints agreed, pending, changed since agreed."""
    api_version: int = 0
    last_change: ChangeView | None = None
    thread_id: int | None = None
    """The team's private thread while it is open (None: none made, or Discord's cap refused it)."""

    @property
    def user_ids(self) -> tuple[int, ...]:
        return tuple(m.user_id for m in self.members)

    @property
    def accepted_ids(self) -> tuple[int, ...]:
        """The members who accepted: a trio newcomer still deciding is not in the team's thread."""
        return tuple(m.user_id for m in self.members if m.accepted)

    @property
    def pending(self) -> tuple[MemberView, ...]:
        return tuple(m for m in self.members if not m.accepted)

    def others(self, user_id: int) -> tuple[int, ...]:
        return tuple(uid for uid in self.user_ids if uid != user_id)


def utc_offset_minutes(zone: str | None, at: datetime) -> int | None:
    """A time zone's offset from UTC at `at`, in minutes (None when unknown)."""
    if not zone:
        return None
    return offset_minutes(zone, at)


def ending_of(team: Team) -> TeamEnding | None:
    """Why the team ended, from its stored code and actor."""
    if team.end_reason is None:
        return None
    return TeamEnding(EndReason(team.end_reason), team.end_actor_id)


async def load_team(session: AsyncSession, team_id: int) -> TeamView:
    """The proposal or team: its current members (or, once ended, everyone who was in it)."""
    team = await session.get(Team, team_id)
    if team is None:
        raise NotFoundError("That proposal no longer exists.")
    project_name = await session.scalar(select(Project.name).where(Project.id == team.project_id))
    rows = await session.execute(
        select(TeamMember, Learner.display_name)
        .join(Learner, (Learner.guild_id == TeamMember.guild_id) & (Learner.user_id == TeamMember.user_id))
        .where(TeamMember.team_id == team_id)
        .order_by(TeamMember.track, TeamMember.user_id)
    )
    status = TeamStatus(team.status)
    members = tuple(
        MemberView(member.user_id, name, Track(member.track), member.accepted_at is not None)
        for member, name in rows
        if member.is_current or not status.is_open
    )
    health, version, last = None, 0, None
    if status is TeamStatus.ACTIVE:
        contract = await load_contract(session, team)
        health, version = contract.health, contract.version
        latest = await session.scalar(
            select(ApiChange).where(ApiChange.team_id == team.id).order_by(ApiChange.version.desc()).limit(1)
        )
        last = change_view(latest, project_name or "?") if latest is not None else None
    thread_id = await session.scalar(
        select(TeamThread.channel_id).where(TeamThread.id == team.id, TeamThread.state == ThreadState.OPEN.value)
    )
    return TeamView(
        id=team.id,
        guild_id=team.guild_id,
        project_id=team.project_id,
        project_name=project_name or "?",
        status=status,
        members=members,
        expires_at=team.expires_at,
        ending=ending_of(team),
        channel_id=team.channel_id,
        message_id=team.message_id,
        revision=team.revision,
        posted_revision=team.posted_revision,
        api=health,
        api_version=version,
        last_change=last,
        thread_id=thread_id,
    )
