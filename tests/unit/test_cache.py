from __future__ import annotations

import asyncio

from bot.services.cache import GuildCache


class Store:
    """A stand-in database: values per guild, and a gate to hold a load in flight."""

    def __init__(self) -> None:
        self.values = {1: "a", 2: "b"}
        self.gate: asyncio.Event | None = None

    async def load(self, guild_id: int) -> str:
        value = self.values[guild_id]
        if self.gate is not None:
            await self.gate.wait()
        return value


async def test_values_are_loaded_once_per_guild_until_invalidated():
    store = Store()
    cache = GuildCache(store.load)
    assert [await cache.get(1), await cache.get(1), await cache.get(2)] == ["a", "a", "b"]
    assert cache.loads == 2
    store.values[1] = "a2"
    assert await cache.get(1) == "a"  # not yet invalidated: the cached value
    cache.invalidate(1)
    assert await cache.get(1) == "a2"
    assert await cache.get(2) == "b"  # other guilds keep theirs
    assert cache.loads == 3


async def test_entries_expire_after_the_ttl():
    now = [100.0]
    store = Store()
    cache = GuildCache(store.load, ttl=10, clock=lambda: now[0])
    await cache.get(1)
    store.values[1] = "changed elsewhere"
    now[0] += 9.9
    assert await cache.get(1) == "a"
    now[0] += 0.2
    assert await cache.get(1) == "changed elsewhere"


async def test_a_load_that_began_before_an_invalidation_is_not_kept():
    store = Store()
    cache = GuildCache(store.load)
    store.gate = asyncio.Event()
    slow = asyncio.create_task(cache.get(1))  # reads "a", then waits
    await asyncio.sleep(0)
    store.values[1] = "new"
    cache.invalidate(1)  # the change committed while the old value was in flight
    store.gate.set()
    assert await slow == "a"  # its caller gets what it read...
    store.gate = None
    assert await cache.get(1) == "new"  # ...but the cache did not keep it
