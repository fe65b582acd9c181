"""Scheduled posts on a real database: each occurrence claimed once however many passes race for
it (two engines: two processes), the zone change, and migration 0009 down and up again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import func, inspect, select

from bot.clock import MovableClock
from bot.db import alembic_config, create_engine, create_sessionmaker, upgrade_database
from bot.domain.schedules import Repeat, RunOutcome
from bot.services.schedules import ScheduleService
from bot.services.settings import SettingsService
from models import ScheduleRun
from tests.harness import DatabaseFactory
from tests.integration.test_migrations import _empty_database

GUILD = 4242
START = datetime(2026, 3, 25, 10, tzinfo=UTC)  # a Wednesday
GRACE = timedelta(hours=1)


async def test_racing_passes_claim_each_occurrence_once(database_url, sessions):
    clock = MovableClock(START)
    engine = create_engine(database_url)
    services = [ScheduleService(sessions, clock), ScheduleService(create_sessionmaker(engine), clock)]
    for days in ("mon,wed,fri", "tue,thu", "sun"):
        await services[0].add(GUILD, 1, f"post {days}", repeat=Repeat.WEEKLY, start="2026-03-26", at="09:00", days=days)
    # Thu 26 March to Sun 5 April 09:30 (UTC: no zone set): nine occurrences, the last within the grace
    clock.set(datetime(2026, 4, 5, 9, 30, tzinfo=UTC))
    for _ in range(3):  # passes overlapping in every way, several times over
        await asyncio.gather(*(s.run_pass([GUILD], GRACE) for s in services for _ in range(2)))
    await engine.dispose()
    async with sessions() as session:
        runs = (await session.execute(select(ScheduleRun.schedule_id, ScheduleRun.due_at, ScheduleRun.outcome))).all()
    due = [(schedule_id, due_at) for schedule_id, due_at, _ in runs]
    assert len(due) == len(set(due)) == 9  # mon,wed,fri: 4; tue,thu: 3; sun: 2; each once
    assert sum(outcome == RunOutcome.POSTED.value for _, _, outcome in runs) == 1  # only Sunday's 09:00
    listing = await services[0].listing(GUILD)
    assert sum(info.skipped for info in listing.schedules) == 8
    assert all(info.next_run_at and info.next_run_at > clock.now() for info in listing.schedules)


async def test_a_claimed_run_is_leased_to_its_process(database_url, sessions):
    clock = MovableClock(START)
    service = ScheduleService(sessions, clock)
    info = await service.add(GUILD, 1, "once", repeat=Repeat.ONCE, start="2026-03-25", at="12:00", days=None)
    assert info.next_run_at == datetime(2026, 3, 25, 12, tzinfo=UTC)
    clock.set(datetime(2026, 3, 25, 12, 0, 1, tzinfo=UTC))
    (run,) = await service.run_pass([GUILD], GRACE)
    assert run.outcome is RunOutcome.POSTED
    assert await service.run_pass([GUILD], GRACE) == []
    async with sessions() as session:
        row = await session.get(ScheduleRun, run.run_id)
        assert row is not None and row.next_post_at is not None and row.next_post_at > clock.now()
    listing = await service.listing(GUILD)
    assert listing.schedules == ()  # a one-off is done once it ran


async def test_a_new_zone_keeps_the_wall_clock_time(database_url, sessions):
    clock = MovableClock(START)
    settings, schedules = SettingsService(sessions, clock), ScheduleService(sessions, clock)
    await schedules.add(GUILD, 1, "weekly", repeat=Repeat.WEEKLY, start="2026-03-30", at="09:00", days="mon")
    config, moved = await settings.set_timezone(GUILD, "Europe/Paris")
    assert (config.timezone, moved) == ("Europe/Paris", 1)
    (info,) = (await schedules.listing(GUILD)).schedules
    assert info.zone == "Europe/Paris" and info.next_run_at == datetime(2026, 3, 30, 7, tzinfo=UTC)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ScheduleRun)) == 0


def test_migration_0009_downgrades_and_upgrades_again(database_factory: DatabaseFactory, tmp_path: Path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url)
        command.downgrade(alembic_config(url), "0008")
        engine = create_engine(url)

        async def shape() -> tuple[set[str], set[str]]:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: (
                        set(inspect(sync).get_table_names()),
                        {c["name"] for c in inspect(sync).get_columns("guild_settings")},
                    )
                )

        tables, columns = asyncio.run(shape())
        asyncio.run(engine.dispose())
        assert "schedules" not in tables and "schedule_runs" not in tables
        assert "timezone" not in columns and "staff_channel_id" not in columns
        upgrade_database(url)
        command.check(alembic_config(url))
    finally:
        database_factory.drop(url)
