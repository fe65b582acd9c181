"""SQLAlchemy's aiosqlite adapter with one thread round trip per statement instead of four.

aiosqlite runs each SQLite connection on its own thread; every call from the event loop is a
round trip to that thread (queue, wake-up, future, loop wake-up), which costs CPU on both threads
and, under load, a turn of the busy event loop. SQLAlchemy's stock adapter makes four per
statement: open a cursor, execute, fetch the rows, close the cursor (see bench/interactions.py
--cost and the README's "Running at scale" for what that cost the bot).

This adapter keeps SQLAlchemy's dialect, pool, transactions and aiosqlite's thread, and changes
only the cursor: one call on the connection's thread executes the statement, fetches every row and
closes the SQLite cursor, and the cursor then answers `description`, `rowcount` and `lastrowid`
from what that call returned. SQLAlchemy's aiosqlite cursor already buffers every row, so results
are the same. It is passed to SQLAlchemy through `create_engine(module=...)`, the documented way to
give a dialect another DBAPI module.

It relies on two long-standing aiosqlite internals (`Connection._execute` and `Connection._conn`,
which SQLAlchemy's own adapter also uses); `one_trip_dbapi()` returns None when they are missing
and the stock adapter is used.
"""

from __future__ import annotations

import collections
import functools
import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite
import sqlalchemy

from bot.versions import unsupported_sqlalchemy

_PROBLEM = unsupported_sqlalchemy(sqlalchemy.__version__)
if _PROBLEM is not None:  # fail here, with the cause, not later on a missing private name
    raise ImportError(_PROBLEM)

from sqlalchemy.dialects.sqlite.aiosqlite import (  # noqa: E402
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite  # noqa: E402
from sqlalchemy.sql.compiler import SQLCompiler  # noqa: E402
from sqlalchemy.sql.elements import ClauseElement  # noqa: E402
from sqlalchemy.util import EMPTY_DICT  # noqa: E402
from sqlalchemy.util.concurrency import await_  # noqa: E402

log = logging.getLogger("nexus.db")
_T = TypeVar("_T")
InlineRun = Callable[[ClauseElement, Mapping[str, Any]], list[Any]]
"""Runs one statement inside an InlineReader's read: its rows (see InlineReader.rows)."""

_Outcome = tuple[Any, int, int | None, list[Any]]
_SQLITE = SQLiteDialect_pysqlite()
"""What InlineReader compiles statements for: the plain driver's qmark parameters."""
COMPILED_STATEMENTS = 64
"""Most statements an InlineReader keeps compiled (a search has a handful, one per filter shape)."""
INLINE_READER_PRAGMAS = ("PRAGMA busy_timeout=0", "PRAGMA query_only=1", "PRAGMA cache_size=-16384")
"""An InlineReader never waits for a lock and never writes; its page cache holds up to 16 MiB (8x
SQLite's default), enough for the full-text index's hot pages and its document-size table at
100,000 notes, so a search rarely reads a page from the OS again (the raw query at 100,000 notes,
between LIKE scans: a median 4.3-4.6 ms with SQLite's default 2 MiB, 3.8 ms with this)."""

INLINE_STATEMENTS = 32
"""Most statements of one write transaction that run on the event loop's thread (see below)."""


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool, begin: bool) -> _Outcome:
    """On the connection's thread: BEGIN if asked, execute, fetch everything, close; return what the
    cursor knew."""
    if begin:
        connection.execute("BEGIN")
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _read_now(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool, busy_timeout_ms: int
) -> _Outcome | None:
    """`_run` on the calling thread without waiting for a lock: None when SQLite is busy (a rare
    moment in WAL mode, such as another process recovering the log), for the caller to wait on the
    connection's thread instead."""
    connection.execute("PRAGMA busy_timeout=0")
    try:
        return _run(connection, operation, parameters, many, False)
    except sqlite3.OperationalError as exc:
        if connection.in_transaction or not ("locked" in str(exc) or "busy" in str(exc)):
            raise
        return None
    finally:
        connection.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")


def _try_begin_immediate(connection: sqlite3.Connection, busy_timeout_ms: int) -> bool:
    """BEGIN IMMEDIATE without waiting: False when another process holds the write lock."""
    connection.execute("PRAGMA busy_timeout=0")
    try:
        connection.execute("BEGIN IMMEDIATE")
        return True
    except sqlite3.OperationalError as exc:
        if connection.in_transaction or "locked" not in str(exc):
            raise
        return False
    finally:
        connection.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement costs a single round trip to the connection's thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # deliberately not calling super().__init__: it opens an aiosqlite cursor (a round trip)
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # the SQLite cursor was closed on its thread right after the fetch

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        return await self._trip(operation, seq_of_parameters, many=True)

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> Any:
        connection: Any = self._connection
        outcome: _Outcome
        adapted = self._adapt_connection
        begin = False
        if isinstance(adapted, OneTripConnection):
            if adapted.take_inline_turn():
                outcome = _run(connection._conn, operation, parameters, many, False)
                return self._keep(outcome)
            if adapted.inline_read_timeout is not None:
                read = _read_now(connection._conn, operation, parameters, many, adapted.inline_read_timeout)
                if read is not None:
                    return self._keep(read)
            begin = adapted.take_pending_begin()
        async with adapted._execute_mutex:
            outcome = await connection._execute(_run, connection._conn, operation, parameters, many, begin)
        return self._keep(outcome)

    def _keep(self, outcome: _Outcome) -> Any:
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows)
        return self


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter, handing out one-trip cursors, with two more
    savings that `bot.db` asks for when a transaction begins:

    - A read transaction's BEGIN goes to the thread together with its first statement.
    - A write transaction (`begin_write`) takes SQLite's write lock with BEGIN IMMEDIATE on the
      event loop's thread when it is free at once, which bot.db's queue of writers makes the rule in
      this process; when another process holds it, the wait happens on the connection's thread.
      The transaction's statements then run on the loop's thread too: they are short, nothing in
      this process can be waiting on them, and the transaction no longer yields to every other task
      between its statements while it holds the lock. Under a burst that queueing, repeated for each
      statement, was what made writers wait on each other (bench/interactions.py, tip share at
      150/s). Commit and rollback go back to the thread (a commit may checkpoint the WAL, which
      writes). At most INLINE_STATEMENTS statements run this way; a longer transaction (a
      cohort-wide match run) continues on the thread, so it cannot hold up the event loop for long.
    """

    __slots__ = ("_inline_left", "_pending_begin", "inline_read_timeout")
    _cursor_cls: type[AsyncAdapt_aiosqlite_cursor] = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._inline_left = 0
        self._pending_begin = False
        self.inline_read_timeout: int | None = None
        """Set by `read_inline`: the busy timeout to restore after each statement run inline."""

    def read_inline(self, busy_timeout_ms: int) -> None:
        """Run the statements of a read that holds no transaction (`bot.db.unwrapped_reads`, one
        search) on the event loop's thread, until the connection goes back to the pool.

        Such a read is a few milliseconds of SQLite even over 100,000 notes, while the round trip
        to the connection's thread costs two thread wake-ups and, for every row, the GIL back from
        a busy event loop: on a loaded machine that trip cost more than the query (bench/search.py).
        A statement that finds SQLite busy goes to the thread and waits there, as writes do.
        """
        self.inline_read_timeout = busy_timeout_ms

    def begin_read(self) -> None:
        """BEGIN (deferred) with the next statement, in the same round trip."""
        self._pending_begin = True

    def take_pending_begin(self) -> bool:
        pending, self._pending_begin = self._pending_begin, False
        return pending

    @property
    def inline(self) -> bool:
        """Whether the next statement runs on the event loop's thread."""
        return self._inline_left > 0

    def start_inline(self) -> None:
        self._inline_left = INLINE_STATEMENTS

    def begin_write(self, busy_timeout_ms: int) -> None:
        """BEGIN IMMEDIATE on the loop's thread when the write lock is free at once (in this process
        the writers' queue in bot.db makes that the rule), otherwise wait for it on the connection's
        thread; then run the transaction's statements inline."""
        connection: Any = self._connection
        if not _try_begin_immediate(connection._conn, busy_timeout_ms):
            await_(connection._execute(connection._conn.execute, "BEGIN IMMEDIATE"))
        self.start_inline()

    def take_inline_turn(self) -> bool:
        if self._inline_left <= 0:
            return False
        self._inline_left -= 1
        return True

    def commit(self) -> None:
        self._inline_left = 0
        self._pending_begin = False
        self.inline_read_timeout = None
        super().commit()

    def rollback(self) -> None:
        self._inline_left = 0
        self._pending_begin = False
        self.inline_read_timeout = None
        driver: sqlite3.Connection | None = getattr(self._connection, "_connection", None)
        if driver is not None and not driver.in_transaction:
            return  # nothing to undo (the pool resets every returned connection): no round trip
        super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect sees: stock, except for the cursor."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


def one_trip_dbapi() -> OneTripDBAPI | None:
    """The adapter, or None when this aiosqlite lacks the internals it needs."""
    if not (hasattr(aiosqlite.Connection, "_execute") and hasattr(aiosqlite.Connection, "_conn")):
        return None
    return OneTripDBAPI(aiosqlite, sqlite3)


class InlineReader:
    """A SQLite connection of its own for reads that are one statement each (a note search), run
    on the calling thread with the plain driver: no pool checkout, no SQLAlchemy execution, no
    thread round trip. `bot.db.inline_reader` gives each file engine one.

    A search spent more CPU in the pool checkout, SQLAlchemy's execution and the busy-timeout
    toggling around its statement than SQLite spent running it: at 2,000 notes, with the pauses
    between searches a bot has, 1.9 ms of CPU per search on the pooled path and 0.9 ms on this one;
    `bench/interactions.py --mix search --cost 300` went from 3.7-4.0 ms per search interaction
    (2.2x the bare discord.py bot's) to 2.8 ms (1.4x).

    Read only (PRAGMA query_only) and never waits: a read that finds SQLite busy, or the reader in
    use by another thread, gets None, and the caller takes the pooled path, which waits for the lock
    on a connection's thread.

    The statements of one `read` share a read transaction: they see one snapshot (a search's page
    and its count of filtered hits agree), and FTS5's per-row document-size lookups, nested
    statements inside the ranking, skip the autocommit bookkeeping each of them pays outside a
    transaction (callgrind: 7% fewer instructions for a ranking of 3,000 matching notes).
    """

    __slots__ = ("_compiled", "_connection", "_lock", "_uri")

    def __init__(self, path: Path) -> None:
        self._uri = path.resolve().as_uri() + "?mode=rw"  # never creates the file
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._compiled: dict[ClauseElement, tuple[str, tuple[str, ...], dict[str, Any]]] = {}

    def rows(self, statement: ClauseElement, values: Mapping[str, Any]) -> list[Any] | None:
        """Every row of `statement` with its parameters bound from `values` (the statement's own
        values for the rest, such as its LIMIT), or None when it cannot run now without waiting.
        Each statement is compiled once: pass statements that are built once (functools.cache)."""
        return self.read(lambda run: run(statement, values))

    def read(self, plan: Callable[[InlineRun], _T]) -> _T | None:
        """What `plan` returns, given a function that runs a statement as `rows` does, every
        statement in one read transaction; or None when a statement cannot run now without waiting
        (the plan is then abandoned)."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            connection = self._connection or self._open()
            connection.execute("BEGIN")
            try:
                found = plan(functools.partial(self._run, connection))
            finally:
                if connection.in_transaction:  # nothing was written: this only ends the snapshot
                    connection.execute("ROLLBACK")
            return found
        except sqlite3.Error as exc:
            # busy: the pooled path waits for the lock. Anything else (a disk error, a damaged
            # file, a table a migration is rebuilding): this connection is dropped, and the pooled
            # path answers or raises the error the bot knows how to tell members about
            if not _busy(exc):
                log.warning("Inline read failed (%s); the pooled path takes it", exc)
                self._discard()
            elif self._connection is not None and self._connection.in_transaction:
                self._discard()  # its ROLLBACK failed: an open snapshot would hold the WAL back
            return None
        finally:
            self._lock.release()

    def _run(self, connection: sqlite3.Connection, statement: ClauseElement, values: Mapping[str, Any]) -> list[Any]:
        plain = self._compiled.get(statement)
        if plain is None:
            plain = self._compile(statement)
        sql, names, defaults = plain
        parameters = [values[name] if name in values else defaults[name] for name in names]
        return connection.execute(sql, parameters).fetchall()

    def _compile(self, statement: ClauseElement) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        compiled = cast(SQLCompiler, statement.compile(dialect=_SQLITE))
        plain = (str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params))
        if len(self._compiled) >= COMPILED_STATEMENTS:
            self._compiled.clear()
        self._compiled[statement] = plain
        return plain

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._uri, uri=True, isolation_level=None, check_same_thread=False)
        for pragma in INLINE_READER_PRAGMAS:
            connection.execute(pragma)
        self._connection = connection
        return connection

    def close(self) -> None:
        """Close the connection (the next read opens another)."""
        with self._lock:
            self._discard()

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def _busy(error: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED, extended codes included: another connection holds a lock."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
