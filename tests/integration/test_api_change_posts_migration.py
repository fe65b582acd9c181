"""Migration 0016: API changes remember their team-thread post; going down keeps every change and
the channel notices that point at them (on SQLite a rebuilt table would take them with it)."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import text

from bot.db import alembic_config, create_engine, upgrade_database
from tests.integration.test_api_migration import BACKEND, GUILD, NOW, _seed_0008
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
