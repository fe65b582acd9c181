"""Learner profiles: track, time zone, GitHub handle and skills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.db import insert_new, transaction
from bot.domain.cohort import (
    Track,
    clean_display_name,
    clean_github,
    kept_or_cleaned,
    parse_skills,
    parse_track,
)
from bot.domain.timezones import clean_timezone
from bot.services.checkins.prompts import retime_prompts
from models import Learner

SKILL_SEPARATOR = ", "


def _skills_text(text: str) -> str:
    """Skills as stored: `parse_skills`' list, joined."""
    return SKILL_SEPARATOR.join(parse_skills(text))


@dataclass(frozen=True)
class Profile:
    """What a learner told Nexus about themselves."""

    guild_id: int
    user_id: int
    display_name: str
    track: Track | None
    timezone: str | None
    github: str | None
    skills: tuple[str, ...]
    profile_set_at: datetime | None

    @property
    def is_set(self) -> bool:
        return self.profile_set_at is not None


def profile_of(row: Learner) -> Profile:
    return Profile(
        guild_id=row.guild_id,
        user_id=row.user_id,
        display_name=row.display_name,
        track=Track(row.track) if row.track else None,
        timezone=row.timezone,
        github=row.github,
        skills=tuple(s for s in row.skills.split(SKILL_SEPARATOR) if s) if row.skills else (),
        profile_set_at=row.profile_set_at,
    )


async def touch_learner(session: AsyncSession, guild_id: int, user_id: int, display_name: str) -> Learner:
    """The learner row for this member, created on first sight; the name is kept current."""
    row = await session.get(Learner, (guild_id, user_id))
    name = clean_display_name(display_name)
    if row is None:
        # two commands of a new member at once (on PostgreSQL) may both create the row
        new = {"guild_id": guild_id, "user_id": user_id, "display_name": name, "skills": ""}
        await session.execute(insert_new(session, Learner, "guild_id", "user_id").values(new))
        row = await session.get_one(Learner, (guild_id, user_id))
    if row.display_name != name:
        row.display_name = name
    return row


class ProfileService:
    """Reads and writes learner profiles."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    async def set(
        self,
        guild_id: int,
        user_id: int,
        display_name: str,
        *,
        track: str,
        timezone: str,
        github: str | None,
        skills: str | None,
    ) -> Profile:
        """Validate and store the profile; returns what was stored."""
        parsed_track = parse_track(track)
        zone = clean_timezone(timezone)
        # checked before the transaction opens; left out, each keeps what is stored
        kept_or_cleaned(github, None, clean_github, None)
        kept_or_cleaned(skills, "", _skills_text, "")
        async with transaction(self._sessions) as session:
            row = await touch_learner(session, guild_id, user_id, display_name)
            row.track = parsed_track.value
            moved = row.timezone != zone
            row.timezone = zone
            row.github = kept_or_cleaned(github, row.github, clean_github, None)
            row.skills = kept_or_cleaned(skills, row.skills, _skills_text, "")
            row.profile_set_at = self._clock.now()
            await session.flush()
            if moved:  # her check-in prompts follow her clock
                await retime_prompts(session, guild_id, self._clock.now(), user_id)
            return profile_of(row)

    async def get(self, guild_id: int, user_id: int) -> Profile | None:
        """The learner's profile, or None if Nexus has never seen them."""
        async with self._sessions() as session:
            row = await session.get(Learner, (guild_id, user_id))
            return profile_of(row) if row else None
