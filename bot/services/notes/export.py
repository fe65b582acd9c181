"""Notes leaving the notes feature: a member's README export, and who has written notes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import false, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.notes import NoteKind
from bot.domain.readme import ReadmeNote
from bot.services.notes.records import tags_of
from models import Note, NoteTopic

EXPORT_MAX_NOTES = 500
AUTHORS_BATCH = 500
"""Member ids per IN (…) list when asking who wrote notes."""


class NoteExport:
    """Export use cases, one read per call."""

    _sessions: async_sessionmaker[AsyncSession]

    async def authors_among(self, guild_id: int, user_ids: Sequence[int]) -> set[int]:
        """Which of `user_ids` have written at least one note (public or private) in the guild."""
        if not user_ids:
            return set()
        async with self._sessions() as session:
            found: set[int] = set()
            ids = list(dict.fromkeys(user_ids))
            for start in range(0, len(ids), AUTHORS_BATCH):
                rows = await session.scalars(
                    select(Note.author_id)
                    .where(Note.guild_id == guild_id, Note.author_id.in_(ids[start : start + AUTHORS_BATCH]))
                    .distinct()
                )
                found.update(rows)
            return found

    async def export_notes(self, guild_id: int, member_id: int, viewer_id: int) -> tuple[ReadmeNote, ...]:
        """The member's notes for their README; another viewer gets only the public ones."""
        async with self._sessions() as session:
            query = (
                select(Note, NoteTopic.name)
                .join(NoteTopic, NoteTopic.id == Note.topic_id)
                .where(Note.guild_id == guild_id, Note.author_id == member_id)
                .order_by(Note.created_at, Note.id)
                .limit(EXPORT_MAX_NOTES)
            )
            if viewer_id != member_id:
                query = query.where(Note.is_private == false())
            rows = (await session.execute(query)).all()
        return tuple(
            ReadmeNote(
                title=note.title,
                body=note.body,
                kind=NoteKind(note.kind),
                topic=topic,
                tags=tags_of(note.tags),
                solution=note.solution,
                created_at=note.created_at,
            )
            for note, topic in rows
        )
