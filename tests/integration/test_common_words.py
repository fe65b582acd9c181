"""On SQLite, a query word held by half the notes or more only filters the hits: bm25 gives it a weight
of 1e-6 anyway, and counting its notes for that weight was most of such a search. On a real SQLite
file, whatever the test database is (FTS5 is SQLite's)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.sql.elements import ClauseElement

from bot.db import create_engine, create_sessionmaker, inline_reader
from bot.domain import search as search_rules
from bot.domain.notes import NoteKind
from bot.services.notes import NoteService, fts5
from bot.services.notes.fts5 import Fts5Search, WordCounts
from bot.sqlite_adapter import InlineRun

GUILD, ALICE, BOB = 1, 11, 12
NOTES = [
    # (title, body): "the" is in 6 of 10 notes, "cache" in 4
    ("Cache keys", "Name the cache key after the view."),
    ("Cache invalidation", "Drop the cache when a note changes."),
    ("Cache warmup", "Warm the cache cache cache before the release."),
    ("Per-view cache", "A cache per view, keyed by user."),
    ("Redis TTLs", "Redis keeps entries with a TTL."),
    ("Migrations", "Run the migrations before the tests."),
    ("Docker", "The image runs as a user."),
    ("Signals", "The post_save signal fires after the save."),
    ("Celery", "Workers take tasks from a queue."),
    ("Logging", "JSON lines for each request."),
]
HOLD_THE_AND_CACHE = {1, 2, 3}


@pytest.fixture(autouse=True)
def small_servers_split_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """These notes are few, and "cache" is in 4 of 10: the thresholds for 100,000 would split nothing."""
    monkeypatch.setattr(search_rules, "RANK_SPLIT_MIN_NOTES", 1)
    monkeypatch.setattr(search_rules, "RANK_SPLIT_MAX_SHARE", 0.5)


@pytest.fixture
async def notes(sqlite_file: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{sqlite_file}")
    service = NoteService(create_sessionmaker(engine))
    for title, body in NOTES:
        await service.create_note(GUILD, ALICE, topic="Django", kind=NoteKind.TIP, title=title, body=body)
    yield service, engine
    await engine.dispose()


async def test_a_word_in_half_the_notes_filters_and_the_others_rank(notes):
    service, engine = notes
    both = await service.search(GUILD, ALICE, "the cache")
    assert {hit.note.id for hit in both.hits} == HOLD_THE_AND_CACHE and both.matched_all_words
    # ranked and scored by "cache" alone: bm25 over both words would differ by a few millionths
    alone = [(hit.note.id, hit.score) for hit in (await service.search(GUILD, ALICE, "cache")).hits]
    assert [(hit.note.id, hit.score) for hit in both.hits] == [
        found for found in alone if found[0] in HOLD_THE_AND_CACHE
    ]
    pooled = NoteService(create_sessionmaker(engine))
    pooled._backend = Fts5Search(None)  # the same statements through SQLAlchemy's pool
    assert await pooled.search(GUILD, ALICE, "the cache") == both


async def test_words_all_in_half_the_notes_still_rank(notes):
    service, _ = notes
    for title in ("The cache", "The TTL", "The queue"):
        await service.create_note(GUILD, ALICE, topic="Django", kind=NoteKind.TIP, title=title, body="a the cache")
    # "the" is in 9 of 13 notes and "cache" in 7: nothing is left to rank by, so both rank
    result = await service.search(GUILD, ALICE, "the cache")
    assert len(result.hits) == 6 and len({hit.score for hit in result.hits}) > 1


async def test_counts_are_kept_for_their_time_and_then_taken_again(notes, monkeypatch):
    service, engine = notes
    reader = inline_reader(engine)
    assert reader is not None
    now = [0.0]
    counts = WordCounts(ttl=60.0, clock=lambda: now[0])
    statements: list[object] = []

    def common(*words: str) -> frozenset[str] | None:
        def plan(run: InlineRun) -> frozenset[str]:
            def counted(statement: ClauseElement, values: Mapping[str, Any]) -> list[Any]:
                statements.append(statement)
                return run(statement, values)

            return counts.common(counted, words)

        return reader.read(plan)

    assert common("the", "cache") == {"the"} and len(statements) == 3  # all notes, then each word
    assert common("cache", "the") == {"the"} and len(statements) == 3
    for i in range(4):
        await service.create_note(GUILD, ALICE, topic="Django", kind=NoteKind.TIP, title=f"Tip {i}", body="No article.")
    now[0] = 59.0
    assert common("the", "cache") == {"the"} and len(statements) == 3
    now[0] = 60.0  # "the" is in 6 of 14 notes now
    assert common("the", "cache") == frozenset() and len(statements) == 6
    monkeypatch.setattr(fts5, "WORD_COUNTS_KEPT", 2)
    common("cache", "redis")  # "the" is the least recently used of three: forgotten
    before = len(statements)
    common("cache", "the")  # "cache" is known: only "the" is counted again
    assert len(statements) == before + 1
    monkeypatch.setattr(search_rules, "RANK_SPLIT_MIN_NOTES", 15)  # 14 notes
    now[0] = 120.0
    before = len(statements)
    assert common("the", "cache") == frozenset() and len(statements) == before + 1  # counts the notes only


@pytest.mark.parametrize("shape", [(False, False, False), (True, True, True)])
def test_the_filter_is_one_pass_not_a_lookup_per_note(sqlite_file: Path, shape: tuple[bool, bool, bool]):
    """Without the unary + on rowid, SQLite hands the IN to FTS5 as rowid lookups (plan `=M`), one
    query per note: about 100x slower at 5,000 notes."""
    connection = sqlite3.connect(sqlite_file)
    for statement in (
        fts5._page(shape, 25, 100, True),
        fts5._page(shape, 25, None, True),
        fts5._overfetched(100, True),
    ):
        sql = str(statement.compile(dialect=sqlite_dialect()))
        plan = [row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + sql, ['"a"'] * sql.count("?"))]
        assert "LIST SUBQUERY 1" in plan and "SCAN every_word VIRTUAL TABLE INDEX 0:M5" in plan, plan
        assert not any("=M" in step for step in plan), plan
    connection.close()


async def test_the_exact_ranking_filters_by_the_common_words_too(notes):
    """The top 100 by bm25 are someone else's private notes, so the filters inside the ranking decide:
    the split holds there as well."""
    service, engine = notes
    for i in range(110):
        await service.create_note(
            GUILD, BOB, topic="Django", kind=NoteKind.TIP, title=f"JWT {i}", body="The JWT JWT JWT", private=True
        )
    for i in range(30):
        body = f"About the jwt, {i}." if i % 3 else f"About jwt, {i}."  # 20 of them hold "the"
        await service.create_note(GUILD, ALICE, topic="Django", kind=NoteKind.TIP, title=f"Tokens {i}", body=body)
    for i in range(150):
        await service.create_note(GUILD, ALICE, topic="Django", kind=NoteKind.TIP, title=f"Other {i}", body="The rest.")
    # "the" is in 286 of 300 notes, "jwt" in 140
    both = await service.search(GUILD, ALICE, "the jwt", author_id=ALICE)
    assert len(both.hits) == 20 and all("the" in hit.text.split() for hit in both.hits)
    alone = await service.search(GUILD, ALICE, "jwt", author_id=ALICE, limit=30)
    held = {hit.note.id for hit in both.hits}
    assert [(hit.note.id, hit.score) for hit in both.hits] == [
        (hit.note.id, hit.score) for hit in alone.hits if hit.note.id in held
    ]
    pooled = NoteService(create_sessionmaker(engine))
    pooled._backend = Fts5Search(None)
    assert await pooled.search(GUILD, ALICE, "the jwt", author_id=ALICE) == both
