"""Notes, challenges and tips: writing, ranked search, helpful votes, topics and the README export.

One module per concern: `topics`, `notes` (writing and reading notes and tips), `votes`, `export`
and `search`, whose engine-specific queries live behind `backend.SearchBackend` in `fts5`
(SQLite) and `tsvector` (PostgreSQL). `records` holds the dataclasses they return and the queries
they share. NoteService puts the use cases together for the cogs.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.services.notes.export import NoteExport
from bot.services.notes.notes import Notebook
from bot.services.notes.search import NoteSearch, search_backend
from bot.services.notes.votes import NoteVotes


class NoteService(Notebook, NoteSearch, NoteVotes, NoteExport):
    """Every note use case, one transaction per call."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        super().__init__(sessions, clock)
        self._backend = search_backend(sessions)
