"""Team check-ins: each team's plan, each member's next prompt, prompts claimed, reports, answers
(blockers among them) and the staff flag for a silent team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, ChannelPosted, UTCDateTime, clock_now


class CheckinSchedule(Base):
    """A team's check-in plan: the days and the time of day, read in each member's own zone."""

    __tablename__ = "checkin_schedules"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    days: Mapped[str] = mapped_column(String(32))
    """`mon,wed,fri`."""
    at: Mapped[str] = mapped_column(String(5))
    """`09:30`, on each member's wall clock."""
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    set_by: Mapped[int] = mapped_column(BigInteger)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)


class CheckinMember(Base):
    """When a member of a team with check-ins is prompted next. Claiming that prompt moves
    `next_prompt_at` on with a conditional UPDATE, so only one process ever claims it."""

    __tablename__ = "checkin_members"
    __table_args__ = (Index("ix_checkin_members_guild_due", "guild_id", "next_prompt_at"),)

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    next_prompt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CheckinReport(Base, ChannelPosted):
    """One check-in of a team: the prompts of one round and their answers, posted in the team's
    thread once ready (all answered, or 12 hours after `opened_at`); `revision` stays 0 until then."""

    __tablename__ = "checkin_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """The earliest prompt's time."""
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CheckinPrompt(Base):
    """A member's prompt, claimed once (unique per team, member and due time) and leased to the
    claiming process until it is delivered; a pass delivers it after the lease if that process died."""

    __tablename__ = "checkin_prompts"
    __table_args__ = (UniqueConstraint("team_id", "user_id", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    report_id: Mapped[int] = mapped_column(ForeignKey("checkin_reports.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    via: Mapped[str | None] = mapped_column(String(8), nullable=True)
    """`dm`; when the member's DMs were closed, `thread` (the team's) or `channel` (the project
    channel, for a team without a thread); `none` when neither took it."""
    channel_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The post in a thread or the project channel (not a DM), which forget-me deletes."""


class CheckinAnswer(Base):
    """A member's answers to one check-in; a non-empty `blocked` is a blocker until closed."""

    __tablename__ = "checkin_answers"
    __table_args__ = (UniqueConstraint("report_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("checkin_reports.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    done: Mapped[str] = mapped_column(Text)
    next: Mapped[str] = mapped_column(Text)
    blocked: Mapped[str] = mapped_column(Text)
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("api_endpoints.id", ondelete="SET NULL"), nullable=True)
    """The contract endpoint the blocker names by path."""
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    blocker_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    blocker_closed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CheckinFlag(Base, ChannelPosted):
    """A team whose member missed two check-ins in a row, flagged to staff once (the staff channel)."""

    __tablename__ = "checkin_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), unique=True)
    silent: Mapped[str] = mapped_column(String(200))
    """The silent members' ids, comma-separated."""
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
