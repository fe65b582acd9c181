"""Use cases: each public coroutine is one database transaction, plain values in and out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.notes import NoteService
from bot.services.settings import SettingsService


@dataclass(frozen=True)
class Services:
    """Every service the cogs call, built once from the session factory."""

    settings: SettingsService
    notes: NoteService

    @classmethod
    def create(cls, sessions: async_sessionmaker[AsyncSession]) -> Services:
        return cls(settings=SettingsService(sessions), notes=NoteService(sessions))
