"""On SQLite, a query word held by half the notes or more only filters the hits: bm25 gives it a weight
of 1e-6 anyway, and counting its notes for that weight was most of such a search. On a real SQLite
file, whatever the test database is (FTS5 is SQLite's)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.db import create_engine, create_sessionmaker, inline_reader, upgrade_database
from bot.domain.notes import NoteKind
from bot.services.notes import NoteService, fts5
from bot.services.notes.fts5 import Fts5Search, WordCounts
from bot.sqlite_adapter import InlineRun

GUILD, ALICE = 1, 11
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


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("common") / "template.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def notes(template: Path, tmp_path: Path):
    path = tmp_path / "notes.db"
    shutil.copy(template, path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
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
            return counts.common(
                lambda statement, values: statements.append(statement) or run(statement, values), words
            )

        return reader.read(plan)

    assert common("the", "cache") == {"the"} and len(statements) == 3  # all notes, then each word
    assert common("cache", "the") == {"the"} and len(statements) == 3
    for i in range(4):
        await service.create_note(GUILD, ALICE, topic="Django", kind=NoteKind.TIP, title=f"Tip {i}", body="No article.")
    now[0] = 59.0
    assert common("the") == {"the"} and len(statements) == 3
    now[0] = 60.0  # 6 of 14 notes now
    assert common("the") == frozenset() and len(statements) == 5
    monkeypatch.setattr(fts5, "WORD_COUNTS_KEPT", 2)
    common("cache", "redis")  # "the" is the least recently used of three: forgotten
    before = len(statements)
    common("the")
    assert len(statements) == before + 1
