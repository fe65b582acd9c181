"""Follow-ups on teams: where each team's stands, each round asked, members' answers, staff flags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, ChannelPosted, UTCDateTime, clock_now


class TeamFollowUp(Base):
    """A team's follow-up, made when its first round is claimed (the primary key makes that once).

    `next_ask_at` is when the team is asked again after a "not yet" (None otherwise); claiming that
    round moves it on with a conditional UPDATE, so only one process ever asks each round.
    """

    __tablename__ = "team_follow_ups"
    __table_args__ = (Index("ix_team_follow_ups_guild_due", "guild_id", "next_ask_at"),)

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    guild_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(12))
    """A `bot.domain.team_follow_ups.FollowUpState` value."""
    round: Mapped[int] = mapped_column(Integer, default=1)
    """How many rounds were asked."""
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_ask_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the current round's first "not yet" came (the next round is one interval after it)."""


class FollowUpAsk(Base):
    """One round of a team's follow-up, claimed once: unique per team and round. Leased to the
    claiming process like an outbox post: if it dies before asking, a later pass asks."""

    __tablename__ = "follow_up_asks"
    __table_args__ = (UniqueConstraint("team_id", "round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Until when the claiming process owns asking the members; after it, any pass asks them."""
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the members were asked (by DM or a stored channel notice); None until then."""


class FollowUpReply(Base):
    """A member's latest answer to their team's follow-up, and the round it answered."""

    __tablename__ = "follow_up_replies"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    round: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str] = mapped_column(String(12))
    """A `bot.domain.team_follow_ups.FollowUpAnswer` value."""
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)


class FollowUpFlag(Base, ChannelPosted):
    """A team flagged to staff for saying "not yet" twice: once per team, posted in the staff channel
    (or, with none set, shown in /cohort roster and /setup show only: stored as already posted)."""

    __tablename__ = "follow_up_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), unique=True)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
