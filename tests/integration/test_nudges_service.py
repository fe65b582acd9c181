"""Roster nudges on a real database: a nudge run's messages stored once however many passes race
for it, reminders on and off, the DM fallback once per run, and migration 0012 down and up again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, select

from bot.clock import MovableClock
from bot.db import alembic_config, create_engine, create_sessionmaker, upgrade_database
from bot.domain.nudges import DmState, decode_sections
from bot.domain.schedules import NudgeDelivery, Repeat, ScheduledPost
from bot.services import Services
from models import Learner, NudgeDm, NudgePost
from tests.harness import DatabaseFactory
from tests.integration.test_migrations import _empty_database

GUILD = 4343
START = datetime(2026, 3, 25, 10, tzinfo=UTC)
GRACE = timedelta(hours=1)


async def _learners(sessions, ids: list[int]) -> None:
    async with sessions() as session, session.begin():
        session.add_all(Learner(guild_id=GUILD, user_id=user_id, display_name=f"l{user_id}") for user_id in ids)


async def test_racing_passes_store_a_nudge_runs_messages_once_without_the_opted_out(database_url, sessions):
    clock = MovableClock(START)
    engine = create_engine(database_url)
    first = Services.create(sessions, clock=clock)
    second = Services.create(create_sessionmaker(engine), clock=clock)
    try:
        await _learners(sessions, list(range(1, 251)))
        assert await first.nudges.set_reminders(GUILD, 7, on=False)
        assert not await first.nudges.set_reminders(GUILD, 7, on=False)  # already off
        await first.schedules.add(
            GUILD, 1, None, repeat=Repeat.ONCE, start="2026-03-26", at="09:00", days=None, post=ScheduledPost.NUDGE
        )
        clock.set(datetime(2026, 3, 26, 9, 0, 1, tzinfo=UTC))
        runs = await asyncio.gather(first.schedules.run_pass([GUILD], GRACE), second.schedules.run_pass([GUILD], GRACE))
        (claimed,) = [run for batch in runs for run in batch]
        assert claimed.nudge is not None and len(claimed.nudge.post_ids) == 8  # 249 x 3 steps, 100 a message
        async with sessions() as session:
            stored = list(await session.scalars(select(NudgePost.sections).order_by(NudgePost.part)))
        named = [u for text in stored for s in decode_sections(text) for u in s.user_ids]
        assert 7 not in named and len(set(named)) == 249 and len(named) == 3 * 249
    finally:
        await engine.dispose()


async def test_a_dm_run_stores_one_dm_per_learner_and_one_fallback(database_url, sessions):
    clock = MovableClock(START)
    services = Services.create(sessions, clock=clock)
    await _learners(sessions, [1, 2, 3])
    await services.nudges.set_reminders(GUILD, 3, on=False)
    await services.nudges.set_reminders(GUILD, 3, on=True)  # and back on
    await services.schedules.add(
        GUILD,
        1,
        None,
        repeat=Repeat.ONCE,
        start="2026-03-26",
        at="09:00",
        days=None,
        post=ScheduledPost.NUDGE,
        delivery=NudgeDelivery.DM,
    )
    clock.set(datetime(2026, 3, 26, 9, 0, 1, tzinfo=UTC))
    (run,) = await services.schedules.run_pass([GUILD], GRACE)
    assert run.nudge is not None and run.nudge.dms == 3 and run.nudge.post_ids == ()
    dms = await services.nudges.pending_dms(run.run_id)
    assert [dm.user_id for dm in dms] == [1, 2, 3]
    assert await services.nudges.claim_dm(dms[0].id) and not await services.nudges.claim_dm(dms[0].id)
    await services.nudges.mark_dm(dms[0].id, DmState.SENT)
    assert await services.nudges.claim_dm(dms[1].id)
    await services.nudges.mark_dm(dms[1].id, DmState.REFUSED)
    await services.nudges.mark_dm(dms[1].id, DmState.SENT)  # only a DM being sent changes
    assert await services.nudges.fallback(GUILD, run.run_id) == ()  # three's DM still waits
    assert await services.nudges.stalled_dm_runs([GUILD]) == []  # within the claimer's lease
    clock.set(datetime(2026, 3, 26, 9, 5, tzinfo=UTC))
    assert await services.nudges.stalled_dm_runs([GUILD]) == [(GUILD, run.run_id)]  # the claimer died
    assert await services.nudges.claim_dm(dms[2].id)
    await services.nudges.mark_dm(dms[2].id, DmState.SENT)
    assert await services.nudges.stalled_dm_runs([GUILD]) == []
    (fallback,) = await services.nudges.fallback(GUILD, run.run_id)
    assert await services.nudges.fallback(GUILD, run.run_id) == ()  # once per run
    post = await services.nudges.post(fallback)
    assert post.dm_fallback and {u for s in post.sections for u in s.user_ids} == {2}
    async with sessions() as session:
        states = dict((await session.execute(select(NudgeDm.user_id, NudgeDm.state))).all())
    assert states == {1: "sent", 2: "refused", 3: "sent"}


def test_migration_0012_downgrades_and_upgrades_again(database_factory: DatabaseFactory, tmp_path: Path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url)
        command.downgrade(alembic_config(url), "0011")
        engine = create_engine(url)

        async def shape() -> tuple[set[str], set[str]]:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: (
                        set(inspect(sync).get_table_names()),
                        {c["name"] for c in inspect(sync).get_columns("schedules")},
                    )
                )

        tables, columns = asyncio.run(shape())
        asyncio.run(engine.dispose())
        assert not {"reminder_optouts", "nudge_posts", "nudge_dms"} & tables
        assert "schedules" in tables and "post" not in columns and "delivery" not in columns
        upgrade_database(url)
        command.check(alembic_config(url))
        engine = create_engine(url)
        tables, columns = asyncio.run(shape())
        asyncio.run(engine.dispose())
        assert {"reminder_optouts", "nudge_posts", "nudge_dms"} <= tables and {"post", "delivery"} <= columns
    finally:
        database_factory.drop(url)
