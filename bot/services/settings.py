"""Per-guild settings: the project channel, the staff role and channel, the server's time zone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.db import transaction
from bot.domain.schedules import DEFAULT_ZONE, zone_of
from bot.domain.team_follow_ups import clean_follow_up_hours
from bot.domain.timezones import clean_timezone
from bot.services.cache import GuildCache
from bot.services.checkins.prompts import retime_prompts
from bot.services.schedules import retime
from models import GuildSettings


@dataclass(frozen=True)
class GuildConfig:
    """What staff configured for one guild; ids are None until set."""

    guild_id: int
    project_channel_id: int | None = None
    staff_role_id: int | None = None
    timezone: str | None = None
    staff_channel_id: int | None = None
    follow_up_hours: int | None = None
    """The server's follow-up interval in hours (None: the FOLLOW_UP_HOURS setting)."""

    @property
    def zone(self) -> str:
        """The zone schedules use: the one staff set, else UTC."""
        return self.timezone or DEFAULT_ZONE


def _config(row: GuildSettings | None, guild_id: int) -> GuildConfig:
    if row is None:
        return GuildConfig(guild_id)
    return GuildConfig(
        row.guild_id, row.project_channel_id, row.staff_role_id, row.timezone, row.staff_channel_id, row.follow_up_hours
    )


class SettingsService:
    """Reads and writes `GuildSettings`, one transaction per call.

    Every staff check and every post reads the settings, so reads come from a per-guild cache that
    `_update` invalidates once its transaction ends.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()
        self.cache = GuildCache(self._read)

    async def get(self, guild_id: int) -> GuildConfig:
        """The guild's settings (defaults when staff have set nothing)."""
        return await self.cache.get(guild_id)

    async def _read(self, guild_id: int) -> GuildConfig:
        async with self._sessions() as session:
            return _config(await session.get(GuildSettings, guild_id), guild_id)

    async def set_project_channel(self, guild_id: int, channel_id: int) -> GuildConfig:
        """Make `channel_id` the channel Nexus posts announcements and proposals in."""
        return await self._update(guild_id, project_channel_id=channel_id)

    async def set_staff_role(self, guild_id: int, role_id: int | None) -> GuildConfig:
        """Members with `role_id` may run staff commands; None leaves it to Manage Server."""
        return await self._update(guild_id, staff_role_id=role_id)

    async def set_staff_channel(self, guild_id: int, channel_id: int | None) -> GuildConfig:
        """Make `channel_id` the channel where Nexus flags things to staff (None: nowhere)."""
        return await self._update(guild_id, staff_channel_id=channel_id)

    async def set_follow_up_hours(self, guild_id: int, hours: int | None) -> GuildConfig:
        """Ask teams `hours` after they form (and after a "not yet"); None: the FOLLOW_UP_HOURS setting."""
        return await self._update(guild_id, follow_up_hours=None if hours is None else clean_follow_up_hours(hours))

    async def set_timezone(self, guild_id: int, typed: str) -> tuple[GuildConfig, int]:
        """Make the zone staff typed the server's (a ValidationError for an unknown zone, nothing
        changed); active schedules keep their wall-clock times in the new zone, and so do the next
        check-in prompts of members without a zone of their own. Returns the settings
        and how many schedules moved."""
        zone = clean_timezone(typed)
        zone_of(zone)
        moved: list[int] = []

        async def also(session: AsyncSession) -> None:
            moved.append(await retime(session, guild_id, zone, self._clock.now()))
            await retime_prompts(session, guild_id, self._clock.now())  # members without a zone of their own

        config = await self._update(guild_id, also=also, timezone=zone)
        return config, sum(moved)

    async def _update(
        self,
        guild_id: int,
        *,
        also: Callable[[AsyncSession], Awaitable[None]] | None = None,
        **values: int | str | None,
    ) -> GuildConfig:
        for attempt in range(2):
            try:
                async with self.cache.changing(guild_id), transaction(self._sessions) as session:
                    row = await session.get(GuildSettings, guild_id, with_for_update=True)
                    if row is None:
                        row = GuildSettings(guild_id=guild_id)
                        session.add(row)
                    for key, value in values.items():
                        setattr(row, key, value)
                    await session.flush()
                    if also is not None:
                        await also(session)
                    return _config(row, guild_id)
            except IntegrityError:
                # another process created the row between our read and insert; update it instead
                if attempt:
                    raise
        raise AssertionError("unreachable")
