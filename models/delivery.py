"""What Nexus must still do in Discord after a commit: channel notices and messages to delete.

Both are stored in the transaction that made them necessary and carried out by the delivery layer
(with the outbox's retries), so a crash between the commit and the request loses nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, ChannelPosted, UTCDateTime, clock_now


class ChannelNotice(Base, ChannelPosted):
    """A notice Nexus posts in the project channel (a matching run's summary, a team that ended for
    members whose DMs are closed). Stored as codes and ids; its text is rendered when posted."""

    __tablename__ = "channel_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    """A `bot.domain.notices.NoticeKind` value."""
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(24), nullable=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    api_change_id: Mapped[int | None] = mapped_column(ForeignKey("api_changes.id", ondelete="CASCADE"), nullable=True)
    """For an API-change notice: the change it tells about."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)


class NoticeMember(Base):
    """A member a notice addresses (mentioned in it), with their part in it."""

    __tablename__ = "notice_members"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("channel_notices.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(16), default="")
    """A `bot.domain.notices.NoticeRole` value."""
    track: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(24), nullable=True)


class StaffNotice(Base, ChannelPosted):
    """Something staff are told once per server (Discord's thread cap was hit, say): posted in the
    staff channel when one is set, and shown in /setup show."""

    __tablename__ = "staff_notices"
    __table_args__ = (UniqueConstraint("guild_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    """A `bot.domain.threads.StaffNoticeKind` value."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)


class PostDeletion(Base, ChannelPosted):
    """A channel message Nexus must delete (the post of a record that is gone); removed once done."""

    __tablename__ = "post_deletions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
