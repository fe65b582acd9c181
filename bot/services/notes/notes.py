"""Writing, showing, editing and deleting notes, a member's own list, and tips."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, false, func, select

from bot.db import transaction
from bot.domain.errors import ConflictError, PermissionDeniedError
from bot.domain.events import Event
from bot.domain.notes import NoteDraft, NoteKind, parse_note_ref, validate_note, validate_tip
from bot.domain.search import search_terms
from bot.services.digest import reshow_digests_listing
from bot.services.notes.records import (
    NoteSummary,
    NoteView,
    helpful_count,
    helpful_counts,
    load_visible,
    not_found,
    summary,
    summary_columns,
    tags_text,
    view,
)
from bot.services.notes.topics import NoteTopics, topic_row
from models import Note, NoteTopic, NoteVote

MINE_LIMIT = 250
"""Most notes /note mine lists (newest first)."""
TOP_TIPS_LIMIT = 10
TOP_TIPS_MAX_DAYS = 365
MAX_NOTES_PER_MEMBER = 1000
"""A member's note quota in one server, so one account cannot flood the search index."""


@dataclass(frozen=True)
class NoteDeleted:
    """A note deleted: its title, and what delivery does next (the digests that listed it)."""

    title: str
    events: tuple[Event, ...]


class Notebook(NoteTopics):
    """Note and tip use cases, one transaction per call."""

    async def create_note(
        self,
        guild_id: int,
        author_id: int,
        *,
        topic: str,
        kind: NoteKind,
        title: str,
        body: str,
        solution: str | None = None,
        tags: str | None = None,
        private: bool = False,
    ) -> NoteView:
        """Record a note after checking its fields and topic."""
        draft = validate_note(kind, title, body, solution, tags)
        return await self._insert(guild_id, author_id, topic, kind, draft, private)

    async def share_tip(self, guild_id: int, author_id: int, text: str, topic: str) -> NoteView:
        """Record a public one-line tip."""
        return await self._insert(guild_id, author_id, topic, NoteKind.TIP, validate_tip(text), False)

    async def _insert(
        self, guild_id: int, author_id: int, topic: str, kind: NoteKind, draft: NoteDraft, private: bool
    ) -> NoteView:
        async with transaction(self._sessions) as session:
            topic_found = await topic_row(session, guild_id, topic)
            count = await session.scalar(
                select(func.count()).where(Note.guild_id == guild_id, Note.author_id == author_id)
            )
            if (count or 0) >= MAX_NOTES_PER_MEMBER:
                raise ConflictError(f"You have reached {MAX_NOTES_PER_MEMBER} notes here; delete some first.")
            note = Note(
                guild_id=guild_id,
                author_id=author_id,
                kind=kind.value,
                topic_id=topic_found.id,
                title=draft.title,
                body=draft.body,
                solution=draft.solution,
                tags=tags_text(draft.tags),
                is_private=private,
                search_terms=search_terms(draft.title, draft.body, draft.solution, tags_text(draft.tags)),
            )
            note.topic = topic_found
            session.add(note)
            await session.flush()
            return view(note, 0)

    async def update_note(
        self,
        guild_id: int,
        editor_id: int,
        note_id: int,
        *,
        title: str,
        body: str,
        solution: str | None = None,
        tags: str | None = None,
    ) -> NoteView:
        """Change a note's text; only its author may."""
        async with transaction(self._sessions) as session:
            note = await load_visible(session, guild_id, editor_id, note_id)
            if note.author_id != editor_id:
                raise PermissionDeniedError("Only the note's author can edit it; nothing was changed.")
            draft = validate_note(NoteKind(note.kind), title, body, solution, tags)
            note.title, note.body, note.solution = draft.title, draft.body, draft.solution
            note.tags = tags_text(draft.tags)
            note.search_terms = search_terms(note.title, note.body, note.solution, note.tags)
            await session.flush()
            return view(note, await helpful_count(session, note.id))

    async def deletable_note(self, guild_id: int, member_id: int, note_id: int, *, is_staff: bool) -> NoteView:
        """The note if `member_id` may delete it (its author, or staff for a public note)."""
        async with self._sessions() as session:
            note = await load_visible(session, guild_id, member_id, note_id)
            _check_delete(note, member_id, is_staff)
            return view(note, await helpful_count(session, note.id))

    async def delete_note(self, guild_id: int, member_id: int, note_id: int, *, is_staff: bool) -> NoteDeleted:
        """Delete a note (author or staff) with its votes; its title, and the weekly digests that
        listed it to show again without it."""
        async with transaction(self._sessions) as session:
            note = await load_visible(session, guild_id, member_id, note_id)
            _check_delete(note, member_id, is_staff)
            events = await reshow_digests_listing(session, guild_id, note.id)
            await session.execute(delete(NoteVote).where(NoteVote.note_id == note.id))
            await session.delete(note)
            return NoteDeleted(note.title, tuple(events))

    async def get_note(self, guild_id: int, viewer_id: int, note_id: int) -> NoteView:
        """A note the viewer may see (public, or their own private note)."""
        async with self._sessions() as session:
            note = await load_visible(session, guild_id, viewer_id, note_id)
            return view(note, await helpful_count(session, note.id))

    async def get_note_ref(self, guild_id: int, viewer_id: int, reference: str) -> NoteView:
        """Like get_note, from what the member typed or picked (`12`, `#12`)."""
        note_id = parse_note_ref(reference)
        if note_id is None:
            raise not_found(reference)
        return await self.get_note(guild_id, viewer_id, note_id)

    async def mine(self, guild_id: int, author_id: int) -> tuple[NoteSummary, ...]:
        """The member's own notes, newest first."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    summary_columns()
                    .where(Note.guild_id == guild_id, Note.author_id == author_id)
                    .order_by(Note.created_at.desc(), Note.id.desc())
                    .limit(MINE_LIMIT)
                )
            ).all()
            counts = await helpful_counts(session, [r.id for r in rows])
        return tuple(summary(r, counts.get(r.id, 0)) for r in rows)

    async def random_tip(self, guild_id: int, topic: str | None = None) -> NoteView | None:
        """A random public tip (in `topic` if given), or None when there is none."""
        topic_id = await self._topic_id(guild_id, topic)
        async with await self._reading(guild_id) as session:
            query = select(Note.id).where(
                Note.guild_id == guild_id, Note.kind == NoteKind.TIP.value, Note.is_private == false()
            )
            if topic_id is not None:
                query = query.where(Note.topic_id == topic_id)
            note_id = await session.scalar(query.order_by(func.random()).limit(1))
            if note_id is None:
                return None
            note = await load_visible(session, guild_id, 0, note_id)
            return view(note, await helpful_count(session, note.id))

    async def top_tips(
        self, guild_id: int, topic: str | None = None, days: int | None = None
    ) -> tuple[NoteSummary, ...]:
        """Public tips ranked by helpful votes (then newest); with `days`, only tips shared since then."""
        votes = func.count(NoteVote.member_id)
        topic_id = await self._topic_id(guild_id, topic)
        async with await self._reading(guild_id) as session:
            query = (
                summary_columns()
                .add_columns(votes.label("votes"))
                .outerjoin(NoteVote, NoteVote.note_id == Note.id)
                .where(Note.guild_id == guild_id, Note.kind == NoteKind.TIP.value, Note.is_private == false())
                .group_by(Note.id, NoteTopic.name)
                .order_by(votes.desc(), Note.created_at.desc(), Note.id.desc())
                .limit(TOP_TIPS_LIMIT)
            )
            if topic_id is not None:
                query = query.where(Note.topic_id == topic_id)
            if days is not None:
                days = max(1, min(days, TOP_TIPS_MAX_DAYS))
                query = query.where(Note.created_at >= self._clock.now() - timedelta(days=days))
            rows = (await session.execute(query)).all()
        return tuple(summary(r, r.votes) for r in rows)


def _check_delete(note: Note, member_id: int, is_staff: bool) -> None:
    if note.author_id != member_id and not is_staff:
        raise PermissionDeniedError("Only the note's author or staff can delete it; nothing was changed.")
