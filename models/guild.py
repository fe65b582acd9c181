"""Per-guild configuration set by staff with /setup."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class GuildSettings(Base, Timestamped):
    """One row per guild: where Nexus posts and who counts as staff."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    project_channel_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    staff_role_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    catalog_seeded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
