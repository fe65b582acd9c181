"""The interface between note search and a database engine's full-text index.

SQLite (FTS5, bm25) and PostgreSQL (tsvector, ts_rank) each implement it in their own module; the
search use cases pick one when the service is built and never ask which engine they run on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.services.notes.records import NoteFilter, NoteSummary


@dataclass(frozen=True)
class RankedNote:
    """A note an engine matched: its summary, the text its snippet is cut from, and its score."""

    note: NoteSummary
    body: str
    solution: str | None
    score: float
    """Lower ranks first, on every engine."""


class SearchBackend(Protocol):
    """Full-text queries over notes on one database engine. The index itself is kept up to date by
    the database (SQLite triggers, a PostgreSQL generated column), so there is nothing to index here."""

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
        best first. The words are `bot.domain.search.query_terms`: a word with spaces is a phrase.
        Usually one statement, built once per filter shape; `connection` may hold no transaction."""
        ...

    def ranked_now(
        self, words: Sequence[str], where: NoteFilter, *, limit: int, any_word: bool
    ) -> tuple[RankedNote, ...] | None:
        """`ranked`, run at once on the calling thread without a pooled connection when this engine
        can do that for these words now; None when it cannot (the caller then awaits `ranked`)."""
        ...

    async def completions(
        self,
        session: AsyncSession,
        typed: str,
        words: Sequence[str],
        filters: Sequence[ColumnElement[bool]],
        *,
        limit: int,
    ) -> tuple[NoteSummary, ...]:
        """Up to `limit` notes passing `filters` that match what is typed so far (`words` are its
        words, the last possibly unfinished), best first."""
        ...


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with `%`, `_` and the escape `\\` escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
