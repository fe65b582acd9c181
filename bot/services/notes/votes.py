"""Helpful votes on notes: one per member, toggled."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import transaction
from bot.domain.errors import ConflictError, PermissionDeniedError
from bot.services.notes.records import helpful_count, load_visible
from models import NoteVote


@dataclass(frozen=True)
class VoteResult:
    """The member's vote after a toggle, and the note's new count."""

    note_id: int
    voted: bool
    helpful_count: int


class NoteVotes:
    """Vote use cases, one transaction per call."""

    _sessions: async_sessionmaker[AsyncSession]

    async def toggle_helpful(self, guild_id: int, member_id: int, note_id: int) -> VoteResult:
        """Mark a public note helpful, or take the mark back; one vote per member."""
        for attempt in range(2):
            try:
                async with transaction(self._sessions) as session:
                    note = await load_visible(session, guild_id, member_id, note_id)
                    if note.is_private:
                        raise ConflictError("Private notes can't be voted on.")
                    if note.author_id == member_id:
                        raise PermissionDeniedError("You can't mark your own note as helpful.")
                    vote = await session.get(NoteVote, (note.id, member_id))
                    if vote is None:
                        session.add(NoteVote(note_id=note.id, member_id=member_id, guild_id=guild_id))
                    else:
                        await session.delete(vote)
                    await session.flush()
                    return VoteResult(note.id, vote is None, await helpful_count(session, note.id))
            except IntegrityError:
                # a double click inserted the same vote concurrently: read the state again
                if attempt:
                    raise
        raise AssertionError("unreachable")
