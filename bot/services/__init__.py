"""Use cases: each public coroutine is one database transaction, plain values in and out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.announcements import AnnouncementService
from bot.services.api import ApiService
from bot.services.catalog import CatalogService
from bot.services.cohort import CohortService
from bot.services.matching import MatchingService
from bot.services.notes import NoteService
from bot.services.notices import NoticeService
from bot.services.outbox import OutboxService
from bot.services.privacy import PrivacyService
from bot.services.profiles import ProfileService
from bot.services.settings import SettingsService


@dataclass(frozen=True)
class Services:
    """Every service the cogs call, built once from the session factory."""

    settings: SettingsService
    catalog: CatalogService
    profiles: ProfileService
    announcements: AnnouncementService
    cohort: CohortService
    matching: MatchingService
    api: ApiService
    outbox: OutboxService
    notes: NoteService
    notices: NoticeService
    privacy: PrivacyService

    @classmethod
    def create(cls, sessions: async_sessionmaker[AsyncSession], *, proposal_hours: float = 48.0) -> Services:
        notes = NoteService(sessions)
        return cls(
            settings=SettingsService(sessions),
            catalog=CatalogService(sessions),
            profiles=ProfileService(sessions),
            announcements=AnnouncementService(sessions),
            cohort=CohortService(sessions, note_authors=notes.authors_among),
            matching=MatchingService(sessions, proposal_hours),
            api=ApiService(sessions),
            outbox=OutboxService(sessions),
            notes=notes,
            notices=NoticeService(sessions),
            privacy=PrivacyService(sessions),
        )
