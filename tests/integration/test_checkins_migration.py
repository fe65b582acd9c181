"""Migration 0014: check-in tables come and go, and an existing team can set up check-ins after it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from bot.clock import MovableClock
from bot.db import alembic_config, create_engine, create_sessionmaker, upgrade_database
from bot.services.checkins import CheckinService
from tests.integration.test_api_migration import GUILD, _seed_0008
from tests.integration.test_migrations import _empty_database
from tests.integration.test_threads_migration import _tables

CHECKIN_TABLES = {
    "checkin_schedules",
    "checkin_members",
    "checkin_reports",
    "checkin_prompts",
    "checkin_answers",
    "checkin_flags",
}


async def test_checkins_migrate_up_and_down(database_factory, tmp_path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url, "0008")
        await _seed_0008(url)  # a formed team, 7
        upgrade_database(url, "0013")
        assert not CHECKIN_TABLES & await _tables(url)
        upgrade_database(url)
        assert await _tables(url) >= CHECKIN_TABLES
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                member = (
                    await conn.execute(text("SELECT user_id FROM team_members WHERE team_id = 7 LIMIT 1"))
                ).scalar_one()
            service = CheckinService(create_sessionmaker(engine), MovableClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
            set_up = await service.setup(GUILD, member, "mon", "10:00")
            assert set_up.team_id == 7 and set_up.next_prompt_at is not None
        finally:
            await engine.dispose()
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0013")
        assert not CHECKIN_TABLES & await _tables(url)
        upgrade_database(url)
        assert await _tables(url) >= CHECKIN_TABLES
    finally:
        database_factory.drop(url)


async def test_two_passes_racing_claim_each_prompt_once(database_factory, tmp_path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url, "0008")
        await _seed_0008(url)  # a formed team, 7
        upgrade_database(url)
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                member = (
                    await conn.execute(text("SELECT user_id FROM team_members WHERE team_id = 7 LIMIT 1"))
                ).scalar_one()
            clock = MovableClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
            sessions = create_sessionmaker(engine)
            one, two = CheckinService(sessions, clock), CheckinService(sessions, clock)
            await one.setup(GUILD, member, "mon", "10:00")
            clock.set(datetime(2026, 3, 2, 10, 1, tzinfo=UTC))
            due = await one.due([GUILD])
            assert due
            firsts = await asyncio.gather(*(one.claim(d) for d in due), *(two.claim(d) for d in due))
            assert len([c for c in firsts if c is not None]) == len(due)
            assert await one.run_pass([GUILD]) == [] and await two.run_pass([GUILD]) == []
        finally:
            await engine.dispose()
    finally:
        database_factory.drop(url)
