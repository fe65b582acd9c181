"""Note search finds and highlights the same words on SQLite and PostgreSQL.

The suite runs on whichever database NEXUS_TEST_DATABASE_URL selects and CI runs it on both, so each
expectation here is a fixed answer both engines must give: stop words are words, inflections are
other words, and Chinese and Japanese text without spaces is found by its words.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from bot.db import alembic_config, create_engine, create_sessionmaker, upgrade_database
from bot.domain.notes import NoteKind
from bot.domain.search import MAX_QUERY_LENGTH
from bot.services.notes import NoteService
from tests.harness import DatabaseFactory, bounded
from tests.integration.test_migrations import _empty_database

GUILD, ALICE, BOB = 1, 11, 12

CORPUS = {
    "the": ("The state of the art", "What the cohort learned about the ORM."),
    "running": ("Running migrations", "Running them twice is safe."),
    "run": ("One run", "We run the tests on every push."),
    "n1": ("Slow endpoint", "A JOIN fixed the N+1 queries; the transaction was fine."),
    "chinese": ("缓存", "我们用缓存来减少数据库查询"),
    "japanese": ("キャッシュ", "キャッシュでデータベースの負荷を下げる"),
    "mixed": ("Redis缓存", "Redis缓存的过期时间"),
    "idempotency": ("Idempotency keys", "Retries are safe with idempotency keys."),
}

EXPECTED_HITS = {
    "the": {"the", "run", "n1"},
    "running": {"running"},
    "run": {"run"},
    "runs": set(),
    "art state": {"the"},
    "queries": {"n1"},
    "on": {"run"},
    "缓存": {"chinese", "mixed"},
    "数据库": {"chinese"},
    "数据库查询": {"chinese"},
    "查询数据库": set(),
    "キャッシュ": {"japanese"},
    "負荷": {"japanese"},
    "データベース": {"japanese"},
    "redis": {"mixed"},
    "过期": {"mixed"},
}


@pytest.fixture
async def corpus(sessions) -> tuple[NoteService, dict[str, int]]:
    notes = NoteService(sessions)
    ids = {}
    for key, (title, body) in CORPUS.items():
        note = await notes.create_note(GUILD, ALICE, topic="Django", kind=NoteKind.LEARNING, title=title, body=body)
        ids[key] = note.id
    return notes, ids


@pytest.mark.parametrize(("query", "expected"), EXPECTED_HITS.items())
async def test_the_same_words_are_found_on_every_engine(corpus, query, expected):
    notes, ids = corpus
    result = await notes.search(GUILD, BOB, query)
    names = {name for name, note_id in ids.items() if note_id in {hit.note.id for hit in result.hits}}
    assert names == expected
    assert result.matched_all_words or not expected


def _bold(hit) -> list[str]:
    return [hit.snippet.text[start:end] for start, end in hit.snippet.spans]


@pytest.mark.parametrize(
    ("query", "note", "bolded"),
    [
        ("N+1 queries", "n1", ["N", "1", "queries"]),
        ("on", "run", ["on"]),
        ("the", "n1", ["the", "the"]),
        ("数据库", "chinese", ["数据库"]),
        ("缓存 数据库", "chinese", ["缓存", "数据库"]),
        ("負荷", "japanese", ["負荷"]),
        ("キャッシュ", "japanese", ["キャッシュ"]),
        ("redis", "mixed", ["Redis"]),
    ],
)
async def test_only_whole_matched_words_are_highlighted(corpus, query, note, bolded):
    notes, ids = corpus
    result = await notes.search(GUILD, BOB, query)
    (hit,) = [hit for hit in result.hits if hit.note.id == ids[note]]
    assert _bold(hit) == bolded


async def test_invisible_characters_are_ignored_and_said_so(corpus):
    notes, ids = corpus
    for query in ("idem\u200dpotency", "idem\x00potency", "idem\u200bpotency keys"):
        result = await notes.search(GUILD, BOB, query)
        assert [hit.note.id for hit in result.hits] == [ids["idempotency"]]
        assert result.ignored_invisible and not result.cut
    for query in ("idempotency", "idempotency\x00", "idempotency 👨\u200d👩\u200d👧"):
        same_words = await notes.search(GUILD, BOB, query)
        assert not same_words.ignored_invisible and not same_words.cut


async def test_a_long_query_is_cut_and_said_so(corpus):
    notes, ids = corpus
    result = await notes.search(GUILD, BOB, "idempotency " + "x" * MAX_QUERY_LENGTH)
    assert result.cut and not result.ignored_invisible
    assert [hit.note.id for hit in result.hits] == [ids["idempotency"]]
    exact = await notes.search(GUILD, BOB, "y" * MAX_QUERY_LENGTH)
    assert not exact.cut


async def test_cjk_edits_are_reindexed(corpus):
    notes, ids = corpus
    await notes.update_note(GUILD, ALICE, ids["chinese"], title="缓存", body="用索引加速")
    assert not (await notes.search(GUILD, BOB, "数据库")).hits
    assert [hit.note.id for hit in (await notes.search(GUILD, BOB, "索引")).hits] == [ids["chinese"]]


async def test_autocomplete_finds_cjk_words(corpus):
    notes, ids = corpus
    found = await notes.autocomplete(GUILD, BOB, "数据库")
    assert ids["chinese"] in [note.id for note in found]


async def test_the_migration_reindexes_existing_notes(database_factory: DatabaseFactory, tmp_path: Path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url, "0006")
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO note_topics (id, guild_id, name, name_key, created_at, updated_at)"
                    " VALUES (1, :guild, 'Django', 'django', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"guild": GUILD},
            )
            await conn.execute(
                text(
                    "INSERT INTO notes (guild_id, author_id, kind, topic_id, title, body, tags, is_private,"
                    " created_at, updated_at) VALUES (:guild, :author, 'learning', 1, 'Caching',"
                    " '我们用缓存来减少数据库查询', '', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"guild": GUILD, "author": ALICE},
            )
        await bounded(engine.dispose(), "engine.dispose()")
        upgrade_database(url)
        engine = create_engine(url)
        notes = NoteService(create_sessionmaker(engine))
        assert len((await notes.search(GUILD, BOB, "数据库")).hits) == 1
        assert len((await notes.search(GUILD, BOB, "the")).hits) == 0
        await bounded(engine.dispose(), "engine.dispose()")
    finally:
        database_factory.drop(url)


def test_the_migration_downgrades_and_upgrades_again(database_factory: DatabaseFactory, tmp_path: Path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url)
        command.downgrade(alembic_config(url), "0006")
        upgrade_database(url)
        command.check(alembic_config(url))
    finally:
        database_factory.drop(url)
