"""Declarative base shared by every model, with constraint names Alembic can rely on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


CLOCK_OPTION = "nexus_clock"
"""The engine execution option that carries the bot's clock (see `bot.db.create_sessionmaker`)."""


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the real time; services read the bot's clock)."""
    return datetime.now(UTC)


def clock_now(context: Any) -> datetime:
    """A column default: the time on the clock the engine carries (CLOCK_OPTION, something with a
    `now()`, moved by tests), else the real time."""
    clock = context.execution_options.get(CLOCK_OPTION) if context is not None else None
    return clock.now() if clock is not None else utcnow()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_from_text(value: str) -> datetime:
    """A UTCDateTime as SQLite stores it (ISO 8601 text, no zone), read back as UTCDateTime reads it:
    for rows fetched with the plain driver (bot.sqlite_adapter.InlineReader)."""
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


Snowflake = BigInteger
"""Discord ids are 64-bit integers."""


class Base(DeclarativeBase):
    """Base of every Nexus table; every table carries a guild id."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ChannelPosted:
    """A record shown as one message in the project channel, kept in step by the outbox.

    `revision` grows with every change; the post is current when `posted_revision` equals it.
    Failed posts are retried with backoff (`post_attempts`, `next_post_at`).
    """

    channel_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    posted_revision: Mapped[int] = mapped_column(Integer, default=0)
    post_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    post_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Timestamped:
    """Created and updated times, set by the database layer."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now, onupdate=clock_now, nullable=False)
