"""Note topics: the guild's list (seeded with defaults, cached), adding and removing them, and the
topic lookups every other note use case starts from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.db import insert_new, transaction
from bot.domain.errors import ConflictError, ValidationError
from bot.domain.names import match_name
from bot.domain.notes import DEFAULT_TOPICS, MAX_TOPICS_PER_GUILD, clean_topic_name, topic_key
from bot.domain.search import suggest
from bot.domain.text import quoted, safe_text
from bot.services.cache import GuildCache
from models import Note, NoteTopic, utcnow


@dataclass(frozen=True, slots=True)
class TopicRef:
    """A topic as the cache keeps it."""

    id: int
    name: str
    key: str


def unknown_topic(name: str, names: Sequence[str]) -> ValidationError:
    """The error for a topic the guild does not have, suggesting the names that look like it."""
    close = suggest(name, names)
    hint = f" Did you mean {' or '.join(safe_text(c) for c in close)}?" if close else " Pick one from the list."
    return ValidationError(f"There is no topic called {quoted(name, 40)} here.{hint}")


class NoteTopics:
    """Topic use cases, one transaction per call; the base of the other note use cases."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()
        self._seeded: set[int] = set()
        # topic autocomplete and every note command read the topics; add/remove invalidate
        self.topic_cache = GuildCache(self._read_topics)

    async def _reading(self, guild_id: int) -> AsyncSession:
        """A read-only session, after making sure the guild's default topics exist.

        Seeding is the only write a read path could need; it happens once per guild in its own
        write transaction, so searches and autocomplete never take SQLite's write lock. A guild
        never loses its last topic, so once seeded it stays seeded (the cache is safe).
        """
        await self._seed(guild_id)
        return self._sessions()

    async def _seed(self, guild_id: int) -> None:
        """Make sure the guild's default topics exist (once per guild and process)."""
        if guild_id not in self._seeded:
            async with transaction(self._sessions) as session:
                await topic_names(session, guild_id)
            self._seeded.add(guild_id)

    async def _read_topics(self, guild_id: int) -> tuple[TopicRef, ...]:
        async with await self._reading(guild_id) as session:
            rows = (
                await session.execute(
                    select(NoteTopic.id, NoteTopic.name, NoteTopic.name_key).where(NoteTopic.guild_id == guild_id)
                )
            ).all()
        return tuple(sorted((TopicRef(r.id, r.name, r.name_key) for r in rows), key=lambda t: t.name.casefold()))

    async def topics(self, guild_id: int) -> tuple[str, ...]:
        """The guild's topic names, alphabetically (seeding the defaults on first use)."""
        return tuple(t.name for t in await self.topic_cache.get(guild_id))

    async def _cached_topic(self, guild_id: int, name: str) -> TopicRef:
        refs = await self.topic_cache.get(guild_id)
        key = topic_key(name)
        found = next((ref for ref in refs if ref.key == key), None)
        if found is None:
            meant = match_name(name, [ref.name for ref in refs])  # an unambiguous near-match
            found = next((ref for ref in refs if ref.name == meant), None)
        if found is None:
            raise unknown_topic(name, [ref.name for ref in refs])
        return found

    async def _topic_id(self, guild_id: int, name: str | None) -> int | None:
        """The id of topic `name` (None for no topic), from the cache: read paths call this before
        opening their session, since a cache miss opens a session of its own."""
        return (await self._cached_topic(guild_id, name)).id if name else None

    async def topic_name(self, guild_id: int, name: str) -> str:
        """The stored spelling of topic `name`; ValidationError (with suggestions) when unknown."""
        return (await self._cached_topic(guild_id, name)).name

    async def add_topic(self, guild_id: int, name: str, staff_id: int) -> str:
        """Add a topic; names are unique per guild ignoring case. Returns the stored name."""
        cleaned = clean_topic_name(name)
        try:
            async with self.topic_cache.changing(guild_id), transaction(self._sessions) as session:
                names = await topic_names(session, guild_id)
                existing = next((n for n in names if topic_key(n) == topic_key(cleaned)), None)
                if existing is not None:
                    raise ConflictError(f"The topic {existing} already exists.")
                if len(names) >= MAX_TOPICS_PER_GUILD:
                    raise ConflictError(f"This server already has {MAX_TOPICS_PER_GUILD} topics; remove one first.")
                session.add(
                    NoteTopic(guild_id=guild_id, name=cleaned, name_key=topic_key(cleaned), created_by=staff_id)
                )
        except IntegrityError:
            raise ConflictError(f"The topic {cleaned} already exists.") from None
        return cleaned

    async def remove_topic(self, guild_id: int, name: str) -> str:
        """Remove an unused topic; refuse (changing nothing) while notes use it or it is the last one."""
        async with self.topic_cache.changing(guild_id), transaction(self._sessions) as session:
            topic = await topic_row(session, guild_id, name)
            used = await session.scalar(select(func.count()).where(Note.topic_id == topic.id))
            if used:
                raise ConflictError(
                    f"{safe_text(topic.name)} is used by {used} note{'' if used == 1 else 's'}, so it stays: "
                    "nothing was removed. Notes keep their topic."
                )
            remaining = await session.scalar(select(func.count()).where(NoteTopic.guild_id == guild_id))
            if (remaining or 0) <= 1:
                raise ConflictError("That is the server's last topic: add another before removing it.")
            await session.delete(topic)
            return topic.name


async def topic_names(session: AsyncSession, guild_id: int) -> tuple[str, ...]:
    """The guild's topic names, alphabetically, seeding the defaults inside the caller's (write)
    transaction when the guild has none."""
    names = (await session.scalars(select(NoteTopic.name).where(NoteTopic.guild_id == guild_id))).all()
    if not names:
        await _seed_topics(session, guild_id)
        names = (await session.scalars(select(NoteTopic.name).where(NoteTopic.guild_id == guild_id))).all()
    return tuple(sorted(names, key=str.casefold))


async def _seed_topics(session: AsyncSession, guild_id: int) -> None:
    now = utcnow()  # default topics: when they were made does not matter to anything
    rows = [
        {
            "guild_id": guild_id,
            "name": name,
            "name_key": topic_key(name),
            "created_at": now,
            "updated_at": now,
        }
        for name in DEFAULT_TOPICS
    ]
    # a concurrent first command in the same new guild may be seeding too: its rows are kept
    await session.execute(insert_new(session, NoteTopic, "guild_id", "name_key").values(rows))


async def topic_row(session: AsyncSession, guild_id: int, name: str) -> NoteTopic:
    """The topic row, read inside the caller's (write) transaction; ValidationError when unknown."""
    query = select(NoteTopic).where(NoteTopic.guild_id == guild_id, NoteTopic.name_key == topic_key(name))
    topic = await session.scalar(query)
    if topic is None:
        names = await topic_names(session, guild_id)  # seeds the defaults in a new guild
        topic = await session.scalar(query)
        meant = match_name(name, names) if topic is None else None  # an unambiguous near-match
        if meant is not None:
            topic = await session.scalar(
                select(NoteTopic).where(NoteTopic.guild_id == guild_id, NoteTopic.name_key == topic_key(meant))
            )
        if topic is None:
            raise unknown_topic(name, names)
    return topic
