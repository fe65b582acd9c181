"""Migration 0016: API changes remember their team-thread post; going down keeps every change and
the channel notices that point at them. And migrations on SQLite in general: they run with foreign
keys off (a table batch mode rebuilds would otherwise cascade into the rows pointing at it), one
transaction a run, refused and rolled back if they leave rows pointing at nothing."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from alembic import command
from sqlalchemy import text

from bot.db import alembic_config, create_engine, upgrade_database
from tests.integration.test_api_migration import BACKEND, FRONTEND, _seed_0008, run_statements
from tests.integration.test_migrations import _empty_database


async def _counts(url: str, tables: tuple[str, ...] = ("api_changes", "channel_notices")) -> tuple[int, ...]:
    """How many rows each of `tables` holds."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return tuple([int((await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()) for t in tables])
    finally:
        await engine.dispose()


async def test_api_change_posts_migrate_down_without_losing_changes_or_notices(database_factory, tmp_path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url, "0008")
        await _seed_0008(url)  # a formed team, 7
        upgrade_database(url, "0015")
        await run_statements(url, CHANGE_WITH_NOTICE[:2])
        upgrade_database(url)
        await run_statements(url, [("UPDATE api_changes SET post_channel_id = 5, post_message_id = 6", {})])
        assert await _counts(url) == (1, 1)
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0015")
        assert await _counts(url) == (1, 1)
        upgrade_database(url)
        assert await _counts(url) == (1, 1)
    finally:
        database_factory.drop(url)


async def test_a_downgrade_rebuilding_teams_keeps_the_rows_that_point_at_them(database_factory, tmp_path):
    """0006's downgrade rebuilds `teams` on SQLite; members, endpoints and agreements cascade from
    it, and must still be there afterwards (migrations run with SQLite's foreign keys off)."""
    url = _empty_database(database_factory, tmp_path)
    tables = ("teams", "team_members", "api_endpoints", "api_agreements")
    try:
        upgrade_database(url, "0008")
        await _seed_0008(url)
        seeded = await _counts(url, tables)
        assert seeded == (1, 2, 2, 3)
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0005")
        assert await _counts(url, tables) == seeded
        upgrade_database(url)
        assert await _counts(url, tables) == seeded
    finally:
        database_factory.drop(url)


CHANGE_WITH_NOTICE = (
    (
        "INSERT INTO api_changes (id, guild_id, team_id, endpoint_id, version, actor_id, created_at) "
        "VALUES (1, :g, 7, 1, 1, :u, :t)",
        {"u": BACKEND},
    ),
    (
        "INSERT INTO channel_notices (id, guild_id, kind, team_id, count, api_change_id, created_at, revision, "
        "posted_revision, post_attempts) VALUES (3, :g, 'api_changed', 7, 0, 1, :t, 1, 1, 0)",
        {},
    ),
    ("INSERT INTO notice_members (notice_id, user_id, guild_id, role) VALUES (3, :u, :g, 'told')", {"u": FRONTEND}),
)


async def test_a_downgrade_past_the_api_changes_leaves_no_member_of_a_deleted_notice(database_factory, tmp_path):
    """0010's downgrade deletes the notices of API changes: their members go first (foreign keys are
    off while migrating, so no cascade does it), and the run's foreign-key check passes."""
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url, "0008")
        await _seed_0008(url)
        upgrade_database(url)
        await run_statements(url, CHANGE_WITH_NOTICE)
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0009")
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                members = (await conn.execute(text("SELECT count(*) FROM notice_members"))).scalar_one()
                assert members == 0
                version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
                assert version == "0009"
        finally:
            await engine.dispose()
        upgrade_database(url)
    finally:
        database_factory.drop(url)


async def test_rows_pointing_at_nothing_before_an_upgrade_do_not_stop_it(tmp_path, caplog):
    """A hand edit with the sqlite3 shell (foreign keys off there) left a notice member without its
    notice: the next upgrade still runs (the bot still starts) and says so in the log. On SQLite,
    whatever the suite's database is: PostgreSQL always enforces foreign keys."""
    path = tmp_path / "edited.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_database(url, "0015")
    shell = sqlite3.connect(path)  # foreign keys off, as in the sqlite3 shell
    shell.execute("INSERT INTO notice_members (notice_id, user_id, guild_id, role) VALUES (99, 1, 1, 'told')")
    shell.commit()
    shell.close()
    with caplog.at_level(logging.WARNING, logger="nexus.db"):
        upgrade_database(url)
    assert "pointed at nothing before this migration run" in caplog.text
    assert await _counts(url) == (0, 0)
