"""Shared fixtures: a fresh database per test, the emulated server, and the running bot."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import get_settings
from bot.db import create_engine, create_sessionmaker, upgrade_database
from bot.sandbox.emulator import DiscordEmulator
from tests.harness import DatabaseFactory, World, bot_settings, bounded, build_world, running_bot

LEFTOVER_TASK_GRACE = 10.0


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("db-template"))
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the migration head, whatever database the suite runs on."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_file(sqlite_template: Path, tmp_path: Path) -> Path:
    """A fresh SQLite file at the migration head for this test: for what only SQLite has (FTS5, the
    inline reader), tested in the PostgreSQL run as well."""
    path = tmp_path / "sqlite.db"
    shutil.copyfile(sqlite_template, path)
    return path


@pytest.fixture
def database_url(database_factory: DatabaseFactory, tmp_path: Path) -> Iterator[str]:
    url = database_factory.create(tmp_path)
    yield url
    database_factory.drop(url)


@pytest.fixture
async def sessions(database_url: str):
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await bounded(engine.dispose(), "the test's engine.dispose()")


@pytest.fixture(autouse=True)
def _fresh_settings_cache() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
async def _no_leftover_tasks(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Cancel what a test left running (view timeouts, loops) and name any task that will not stop.

    A task that ignores cancellation would otherwise hang the event loop's shutdown silently.
    """
    yield
    me = asyncio.current_task()
    leftovers = [task for task in asyncio.all_tasks() if task is not me and not task.done()]
    for task in leftovers:
        task.cancel()
    if not leftovers:
        return
    _, stubborn = await asyncio.wait(leftovers, timeout=LEFTOVER_TASK_GRACE)
    for task in stubborn:
        print(f"\nTask left running after {request.node.nodeid}: {task!r}", file=sys.stderr)
        task.print_stack(file=sys.stderr)
    assert not stubborn, f"{len(stubborn)} task(s) ignored cancellation; see stderr"


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    await emulator.start()
    yield emulator
    await bounded(emulator.stop(), "emulator.stop()")
    # every body the bot sent is held to Discord's published contract (bot/sandbox/contract.py)
    broken = "\n".join(map(str, emulator.contract_violations))
    assert not emulator.contract_violations, f"requests Discord would refuse with 400/50035:\n{broken}"


@pytest.fixture
def world(emu: DiscordEmulator) -> World:
    return build_world(emu)


@pytest.fixture
async def nexus(world: World, database_url: str):
    settings = bot_settings(world.emu, database_url, world.guild.id)
    async with running_bot(settings, world.emu) as bot:
        yield bot
