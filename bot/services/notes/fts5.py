"""Note search on SQLite: the FTS5 index `notes_fts`, ranked by bm25."""

from __future__ import annotations

import functools
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Connection,
    Executable,
    Float,
    Select,
    String,
    bindparam,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.db import inline_reader
from bot.domain.search import counts_matter, filter_only
from bot.services.notes.backend import RankedNote
from bot.services.notes.records import (
    KINDS,
    NoteFilter,
    NoteSummary,
    filter_clauses,
    summary,
    summary_at,
    summary_columns,
)
from models import Note, NoteVote
from models.base import utc_from_text

if TYPE_CHECKING:
    from bot.sqlite_adapter import InlineReader, InlineRun

SEARCH_OVERFETCH = 4
"""Ranked hits fetched per hit shown, before the visibility and filter checks."""

WORD_COUNT_TTL = 300.0
"""Seconds a count of the notes holding a word (and of all notes) is trusted before it is taken again."""
WORD_COUNTS_KEPT = 4096
"""Most words whose counts are kept; the least recently used go first."""

_BM25 = "bm25(notes_fts, 10.0, 1.0, 1.0, 5.0, 1.0)"
"""Column weights for title, body, solution, tags and the CJK bigrams: a match in the title counts most."""
_FTS = table("notes_fts", literal_column("rowid"))
_FTS_ROWID: ColumnClause[int] = literal_column("notes_fts.rowid")
_FTS_TABLE: ColumnClause[Any] = literal_column("notes_fts")
_EVERY_WORD = table("notes_fts", literal_column("rowid")).alias("every_word")
_EVERY_WORD_ROWID: ColumnClause[int] = literal_column("every_word.rowid")
_EVERY_WORD_TABLE: ColumnClause[Any] = literal_column("every_word.notes_fts")


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


class WordCounts:
    """How many notes hold each word, and how many notes there are, for `filter_only`: taken in the
    read that needs them and kept WORD_COUNT_TTL seconds (the WORD_COUNTS_KEPT most recently used
    words). A word counted once costs a dictionary look-up; counting it walks its index entry.

    Callgrind, per search at 100,000 notes (bench/search.py's notes; "token" is in 57% of them):
    "refresh token rotation" 50.0 M instructions before and 41.7 M after, "the cache invalidation"
    62.5 M and 42.0 M; "cache invalidation", with no common word, 25.0 M either way.
    """

    __slots__ = ("_clock", "_notes", "_ttl", "_words")

    def __init__(self, *, ttl: float = WORD_COUNT_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._notes: tuple[int, float] | None = None
        self._words: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def common(self, run: InlineRun, words: Sequence[str]) -> frozenset[str]:
        """The `words` that only filter an all-words search (`filter_only`), counted with `run`
        where not known."""
        now = self._clock()
        if self._notes is None or now - self._notes[1] >= self._ttl:
            self._notes = (int(run(_NOTE_COUNT, {})[0][0]), now)
        notes = self._notes[0]
        if not counts_matter(notes):
            return frozenset()
        return filter_only({word: self._count(run, word, now) for word in words}, notes)

    def _count(self, run: InlineRun, word: str, now: float) -> int:
        known = self._words.get(word)
        if known is not None and now - known[1] < self._ttl:
            self._words.move_to_end(word)
            return known[0]
        count = int(run(_WORD_COUNT, {"word": fts5_match([word])})[0][0])
        self._words[word] = (count, now)
        self._words.move_to_end(word)
        if len(self._words) > WORD_COUNTS_KEPT:
            self._words.popitem(last=False)
        return count


class Fts5Search:
    """SearchBackend for SQLite. On a file engine, `ranked_now` runs the same statements on the
    calling thread through the engine's InlineReader."""

    def __init__(self, engine: AsyncEngine | None = None) -> None:
        self._reader: InlineReader | None = inline_reader(engine) if engine is not None else None
        self._counts = WordCounts()

    def ranked_now(
        self, words: Sequence[str], where: NoteFilter, *, limit: int, any_word: bool
    ) -> tuple[RankedNote, ...] | None:
        """`ranked`, run at once with the plain driver; None when it cannot run without waiting."""
        reader = self._reader
        if reader is None:
            return None
        plan = functools.partial(
            _ranked_rows, where=where, limit=limit, words=words, any_word=any_word, counts=self._counts
        )
        rows = reader.read(plan)
        if rows is None:
            return None
        # the plain driver's values: the kind's text, 0/1 for private, the time as SQLite's text
        return tuple(
            RankedNote(
                NoteSummary(r[0], r[1], KINDS[r[2]], r[3], r[4], bool(r[5]), utc_from_text(r[6]), r[10]),
                r[8],
                r[9],
                r[7],
            )
            for r in rows
        )

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
        lowest bm25 first."""
        counts = self._counts
        rows = await connection.run_sync(
            lambda sync: _ranked_rows(_runner(sync), where, limit, words, any_word=any_word, counts=counts)
        )
        # by position: score, body, solution, helpful follow the summary's seven columns (see _page)
        return tuple(RankedNote(summary_at(r, r[10]), r[8], r[9], r[7]) for r in rows)

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


def _runner(connection: Connection) -> InlineRun:
    """`_ranked_rows`'s `run` on the pooled path: a statement through SQLAlchemy, on `connection`."""
    return lambda statement, values: list(connection.execute(cast(Executable, statement), values))


def _ranked_rows(
    run: InlineRun, where: NoteFilter, limit: int, words: Sequence[str], *, any_word: bool, counts: WordCounts
) -> list[Any]:
    """The rows `ranked` converts, each statement through `run` (a sync connection's, or an
    InlineReader's): `_page`'s columns.

    Rank inside the FTS index alone (no join) and over-fetch; the filters then keep the page. When
    the filters leave fewer than `limit` of a full over-fetch, rank again with the filters inside the
    ranking query: slower, but exact. When every word must match, words in half the notes or more
    may only filter (`filter_only`).
    """
    if any_word or len(words) < 2:
        match, holding = fts5_match(words, any_word=any_word), None
    else:
        match, holding = split_match(words, counts.common(run, words))
    params = where.params() | {"match": match}
    every_word = holding is not None
    if holding is not None:
        params["every_word"] = holding
    overfetch = limit * SEARCH_OVERFETCH
    rows = run(_page(where.shape, limit, overfetch, every_word), params)
    if len(rows) < limit and run(_overfetched(overfetch, every_word), params)[0][0] == overfetch:
        rows = run(_page(where.shape, limit, None, every_word), params)
    return list(rows)


def split_match(words: Sequence[str], common: frozenset[str]) -> tuple[str, str | None]:
    """For notes holding every word of `words`: the MATCH expression that ranks them, and the one
    that keeps them (None when the first does both), given the words that only filter
    (`filter_only`). Also what bench/search.py's raw engine query ranks by."""
    ranked_by = [word for word in words if word not in common]
    if common and ranked_by:
        return fts5_match(ranked_by), fts5_match(words)
    return fts5_match(words), None


def _ranking(overfetch: int | None, shape: tuple[bool, bool, bool], every_word: bool) -> Select[int, float]:
    """Matching notes' ids and bm25, best first: the top `overfetch` of the index alone, or (None)
    every note passing the filters. With `every_word`, ranked by the words of :match and kept when
    they hold every word of :every_word as well."""
    score = literal_column(_BM25, Float).label("score")  # ordered by its label: bm25 runs once a row
    ranked = select(_FTS_ROWID.label("id"), score).select_from(_FTS)
    ranked = ranked.where(_FTS_TABLE.match(bindparam("match", type_=String)))
    if every_word:
        # one pass over the words' index entries that collects the notes holding all of them; the
        # unary + keeps SQLite from handing the IN to FTS5 as rowid lookups, one query per note
        holding = (
            select(_EVERY_WORD_ROWID)
            .select_from(_EVERY_WORD)
            .where(_EVERY_WORD_TABLE.match(bindparam("every_word", type_=String)))
        )
        ranked = ranked.where(literal_column("+notes_fts.rowid").in_(holding))
    if overfetch is None:
        ranked = ranked.join(Note, Note.id == _FTS_ROWID).where(*filter_clauses(shape))
    return ranked.order_by(score, _FTS_ROWID.desc())


@functools.cache
def _page(shape: tuple[bool, bool, bool], limit: int, overfetch: int | None, every_word: bool) -> Select[Any]:
    """One statement for a page of ranked notes with the columns a hit shows and its helpful votes.
    Built once per filter shape, so each search only binds values (SQLAlchemy's compiled cache then
    skips compiling it again)."""
    ranked = _ranking(overfetch, shape, every_word).limit(overfetch or limit).cte("ranked")
    votes = select(func.count()).where(NoteVote.note_id == Note.id).scalar_subquery()
    return (
        summary_columns()
        .add_columns(ranked.c.score, Note.body, Note.solution, votes.label("helpful"))
        .join(ranked, ranked.c.id == Note.id)
        .where(*filter_clauses(shape))
        .order_by(ranked.c.score, Note.id.desc())
        .limit(limit)
    )


@functools.cache
def _overfetched(overfetch: int, every_word: bool) -> Select[Any]:
    """How many notes the over-fetching ranking step finds (at most `overfetch`)."""
    ranked = _ranking(overfetch, (False, False, False), every_word).limit(overfetch).subquery()
    return select(func.count()).select_from(ranked)


_NOTE_COUNT = select(func.count()).select_from(Note)
_WORD_COUNT = select(func.count()).select_from(_FTS).where(_FTS_TABLE.match(bindparam("word", type_=String)))
