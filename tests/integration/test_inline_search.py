"""Note search on a SQLite file runs its statement at once through the engine's InlineReader, and
falls back to the pooled path whenever that cannot run without waiting. On a real SQLite file,
whatever the test database is (the reader exists only for SQLite files)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError as SQLAlchemyOperationalError

from bot.db import create_engine, create_sessionmaker, inline_reader
from bot.domain.notes import NoteKind
from bot.services.notes import NoteService
from bot.services.notes.fts5 import Fts5Search
from models import Note
from models.base import utc_from_text

GUILD, ALICE, BOB = 1, 11, 12
NOTES = [
    # (author, topic, kind, title, body, private)
    (ALICE, "Django", NoteKind.LEARNING, "JWT refresh", "Rotate the refresh token on every use.", False),
    (BOB, "Django", NoteKind.TIP, "JWT in headers", "Send the JWT in the Authorization header.", False),
    (BOB, "Docker", NoteKind.CHALLENGE, "JWT secret in Docker", "Pass the JWT secret as an env var.", True),
    (ALICE, "Docker", NoteKind.TIP, "Compose healthcheck", "Wait for postgres before migrating.", False),
    (ALICE, "Django", NoteKind.PRACTICE, "Token expiry", "Short-lived JWT access tokens.", True),
]


@pytest.fixture
async def notes(sqlite_file: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{sqlite_file}")
    service = NoteService(create_sessionmaker(engine))
    for author, topic, kind, title, body, private in NOTES:
        await service.create_note(GUILD, author, topic=topic, kind=kind, title=title, body=body, private=private)
    yield service, engine, sqlite_file
    await engine.dispose()


def _pooled_only(service: NoteService) -> NoteService:
    """The same service on the pooled path alone (a backend without the reader)."""
    service._backend = Fts5Search(None)
    return service


async def test_a_search_with_hits_takes_no_pooled_connection(notes):
    service, engine, _ = notes
    await service.search(GUILD, ALICE, "jwt")  # topics cached, as in a running bot
    checkouts: list[object] = []
    event.listen(engine.sync_engine.pool, "checkout", lambda *args: checkouts.append(args))
    result = await service.search(GUILD, ALICE, "jwt")
    assert [hit.note.title for hit in result.hits][:1] and len(result.hits) == 3  # two public, her own private
    assert checkouts == []
    nothing = await service.search(GUILD, ALICE, "kubernetes")  # no hits: the pooled path suggests
    assert nothing.hits == () and len(checkouts) >= 1


@pytest.mark.parametrize(
    ("viewer", "query", "filters"),
    [
        (ALICE, "jwt", {}),
        (BOB, "jwt", {}),
        (BOB, "jwt token", {}),
        (BOB, "jwt", {"topic": "Docker"}),
        (BOB, "jwt", {"kind": NoteKind.CHALLENGE}),
        (ALICE, "jwt", {"author_id": BOB}),
        (ALICE, "compose postgres", {"topic": "Docker", "kind": NoteKind.TIP, "author_id": ALICE}),
    ],
)
async def test_the_reader_finds_what_the_pooled_path_finds(notes, viewer, query, filters):
    service, engine, _ = notes
    inline = await service.search(GUILD, viewer, query, **filters)
    pooled = await _pooled_only(NoteService(create_sessionmaker(engine))).search(GUILD, viewer, query, **filters)
    assert inline.hits and inline == pooled  # summaries, scores, texts and times alike


async def test_a_busy_database_sends_the_search_to_the_pooled_path(notes):
    service, engine, path = notes
    await engine.dispose()  # exclusive locking needs every other connection closed (WAL's shared memory)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # another process, say
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("UPDATE notes SET title = title WHERE id = 1")
    reader = inline_reader(engine)
    assert reader is not None
    assert reader.rows(select(Note.id), {}) is None  # the reader never waits

    def release() -> None:
        other.execute("COMMIT")
        other.execute("PRAGMA locking_mode=NORMAL")
        other.execute("SELECT 1")  # NORMAL takes effect at the next access, which drops the lock
        other.close()

    timer = threading.Timer(0.3, release)
    timer.start()
    try:
        result = await asyncio.wait_for(service.search(GUILD, ALICE, "jwt"), 8)
    finally:
        timer.join()
    assert len(result.hits) == 3  # it waited for the lock on a connection's thread, then found them
    assert reader.rows(select(Note.id), {}) is not None


async def test_the_reader_closes_with_the_engine_and_reopens_when_used_again(notes):
    service, engine, _ = notes
    reader = inline_reader(engine)
    assert reader is not None and inline_reader(engine.execution_options(anything=1)) is reader
    assert reader.rows(text("SELECT count(*) FROM notes"), {}) == [(len(NOTES),)]
    await engine.dispose()
    assert reader._connection is None
    assert len((await service.search(GUILD, ALICE, "jwt")).hits) == 3


async def test_the_reader_reads_only(notes):
    _, engine, path = notes
    reader = inline_reader(engine)
    assert reader is not None
    assert reader.rows(text("DELETE FROM notes"), {}) is None  # refused (query_only): the pooled path's job
    assert sqlite3.connect(path).execute("SELECT count(*) FROM notes").fetchone()[0] == len(NOTES)


async def test_no_reader_for_postgresql_nor_a_sqlite_url_with_options(tmp_path: Path):
    engine = create_engine("postgresql+asyncpg://nexus@127.0.0.1/nexus")
    assert inline_reader(engine) is None
    assert Fts5Search(None).ranked_now(["jwt"], None, limit=25, any_word=False) is None  # type: ignore[arg-type]
    with_options = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}?timeout=5")
    assert inline_reader(with_options) is None
    await engine.dispose()
    await with_options.dispose()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 11, 30, 14, 5, 9, 123456, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, 0, 1, tzinfo=UTC),
    ],
)
async def test_times_read_with_the_plain_driver_match_the_models(notes, moment):
    _, engine, path = notes
    async with engine.begin() as conn:
        await conn.execute(Note.__table__.update().where(Note.id == 1).values(created_at=moment))
    stored = sqlite3.connect(path).execute("SELECT created_at FROM notes WHERE id = 1").fetchone()[0]
    async with create_sessionmaker(engine)() as session:
        assert (await session.scalar(select(Note.created_at).where(Note.id == 1))) == utc_from_text(stored) == moment


async def test_the_exact_ranking_runs_when_the_overfetch_is_all_hidden(notes):
    """The top 100 by bm25 are someone else's private notes: the filtered over-fetch keeps none, so
    both paths rank again with the filters inside the ranking, and agree."""
    service, engine, _ = notes
    for i in range(110):
        await service.create_note(
            GUILD, BOB, topic="Django", kind=NoteKind.TIP, title=f"JWT JWT {i}", body="JWT JWT JWT", private=True
        )
    for i in range(30):
        await service.create_note(
            GUILD, ALICE, topic="Django", kind=NoteKind.TIP, title=f"Tokens {i}", body=f"About jwt, {i}.", private=False
        )
    inline = await service.search(GUILD, ALICE, "jwt", author_id=ALICE)
    pooled = await _pooled_only(NoteService(create_sessionmaker(engine))).search(GUILD, ALICE, "jwt", author_id=ALICE)
    assert inline == pooled and len(inline.hits) == 25
    everyone = await service.search(GUILD, ALICE, "jwt")
    assert len(everyone.hits) == 25 and not any(
        hit.note.author_id == BOB and hit.note.is_private for hit in everyone.hits
    )
    assert everyone == await _pooled_only(NoteService(create_sessionmaker(engine))).search(GUILD, ALICE, "jwt")


async def test_a_search_without_hits_ranks_once(notes):
    service, engine, _ = notes
    await service.search(GUILD, ALICE, "jwt")
    pooled: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: pooled.append(args[2]))
    result = await service.search(GUILD, ALICE, "kubernetes helm")
    assert result.hits == () and not result.matched_all_words
    assert pooled and not any("notes_fts" in statement for statement in pooled)  # only the tags, for suggestions


async def test_a_failing_reader_is_dropped_and_the_pooled_path_answers(notes, caplog):
    service, engine, path = notes
    reader = inline_reader(engine)
    assert reader is not None
    await service.search(GUILD, ALICE, "jwt")
    assert reader._connection is not None
    broken = sqlite3.connect(path)
    broken.execute("DROP TABLE notes_fts")  # what the inline statement needs is gone
    broken.commit()
    broken.close()
    with pytest.raises(SQLAlchemyOperationalError):  # the error bot/errors.py tells members about
        await service.search(GUILD, ALICE, "jwt")
    assert reader._connection is None
    assert "the pooled path takes it" in caplog.text


async def test_the_statements_of_one_read_see_one_snapshot(notes):
    """A search's page and its count of filtered hits come from one snapshot: a commit between
    them (another connection, WAL) is seen by the next read, not by the rest of this one."""
    _, engine, path = notes
    reader = inline_reader(engine)
    assert reader is not None
    count = text("SELECT count(*) FROM notes")
    other = sqlite3.connect(path, isolation_level=None)

    def plan(run):
        before = run(count, {})
        other.execute("DELETE FROM notes WHERE id = (SELECT min(id) FROM notes)")  # autocommit: committed
        return before, run(count, {})

    assert reader.read(plan) == ([(len(NOTES),)], [(len(NOTES),)])
    assert reader.rows(count, {}) == [(len(NOTES) - 1,)]
    assert reader.read(lambda run: run(count, {})) == [(len(NOTES) - 1,)]  # the reader's transaction ended
    other.close()


async def test_a_read_abandoned_by_an_error_leaves_the_reader_usable(notes):
    _, engine, _ = notes
    reader = inline_reader(engine)
    assert reader is not None

    def plan(run):
        run(text("SELECT 1"), {})
        raise RuntimeError("a bug in the plan")

    with pytest.raises(RuntimeError):
        reader.read(plan)
    assert reader._connection is not None and not reader._connection.in_transaction
    assert reader.rows(text("SELECT count(*) FROM notes"), {}) == [(len(NOTES),)]
