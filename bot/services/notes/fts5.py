"""Note search on SQLite: the FTS5 index `notes_fts`, ranked by bm25."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnClause, ColumnElement, Row, func, literal_column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.notes.backend import RankedNote
from bot.services.notes.records import NoteSummary, summary, summary_columns
from models import Note, NoteVote

SEARCH_OVERFETCH = 4
"""Ranked hits fetched per hit shown, before the visibility and filter checks."""

_BM25 = "bm25(notes_fts, 10.0, 1.0, 1.0, 5.0, 1.0)"
"""Column weights for title, body, solution, tags and the CJK bigrams: a match in the title counts most."""
_FTS = table("notes_fts", literal_column("rowid"))
_FTS_ROWID: ColumnClause[int] = literal_column("notes_fts.rowid")
_FTS_TABLE: ColumnClause[Any] = literal_column("notes_fts")


def fts5_string(token: str) -> str:
    """`token` as an FTS5 string literal: wrapped in double quotes, embedded quotes doubled."""
    return '"' + token.replace('"', '""') + '"'


def fts5_match(tokens: Iterable[str], *, any_word: bool = False, prefix: bool = False) -> str:
    """An FTS5 MATCH expression in which every token is a quoted string, never an operator.

    All words must match unless `any_word`; with `prefix`, each word also matches longer words. A
    token with spaces (CJK bigrams) is a phrase: its words must follow one another.
    """
    star = " *" if prefix else ""
    parts = [fts5_string(token) + star for token in tokens]
    return (" OR " if any_word else " ").join(parts)


class Fts5Search:
    """SearchBackend for SQLite."""

    async def ranked(
        self,
        session: AsyncSession,
        words: Sequence[str],
        filters: Sequence[ColumnElement[bool]],
        *,
        limit: int,
        any_word: bool,
    ) -> tuple[RankedNote, ...]:
        """Up to `limit` notes passing `filters` that hold every word (any of them with `any_word`),
        lowest bm25 first."""
        match = fts5_match(words, any_word=any_word)
        # Rank inside the FTS index alone (no join) and over-fetch; the filters then keep the page.
        # When the filters leave fewer than `limit` of a full over-fetch, rank again with the
        # filters inside the ranking query: slower, but exact.
        overfetch = limit * SEARCH_OVERFETCH
        rows, fetched = await _page(session, match, filters, limit, overfetch=overfetch)
        if len(rows) < limit and fetched == overfetch:
            rows, fetched = await _page(session, match, filters, limit, overfetch=None)
        return tuple(RankedNote(summary(r, int(r.helpful)), r.body, r.solution, float(r.score)) for r in rows)

    async def completions(
        self,
        session: AsyncSession,
        typed: str,
        words: Sequence[str],
        filters: Sequence[ColumnElement[bool]],
        *,
        limit: int,
    ) -> tuple[NoteSummary, ...]:
        """Up to `limit` notes passing `filters` in which every word starts a word, lowest bm25 first."""
        rows = (
            await session.execute(
                summary_columns()
                .join(_FTS, Note.id == _FTS_ROWID)
                .where(_FTS_TABLE.match(fts5_match(words, prefix=True)), *filters)
                .order_by(literal_column(_BM25))
                .limit(limit)
            )
        ).all()
        return tuple(summary(row) for row in rows)


async def _page(
    session: AsyncSession,
    match: str,
    filters: Sequence[ColumnElement[bool]],
    limit: int,
    *,
    overfetch: int | None,
) -> tuple[Sequence[Row[Any]], int]:
    """A page of ranked rows, and how many rows the ranking step fetched before filtering."""
    score: ColumnElement[float] = literal_column(_BM25)
    ranked_query = select(_FTS_ROWID.label("id"), score.label("score")).select_from(_FTS)
    if overfetch is None:
        ranked_query = ranked_query.join(Note, Note.id == _FTS_ROWID).where(_FTS_TABLE.match(match), *filters)
    else:
        ranked_query = ranked_query.where(_FTS_TABLE.match(match))
    ranked = ranked_query.order_by(score, _FTS_ROWID.desc()).limit(overfetch or limit).cte("ranked")
    votes = select(func.count()).where(NoteVote.note_id == Note.id).scalar_subquery()
    fetched = select(func.count()).select_from(ranked).scalar_subquery()
    rows = (
        await session.execute(
            summary_columns()
            .add_columns(ranked.c.score, Note.body, Note.solution, votes.label("helpful"), fetched.label("fetched"))
            .join(ranked, ranked.c.id == Note.id)
            .where(*filters)
            .order_by(ranked.c.score, Note.id.desc())
            .limit(limit)
        )
    ).all()
    if rows:
        return rows, int(rows[0].fetched)
    return rows, int(await session.scalar(select(func.count()).select_from(ranked)) or 0)
