"""Shared fixtures: a fresh database per test, the emulated server, and the running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import get_settings
from bot.db import create_engine, create_sessionmaker
from bot.sandbox.emulator import DiscordEmulator
from tests.harness import DatabaseFactory, World, bot_settings, build_world, running_bot


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("db-template"))
    yield factory
    factory.close()


@pytest.fixture
def database_url(database_factory: DatabaseFactory, tmp_path: Path) -> Iterator[str]:
    url = database_factory.create(tmp_path)
    yield url
    database_factory.drop(url)


@pytest.fixture
async def sessions(database_url: str):
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_settings_cache() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
def world(emu: DiscordEmulator) -> World:
    return build_world(emu)


@pytest.fixture
async def nexus(world: World, database_url: str):
    settings = bot_settings(world.emu, database_url, world.guild.id)
    async with running_bot(settings, world.emu) as bot:
        yield bot
