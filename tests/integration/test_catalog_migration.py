"""Migration 0007: seeded "X Backend" projects become "X" with a frontend brief, keeping their rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bot.db import create_engine, upgrade_database
from tests.integration.test_migrations import _empty_database

NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def _rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


async def _seed_0006(url: str) -> None:
    engine = create_engine(url)
    projects = [
        (1, 10, "Job Board Backend", "jobs api"),
        (2, 10, "E-Commerce Backend", "shop api"),
        (3, 10, "Chess Backend", "not seeded: stays"),
        (4, 20, "Job Board Backend", "jobs api"),
        (5, 20, "job board", "staff's own project, already called Job Board"),
    ]
    try:
        async with engine.begin() as conn:
            for pid, guild, name, about in projects:
                await conn.execute(
                    text(
                        "INSERT INTO projects (id, guild_id, name, name_key, description, created_at, updated_at) "
                        "VALUES (:id, :g, :n, :k, :d, :t, :t)"
                    ),
                    {"id": pid, "g": guild, "n": name, "k": name.casefold(), "d": about, "t": NOW},
                )
            for aid, user, pid, track in ((1, 100, 1, "backend"), (2, 101, 1, "frontend"), (3, 102, 4, "backend")):
                await conn.execute(
                    text(
                        "INSERT INTO announcements (id, guild_id, user_id, project_id, track, pitch, active, revision, posted_revision, "
                        "created_at, updated_at) VALUES (:id, :g, :u, :p, :tr, 'pitch', :a, 1, 0, :t, :t)"
                    ),
                    {"id": aid, "g": 20 if pid == 4 else 10, "u": user, "p": pid, "tr": track, "a": True, "t": NOW},
                )
            await conn.execute(
                text(
                    "INSERT INTO teams (id, guild_id, project_id, status, score, revision, posted_revision, created_at, expires_at) "
                    "VALUES (7, 10, 1, 'formed', 0, 1, 0, :t, :e)"
                ),
                {"t": NOW, "e": NOW + timedelta(days=1)},
            )
    finally:
        await engine.dispose()


async def test_seeded_backend_projects_are_renamed_and_keep_their_rows(database_factory, tmp_path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url, "0006")
        await _seed_0006(url)
        upgrade_database(url)
        projects = await _rows(url, "SELECT id, guild_id, name, name_key, frontend_brief FROM projects ORDER BY id")
        by_id = {row[0]: row for row in projects}
        assert by_id[1][2:4] == ("Job Board", "job board") and "job listings" in by_id[1][4]
        assert by_id[2][2:4] == ("E-Commerce", "e-commerce") and "storefront" in by_id[2][4]
        assert by_id[3][2:] == ("Chess Backend", "chess backend", None)  # not a seeded name
        # guild 20 already had its own "job board": its seeded row keeps the old name
        assert by_id[4][2:] == ("Job Board Backend", "job board backend", None)
        assert by_id[5][2] == "job board"
        announcements = await _rows(url, "SELECT id, project_id FROM announcements ORDER BY id")
        assert announcements == [(1, 1), (2, 1), (3, 4)]
        assert await _rows(url, "SELECT id, project_id FROM teams") == [(7, 1)]
        upgrade_database(url)  # a second run changes nothing
        assert await _rows(url, "SELECT id, guild_id, name, name_key, frontend_brief FROM projects ORDER BY id") == (
            projects
        )
    finally:
        database_factory.drop(url)
