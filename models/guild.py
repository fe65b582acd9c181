"""Per-guild configuration set by staff with /setup."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class GuildSettings(Base, Timestamped):
    """One row per guild: where Nexus posts, who counts as staff, the server's zone."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    project_channel_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    staff_role_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The server's IANA zone for schedules (None: UTC)."""
    staff_channel_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """Where Nexus flags things to staff (None: /setup show and /cohort roster only)."""
    follow_up_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Hours after a team forms before its follow-up (None: the FOLLOW_UP_HOURS setting)."""
    catalog_seeded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
