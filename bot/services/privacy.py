"""Forget me: remove or anonymise every record of one member in one guild."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import transaction
from bot.services.matching import end_membership
from models import (
    Announcement,
    ApiAgreement,
    ApiEndpoint,
    Learner,
    Note,
    NoteVote,
    PairHistory,
    PoolEntry,
    TeamMember,
)

ANONYMOUS_USER_ID = 0
"""Stands in for a forgotten member where a record must keep an author (a team's API endpoint)."""


@dataclass(frozen=True)
class Forgotten:
    """What was removed, and the follow-up work in Discord."""

    removed: dict[str, int] = field(default_factory=dict)
    posts_to_delete: tuple[tuple[int, int], ...] = ()
    team_to_refresh: int | None = None
    notify: tuple[int, ...] = ()

    @property
    def anything(self) -> bool:
        return any(self.removed.values())


class PrivacyService:
    """One transaction that leaves no trace of a member in a guild."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def forget(self, guild_id: int, user_id: int) -> Forgotten:
        """Delete the member's profile, announcement, notes, votes, pool place and pair history;
        end their team (the others are told, without the member's name); anonymise their endpoints."""
        async with transaction(self._sessions) as session:
            ended = await end_membership(session, guild_id, user_id, reason="a member left Nexus")
            posts = [
                (channel_id, message_id)
                for channel_id, message_id in await session.execute(
                    select(Announcement.channel_id, Announcement.message_id).where(
                        Announcement.guild_id == guild_id, Announcement.user_id == user_id
                    )
                )
                if channel_id is not None and message_id is not None
            ]
            removed = {
                "announcements": await _delete(
                    session,
                    delete(Announcement).where(Announcement.guild_id == guild_id, Announcement.user_id == user_id),
                ),
                "notes": await _delete(
                    session, delete(Note).where(Note.guild_id == guild_id, Note.author_id == user_id)
                ),
                "helpful votes": await _delete(
                    session, delete(NoteVote).where(NoteVote.guild_id == guild_id, NoteVote.member_id == user_id)
                ),
                "team memberships": await _delete(
                    session,
                    delete(TeamMember).where(TeamMember.guild_id == guild_id, TeamMember.user_id == user_id),
                ),
                "pairing history": await _delete(
                    session,
                    delete(PairHistory).where(
                        PairHistory.guild_id == guild_id,
                        or_(PairHistory.user_low == user_id, PairHistory.user_high == user_id),
                    ),
                ),
                "API agreements": await _delete(
                    session,
                    delete(ApiAgreement).where(ApiAgreement.guild_id == guild_id, ApiAgreement.user_id == user_id),
                ),
                "pool places": await _delete(
                    session, delete(PoolEntry).where(PoolEntry.guild_id == guild_id, PoolEntry.user_id == user_id)
                ),
                "profiles": await _delete(
                    session, delete(Learner).where(Learner.guild_id == guild_id, Learner.user_id == user_id)
                ),
            }
            anonymised = await session.execute(
                update(ApiEndpoint)
                .where(ApiEndpoint.guild_id == guild_id, ApiEndpoint.created_by == user_id)
                .values(created_by=ANONYMOUS_USER_ID)
            )
            removed["API endpoints anonymised"] = int(anonymised.rowcount or 0)  # type: ignore[attr-defined]
            return Forgotten(
                removed,
                tuple(posts),
                ended[0] if ended else None,
                ended[1] if ended else (),
            )


async def _delete(session: AsyncSession, statement: object) -> int:
    result = await session.execute(statement)  # type: ignore[call-overload]
    return int(result.rowcount or 0)
