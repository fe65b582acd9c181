"""Migration 0010: existing API contracts gain examples, versions and revisions, with no example and
every agreement kept."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import text

from bot.db import alembic_config, create_engine, create_sessionmaker, upgrade_database
from bot.domain.api_contract import EndpointForm
from bot.services.api import ApiService
from tests.integration.test_migrations import _empty_database

NOW = datetime(2026, 11, 1, tzinfo=UTC)
GUILD = 10
BACKEND, FRONTEND = 100, 101


async def _seed_0008(url: str) -> None:
    statements = [
        (
            "INSERT INTO projects (id, guild_id, name, name_key, description, created_at, updated_at) "
            "VALUES (1, :g, 'Job Board', 'job board', 'jobs', :t, :t)",
            {},
        ),
        (
            "INSERT INTO teams (id, guild_id, project_id, status, score, revision, posted_revision, created_at, "
            "expires_at, formed_at) VALUES (7, :g, 1, 'active', 0, 1, 0, :t, :e, :t)",
            {"e": NOW + timedelta(days=1)},
        ),
        *(
            (
                "INSERT INTO team_members (id, guild_id, team_id, user_id, track, accepted_at, is_current) "
                "VALUES (:id, :g, 7, :u, :tr, :t, :cur)",
                {"id": i, "u": user, "tr": track, "cur": True},
            )
            for i, (user, track) in enumerate(((BACKEND, "backend"), (FRONTEND, "frontend")), start=1)
        ),
        *(
            (
                "INSERT INTO api_endpoints (id, guild_id, team_id, method, path, summary, created_by, created_at, "
                "updated_at) VALUES (:id, :g, 7, :m, :p, :s, :u, :t, :t)",
                {"id": eid, "m": method, "p": path, "s": summary, "u": BACKEND},
            )
            for eid, method, path, summary in ((1, "GET", "/jobs", "List jobs"), (2, "POST", "/jobs", "Post a job"))
        ),
        *(
            (
                "INSERT INTO api_agreements (guild_id, endpoint_id, user_id, agreed_at) VALUES (:g, :e, :u, :t)",
                {"e": eid, "u": user},
            )
            for eid, user in ((1, BACKEND), (1, FRONTEND), (2, BACKEND))
        ),
    ]
    await run_statements(url, statements)


async def run_statements(url: str, statements: Iterable[tuple[str, dict[str, object]]]) -> None:
    """Run SQL `statements` (each with its parameters, plus :g for GUILD and :t for NOW) in one
    transaction on `url`."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for sql, params in statements:
                await conn.execute(text(sql), {"g": GUILD, "t": NOW, **params})
    finally:
        await engine.dispose()


async def test_existing_contracts_keep_their_agreements_with_no_example(database_factory, tmp_path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url, "0008")
        await _seed_0008(url)
        upgrade_database(url)
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        text(
                            "SELECT id, status, request_example, response_example, query_params, description, revision "
                            "FROM api_endpoints ORDER BY id"
                        )
                    )
                ).all()
                agreements = (
                    await conn.execute(text("SELECT endpoint_id, user_id, revision FROM api_agreements ORDER BY 1, 2"))
                ).all()
            assert [tuple(r) for r in rows] == [(1, 200, None, None, "", "", 1), (2, 200, None, None, "", "", 1)]
            assert [tuple(a) for a in agreements] == [(1, BACKEND, 1), (1, FRONTEND, 1), (2, BACKEND, 1)]

            api = ApiService(create_sessionmaker(engine))
            contract = await api.contract(GUILD, FRONTEND)
            assert contract.version == 0
            assert [(e.id, e.agreed, e.changed_since_agreement) for e in contract.endpoints] == [
                (1, True, False),
                (2, False, False),
            ]
            assert contract.endpoints[0].spec.response_example is None
            # the first change after the migration is version 1, and resets the other member's agreement
            changed = await api.edit(GUILD, BACKEND, 1, EndpointForm(response_example='[{"id": 1}]'))
            assert changed.contract.version == 1 and changed.endpoint is not None
            assert changed.endpoint.changed_since_agreement and changed.endpoint.agreed_by == {BACKEND}
            assert changed.events and changed.events[0].tell == (FRONTEND,)  # type: ignore[union-attr]
        finally:
            await engine.dispose()
        # and back: the downgrade drops what 0010 added, the upgrade brings it again
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0009")
        upgrade_database(url)
    finally:
        database_factory.drop(url)
