"""Partner matching: proposals and teams, their members, pair history and the API contract."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, ChannelPosted, UTCDateTime, clock_now


class Team(Base, ChannelPosted):
    """A proposal that becomes a team when every member accepts."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    """A `bot.domain.teams.TeamStatus` value; changed only through its `transition` function."""
    score: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    formed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """A `bot.domain.teams.EndReason` code; the sentence is rendered when shown."""
    end_actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Who ended it (declined, left, withdrew), if anyone; cleared when that member is forgotten."""


class TeamThread(Base, ChannelPosted):
    """A formed team's private thread in the project channel, one per team (its id is the team's).

    Stored when the team forms, before anything is asked of Discord; the outbox makes the thread and
    keeps it in step. `channel_id` is the thread once made (the team's thread id), `message_id` its
    opening message, `parent_id` the channel it hangs from. `state` is a
    `bot.domain.threads.ThreadState` value.
    """

    __tablename__ = "team_threads"

    id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    parent_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now, onupdate=clock_now)

    @property
    def thread_id(self) -> int | None:
        return self.channel_id


class TeamMember(Base):
    """A learner in a proposal or team; `is_current` rows are unique per learner (database-enforced)."""

    __tablename__ = "team_members"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id"),
        Index(
            "uq_team_members_current_learner",
            "guild_id",
            "user_id",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    track: Mapped[str] = mapped_column(String(16))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)


class PairHistory(Base):
    """How an earlier pairing of two learners ended; declined and dissolved pairs never return."""

    __tablename__ = "pair_history"
    __table_args__ = (Index("ix_pair_history_pair", "guild_id", "user_low", "user_high"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    user_low: Mapped[int] = mapped_column(BigInteger)
    user_high: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)


class PoolEntry(Base):
    """A learner waiting for a partner (asked with /partner find and not yet placed)."""

    __tablename__ = "partner_pool"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """A `bot.domain.matching.UnplacedReason` code: why nobody was proposed yet."""


class ApiEndpoint(Base):
    """One endpoint of a team's API contract."""

    __tablename__ = "api_endpoints"
    __table_args__ = (UniqueConstraint("team_id", "method", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer, default=200, server_default="200")
    """The response's status code."""
    request_example: Mapped[str | None] = mapped_column(Text, nullable=True)
    """A JSON request body as typed (validated); None when the endpoint takes none."""
    response_example: Mapped[str | None] = mapped_column(Text, nullable=True)
    query_params: Mapped[str] = mapped_column(Text, default="", server_default="")
    """One `name: type` a line (`bot.domain.api_contract.parse_query_params` reads it)."""
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """Bumped by every change; an agreement counts only for the revision it was given to."""
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now, onupdate=clock_now)


class ApiAgreement(Base):
    """A team member's agreement to one endpoint as it stands."""

    __tablename__ = "api_agreements"

    guild_id: Mapped[int] = mapped_column(BigInteger)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("api_endpoints.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """The endpoint's revision agreed to: an older one means the endpoint changed since."""


class ApiChange(Base):
    """One change to a team's contract (an endpoint added, edited or removed): the contract's version
    after it, who made it, and the endpoint before and after as JSON (the diff is computed when shown)."""

    __tablename__ = "api_changes"
    __table_args__ = (UniqueConstraint("team_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The endpoint changed; no foreign key, so the history outlives a removed endpoint."""
    version: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Who made it; cleared when that member is forgotten."""
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    post_channel_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    post_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The message in the team's thread that told the team of it, if any: forget-me deletes it."""
