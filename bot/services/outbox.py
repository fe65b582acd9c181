"""The outbox: which channel posts are missing or stale, and retry bookkeeping with backoff."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.db import transaction
from models.base import Base, ChannelPosted

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 15 * 60.0
POST_ERROR_MAX = 300
CLAIM_LEASE = timedelta(minutes=2)
"""How long a retry pass owns a post it claimed; if the process dies, the post is free again after it."""
STAFF_WARNING_ATTEMPTS = 3
"""After this many failed attempts a post shows up as a problem in /setup show."""

PostedModel = type[Base]
"""A model that mixes in ChannelPosted and has `id` and `guild_id` columns (the delivery layer's
post-kind registry names them)."""


def backoff_delay(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … up to 15 minutes between attempts."""
    seconds = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class OutboxSummary:
    """What is still waiting to be posted in one guild, for staff."""

    waiting: int
    failing: int
    last_error: str | None


@dataclass(frozen=True)
class OutboxBacklog:
    """What waits to be posted across guilds, for the metrics endpoint."""

    waiting: int
    oldest: datetime | None
    """When the oldest waiting record last changed (or was made, for kinds without `updated_at`)."""


class OutboxService:
    """Bookkeeping shared by every record that is shown as a channel post; each call names the model."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self.clock = clock or SystemClock()

    async def due(self, posted: PostedModel, guild_id: int, *, now: datetime | None = None) -> list[int]:
        """Ids of records whose post is missing or stale (and due for a retry, if `now`)."""
        model = cast(Any, posted)
        query = select(model.id).where(model.guild_id == guild_id, model.posted_revision != model.revision)
        if now is not None:
            query = query.where(or_(model.next_post_at.is_(None), model.next_post_at <= now))
        async with self._sessions() as session:
            return list(await session.scalars(query.order_by(model.id)))

    async def claim(self, posted: PostedModel, record_id: int, now: datetime) -> bool:
        """Claim one post that is due for a retry, for CLAIM_LEASE; False when it is not due any more
        (posted meanwhile, or claimed by a retry pass in another process). Posting, or failing to,
        ends the claim.

        One conditional UPDATE: when two passes race, the second finds the row no longer due.
        """
        model = cast(Any, posted)
        table = model.__table__
        changes: dict[str, Any] = {"next_post_at": now + CLAIM_LEASE}
        if "updated_at" in table.c:
            changes["updated_at"] = table.c.updated_at  # bookkeeping: the post's "updated" time stays
        statement = (
            update(model)
            .where(
                model.id == record_id,
                model.posted_revision != model.revision,
                or_(model.next_post_at.is_(None), model.next_post_at <= now),
            )
            .values(changes)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
        async with transaction(self._sessions) as session:
            return await session.scalar(statement) is not None

    async def mark_posted(
        self, posted: PostedModel, record_id: int, revision: int, channel_id: int | None, message_id: int | None
    ) -> bool:
        """Record that `revision` is visible at channel/message; False when a newer revision exists.

        One UPDATE ... RETURNING: the row's own lock makes the check and the change atomic.
        """
        model = cast(Any, posted)
        statement = (
            update(model)
            .where(model.id == record_id)
            .values(
                channel_id=channel_id,
                message_id=message_id,
                post_error=None,
                post_attempts=0,
                next_post_at=None,
                posted_revision=case((model.revision <= revision, model.revision), else_=model.posted_revision),
            )
            .returning(model.posted_revision == model.revision)
            .execution_options(synchronize_session=False)
        )
        async with transaction(self._sessions) as session:
            current = await session.scalar(statement)
        return bool(current)

    async def mark_failed(self, posted: PostedModel, record_id: int, reason: str) -> None:
        """Count a failed attempt and schedule the next one with backoff."""
        async with transaction(self._sessions) as session:
            row = cast(ChannelPosted | None, await session.get(posted, record_id, with_for_update=True))
            if row is not None:
                _fail(row, reason, self.clock.now())

    async def remove(self, posted: PostedModel, record_id: int) -> None:
        """Drop a record whose only purpose was its post (a message deleted as asked)."""
        model = cast(Any, posted)
        async with transaction(self._sessions) as session:
            await session.execute(delete(model).where(model.id == record_id))

    async def summary(self, guild_id: int, kinds: Sequence[PostedModel]) -> OutboxSummary:
        """What is still waiting in one guild across the given kinds of post."""
        waiting = failing = 0
        last_error: str | None = None
        async with self._sessions() as session:
            for posted in kinds:
                model = cast(Any, posted)
                stale = (model.guild_id == guild_id) & (model.posted_revision != model.revision)
                waiting += int(await session.scalar(select(func.count()).where(stale)) or 0)
                failing += int(
                    await session.scalar(
                        select(func.count()).where(stale, model.post_attempts >= STAFF_WARNING_ATTEMPTS)
                    )
                    or 0
                )
                error = await session.scalar(
                    select(model.post_error)
                    .where(stale, model.post_error.is_not(None))
                    .order_by(model.updated_at.desc() if hasattr(model, "updated_at") else model.id.desc())
                    .limit(1)
                )
                last_error = last_error or error
        return OutboxSummary(waiting, failing, last_error)

    async def backlog(self, kinds: Sequence[PostedModel], guild_ids: Collection[int] | None = None) -> OutboxBacklog:
        """How many posts of `kinds` wait (in `guild_ids`, or in every guild), and the oldest's time:
        one aggregate query per kind."""
        waiting = 0
        oldest: datetime | None = None
        async with self._sessions() as session:
            for posted in kinds:
                model = cast(Any, posted)
                stale = model.posted_revision != model.revision
                if guild_ids is not None:
                    stale = stale & model.guild_id.in_(list(guild_ids))
                since = model.updated_at if hasattr(model, "updated_at") else getattr(model, "created_at", None)
                columns = [func.count()] if since is None else [func.count(), func.min(since)]
                row = (await session.execute(select(*columns).where(stale))).one()
                waiting += int(row[0] or 0)
                first = row[1] if since is not None else None
                if first is not None and (oldest is None or first < oldest):
                    oldest = first
        return OutboxBacklog(waiting, oldest)


def _fail(row: ChannelPosted, reason: str, now: datetime) -> None:
    row.post_error = reason[:POST_ERROR_MAX]
    row.post_attempts += 1
    row.next_post_at = now + backoff_delay(row.post_attempts)
