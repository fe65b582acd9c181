"""Alembic environment: async engines, URL from the caller or from the settings."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from alembic import context
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

import models
from bot.db import create_engine
from models.base import UTCDateTime
from models.note import (
    AUTOGENERATE_IGNORED_COLUMNS,
    AUTOGENERATE_IGNORED_INDEXES,
    AUTOGENERATE_IGNORED_TABLE_PREFIXES,
)

config = context.config
log = logging.getLogger("nexus.db")
target_metadata = models.Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    from bot.config import load_settings_or_exit

    return load_settings_or_exit().database_url


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render project column types as plain SQLAlchemy types so migrations stay self-contained."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Skip search tables (FTS5 and its shadow tables) that no model describes."""
    if type_ == "table" and name is not None:
        return not name.startswith(AUTOGENERATE_IGNORED_TABLE_PREFIXES)
    if type_ == "index" and name is not None:
        return name not in AUTOGENERATE_IGNORED_INDEXES
    return True


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Skip search columns (the PostgreSQL tsvector) that no model describes."""
    if type_ == "column" and reflected and name is not None:
        table = getattr(getattr(obj, "table", None), "name", "")
        return (table, name) not in AUTOGENERATE_IGNORED_COLUMNS
    return True


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    """Run `pragma` on the driver's connection, outside any transaction (SQLite ignores
    PRAGMA foreign_keys inside one, and SQLAlchemy's execute would begin one first)."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(pragma)
    finally:
        cursor.close()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite's rule for rebuilding a table, which batch mode does: foreign keys off meanwhile.
        # With them on, dropping the old table deletes its rows first, and ON DELETE CASCADE takes
        # every row pointing at them (a downgrade rebuilding `teams` would empty `team_members`)
        _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        render_as_batch=sqlite,
        # on SQLite too the whole run is one transaction (Alembic commits each migration on its own
        # there by default), so the foreign-key check below can still undo what the run did
        transactional_ddl=True,
        compare_type=True,
        include_name=_include_name,
        include_object=_include_object,
    )
    check = sqlite and _may_change_schema()
    with context.begin_transaction():
        before = _dangling(connection) if check else set()
        context.run_migrations()
        if check:
            _refuse_new_dangling(before, _dangling(connection))


def _may_change_schema() -> bool:
    """False for the bot's start on an up-to-date database (an upgrade to head at head), which then
    skips the foreign-key check (about 0.2 s at 100,000 notes, twice)."""
    try:
        target = context.get_revision_argument()  # resolved: "head" arrives as the head's id
    except KeyError:  # `alembic check` and autogenerate compare; they migrate nothing
        return False
    heads = set(ScriptDirectory.from_config(config).get_heads())
    targets = {target} if isinstance(target, str) else set(target or ())
    return not (set(context.get_context().get_current_heads()) == heads and targets <= heads)


def _dangling(connection: Connection) -> set[tuple[object, ...]]:
    """Rows pointing at rows that do not exist (table, rowid, parent table, key index)."""
    return {tuple(row) for row in connection.exec_driver_sql("PRAGMA foreign_key_check").all()}


def _refuse_new_dangling(before: set[tuple[object, ...]], after: set[tuple[object, ...]]) -> None:
    """What the foreign keys would have refused, refused now: the run is rolled back. Rows that
    pointed at nothing before the run (a hand edit with the sqlite3 shell, whose foreign keys are
    off) are the operator's to mend, not a reason to refuse to start."""
    if before:
        log.warning("%d row(s) pointed at nothing before this migration run: %s", len(before), sorted(before)[:5])
    new = after - before
    if new:
        raise RuntimeError(f"the migration would leave rows pointing at nothing (rolled back): {sorted(new)[:5]}")


async def _run_async() -> None:
    engine = create_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()  # one transaction for the whole run (rolled back on an error)
            if connection.dialect.name == "sqlite":  # outside it, where SQLite takes it
                await connection.run_sync(_sqlite_pragma, "PRAGMA foreign_keys=ON")
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_async())
