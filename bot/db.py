"""Database engine, sessions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Insert, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, Pool

from bot.config import sqlite_path
from bot.sqlite_adapter import InlineReader, OneTripConnection, one_trip_dbapi
from models.base import CLOCK_OPTION

SQLITE_BUSY_TIMEOUT_MS = 10_000
MIGRATIONS_LOCATION = str(Path(__file__).resolve().parent.parent / "models" / "migrations")


def backend_name(database_url: str) -> str:
    """A short human name for the database behind a URL."""
    return "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"


WRITE_OPTION = "nexus_write"
"""Execution option marking a connection that will write: SQLite begins it IMMEDIATE."""
UNWRAPPED_OPTION = "nexus_unwrapped"
"""Execution option marking a connection whose statements each run on their own, with no
transaction around them (see `unwrapped_reads`): SQLite gets no BEGIN."""


def _set_sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # the driver must not issue its own BEGIN: ours (below) says DEFERRED or IMMEDIATE
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for the URL; SQLite gets WAL, foreign keys and a busy timeout."""
    path = sqlite_path(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if database_url.startswith("postgresql"):
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
    if database_url.startswith("sqlite"):
        # a connection is a thread and a page cache (up to 2 MB); on SQLite one writer runs at a
        # time and a few readers keep the cores busy, so a small pool is enough
        kwargs.setdefault("pool_size", 4)
        kwargs.setdefault("max_overflow", 4)
        # the connection used last is handed out first: its page cache and prepared statements are
        # warm (first in, first out would rotate every read through all of them)
        kwargs.setdefault("pool_use_lifo", True)
    if database_url.startswith("sqlite+aiosqlite") and "module" not in kwargs:
        module = one_trip_dbapi()  # one thread round trip per statement (see bot/sqlite_adapter.py)
        if module is not None:
            kwargs["module"] = module
            # a write transaction's statements run on the loop's thread (see OneTripConnection)
            kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
    engine = create_async_engine(database_url, **kwargs)
    if database_url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    if path is not None and database_url.startswith("sqlite+aiosqlite") and "?" not in database_url:
        # a plain file path (a URL with driver options, such as a `file:` URI, keeps the pooled path)
        reader = _inline_readers[engine.sync_engine.dialect] = InlineReader(path)
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: reader.close())
    return engine


# keyed by the dialect, which an engine shares with the engines its execution options make (the
# clock's, the unwrapped reads'), and which outlives dispose() (the reader then reopens when used)
_inline_readers: weakref.WeakKeyDictionary[object, InlineReader] = weakref.WeakKeyDictionary()


def inline_reader(engine: AsyncEngine) -> InlineReader | None:
    """The reader for one-statement reads on the calling thread (see InlineReader): only for a
    SQLite file engine made by `create_engine`; None otherwise (PostgreSQL, in-memory SQLite)."""
    return _inline_readers.get(engine.sync_engine.dialect)


def _sqlite_begin(connection: Connection) -> None:
    # A write transaction takes SQLite's write lock up front, so two writers queue on the busy
    # timeout instead of one failing with "database is locked" when it upgrades a read lock.
    options = connection.get_execution_options()
    driver: object = connection.connection.dbapi_connection
    if options.get(UNWRAPPED_OPTION, False):
        # autocommit: each statement reads its own snapshot; no ROLLBACK round trip either
        if isinstance(driver, OneTripConnection):
            driver.read_inline(SQLITE_BUSY_TIMEOUT_MS)
        return
    write = options.get(WRITE_OPTION, False)
    if isinstance(driver, OneTripConnection):  # see bot/sqlite_adapter.py
        if write:
            driver.begin_write(SQLITE_BUSY_TIMEOUT_MS)
        else:
            driver.begin_read()
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


_writer_locks: weakref.WeakKeyDictionary[Pool, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]]
_writer_locks = weakref.WeakKeyDictionary()


def _writer_lock(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    """This process's queue for SQLite's single writer; None for PostgreSQL (row locks suffice).

    SQLite lets one transaction write at a time. Without this lock, concurrent writers in one
    process wait inside SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and
    wakes in no particular order: under a burst that is seconds of latency with the CPU idle. An
    asyncio.Lock queues them first come, first served, with no sleeping; the busy timeout still
    covers other processes (a backup, a migration).
    """
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        return None
    # keyed by the pool: an engine with execution options (the clock) shares its pool and its file
    per_loop = _writer_locks.setdefault(bind.sync_engine.pool, weakref.WeakKeyDictionary())
    loop = asyncio.get_running_loop()
    lock = per_loop.get(loop)
    if lock is None:
        lock = per_loop[loop] = asyncio.Lock()
    return lock


WriteWaitObserver = Callable[[float], None]
# keyed by the pool, like the writer locks: the clock's engine (with execution options) shares it
_write_wait_observers: weakref.WeakKeyDictionary[Pool, WriteWaitObserver] = weakref.WeakKeyDictionary()


def observe_write_wait(engine: AsyncEngine, observer: WriteWaitObserver | None) -> None:
    """Call `observer` with the seconds each write transaction on `engine` waited before it could
    write: this process's SQLite writer queue and BEGIN IMMEDIATE, or PostgreSQL's pool checkout."""
    if observer is None:
        _write_wait_observers.pop(engine.sync_engine.pool, None)
    else:
        _write_wait_observers[engine.sync_engine.pool] = observer


def _write_wait_observer(sessions: async_sessionmaker[AsyncSession]) -> WriteWaitObserver | None:
    bind = sessions.kw.get("bind")
    return _write_wait_observers.get(bind.sync_engine.pool) if isinstance(bind, AsyncEngine) else None


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One write transaction: committed when the block ends, rolled back if it raises.

    Not re-entrant: a use case opens exactly one.
    """
    queue = _writer_lock(sessions) or contextlib.nullcontext()
    observer = _write_wait_observer(sessions)
    asked = time.perf_counter()
    # the queue is held from BEGIN to COMMIT, not while the session closes
    async with sessions() as session, queue, session.begin():
        await session.connection(execution_options={WRITE_OPTION: True})
        if observer is not None:
            observer(time.perf_counter() - asked)
        yield session


def _unwrapped_engine(bind: AsyncEngine) -> AsyncEngine:
    """`bind` with the unwrapped-read options (it shares `bind`'s pool). Made per read (about 10 µs):
    a cache keyed by the engine would keep every engine alive, since the options engine holds its
    parent (searches on a SQLite file take the InlineReader and come here only when it cannot run)."""
    options: dict[str, Any] = {UNWRAPPED_OPTION: True}
    if bind.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"  # asyncpg: no BEGIN, no ROLLBACK
    return bind.execution_options(**options)


@asynccontextmanager
async def unwrapped_reads(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncConnection]:
    """A pooled connection for a read that is one statement (a search): no ORM session, and no
    transaction around it, so neither BEGIN nor ROLLBACK costs a round trip. Each statement sees
    the database as of its own start; a read needing several statements to agree uses a session."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("unwrapped reads need a session factory bound to an engine")
    async with _unwrapped_engine(bind).connect() as connection:
        yield connection


def create_sessionmaker(engine: AsyncEngine, *, clock: object | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy reloads in async code); with a
    `clock` (a `bot.clock.Clock`), the models' created/updated times are read from it."""
    if clock is not None:
        engine = engine.execution_options(**{CLOCK_OPTION: clock})
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for the project's migrations against `database_url`."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_LOCATION)
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Run the migrations up to `revision`, blocking until done.

    Alembic's async env.py starts its own event loop, so inside a running loop the work moves to a
    worker thread.
    """
    path = sqlite_path(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(alembic_config(database_url), revision)
        return
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(command.upgrade, alembic_config(database_url), revision).result()


async def upgrade_database_async(database_url: str, revision: str = "head") -> None:
    """Run the migrations from async code without blocking the loop."""
    await asyncio.to_thread(upgrade_database, database_url, revision)


def insert_new(session: AsyncSession, model: type[Any], *keys: str) -> Insert:
    """INSERT … ON CONFLICT (keys) DO NOTHING for `model`: rows that already exist, or that a
    concurrent transaction is inserting, are left as they are instead of failing the use case."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=list(keys))
    return sqlite.insert(model).on_conflict_do_nothing(index_elements=list(keys))
