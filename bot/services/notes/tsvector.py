"""Note search on PostgreSQL: the generated tsvector column `notes.search_vector`, ranked by ts_rank."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnClause, ColumnElement, Select, String, bindparam, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.services.notes.backend import RankedNote, like_pattern
from bot.services.notes.records import NoteFilter, NoteSummary, filter_clauses, summary, summary_at, summary_columns
from models import Note, NoteVote

_PG_VECTOR: ColumnClause[Any] = literal_column("notes.search_vector")
_PG_CONFIG = "simple"
"""The text search configuration the generated column was built with (see migration 0008): no
stemming and no stop words, so PostgreSQL finds the same words as SQLite's unicode61 tokenizer."""


def _tsquery(terms: Sequence[str | ColumnElement[str]], *, any_word: bool = False) -> ColumnElement[Any]:
    """A tsquery of the plain terms (never parsed as tsquery syntax): all of them, or any with
    `any_word`. A term with spaces (CJK bigrams) is a phrase."""
    parts: list[ColumnElement[Any]] = [func.phraseto_tsquery(_PG_CONFIG, term) for term in terms]
    return functools.reduce(lambda a, b: a.op("||" if any_word else "&&")(b), parts)


class TsvectorSearch:
    """SearchBackend for PostgreSQL."""

    def __init__(self, engine: AsyncEngine | None = None) -> None:
        pass  # every statement goes through the pool (asyncpg has no blocking driver to run inline)

    def ranked_now(
        self, words: Sequence[str], where: NoteFilter, *, limit: int, any_word: bool
    ) -> tuple[RankedNote, ...] | None:
        """Never at once: `ranked` it is."""
        return None

    async def ranked(
        self,
        connection: AsyncConnection,
        words: Sequence[str],
        where: NoteFilter,
        *,
        limit: int,
        any_word: bool,
    ) -> tuple[RankedNote, ...]:
        """Up to `limit` notes passing `where` that hold every word (any of them with `any_word`),
        highest ts_rank first."""
        params = where.params() | {f"term_{index}": word for index, word in enumerate(words)}
        rows = (await connection.execute(_page(where.shape, len(words), any_word, limit), params)).all()
        # by position: score, body, solution, helpful follow the summary's seven columns (see _page)
        return tuple(RankedNote(summary_at(r, r[10]), r[8], r[9], -r[7]) for r in rows)

    async def completions(
        self,
        session: AsyncSession,
        typed: str,
        words: Sequence[str],
        filters: Sequence[ColumnElement[bool]],
        *,
        limit: int,
    ) -> tuple[NoteSummary, ...]:
        """Up to `limit` notes passing `filters` whose title holds what is typed (those first) or whose
        text holds every word, newest first."""
        in_title = Note.title.ilike(like_pattern(typed))
        rows = (
            await session.execute(
                summary_columns()
                .where(or_(in_title, _PG_VECTOR.op("@@")(_tsquery(words))), *filters)
                .order_by(in_title.desc(), Note.id.desc())
                .limit(limit)
            )
        ).all()
        return tuple(summary(row) for row in rows)


@functools.cache
def _page(shape: tuple[bool, bool, bool], terms: int, any_word: bool, limit: int) -> Select[Any]:
    """One statement for a page of ranked notes with the columns a hit shows and its helpful votes,
    for `terms` bound terms. Built once per shape, so each search only binds values."""
    tsquery = _tsquery([bindparam(f"term_{index}", type_=String) for index in range(terms)], any_word=any_word)
    rank = func.ts_rank(_PG_VECTOR, tsquery)
    votes = select(func.count()).where(NoteVote.note_id == Note.id).scalar_subquery()
    return (
        summary_columns()
        .add_columns(rank.label("score"), Note.body, Note.solution, votes.label("helpful"))
        .where(_PG_VECTOR.op("@@")(tsquery), *filter_clauses(shape))
        .order_by(rank.desc(), Note.id.desc())
        .limit(limit)
    )
