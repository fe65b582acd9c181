"""Finding notes: ranked full-text search with snippets and suggestions, and note autocomplete.

The engine's full-text queries sit behind SearchBackend; `search_backend` picks the one for the
database once, when the service is built.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import unwrapped_reads
from bot.domain.notes import NoteKind, parse_note_ref
from bot.domain.search import Snippet, clean_query, query_terms, snippet, suggest, tokenize
from bot.domain.text import strip_control
from bot.services.notes.backend import RankedNote, SearchBackend
from bot.services.notes.fts5 import Fts5Search
from bot.services.notes.records import NoteFilter, NoteSummary, summary, summary_columns, tags_of, visible_to
from bot.services.notes.topics import NoteTopics
from bot.services.notes.tsvector import TsvectorSearch
from models import Note

SEARCH_RESULT_LIMIT = 25
"""Most hits one search returns: five pages of five; past that, members should refine the query."""
AUTOCOMPLETE_LIMIT = 25
"""Discord shows at most 25 autocomplete choices."""
SUGGESTION_TAG_SAMPLE = 500
"""How many recent notes' tags are considered for "did you mean" suggestions."""
SNIPPET_WIDTH = 200

SEARCH_BACKENDS: dict[str, Callable[[AsyncEngine], SearchBackend]] = {
    "sqlite": Fts5Search,
    "postgresql": TsvectorSearch,
}
"""The search backend for each database engine Nexus runs on, by SQLAlchemy dialect name."""


def search_backend(sessions: async_sessionmaker[AsyncSession]) -> SearchBackend:
    """The search backend for the database engine `sessions` are bound to."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("note search needs a session factory bound to an engine")
    backend = SEARCH_BACKENDS.get(bind.dialect.name)
    if backend is None:
        raise ValueError(f"note search does not support {bind.dialect.name} databases")
    return backend(bind)


@dataclass(frozen=True)
class SearchHit:
    """A note that matched a search, and the words of the query. Lower scores rank first."""

    note: NoteSummary
    text: str
    """The note's text a snippet is cut from (its body and solution)."""
    words: tuple[str, ...]
    score: float

    @functools.cached_property
    def snippet(self) -> Snippet:
        """A snippet of the note's text (not the whole note) and where the query's words are in it:
        built when first shown, so a search pays only for the page a member sees."""
        return snippet(self.text, self.words, width=SNIPPET_WIDTH)


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits, best first; when there are none, topics or tags that look like the query. Whether
    invisible characters were dropped from the query, or it was cut, so the reply can say so."""

    words: tuple[str, ...]
    hits: tuple[SearchHit, ...] = ()
    matched_all_words: bool = True
    suggestions: tuple[str, ...] = ()
    ignored_invisible: bool = False
    cut: bool = False


def _hit(ranked: RankedNote, words: tuple[str, ...]) -> SearchHit:
    return SearchHit(ranked.note, f"{ranked.body} {ranked.solution or ''}", words, ranked.score)


class NoteSearch(NoteTopics):
    """Search use cases, one read per call."""

    _backend: SearchBackend

    async def search(
        self,
        guild_id: int,
        viewer_id: int,
        query: str,
        *,
        topic: str | None = None,
        kind: NoteKind | None = None,
        author_id: int | None = None,
        limit: int = SEARCH_RESULT_LIMIT,
    ) -> SearchResult:
        """Notes ranked by relevance to the words of `query` (never parsed as query syntax).

        All words must match; when no note has them all, notes with any of them are ranked instead.
        Invisible characters are dropped and a query longer than MAX_QUERY_LENGTH is cut; the
        result says when either happened.
        """
        cleaned = clean_query(query)
        words = tokenize(cleaned.text)
        terms = query_terms(words)
        topic_id = await self._topic_id(guild_id, topic)
        await self._seed(guild_id)
        where = NoteFilter(guild_id, viewer_id, topic_id, kind, author_id)
        ranked, matched_all = self._ranked_now(terms, where, limit)
        tags: list[str] = []
        if not ranked:
            # few statements, so no transaction around them (no BEGIN, no ROLLBACK): SQLite's word
            # counts (fts5.WordCounts) and the page may then see different snapshots, which moves
            # a score by millionths at most
            async with unwrapped_reads(self._sessions) as connection:
                if ranked is None:  # the engine could not rank at once: every word, then any of them
                    ranked = await self._backend.ranked(connection, terms, where, limit=limit, any_word=not matched_all)
                    if not ranked and matched_all and len(terms) > 1:
                        ranked = await self._backend.ranked(connection, terms, where, limit=limit, any_word=True)
                        matched_all = False
                if not ranked:
                    tags = await _recent_tags(connection, guild_id, viewer_id)
        hits = tuple(_hit(found, words) for found in ranked or ())
        suggestions: tuple[str, ...] = ()
        if not hits:
            # the topics come from the cache after the session is closed: a cache miss opens its own
            # session, and one use case must never hold two pooled connections at once
            suggestions = suggest(cleaned.text, [*await self.topics(guild_id), *tags])
        return SearchResult(words, hits, matched_all, suggestions, cleaned.ignored_invisible, cleaned.cut)

    def _ranked_now(
        self, terms: tuple[str, ...], where: NoteFilter, limit: int
    ) -> tuple[tuple[RankedNote, ...] | None, bool]:
        """The ranked hits for every word (for any of them when none has them all, which the second
        value says), run at once when the engine can: None where it could not, for the pooled path."""
        if not terms:
            return (), True
        ranked = self._backend.ranked_now(terms, where, limit=limit, any_word=False)
        if ranked == () and len(terms) > 1:
            return self._backend.ranked_now(terms, where, limit=limit, any_word=True), False
        return ranked, True

    async def autocomplete(
        self, guild_id: int, viewer_id: int, typed: str, *, own_only: bool = False
    ) -> tuple[NoteSummary, ...]:
        """Up to 25 notes whose id, title or content matches what is typed so far."""
        filters: list[ColumnElement[bool]] = [visible_to(guild_id, viewer_id)]
        if own_only:
            filters.append(Note.author_id == viewer_id)
        typed = strip_control(typed, keep_newlines=False)
        words = query_terms(tokenize(typed))
        async with self._sessions() as session:
            found: dict[int, NoteSummary] = {}
            note_id = parse_note_ref(typed) if typed.strip().lstrip("#").isdigit() else None
            if note_id is not None:
                row = (await session.execute(summary_columns().where(Note.id == note_id, *filters))).first()
                if row is not None:
                    found[row.id] = summary(row)
            if words:
                matches = await self._backend.completions(session, typed, words, filters, limit=AUTOCOMPLETE_LIMIT)
            else:
                newest = summary_columns().where(*filters).order_by(Note.id.desc()).limit(AUTOCOMPLETE_LIMIT)
                matches = tuple(summary(row) for row in (await session.execute(newest)).all())
            for note in matches:
                found.setdefault(note.id, note)
        return tuple(found.values())[:AUTOCOMPLETE_LIMIT]


async def _recent_tags(connection: AsyncConnection, guild_id: int, viewer_id: int) -> list[str]:
    """Tags of the newest notes the viewer may see, for "did you mean" suggestions."""
    pool: list[str] = []
    tag_rows = await connection.scalars(
        select(Note.tags)
        .where(visible_to(guild_id, viewer_id), Note.tags != "")
        .order_by(Note.id.desc())
        .limit(SUGGESTION_TAG_SAMPLE)
    )
    for text in tag_rows:
        pool.extend(tags_of(text))
    return pool
