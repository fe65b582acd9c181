"""Team threads: asked for in the transaction that forms or ends the team, made by the outbox; and
what staff are told once (the thread cap reached)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import transaction
from bot.domain.errors import NotFoundError
from bot.domain.threads import StaffNoticeKind, ThreadState
from bot.services.staff import add_staff_post
from models import StaffNotice, Team, TeamThread


@dataclass(frozen=True)
class TeamThreadView:
    """A team's thread record: its state, and where it is once made."""

    team_id: int
    guild_id: int
    state: ThreadState
    thread_id: int | None
    message_id: int | None
    parent_id: int | None
    revision: int
    posted_revision: int


@dataclass(frozen=True)
class StaffNoticeView:
    id: int
    guild_id: int
    kind: StaffNoticeKind
    created_at: datetime
    channel_id: int | None
    message_id: int | None
    revision: int
    posted_revision: int


async def want_thread(session: AsyncSession, team: Team) -> None:
    """The team formed (or gained a member): store that its thread must be made or brought up to date,
    before anything is asked of Discord."""
    row = await session.get(TeamThread, team.id, with_for_update=True)
    if row is None:
        session.add(TeamThread(id=team.id, guild_id=team.guild_id, state=ThreadState.OPEN.value))
    elif row.state == ThreadState.OPEN:
        row.revision += 1


async def close_thread(session: AsyncSession, team_id: int) -> None:
    """The team ended: its thread, if it has one, is to be archived and locked."""
    row = await session.get(TeamThread, team_id, with_for_update=True)
    if row is not None and row.state == ThreadState.OPEN:
        row.state = ThreadState.CLOSED.value
        row.revision += 1


def _view(row: TeamThread) -> TeamThreadView:
    return TeamThreadView(
        row.id,
        row.guild_id,
        ThreadState(row.state),
        row.channel_id,
        row.message_id,
        row.parent_id,
        row.revision,
        row.posted_revision,
    )


def _notice_view(row: StaffNotice) -> StaffNoticeView:
    return StaffNoticeView(
        row.id,
        row.guild_id,
        StaffNoticeKind(row.kind),
        row.created_at,
        row.channel_id,
        row.message_id,
        row.revision,
        row.posted_revision,
    )


class TeamThreadService:
    """Reading and recording team threads, and the staff notices about them."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, team_id: int) -> TeamThreadView | None:
        """The team's thread record, or None when the team never formed."""
        async with self._sessions() as session:
            row = await session.get(TeamThread, team_id)
            return _view(row) if row is not None else None

    async def made(self, team_id: int, thread_id: int | None, parent_id: int | None) -> None:
        """Record the thread Discord made (or found) for the team, before anything else is done in it,
        so no later attempt makes another; None forgets a thread that is gone."""
        async with transaction(self._sessions) as session:
            await session.execute(
                update(TeamThread)
                .where(TeamThread.id == team_id)
                .values(channel_id=thread_id, parent_id=parent_id, message_id=None)
                .execution_options(synchronize_session=False)
            )

    async def capped(self, guild_id: int, team_id: int) -> int | None:
        """Discord's thread cap refused the team's thread: the team falls back to its team message and
        DMs. Returns the staff notice to post when this is the first time in this server."""
        async with transaction(self._sessions) as session:
            await session.execute(
                update(TeamThread)
                .where(TeamThread.id == team_id)
                .values(state=ThreadState.CAPPED.value, channel_id=None, message_id=None)
                .execution_options(synchronize_session=False)
            )
            kind = StaffNoticeKind.THREAD_CAP.value
            if await session.scalar(
                select(StaffNotice.id).where(StaffNotice.guild_id == guild_id, StaffNotice.kind == kind)
            ):
                return None
            try:
                async with session.begin_nested():
                    return await add_staff_post(session, StaffNotice(guild_id=guild_id, kind=kind))
            except IntegrityError:  # another process told staff just now
                return None

    async def capped_teams(self, guild_id: int) -> int:
        """How many teams of the server have no thread because of the cap."""
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(TeamThread)
                .where(TeamThread.guild_id == guild_id, TeamThread.state == ThreadState.CAPPED.value)
            )
            return int(count or 0)

    async def staff_notice(self, notice_id: int) -> StaffNoticeView:
        async with self._sessions() as session:
            row = await session.get(StaffNotice, notice_id)
            if row is None:
                raise NotFoundError("That staff notice no longer exists.")
            return _notice_view(row)

    async def staff_notices(self, guild_id: int) -> list[StaffNoticeView]:
        """What staff were told in this server, oldest first (for /setup show)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(StaffNotice).where(StaffNotice.guild_id == guild_id).order_by(StaffNotice.id)
            )
            return [_notice_view(row) for row in rows]
