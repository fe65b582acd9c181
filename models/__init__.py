"""Typed SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from models.base import Base, Timestamped, utcnow
from models.guild import GuildSettings

__all__ = ["Base", "GuildSettings", "Timestamped", "utcnow"]
