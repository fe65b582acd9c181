"""The Week-1 aggregates: the project catalog, learners and their announcements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, ChannelPosted, Timestamped, UTCDateTime, clock_now


class Project(Base, Timestamped):
    """A capstone project in a guild's catalog; names are unique per guild, ignoring case."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("guild_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(80))
    name_key: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(250), default="")
    """The backend brief."""
    frontend_brief: Mapped[str | None] = mapped_column(String(250), nullable=True)


class Learner(Base, Timestamped):
    """A member Nexus has seen in a guild, with the profile they set."""

    __tablename__ = "learners"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    display_name: Mapped[str] = mapped_column(String(100))
    track: Mapped[str | None] = mapped_column(String(16), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    github: Mapped[str | None] = mapped_column(String(40), nullable=True)
    skills: Mapped[str] = mapped_column(String(400), default="")
    profile_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Announcement(Base, ChannelPosted, Timestamped):
    """A learner's current Week-1 announcement (one per learner per guild), and its channel post."""

    __tablename__ = "announcements"
    __table_args__ = (UniqueConstraint("guild_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    track: Mapped[str] = mapped_column(String(16))
    pitch: Mapped[str] = mapped_column(Text)
    repo_url: Mapped[str | None] = mapped_column(String(250), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AnnouncementRevision(Base):
    """An earlier version of an announcement, kept when it is edited or withdrawn."""

    __tablename__ = "announcement_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    project_name: Mapped[str] = mapped_column(String(80))
    track: Mapped[str] = mapped_column(String(16))
    pitch: Mapped[str] = mapped_column(Text)
    repo_url: Mapped[str | None] = mapped_column(String(250), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
