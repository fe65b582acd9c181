"""Roster nudges: members who turned reminders off, the channel posts a nudge made, and its DMs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, ChannelPosted, UTCDateTime, clock_now


class ReminderOptOut(Base):
    """A member who turned reminders off (`/nexus reminders off`): never named nor DMed by a nudge."""

    __tablename__ = "reminder_optouts"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)


class NudgePost(Base, ChannelPosted):
    """One channel message of a nudge run: the learners it names per step, stored as step codes and
    user ids (`bot.domain.nudges.encode_sections`), posted through the outbox.

    Stored in the transaction that claims the run (or, for the learners whose DMs were refused, once
    per run after the DMs), so each message is made exactly once."""

    __tablename__ = "nudge_posts"
    __table_args__ = (UniqueConstraint("run_id", "dm_fallback", "part"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("schedule_runs.id", ondelete="CASCADE"))
    part: Mapped[int] = mapped_column(Integer)
    dm_fallback: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """For learners whose DMs are closed (a DM nudge's one channel post)."""
    sections: Mapped[str] = mapped_column(Text)


class NudgeDm(Base):
    """One learner's DM of a DM nudge run: pending until sent, or refused (DMs closed: 50007)."""

    __tablename__ = "nudge_dms"
    __table_args__ = (UniqueConstraint("run_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("schedule_runs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    steps: Mapped[str] = mapped_column(String(100))
    """The roster steps the learner misses, as codes (`bot.domain.nudges.encode_steps`)."""
    state: Mapped[str] = mapped_column(String(12), default="pending")
    """A `bot.domain.nudges.DmState` value."""
