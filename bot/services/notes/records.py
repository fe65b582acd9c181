"""What note use cases hand back (plain dataclasses), and the queries they share to build them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.domain.errors import NotFoundError
from bot.domain.notes import NoteKind
from bot.domain.text import quoted
from models import Note, NoteTopic, NoteVote


@dataclass(frozen=True)
class NoteView:
    """A whole note, as its reader may see it."""

    id: int
    guild_id: int
    author_id: int
    kind: NoteKind
    topic: str
    title: str
    body: str
    solution: str | None
    tags: tuple[str, ...]
    is_private: bool
    created_at: datetime
    updated_at: datetime
    helpful_count: int = 0


@dataclass(frozen=True)
class NoteSummary:
    """One line about a note: for lists, autocomplete and top tips."""

    id: int
    title: str
    kind: NoteKind
    topic: str
    author_id: int
    is_private: bool
    created_at: datetime
    helpful_count: int = 0


def tags_text(tags: Sequence[str]) -> str:
    """Tags as the notes table stores them."""
    return ", ".join(tags)


def tags_of(text: str) -> tuple[str, ...]:
    """The tags in a stored tags column."""
    return tuple(tag for tag in text.split(", ") if tag)


@dataclass(frozen=True, slots=True)
class NoteFilter:
    """Which notes a search may return: the guild's notes the viewer may see, narrowed by the
    optional filters. Engines build one statement per `shape` (bound parameters for the values),
    so a search reuses a compiled statement instead of building a new one."""

    guild_id: int
    viewer_id: int
    topic_id: int | None = None
    kind: NoteKind | None = None
    author_id: int | None = None

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        """Which optional filters are set: one statement per shape."""
        return (self.topic_id is not None, self.kind is not None, self.author_id is not None)

    def params(self) -> dict[str, Any]:
        """The bound parameters of `clauses`."""
        return {
            "guild_id": self.guild_id,
            "viewer_id": self.viewer_id,
            "topic_id": self.topic_id,
            "kind": self.kind.value if self.kind is not None else None,
            "author_id": self.author_id,
        }


def filter_clauses(shape: tuple[bool, bool, bool]) -> list[ColumnElement[bool]]:
    """The conditions of a NoteFilter of this `shape`, with its values as bound parameters."""
    has_topic, has_kind, has_author = shape
    clauses = [
        Note.guild_id == bindparam("guild_id"),
        or_(Note.is_private == false(), Note.author_id == bindparam("viewer_id")),
    ]
    if has_topic:
        clauses.append(Note.topic_id == bindparam("topic_id"))
    if has_kind:
        clauses.append(Note.kind == bindparam("kind"))
    if has_author:
        clauses.append(Note.author_id == bindparam("author_id"))
    return clauses


def visible_to(guild_id: int, viewer_id: int) -> ColumnElement[bool]:
    """Notes of this guild that are public or the viewer's own."""
    return (Note.guild_id == guild_id) & or_(Note.is_private == false(), Note.author_id == viewer_id)


def summary_columns() -> Select[*tuple[Any, ...]]:
    """The columns a NoteSummary is made from (see `summary`), topic name included."""
    return select(
        Note.id,
        Note.title,
        Note.kind,
        NoteTopic.name.label("topic"),
        Note.author_id,
        Note.is_private,
        Note.created_at,
    ).join(NoteTopic, NoteTopic.id == Note.topic_id)


KINDS = {kind.value: kind for kind in NoteKind}
"""NoteKind by stored value: a dict lookup costs a fraction of calling the enum, once per row."""


def summary(row: Any, helpful: int = 0) -> NoteSummary:
    """The summary of a row selected with `summary_columns`."""
    return NoteSummary(
        id=row.id,
        title=row.title,
        kind=KINDS[row.kind],
        topic=row.topic,
        author_id=row.author_id,
        is_private=row.is_private,
        created_at=row.created_at,
        helpful_count=helpful,
    )


def summary_at(row: Sequence[Any], helpful: int) -> NoteSummary:
    """The summary of a row that starts with `summary_columns`, by position: for the rows of a
    search, where looking columns up by name is a measurable share of the time."""
    note_id, title, kind, topic, author_id, is_private, created_at = row[:7]
    return NoteSummary(note_id, title, KINDS[kind], topic, author_id, is_private, created_at, helpful)


def view(note: Note, helpful: int) -> NoteView:
    """The whole note, its topic loaded."""
    return NoteView(
        id=note.id,
        guild_id=note.guild_id,
        author_id=note.author_id,
        kind=NoteKind(note.kind),
        topic=note.topic.name,
        title=note.title,
        body=note.body,
        solution=note.solution,
        tags=tags_of(note.tags),
        is_private=note.is_private,
        created_at=note.created_at,
        updated_at=note.updated_at,
        helpful_count=helpful,
    )


def not_found(reference: str | int) -> NotFoundError:
    """The error for a note the member cannot see, whether or not it exists."""
    shown = str(reference)[:40]
    return NotFoundError(f"There is no note {quoted(shown)} in this server that you can see. Pick one from the list.")


async def load_visible(session: AsyncSession, guild_id: int, viewer_id: int, note_id: int) -> Note:
    """The note if the viewer may see it in this guild; otherwise NotFoundError (no hint it exists)."""
    note = await session.scalar(
        select(Note).options(joinedload(Note.topic)).where(Note.id == note_id, visible_to(guild_id, viewer_id))
    )
    if note is None:
        raise not_found(f"#{note_id}")
    return note


async def helpful_count(session: AsyncSession, note_id: int) -> int:
    """How many members marked the note helpful."""
    return int(await session.scalar(select(func.count()).where(NoteVote.note_id == note_id)) or 0)


async def helpful_counts(session: AsyncSession, ids: list[int]) -> dict[int, int]:
    """Helpful marks per note id, for the notes that have any."""
    if not ids:
        return {}
    rows = await session.execute(
        select(NoteVote.note_id, func.count()).where(NoteVote.note_id.in_(ids)).group_by(NoteVote.note_id)
    )
    return {note_id: int(count) for note_id, count in rows}
