"""Typed SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from models.base import Base, Timestamped, utcnow
from models.guild import GuildSettings
from models.note import Note, NoteTopic, NoteVote

__all__ = ["Base", "GuildSettings", "Note", "NoteTopic", "NoteVote", "Timestamped", "utcnow"]
