"""A small per-guild cache for values read on every interaction and changed rarely.

Settings, the project catalog and the note topics are read by autocomplete, checks and most
commands, but change only when staff run a command. Keeping them in memory saves database round
trips on the hot paths. The rules that keep it correct:

- The service that changes a value opens its transaction inside `changing(guild_id)`, which
  invalidates after the transaction has committed (or failed), so a read that starts afterwards
  loads the new value.
- A load that started before an invalidation is returned to its caller but never stored, so an
  old value cannot be put back after the change (the generation check).
- Concurrent misses for the same guild share one load (single flight): a burst of interactions
  in a guild whose entry just expired asks the database once, not once per interaction. A caller
  that arrives after an invalidation does not join a load that began before it.
- Entries expire after `ttl` seconds. With shards, one process serves a guild, so changes arrive
  through that process; the expiry bounds how long a change made elsewhere (a restored backup,
  another process during a shard move) can go unseen.
- Cached values are immutable (tuples and frozen dataclasses), so callers cannot change them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_TTL_SECONDS = 60.0


class _Abandoned(Exception):
    """The caller loading a value was cancelled before it finished: its waiters load it again."""


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    value: V
    expires_at: float


class GuildCache(Generic[V]):
    """Values loaded per guild by `load`, kept until invalidated or `ttl` seconds old."""

    def __init__(
        self,
        load: Callable[[int], Awaitable[V]],
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[int, _Entry[V]] = {}
        self._generations: dict[int, int] = {}
        self._loading: dict[int, tuple[int, asyncio.Future[V]]] = {}
        self.loads = 0  # how many times the database was asked (tests and benchmarks read it)

    async def get(self, guild_id: int) -> V:
        """The guild's value, from memory when fresh, otherwise loaded (and kept)."""
        while True:
            entry = self._entries.get(guild_id)
            now = self._clock()
            if entry is not None and entry.expires_at > now:
                return entry.value
            generation = self._generations.get(guild_id, 0)
            loading = self._loading.get(guild_id)
            if loading is None or loading[0] != generation:
                return await self._load_shared(guild_id, generation, now)
            try:
                # shielded: a waiter that gives up (a cancelled interaction) leaves the load alone
                return await asyncio.shield(loading[1])
            except _Abandoned:
                continue  # the caller that was loading was cancelled: load again

    async def _load_shared(self, guild_id: int, generation: int, now: float) -> V:
        """Load the guild's value in this caller, letting concurrent misses await the same result."""
        shared: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[guild_id] = (generation, shared)
        self.loads += 1
        try:
            value = await self._load(guild_id)
        except BaseException as exc:
            shared.set_exception(_Abandoned() if isinstance(exc, asyncio.CancelledError) else exc)
            shared.exception()  # marks it retrieved: no "never retrieved" log when nobody waited
            raise
        else:
            if self._generations.get(guild_id, 0) == generation:
                self._entries[guild_id] = _Entry(value, now + self._ttl)
            shared.set_result(value)
            return value
        finally:
            loading = self._loading.get(guild_id)
            if loading is not None and loading[1] is shared:
                del self._loading[guild_id]

    def invalidate(self, guild_id: int) -> None:
        """Forget the guild's value; call after the change has committed."""
        self._entries.pop(guild_id, None)
        self._generations[guild_id] = self._generations.get(guild_id, 0) + 1

    @contextlib.asynccontextmanager
    async def changing(self, guild_id: int) -> AsyncIterator[None]:
        """Around a change to the guild's value: `async with cache.changing(g), transaction(...)`
        invalidates once the transaction inside has ended, committed or not."""
        try:
            yield
        finally:
            self.invalidate(guild_id)
