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


async def test_concurrent_misses_share_one_load():
    store = Store()
    cache = GuildCache(store.load)
    store.gate = asyncio.Event()
    waiting = [asyncio.create_task(cache.get(1)) for _ in range(5)]
    await asyncio.sleep(0)
    store.gate.set()
    assert await asyncio.gather(*waiting) == ["a"] * 5
    assert cache.loads == 1
    assert await cache.get(1) == "a"  # and the shared load was kept
    assert cache.loads == 1


async def test_a_miss_after_an_invalidation_does_not_join_the_older_load():
    store = Store()
    cache = GuildCache(store.load)
    store.gate = asyncio.Event()
    old = asyncio.create_task(cache.get(1))
    await asyncio.sleep(0)
    store.values[1] = "new"
    cache.invalidate(1)
    fresh = asyncio.create_task(cache.get(1))
    await asyncio.sleep(0)
    store.gate.set()
    assert (await old, await fresh) == ("a", "new")
    assert cache.loads == 2
    assert await cache.get(1) == "new"


async def test_a_waiter_that_gives_up_leaves_the_shared_load_alone():
    store = Store()
    cache = GuildCache(store.load)
    store.gate = asyncio.Event()
    loading = asyncio.create_task(cache.get(1))
    waiter = asyncio.create_task(cache.get(1))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.sleep(0)
    store.gate.set()
    assert await loading == "a"
    assert waiter.cancelled() and cache.loads == 1


async def test_when_the_loading_caller_is_cancelled_its_waiters_load_again():
    store = Store()
    cache = GuildCache(store.load)
    store.gate = asyncio.Event()
    loading = asyncio.create_task(cache.get(1))
    waiter = asyncio.create_task(cache.get(1))
    await asyncio.sleep(0)
    loading.cancel()
    await asyncio.sleep(0)
    store.gate.set()
    assert await waiter == "a"
    assert loading.cancelled() and cache.loads == 2


async def test_a_failed_load_reaches_every_caller_and_is_not_kept():
    calls = 0
    gate = asyncio.Event()

    async def failing(guild_id: int) -> str:
        nonlocal calls
        calls += 1
        await gate.wait()
        raise RuntimeError("database down")

    cache: GuildCache[str] = GuildCache(failing)
    waiting = [asyncio.create_task(cache.get(1)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes) and calls == 1
    assert isinstance((await asyncio.gather(cache.get(1), return_exceptions=True))[0], RuntimeError)
    assert calls == 2  # a failure is not cached
