"""Migration 0016: API changes remember their team-thread post; going down keeps every change and
the channel notices that point at them. And migrations on SQLite in general: they run with foreign
keys off (a table batch mode rebuilds would otherwise cascade into the rows pointing at it), one
transaction a run, refused and rolled back if they leave rows pointing at nothing."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest
from alembic import command
from sqlalchemy import make_url, text

from bot.db import alembic_config, create_engine, upgrade_database
from tests.integration.test_api_migration import BACKEND, FRONTEND, GUILD, NOW, _seed_0008
from tests.integration.test_migrations import _empty_database


async def _counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            changes = (await conn.execute(text("SELECT count(*) FROM api_changes"))).scalar_one()
            notices = (await conn.execute(text("SELECT count(*) FROM channel_notices"))).scalar_one()
            return int(changes), int(notices)
    finally:
        await engine.dispose()


async def test_api_change_posts_migrate_down_without_losing_changes_or_notices(database_factory, tmp_path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url, "0008")
        await _seed_0008(url)  # a formed team, 7
        upgrade_database(url, "0015")
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO api_changes (id, guild_id, team_id, endpoint_id, version, actor_id, created_at) "
                        "VALUES (1, :g, 7, 1, 1, :u, :t)"
                    ),
                    {"g": GUILD, "u": BACKEND, "t": NOW},
                )
                await conn.execute(
                    text(
                        "INSERT INTO channel_notices (guild_id, kind, team_id, count, api_change_id, created_at, "
                        "revision, posted_revision, post_attempts) VALUES (:g, 'api_changed', 7, 0, 1, :t, 1, 1, 0)"
                    ),
                    {"g": GUILD, "t": NOW},
                )
        finally:
            await engine.dispose()
        upgrade_database(url)
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE api_changes SET post_channel_id = 5, post_message_id = 6"))
        finally:
            await engine.dispose()
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

    async def counts() -> list[int]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return [int((await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()) for t in tables]
        finally:
            await engine.dispose()

    try:
        upgrade_database(url, "0008")
        await _seed_0008(url)
        seeded = await counts()
        assert seeded == [1, 2, 2, 3]
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0005")
        assert await counts() == seeded
        upgrade_database(url)
        assert await counts() == seeded
    finally:
        database_factory.drop(url)


async def _insert(url: str, *statements: tuple[str, dict[str, object]]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for sql, params in statements:
                await conn.execute(text(sql), {"g": GUILD, "t": NOW, **params})
    finally:
        await engine.dispose()


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
        await _insert(url, *CHANGE_WITH_NOTICE)
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


async def test_rows_pointing_at_nothing_before_an_upgrade_do_not_stop_it(database_factory, tmp_path, caplog):
    """A hand edit with the sqlite3 shell (foreign keys off there) left a notice member without its
    notice: the next upgrade still runs (the bot still starts) and says so in the log."""
    url = _empty_database(database_factory, tmp_path)
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL enforces foreign keys always: such rows cannot exist there")
    try:
        upgrade_database(url, "0015")
        path = make_url(url).database
        assert path is not None
        shell = sqlite3.connect(path)  # foreign keys off, as in the sqlite3 shell
        shell.execute("INSERT INTO notice_members (notice_id, user_id, guild_id, role) VALUES (99, 1, 1, 'told')")
        shell.commit()
        shell.close()
        with caplog.at_level(logging.WARNING, logger="nexus.db"):
            upgrade_database(url)
        assert "pointed at nothing before this migration run" in caplog.text
        assert await _counts(url) == (0, 0)
    finally:
        database_factory.drop(url)
