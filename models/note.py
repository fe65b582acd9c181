"""Learning notes, challenges, practices and tips; their topics and helpful votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamped, UTCDateTime, clock_now

NOTES_FTS_TABLE = "notes_fts"
"""SQLite FTS5 index over notes (created in the migration, kept in sync by triggers)."""
NOTES_SEARCH_COLUMN = "search_vector"
"""PostgreSQL generated tsvector column over notes (created in the migration)."""
NOTES_SEARCH_INDEX = "ix_notes_search_vector"

AUTOGENERATE_IGNORED_TABLE_PREFIXES: tuple[str, ...] = (NOTES_FTS_TABLE,)
AUTOGENERATE_IGNORED_COLUMNS: frozenset[tuple[str, str]] = frozenset({("notes", NOTES_SEARCH_COLUMN)})
AUTOGENERATE_IGNORED_INDEXES: frozenset[str] = frozenset({NOTES_SEARCH_INDEX})
"""Search structures the models do not describe; Alembic's autogenerate must leave them alone."""


class NoteTopic(Base, Timestamped):
    """A topic notes are filed under; names are unique per guild, ignoring case."""

    __tablename__ = "note_topics"
    __table_args__ = (UniqueConstraint("guild_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    name: Mapped[str] = mapped_column(String(40), nullable=False)
    name_key: Mapped[str] = mapped_column(String(40), nullable=False)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Note(Base, Timestamped):
    """One learning, challenge, practice or tip written by a member."""

    __tablename__ = "notes"
    __table_args__ = (
        CheckConstraint("kind IN ('learning', 'challenge', 'practice', 'tip')", name="kind"),
        Index("ix_notes_guild_id_author_id", "guild_id", "author_id"),
        Index("ix_notes_guild_id_topic_id", "guild_id", "topic_id"),
        Index("ix_notes_guild_id_kind_created_at", "guild_id", "kind", "created_at"),
        # covers the filters applied to every full-text match, so ranking never reads note bodies
        Index("ix_notes_search_filter", "id", "guild_id", "is_private", "author_id", "kind", "topic_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    author_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    topic_id: Mapped[int] = mapped_column(ForeignKey("note_topics.id", ondelete="RESTRICT"), nullable=False)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    solution: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[str] = mapped_column(String(400), nullable=False, default="")
    is_private: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    search_terms: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    """Extra words the full-text index holds: CJK runs as bigrams (bot.domain.search.search_terms)."""

    topic: Mapped[NoteTopic] = relationship(lazy="raise")


class NoteVote(Base):
    """One member found one note helpful."""

    __tablename__ = "note_votes"
    __table_args__ = (Index("ix_note_votes_guild_id_created_at", "guild_id", "created_at"),)

    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now, nullable=False)
