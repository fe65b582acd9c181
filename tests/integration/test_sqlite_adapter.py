"""The SQLite adapter (bot/sqlite_adapter.py) on a real SQLite file, whatever the test database is."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import column, table

from bot import sqlite_adapter
from bot.db import SQLITE_BUSY_TIMEOUT_MS, create_engine, create_sessionmaker, transaction, unwrapped_reads
from bot.sqlite_adapter import INLINE_STATEMENTS, OneTripConnection

items = table("items", column("id"), column("name"), column("n"))


@pytest.fixture
async def engine(tmp_path: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'adapter.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, n INTEGER)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    """Every call handed to an aiosqlite connection thread (a spy: the real call still runs)."""
    calls: list[threading.Thread] = []
    real = aiosqlite.Connection._execute

    async def spy(self, fn, *args, **kwargs):
        calls.append(threading.current_thread())
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", spy)
    return calls


async def _driver_connection(engine: AsyncEngine) -> object:
    async with engine.connect() as conn:
        return (await conn.get_raw_connection()).dbapi_connection


async def test_the_engine_uses_the_adapter(engine):
    assert isinstance(await _driver_connection(engine), OneTripConnection)


async def test_a_statement_is_one_round_trip(engine, trips):
    async with engine.connect() as conn:
        await conn.execute(select(items.c.id))  # warm: the pool has its connection
        before = len(trips)
        rows = (await conn.execute(text("SELECT 1, 2"))).all()
    assert rows == [(1, 2)]
    assert len(trips) - before == 2  # the SELECT, then the rollback when the connection is returned
    before = len(trips)
    async with create_sessionmaker(engine)() as session:  # a read transaction from its start
        assert (await session.execute(text("SELECT 3"))).scalar_one() == 3
        assert (await session.execute(text("SELECT 4"))).scalar_one() == 4
    assert len(trips) - before == 3  # BEGIN travels with the first SELECT; the second; the rollback


async def test_an_unwrapped_read_runs_on_the_loop_with_no_round_trip(engine, trips):
    sessions = create_sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.execute(insert(items).values(name="a", n=1))
    before = len(trips)
    async with unwrapped_reads(sessions) as conn:
        assert (await conn.execute(select(items.c.name))).scalars().all() == ["a"]
        assert (await conn.execute(select(items.c.n))).scalars().all() == [1]
        driver = (await conn.get_raw_connection()).dbapi_connection
        assert isinstance(driver, OneTripConnection) and driver.inline_read_timeout is not None
        assert not driver._connection._conn.in_transaction  # no BEGIN: each statement on its own
    assert len(trips) == before  # neither the statements nor returning the connection went to the thread
    assert driver.inline_read_timeout is None  # back in the pool, the connection uses its thread again
    async with engine.connect() as plain:
        await plain.execute(select(items.c.id))
    assert len(trips) > before


async def test_an_unwrapped_read_that_finds_sqlite_busy_waits_on_the_thread(engine, trips, monkeypatch):
    sessions = create_sessionmaker(engine)
    real_run = sqlite_adapter._run
    busy_once = [True]

    def run(connection, operation, parameters, many, begin):
        if busy_once and threading.current_thread() is threading.main_thread():
            busy_once.clear()
            raise sqlite3.OperationalError("database is locked")
        return real_run(connection, operation, parameters, many, begin)

    monkeypatch.setattr(sqlite_adapter, "_run", run)
    before = len(trips)
    async with unwrapped_reads(sessions) as conn:
        assert (await conn.execute(text("SELECT 5"))).scalar_one() == 5
        driver = (await conn.get_raw_connection()).dbapi_connection
    timeout = driver._connection._conn.execute("PRAGMA busy_timeout").fetchone()[0]
    assert not busy_once and len(trips) - before == 1  # the busy statement went to the thread
    assert timeout == SQLITE_BUSY_TIMEOUT_MS  # and the busy timeout was put back


async def test_cursor_answers_like_sqlite3(engine):
    async with engine.begin() as conn:
        result = await conn.execute(insert(items).values(name="a", n=1))
        assert result.lastrowid == 1
        many = await conn.execute(insert(items), [{"name": "b", "n": 2}, {"name": "c", "n": 2}, {"name": "d", "n": 3}])
        assert many.rowcount == 3
        changed = await conn.execute(update(items).where(items.c.n == bindparam("old")).values(n=9), {"old": 2})
        assert changed.rowcount == 2
        rows = (await conn.execute(select(items.c.name, items.c.n).order_by(items.c.name))).mappings().all()
    assert [dict(r) for r in rows] == [
        {"name": "a", "n": 1},
        {"name": "b", "n": 9},
        {"name": "c", "n": 9},
        {"name": "d", "n": 3},
    ]


async def test_errors_reach_the_caller_on_both_paths(engine):
    sessions = create_sessionmaker(engine)
    async with engine.begin() as conn:
        await conn.execute(insert(items).values(name="taken", n=1))
    with pytest.raises(IntegrityError):  # a read-write connection: statements on the thread
        async with engine.begin() as conn:
            await conn.execute(insert(items).values(name="taken", n=2))
    with pytest.raises(IntegrityError):  # a write transaction: statements on the loop
        async with transaction(sessions) as session:
            await session.execute(insert(items).values(name="taken", n=3))
    async with sessions() as session:
        assert (await session.execute(select(items.c.n).where(items.c.name == "taken"))).scalar_one() == 1


async def test_write_transactions_run_statements_on_the_loop_until_they_end(engine, trips):
    sessions = create_sessionmaker(engine)
    driver = await _driver_connection(engine)
    assert isinstance(driver, OneTripConnection)
    before = len(trips)
    async with transaction(sessions) as session:
        assert (await session.connection()).sync_connection.connection.dbapi_connection is driver
        assert driver.inline
        for i in range(5):
            await session.execute(insert(items).values(name=f"x{i}", n=i))
        assert len(trips) == before  # BEGIN IMMEDIATE and five statements, no thread round trip
    assert len(trips) == before + 1  # the commit
    assert not driver.inline  # committed
    with pytest.raises(RuntimeError):
        async with transaction(sessions) as session:
            await session.execute(insert(items).values(name="y", n=0))
            raise RuntimeError("the use case failed")
    assert not driver.inline  # rolled back
    async with sessions() as session:
        names = (await session.execute(select(items.c.name).order_by(items.c.name))).scalars().all()
        assert not driver.inline  # a read session
    assert names == ["x0", "x1", "x2", "x3", "x4"]


async def test_a_writer_waits_for_another_process_on_the_thread(engine, tmp_path, trips):
    sessions = create_sessionmaker(engine)
    other = sqlite3.connect(tmp_path / "adapter.db", isolation_level=None)  # e.g. a migration
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO items (name, n) VALUES ('other', 0)")

    async def write() -> None:
        async with transaction(sessions) as session:
            await session.execute(insert(items).values(name="bot", n=1))

    before = len(trips)
    writer = asyncio.create_task(write())
    for _ in range(10):  # the loop keeps serving while the writer waits (ten turns, however slow)
        await asyncio.sleep(0.01)
    assert not writer.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writer, 5)
    assert len(trips) > before  # BEGIN IMMEDIATE waited on the connection's thread
    async with sessions() as session:
        assert sorted((await session.execute(select(items.c.name))).scalars().all()) == ["bot", "other"]


async def test_a_long_write_transaction_goes_back_to_the_thread(engine, trips):
    sessions = create_sessionmaker(engine)
    async with transaction(sessions) as session:
        before = len(trips)
        for i in range(INLINE_STATEMENTS + 5):
            await session.execute(insert(items).values(name=f"z{i}", n=i))
        assert len(trips) - before == 5  # the statements past the budget yield to the loop again
    async with sessions() as session:
        assert len((await session.execute(select(items.c.id))).all()) == INLINE_STATEMENTS + 5


async def test_concurrent_writers_and_readers_all_finish(engine):
    sessions = create_sessionmaker(engine)

    async def write(i: int) -> None:
        async with transaction(sessions) as session:
            count = (await session.execute(text("SELECT count(*) FROM items"))).scalar_one()
            await session.execute(insert(items).values(name=f"w{i}", n=count))

    async def read() -> int:
        async with sessions() as session:
            return int((await session.execute(text("SELECT count(*) FROM items"))).scalar_one())

    results = await asyncio.gather(*(write(i) for i in range(40)), *(read() for _ in range(40)))
    assert all(0 <= r <= 40 for r in results[40:])
    async with sessions() as session:
        counts = sorted((await session.execute(select(items.c.n))).scalars().all())
    assert counts == list(range(40))  # each writer saw every earlier commit: writes were serialised
