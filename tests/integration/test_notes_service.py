"""NoteService on a real database (SQLite, or PostgreSQL when NEXUS_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.db import create_engine, create_sessionmaker, transaction
from bot.domain.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from bot.domain.notes import DEFAULT_TOPICS, TITLE_MAX_LENGTH, NoteKind
from bot.services.notes import NoteService
from bot.sqlite_adapter import OneTripConnection

GUILD, OTHER_GUILD = 1, 2
ALICE, BOB, CAROL = 11, 12, 13


@pytest.fixture
async def notes(sessions):
    return NoteService(sessions)


async def _seed(notes: NoteService) -> dict[str, int]:
    made = {
        "jwt": await notes.create_note(
            GUILD,
            ALICE,
            topic="Django",
            kind=NoteKind.LEARNING,
            title="JWT authentication in Django REST framework",
            body="Use simplejwt: access and refresh tokens, rotate refresh tokens, short access lifetime.",
            tags="jwt, auth",
        ),
        "mention": await notes.create_note(
            GUILD,
            BOB,
            topic="Django",
            kind=NoteKind.CHALLENGE,
            title="Slow list endpoint",
            body="The orders endpoint ran hundreds of queries: the N+1 queries problem. JWT was fine.",
            solution="select_related and prefetch_related fixed it.",
            tags="orm, performance",
        ),
        "docker": await notes.create_note(
            GUILD,
            ALICE,
            topic="Docker",
            kind=NoteKind.PRACTICE,
            title="Docker compose with postgres",
            body="Use a healthcheck so the web service waits for postgres before migrating.",
            tags="docker, compose",
        ),
        "private": await notes.create_note(
            GUILD,
            BOB,
            topic="Caching",
            kind=NoteKind.LEARNING,
            title="Secret redis caching idea",
            body="Cache the JWT blacklist in redis.",
            private=True,
        ),
        "other_guild": await notes.create_note(
            OTHER_GUILD,
            ALICE,
            topic="Django",
            kind=NoteKind.LEARNING,
            title="JWT in another server",
            body="JWT everywhere.",
        ),
    }
    return {key: note.id for key, note in made.items()}


async def test_topics_are_seeded_per_guild_and_unique_ignoring_case(notes):
    assert set(await notes.topics(GUILD)) == set(DEFAULT_TOPICS)
    assert await notes.add_topic(GUILD, "  Kubernetes  ", ALICE) == "Kubernetes"
    with pytest.raises(ConflictError, match="already exists"):
        await notes.add_topic(GUILD, "KUBERNETES", ALICE)
    assert "Kubernetes" not in await notes.topics(OTHER_GUILD)
    assert await notes.remove_topic(GUILD, "kubernetes") == "Kubernetes"
    assert "Kubernetes" not in await notes.topics(GUILD)


async def test_removing_a_used_topic_is_refused_and_nothing_is_lost(notes):
    ids = await _seed(notes)
    with pytest.raises(ConflictError, match="nothing was removed"):
        await notes.remove_topic(GUILD, "docker")
    assert "Docker" in await notes.topics(GUILD)
    assert (await notes.get_note(GUILD, ALICE, ids["docker"])).topic == "Docker"


async def test_unknown_topic_is_refused_with_a_suggestion(notes):
    with pytest.raises(ValidationError, match="Did you mean Django"):
        await notes.create_note(GUILD, ALICE, topic="Djnago", kind=NoteKind.TIP, title="t", body="b")


async def test_ranking_puts_the_closest_note_first(notes):
    ids = await _seed(notes)
    result = await notes.search(GUILD, CAROL, "jwt")
    assert [hit.note.id for hit in result.hits][:2] == [ids["jwt"], ids["mention"]]
    # the first note matched by its title: "simplejwt" in its body is another word, not bolded
    first, second = result.hits[0].snippet, result.hits[1].snippet
    assert [first.text[start:end] for start, end in first.spans] == []
    assert [second.text[start:end] for start, end in second.spans] == ["JWT"]
    docker = await notes.search(GUILD, CAROL, "docker compose postgres")
    assert docker.hits[0].note.id == ids["docker"] and docker.matched_all_words
    n1 = await notes.search(GUILD, CAROL, "N+1 queries")
    assert n1.hits[0].note.id == ids["mention"]


async def test_filters_topic_kind_author(notes):
    ids = await _seed(notes)
    assert [h.note.id for h in (await notes.search(GUILD, CAROL, "jwt", topic="django")).hits] == [
        ids["jwt"],
        ids["mention"],
    ]
    assert [h.note.id for h in (await notes.search(GUILD, CAROL, "jwt", kind=NoteKind.CHALLENGE)).hits] == [
        ids["mention"]
    ]
    assert [h.note.id for h in (await notes.search(GUILD, CAROL, "jwt", author_id=ALICE)).hits] == [ids["jwt"]]
    assert (await notes.search(GUILD, CAROL, "jwt", topic="Docker")).hits == ()


async def test_private_notes_and_other_servers_stay_hidden(notes):
    ids = await _seed(notes)
    seen_by_carol = {h.note.id for h in (await notes.search(GUILD, CAROL, "jwt redis")).hits}
    assert ids["private"] not in seen_by_carol and ids["other_guild"] not in seen_by_carol
    seen_by_bob = {h.note.id for h in (await notes.search(GUILD, BOB, "redis")).hits}
    assert seen_by_bob == {ids["private"]}
    with pytest.raises(NotFoundError):
        await notes.get_note(GUILD, CAROL, ids["private"])
    with pytest.raises(NotFoundError):
        await notes.get_note(GUILD, ALICE, ids["other_guild"])
    complete = {n.id for n in await notes.autocomplete(GUILD, CAROL, "secret")}
    assert ids["private"] not in complete
    assert ids["private"] in {n.id for n in await notes.autocomplete(GUILD, BOB, "secret")}
    exported = await notes.export_notes(GUILD, BOB, CAROL)
    assert [n.title for n in exported] == ["Slow list endpoint"]
    assert len(await notes.export_notes(GUILD, BOB, BOB)) == 2


async def test_autocomplete_matches_title_content_and_id(notes):
    ids = await _seed(notes)
    assert ids["docker"] in {n.id for n in await notes.autocomplete(GUILD, CAROL, "healthcheck")}
    assert ids["jwt"] in {n.id for n in await notes.autocomplete(GUILD, CAROL, "JWT auth")}
    by_id = await notes.autocomplete(GUILD, CAROL, str(ids["docker"]))
    assert by_id[0].id == ids["docker"]
    assert len(await notes.autocomplete(GUILD, CAROL, "")) == 3


async def test_or_fallback_and_suggestions(notes):
    ids = await _seed(notes)
    partial = await notes.search(GUILD, CAROL, "docker kubernetes")
    assert not partial.matched_all_words and partial.hits[0].note.id == ids["docker"]
    nothing = await notes.search(GUILD, CAROL, "djnago")
    assert nothing.hits == () and "Django" in nothing.suggestions


async def test_votes_toggle_once_per_member(notes):
    ids = await _seed(notes)
    assert (await notes.toggle_helpful(GUILD, CAROL, ids["jwt"])).voted
    result = await notes.toggle_helpful(GUILD, BOB, ids["jwt"])
    assert result.voted and result.helpful_count == 2
    result = await notes.toggle_helpful(GUILD, CAROL, ids["jwt"])
    assert not result.voted and result.helpful_count == 1
    with pytest.raises(PermissionDeniedError):
        await notes.toggle_helpful(GUILD, ALICE, ids["jwt"])
    with pytest.raises(NotFoundError):
        await notes.toggle_helpful(GUILD, CAROL, ids["private"])


async def test_edit_and_delete_rights(notes):
    ids = await _seed(notes)
    with pytest.raises(PermissionDeniedError):
        await notes.update_note(GUILD, BOB, ids["jwt"], title="hacked", body="hacked")
    assert (await notes.get_note(GUILD, ALICE, ids["jwt"])).title.startswith("JWT")
    edited = await notes.update_note(GUILD, ALICE, ids["jwt"], title="JWT tokens", body="rotate", tags="jwt")
    assert edited.title == "JWT tokens" and edited.tags == ("jwt",)
    assert [h.note.id for h in (await notes.search(GUILD, CAROL, "rotate")).hits] == [ids["jwt"]]
    assert (await notes.search(GUILD, CAROL, "simplejwt")).hits == ()
    with pytest.raises(PermissionDeniedError):
        await notes.delete_note(GUILD, BOB, ids["jwt"], is_staff=False)
    await notes.toggle_helpful(GUILD, CAROL, ids["jwt"])
    assert (await notes.delete_note(GUILD, CAROL, ids["jwt"], is_staff=True)).title == "JWT tokens"
    assert (await notes.search(GUILD, CAROL, "rotate")).hits == ()
    with pytest.raises(NotFoundError):  # staff cannot reach another member's private note either
        await notes.deletable_note(GUILD, CAROL, ids["private"], is_staff=True)
    assert await notes.deletable_note(GUILD, BOB, ids["private"], is_staff=False)


async def test_bad_fields_are_refused(notes):
    with pytest.raises(ValidationError, match="blank"):
        await notes.create_note(GUILD, ALICE, topic="Python", kind=NoteKind.LEARNING, title="   ", body="b")
    with pytest.raises(ValidationError, match="limit"):
        await notes.create_note(
            GUILD, ALICE, topic="Python", kind=NoteKind.LEARNING, title="x" * (TITLE_MAX_LENGTH + 1), body="b"
        )
    with pytest.raises(ValidationError, match="Only challenges"):
        await notes.create_note(GUILD, ALICE, topic="Python", kind=NoteKind.TIP, title="t", body="b", solution="s")
    with pytest.raises(ValidationError, match="limit"):
        await notes.share_tip(GUILD, ALICE, "x" * 301, "Python")


async def test_tips_random_and_top(notes):
    first = await notes.share_tip(GUILD, ALICE, "Use select_related for foreign keys", "Django")
    second = await notes.share_tip(GUILD, BOB, "Pin your base image tags", "Docker")
    await notes.create_note(GUILD, BOB, topic="Docker", kind=NoteKind.TIP, title="hidden", body="x", private=True)
    await notes.toggle_helpful(GUILD, CAROL, second.id)
    top = await notes.top_tips(GUILD)
    assert [t.id for t in top] == [second.id, first.id] and top[0].helpful_count == 1
    assert [t.id for t in await notes.top_tips(GUILD, topic="django", days=7)] == [first.id]
    for _ in range(10):
        tip = await notes.random_tip(GUILD)
        assert tip is not None and tip.id in {first.id, second.id}
    assert await notes.random_tip(GUILD, "Caching") is None


NASTY = [
    '"',
    '"unbalanced',
    "a AND OR NOT b",
    "NEAR(jwt docker, 2)",
    "jwt*",
    "^jwt",
    "title:jwt",
    "body : - jwt",
    "(((",
    "🐍🔥",
    "Джанго 日本語 العربية",
    "x" * 500,
    "!!!???...",
    "   ",
    "",
    "'; DROP TABLE notes; --",
    "%_\\",
    "\x00\x1f",
]


@pytest.mark.parametrize("query", NASTY)
async def test_search_survives_any_text(notes, query):
    await _seed(notes)
    result = await notes.search(GUILD, CAROL, query)
    assert isinstance(result.hits, tuple)
    await notes.autocomplete(GUILD, CAROL, query)


async def _probe(notes: NoteService, query: str) -> None:
    result = await notes.search(GUILD, CAROL, query)
    assert all(hit.note.id for hit in result.hits)
    assert all(not hit.note.is_private for hit in result.hits)
    await notes.autocomplete(GUILD, CAROL, query)


def test_search_survives_generated_text(database_url):
    """Property: any text (bounded examples) is searched without an error and never leaks privacy."""
    with asyncio.Runner() as runner:
        engine = create_engine(database_url)
        notes = NoteService(create_sessionmaker(engine))
        runner.run(_seed(notes))

        @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(st.text(max_size=200) | st.text(alphabet='"*^:()-+ ANDORNEAjwtdocker', max_size=60))
        def check(query: str) -> None:
            runner.run(_probe(notes, query))

        try:
            check()
        finally:
            runner.run(engine.dispose())


async def test_control_characters_in_filters_are_harmless(notes):
    await _seed(notes)
    with pytest.raises(ValidationError):
        await notes.search(GUILD, CAROL, "jwt", topic="Dja\x00ngx!")
    assert (await notes.search(GUILD, CAROL, "jwt", topic="Djan\x00go")).hits


async def test_a_use_case_never_holds_two_pooled_connections(database_url):
    """With a pool of one connection, every read path still finishes: a cache miss inside a use
    case must not need a second connection while the first is held (that would deadlock a busy
    pool)."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=3)
    try:
        notes = NoteService(create_sessionmaker(engine))
        await notes.create_note(GUILD, ALICE, topic="Docker", kind=NoteKind.TIP, title="Compose", body="docker compose")
        for _ in range(2):  # cold caches, then warm ones
            notes.topic_cache.invalidate(GUILD)
            assert (await notes.search(GUILD, BOB, "kubernetes nothing")).suggestions is not None
            notes.topic_cache.invalidate(GUILD)
            assert (await notes.search(GUILD, BOB, "compose", topic="docker")).hits
            notes.topic_cache.invalidate(GUILD)
            assert await notes.random_tip(GUILD, "Docker") is not None
            notes.topic_cache.invalidate(GUILD)
            assert await notes.top_tips(GUILD, "Docker")
    finally:
        await engine.dispose()


async def test_a_search_reads_outside_the_writers_queue_and_any_transaction(sessions, monkeypatch):
    """A search is one statement with no transaction around it: it neither waits for SQLite's
    single-writer queue nor costs a BEGIN (and a ROLLBACK) on SQLite."""
    notes = NoteService(sessions)
    await notes.create_note(1, 7, topic="Django", kind=NoteKind.LEARNING, title="Queue", body="select_related")
    await notes.search(1, 7, "anything")  # the guild's first read makes sure its topics exist: a write, once
    reads_begun: list[object] = []
    real_begin_read = OneTripConnection.begin_read

    def begin_read(self: OneTripConnection) -> None:
        reads_begun.append(self)
        real_begin_read(self)

    monkeypatch.setattr(OneTripConnection, "begin_read", begin_read)
    async with transaction(sessions):  # a writer holds the queue (and, on SQLite, the write lock)
        result = await asyncio.wait_for(notes.search(1, 7, "select_related"), timeout=5)
    assert [hit.note.title for hit in result.hits] == ["Queue"]
    assert reads_begun == []
