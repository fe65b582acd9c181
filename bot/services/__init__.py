"""Use cases: each public coroutine is one database transaction, plain values in and out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.domain.team_follow_ups import DEFAULT_FOLLOW_UP_HOURS
from bot.services.announcements import AnnouncementService
from bot.services.api import ApiService
from bot.services.catalog import CatalogService
from bot.services.checkins import CheckinService
from bot.services.cohort import CohortService
from bot.services.digest import DigestService
from bot.services.follow_ups import FollowUpService
from bot.services.matching import MatchingService
from bot.services.notes import NoteService
from bot.services.notices import NoticeService
from bot.services.nudges import NudgeService
from bot.services.outbox import OutboxService
from bot.services.privacy import PrivacyService
from bot.services.profiles import ProfileService
from bot.services.schedules import ScheduleService
from bot.services.settings import SettingsService
from bot.services.team_threads import TeamThreadService


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
    schedules: ScheduleService
    team_threads: TeamThreadService
    nudges: NudgeService
    digest: DigestService
    follow_ups: FollowUpService
    checkins: CheckinService

    @classmethod
    def create(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        *,
        proposal_hours: float = 48.0,
        clock: Clock | None = None,
        follow_up_hours: float = DEFAULT_FOLLOW_UP_HOURS,
    ) -> Services:
        """The services on `sessions`, reading the time from `clock` (the system's by default)."""
        clock = clock or SystemClock()
        notes = NoteService(sessions, clock)
        cohort = CohortService(sessions, note_authors=notes.authors_among)
        nudges = NudgeService(sessions, clock, cohort)
        return cls(
            settings=SettingsService(sessions, clock),
            catalog=CatalogService(sessions),
            profiles=ProfileService(sessions, clock),
            announcements=AnnouncementService(sessions),
            cohort=cohort,
            matching=MatchingService(sessions, proposal_hours, clock),
            api=ApiService(sessions),
            outbox=OutboxService(sessions, clock),
            notes=notes,
            notices=NoticeService(sessions),
            privacy=PrivacyService(sessions),
            schedules=ScheduleService(sessions, clock, nudges.plan),
            team_threads=TeamThreadService(sessions),
            nudges=nudges,
            digest=DigestService(sessions, cohort),
            follow_ups=FollowUpService(sessions, clock, follow_up_hours),
            checkins=CheckinService(sessions, clock),
        )
