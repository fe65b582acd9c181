"""Migration 0011: team threads and staff notices come and go; an existing team gets no thread, and
the thread cap's staff notice is stored once per server."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect, text

from bot.db import alembic_config, create_engine, create_sessionmaker, upgrade_database
from bot.domain.threads import ThreadState
from bot.services.matching.views import load_team
from bot.services.team_threads import TeamThreadService
from models import GuildSettings, Team, TeamThread
from tests.integration.test_api_migration import GUILD, _seed_0008
from tests.integration.test_migrations import _empty_database


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_threads_migrate_up_and_down(database_factory, tmp_path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url, "0008")
        await _seed_0008(url)  # a formed team, 7
        upgrade_database(url)
        assert {"team_threads", "staff_notices"} <= await _tables(url)
        engine = create_engine(url)
        sessions = create_sessionmaker(engine)
        try:
            async with sessions() as session:
                assert (await load_team(session, 7)).thread_id is None  # existing teams get no thread
                assert await session.get(TeamThread, 7) is None
            async with sessions.begin() as session:
                team = await session.get(Team, 7)
                assert team is not None
                session.add(TeamThread(id=7, guild_id=GUILD, state=ThreadState.OPEN.value))
                session.add(GuildSettings(guild_id=GUILD, staff_channel_id=321))
            threads = TeamThreadService(sessions)
            await threads.made(7, 555, 444)
            async with sessions() as session:
                assert (await load_team(session, 7)).thread_id == 555
            first = await threads.capped(GUILD, 7)  # to be posted in the staff channel, once
            assert first is not None and await threads.capped(GUILD, 7) is None
            assert await threads.capped_teams(GUILD) == 1
            async with sessions() as session:
                assert (await load_team(session, 7)).thread_id is None  # capped: posts fall back
            assert [n.id for n in await threads.staff_notices(GUILD)] == [first]
        finally:
            await engine.dispose()
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0010")
        tables = await _tables(url)
        assert "team_threads" not in tables and "staff_notices" not in tables
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one() == "0010"
        finally:
            await engine.dispose()
        upgrade_database(url)
        assert {"team_threads", "staff_notices"} <= await _tables(url)
    finally:
        database_factory.drop(url)
