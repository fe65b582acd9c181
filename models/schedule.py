"""Scheduled posts staff set with /schedule, and each occurrence that came due."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, ChannelPosted, UTCDateTime, clock_now


class Schedule(Base):
    """A post (staff's text, or Nexus's kickoff, nudge or digest) to make at a local date and time, once or weekly on chosen days.

    `next_run_at` is the next occurrence in UTC (None once nothing is left to run); claiming an
    occurrence moves it on with a conditional UPDATE, so only one process ever claims each one.
    """

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_guild_due", "guild_id", "next_run_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(String(2000))
    post: Mapped[str] = mapped_column(String(12), default="text", server_default="text")
    """A `bot.domain.schedules.ScheduledPost` value: staff's text or one of Nexus's own posts."""
    delivery: Mapped[str] = mapped_column(String(8), default="channel", server_default="channel")
    """A `bot.domain.schedules.NudgeDelivery` value (nudges only)."""
    repeat: Mapped[str] = mapped_column(String(8))
    """A `bot.domain.schedules.Repeat` value."""
    days: Mapped[str] = mapped_column(String(32), default="")
    """Weekdays as `mon,wed` (weekly schedules)."""
    start_date: Mapped[date] = mapped_column(Date)
    local_time: Mapped[str] = mapped_column(String(5))
    """HH:MM on the wall clock of `zone`."""
    zone: Mapped[str] = mapped_column(String(64))
    """The server's zone when the schedule was made or the zone last changed."""
    state: Mapped[str] = mapped_column(String(12), default="active")
    """A `bot.domain.schedules.ScheduleState` value."""
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)


class ScheduleRun(Base, ChannelPosted):
    """One occurrence of a schedule, claimed once: posted through the outbox, or skipped.

    The unique (schedule_id, due_at) pair is the last line of defence against a second claim.
    """

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(12))
    """A `bot.domain.schedules.RunOutcome` value."""
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
