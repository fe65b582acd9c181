"""Notes, challenges and tips: writing, ranked search, helpful votes, topics and the README export."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Select,
    delete,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload

from bot.db import transaction
from bot.domain.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from bot.domain.notes import (
    DEFAULT_TOPICS,
    MAX_TOPICS_PER_GUILD,
    NoteDraft,
    NoteKind,
    clean_topic_name,
    parse_note_ref,
    topic_key,
    validate_note,
    validate_tip,
)
from bot.domain.readme import ReadmeNote
from bot.domain.search import (
    fts5_match,
    highlight,
    like_pattern,
    suggest,
    tokenize,
)
from bot.domain.text import strip_control
from bot.services.cache import GuildCache
from models import Note, NoteTopic, NoteVote, utcnow

SEARCH_RESULT_LIMIT = 25
"""Most hits one search returns: five pages of five; past that, members should refine the query."""
AUTOCOMPLETE_LIMIT = 25
"""Discord shows at most 25 autocomplete choices."""
MINE_LIMIT = 250
"""Most notes /note mine lists (newest first)."""
TOP_TIPS_LIMIT = 10
TOP_TIPS_MAX_DAYS = 365
MAX_NOTES_PER_MEMBER = 1000
"""A member's note quota in one server, so one account cannot flood the search index."""
EXPORT_MAX_NOTES = 500
SUGGESTION_TAG_SAMPLE = 500
"""How many recent notes' tags are considered for "did you mean" suggestions."""
SNIPPET_TOKENS = 24
SEARCH_OVERFETCH = 4
"""Ranked hits fetched per hit shown, before the visibility and filter checks."""
SNIPPET_WIDTH = 200

_BM25 = "bm25(notes_fts, 10.0, 1.0, 1.0, 5.0)"
"""Column weights for title, body, solution, tags: a match in the title counts most."""
_FTS = table("notes_fts", literal_column("rowid"))
_FTS_ROWID: ColumnClause[int] = literal_column("notes_fts.rowid")
_FTS_TABLE: ColumnClause[Any] = literal_column("notes_fts")
_PG_VECTOR: ColumnClause[Any] = literal_column("notes.search_vector")
_PG_CONFIG = "english"


@dataclass(frozen=True)
class NoteView:
    """A whole note, as its reader may see it."""

    id: int
    guild_id: int
    author_id: int
    kind: NoteKind
    topic: str
    title: str
    body: str
    solution: str | None
    tags: tuple[str, ...]
    is_private: bool
    created_at: datetime
    updated_at: datetime
    helpful_count: int = 0


@dataclass(frozen=True)
class NoteSummary:
    """One line about a note: for lists, autocomplete and top tips."""

    id: int
    title: str
    kind: NoteKind
    topic: str
    author_id: int
    is_private: bool
    created_at: datetime
    helpful_count: int = 0


@dataclass(frozen=True)
class SearchHit:
    """A note that matched a search, with a snippet whose matches are marked by HIGHLIGHT_START/END.

    The snippet, not the whole note, is kept: a search's pages stay in memory while its buttons work.
    """

    note: NoteSummary
    snippet: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits, best first; when there are none, topics or tags that look like the query."""

    words: tuple[str, ...]
    hits: tuple[SearchHit, ...] = ()
    matched_all_words: bool = True
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class VoteResult:
    """The member's vote after a toggle, and the note's new count."""

    note_id: int
    voted: bool
    helpful_count: int


def _tags_text(tags: Sequence[str]) -> str:
    return ", ".join(tags)


def _tags_of(text: str) -> tuple[str, ...]:
    return tuple(tag for tag in text.split(", ") if tag)


def _visible_to(guild_id: int, viewer_id: int) -> ColumnElement[bool]:
    """Notes of this guild that are public or the viewer's own."""
    return (Note.guild_id == guild_id) & or_(Note.is_private == false(), Note.author_id == viewer_id)


def _summary(row: Any, helpful: int = 0) -> NoteSummary:
    return NoteSummary(
        id=row.id,
        title=row.title,
        kind=NoteKind(row.kind),
        topic=row.topic,
        author_id=row.author_id,
        is_private=row.is_private,
        created_at=row.created_at,
        helpful_count=helpful,
    )


def _snippet(row: Any, words: tuple[str, ...]) -> str:
    return highlight(f"{row.body} {row.solution or ''}", words, width=SNIPPET_WIDTH)


def _summary_columns() -> Select[*tuple[Any, ...]]:
    return select(
        Note.id,
        Note.title,
        Note.kind,
        NoteTopic.name.label("topic"),
        Note.author_id,
        Note.is_private,
        Note.created_at,
    ).join(NoteTopic, NoteTopic.id == Note.topic_id)


def _view(note: Note, helpful: int) -> NoteView:
    return NoteView(
        id=note.id,
        guild_id=note.guild_id,
        author_id=note.author_id,
        kind=NoteKind(note.kind),
        topic=note.topic.name,
        title=note.title,
        body=note.body,
        solution=note.solution,
        tags=_tags_of(note.tags),
        is_private=note.is_private,
        created_at=note.created_at,
        updated_at=note.updated_at,
        helpful_count=helpful,
    )


@dataclass(frozen=True, slots=True)
class _TopicRef:
    """A topic as the cache keeps it."""

    id: int
    name: str
    key: str


def _unknown_topic(name: str, names: Sequence[str]) -> ValidationError:
    close = suggest(name, names)
    hint = f" Did you mean {' or '.join(close)}?" if close else " Pick one from the list."
    return ValidationError(f"There is no topic called {name.strip()[:40]!r} here.{hint}")


def _not_found(reference: str | int) -> NotFoundError:
    shown = str(reference)[:40]
    return NotFoundError(f"There is no note {shown!r} in this server that you can see. Pick one from the list.")


class NoteService:
    """Every note use case, one transaction per call."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._seeded: set[int] = set()
        # topic autocomplete and every note command read the topics; add/remove invalidate
        self.topic_cache = GuildCache(self._read_topics)

    # ------------------------------------------------------------------ topics

    async def _reading(self, guild_id: int) -> AsyncSession:
        """A read-only session, after making sure the guild's default topics exist.

        Seeding is the only write a read path could need; it happens once per guild in its own
        write transaction, so searches and autocomplete never take SQLite's write lock. A guild
        never loses its last topic, so once seeded it stays seeded (the cache is safe).
        """
        if guild_id not in self._seeded:
            async with transaction(self._sessions) as session:
                await self._topic_names(session, guild_id)
            self._seeded.add(guild_id)
        return self._sessions()

    async def _read_topics(self, guild_id: int) -> tuple[_TopicRef, ...]:
        async with await self._reading(guild_id) as session:
            rows = (
                await session.execute(
                    select(NoteTopic.id, NoteTopic.name, NoteTopic.name_key).where(NoteTopic.guild_id == guild_id)
                )
            ).all()
        return tuple(sorted((_TopicRef(r.id, r.name, r.name_key) for r in rows), key=lambda t: t.name.casefold()))

    async def topics(self, guild_id: int) -> tuple[str, ...]:
        """The guild's topic names, alphabetically (seeding the defaults on first use)."""
        return tuple(t.name for t in await self.topic_cache.get(guild_id))

    async def _cached_topic(self, guild_id: int, name: str) -> _TopicRef:
        refs = await self.topic_cache.get(guild_id)
        key = topic_key(name)
        found = next((ref for ref in refs if ref.key == key), None)
        if found is None:
            raise _unknown_topic(name, [ref.name for ref in refs])
        return found

    async def _topic_id(self, guild_id: int, name: str | None) -> int | None:
        """The id of topic `name` (None for no topic), from the cache: read paths call this before
        opening their session, since a cache miss opens a session of its own."""
        return (await self._cached_topic(guild_id, name)).id if name else None

    async def topic_name(self, guild_id: int, name: str) -> str:
        """The stored spelling of topic `name`; ValidationError (with suggestions) when unknown."""
        return (await self._cached_topic(guild_id, name)).name

    async def add_topic(self, guild_id: int, name: str, staff_id: int) -> str:
        """Add a topic; names are unique per guild ignoring case. Returns the stored name."""
        cleaned = clean_topic_name(name)
        try:
            async with self.topic_cache.changing(guild_id), transaction(self._sessions) as session:
                names = await self._topic_names(session, guild_id)
                existing = next((n for n in names if topic_key(n) == topic_key(cleaned)), None)
                if existing is not None:
                    raise ConflictError(f"The topic {existing} already exists.")
                if len(names) >= MAX_TOPICS_PER_GUILD:
                    raise ConflictError(f"This server already has {MAX_TOPICS_PER_GUILD} topics; remove one first.")
                session.add(
                    NoteTopic(guild_id=guild_id, name=cleaned, name_key=topic_key(cleaned), created_by=staff_id)
                )
        except IntegrityError:
            raise ConflictError(f"The topic {cleaned} already exists.") from None
        return cleaned

    async def remove_topic(self, guild_id: int, name: str) -> str:
        """Remove an unused topic; refuse (changing nothing) while notes use it or it is the last one."""
        async with self.topic_cache.changing(guild_id), transaction(self._sessions) as session:
            topic = await self._topic(session, guild_id, name)
            used = await session.scalar(select(func.count()).where(Note.topic_id == topic.id))
            if used:
                raise ConflictError(
                    f"{topic.name} is used by {used} note{'' if used == 1 else 's'}, so it stays: "
                    "nothing was removed. Notes keep their topic."
                )
            remaining = await session.scalar(select(func.count()).where(NoteTopic.guild_id == guild_id))
            if (remaining or 0) <= 1:
                raise ConflictError("That is the server's last topic: add another before removing it.")
            await session.delete(topic)
            return topic.name

    async def _topic_names(self, session: AsyncSession, guild_id: int) -> tuple[str, ...]:
        names = (await session.scalars(select(NoteTopic.name).where(NoteTopic.guild_id == guild_id))).all()
        if not names:
            await self._seed_topics(session, guild_id)
            names = (await session.scalars(select(NoteTopic.name).where(NoteTopic.guild_id == guild_id))).all()
        return tuple(sorted(names, key=str.casefold))

    async def _seed_topics(self, session: AsyncSession, guild_id: int) -> None:
        rows = [
            {
                "guild_id": guild_id,
                "name": name,
                "name_key": topic_key(name),
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            for name in DEFAULT_TOPICS
        ]
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            await session.execute(postgresql.insert(NoteTopic).values(rows).on_conflict_do_nothing())
        else:
            await session.execute(sqlite.insert(NoteTopic).values(rows).on_conflict_do_nothing())

    async def _topic(self, session: AsyncSession, guild_id: int, name: str) -> NoteTopic:
        """The topic row, read inside the caller's (write) transaction."""
        query = select(NoteTopic).where(NoteTopic.guild_id == guild_id, NoteTopic.name_key == topic_key(name))
        topic = await session.scalar(query)
        if topic is None:
            names = await self._topic_names(session, guild_id)  # seeds the defaults in a new guild
            topic = await session.scalar(query)
            if topic is None:
                raise _unknown_topic(name, names)
        return topic

    # ------------------------------------------------------------------ writing

    async def create_note(
        self,
        guild_id: int,
        author_id: int,
        *,
        topic: str,
        kind: NoteKind,
        title: str,
        body: str,
        solution: str | None = None,
        tags: str | None = None,
        private: bool = False,
    ) -> NoteView:
        """Record a note after checking its fields and topic."""
        draft = validate_note(kind, title, body, solution, tags)
        return await self._insert(guild_id, author_id, topic, kind, draft, private)

    async def share_tip(self, guild_id: int, author_id: int, text: str, topic: str) -> NoteView:
        """Record a public one-line tip."""
        return await self._insert(guild_id, author_id, topic, NoteKind.TIP, validate_tip(text), False)

    async def _insert(
        self, guild_id: int, author_id: int, topic: str, kind: NoteKind, draft: NoteDraft, private: bool
    ) -> NoteView:
        async with transaction(self._sessions) as session:
            topic_row = await self._topic(session, guild_id, topic)
            count = await session.scalar(
                select(func.count()).where(Note.guild_id == guild_id, Note.author_id == author_id)
            )
            if (count or 0) >= MAX_NOTES_PER_MEMBER:
                raise ConflictError(f"You have reached {MAX_NOTES_PER_MEMBER} notes here; delete some first.")
            note = Note(
                guild_id=guild_id,
                author_id=author_id,
                kind=kind.value,
                topic_id=topic_row.id,
                title=draft.title,
                body=draft.body,
                solution=draft.solution,
                tags=_tags_text(draft.tags),
                is_private=private,
            )
            note.topic = topic_row
            session.add(note)
            await session.flush()
            return _view(note, 0)

    async def update_note(
        self,
        guild_id: int,
        editor_id: int,
        note_id: int,
        *,
        title: str,
        body: str,
        solution: str | None = None,
        tags: str | None = None,
    ) -> NoteView:
        """Change a note's text; only its author may."""
        async with transaction(self._sessions) as session:
            note = await self._load(session, guild_id, editor_id, note_id)
            if note.author_id != editor_id:
                raise PermissionDeniedError("Only the note's author can edit it; nothing was changed.")
            draft = validate_note(NoteKind(note.kind), title, body, solution, tags)
            note.title, note.body, note.solution = draft.title, draft.body, draft.solution
            note.tags = _tags_text(draft.tags)
            await session.flush()
            return _view(note, await self._helpful(session, note.id))

    async def deletable_note(self, guild_id: int, member_id: int, note_id: int, *, is_staff: bool) -> NoteView:
        """The note if `member_id` may delete it (its author, or staff for a public note)."""
        async with self._sessions() as session:
            note = await self._load(session, guild_id, member_id, note_id)
            self._check_delete(note, member_id, is_staff)
            return _view(note, await self._helpful(session, note.id))

    async def delete_note(self, guild_id: int, member_id: int, note_id: int, *, is_staff: bool) -> str:
        """Delete a note (author or staff) with its votes; returns its title."""
        async with transaction(self._sessions) as session:
            note = await self._load(session, guild_id, member_id, note_id)
            self._check_delete(note, member_id, is_staff)
            await session.execute(delete(NoteVote).where(NoteVote.note_id == note.id))
            await session.delete(note)
            return note.title

    @staticmethod
    def _check_delete(note: Note, member_id: int, is_staff: bool) -> None:
        if note.author_id != member_id and not is_staff:
            raise PermissionDeniedError("Only the note's author or staff can delete it; nothing was changed.")

    # ------------------------------------------------------------------ reading

    async def get_note(self, guild_id: int, viewer_id: int, note_id: int) -> NoteView:
        """A note the viewer may see (public, or their own private note)."""
        async with self._sessions() as session:
            note = await self._load(session, guild_id, viewer_id, note_id)
            return _view(note, await self._helpful(session, note.id))

    async def get_note_ref(self, guild_id: int, viewer_id: int, reference: str) -> NoteView:
        """Like get_note, from what the member typed or picked (`12`, `#12`)."""
        note_id = parse_note_ref(reference)
        if note_id is None:
            raise _not_found(reference)
        return await self.get_note(guild_id, viewer_id, note_id)

    async def mine(self, guild_id: int, author_id: int) -> tuple[NoteSummary, ...]:
        """The member's own notes, newest first."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    _summary_columns()
                    .where(Note.guild_id == guild_id, Note.author_id == author_id)
                    .order_by(Note.created_at.desc(), Note.id.desc())
                    .limit(MINE_LIMIT)
                )
            ).all()
            counts = await self._helpful_counts(session, [r.id for r in rows])
        return tuple(_summary(r, counts.get(r.id, 0)) for r in rows)

    async def random_tip(self, guild_id: int, topic: str | None = None) -> NoteView | None:
        """A random public tip (in `topic` if given), or None when there is none."""
        topic_id = await self._topic_id(guild_id, topic)
        async with await self._reading(guild_id) as session:
            query = select(Note.id).where(
                Note.guild_id == guild_id, Note.kind == NoteKind.TIP.value, Note.is_private == false()
            )
            if topic_id is not None:
                query = query.where(Note.topic_id == topic_id)
            note_id = await session.scalar(query.order_by(func.random()).limit(1))
            if note_id is None:
                return None
            note = await self._load(session, guild_id, 0, note_id)
            return _view(note, await self._helpful(session, note.id))

    async def top_tips(
        self, guild_id: int, topic: str | None = None, days: int | None = None
    ) -> tuple[NoteSummary, ...]:
        """Public tips ranked by helpful votes (then newest); with `days`, only tips shared since then."""
        votes = func.count(NoteVote.member_id)
        topic_id = await self._topic_id(guild_id, topic)
        async with await self._reading(guild_id) as session:
            query = (
                _summary_columns()
                .add_columns(votes.label("votes"))
                .outerjoin(NoteVote, NoteVote.note_id == Note.id)
                .where(Note.guild_id == guild_id, Note.kind == NoteKind.TIP.value, Note.is_private == false())
                .group_by(Note.id, NoteTopic.name)
                .order_by(votes.desc(), Note.created_at.desc(), Note.id.desc())
                .limit(TOP_TIPS_LIMIT)
            )
            if topic_id is not None:
                query = query.where(Note.topic_id == topic_id)
            if days is not None:
                days = max(1, min(days, TOP_TIPS_MAX_DAYS))
                query = query.where(Note.created_at >= utcnow() - timedelta(days=days))
            rows = (await session.execute(query)).all()
        return tuple(_summary(r, r.votes) for r in rows)

    async def authors_among(self, guild_id: int, user_ids: Sequence[int]) -> set[int]:
        """Which of `user_ids` have written at least one note (public or private) in the guild."""
        if not user_ids:
            return set()
        async with self._sessions() as session:
            found: set[int] = set()
            ids = list(dict.fromkeys(user_ids))
            for start in range(0, len(ids), 500):
                rows = await session.scalars(
                    select(Note.author_id)
                    .where(Note.guild_id == guild_id, Note.author_id.in_(ids[start : start + 500]))
                    .distinct()
                )
                found.update(rows)
            return found

    async def export_notes(self, guild_id: int, member_id: int, viewer_id: int) -> tuple[ReadmeNote, ...]:
        """The member's notes for their README; another viewer gets only the public ones."""
        async with self._sessions() as session:
            query = (
                select(Note, NoteTopic.name)
                .join(NoteTopic, NoteTopic.id == Note.topic_id)
                .where(Note.guild_id == guild_id, Note.author_id == member_id)
                .order_by(Note.created_at, Note.id)
                .limit(EXPORT_MAX_NOTES)
            )
            if viewer_id != member_id:
                query = query.where(Note.is_private == false())
            rows = (await session.execute(query)).all()
        return tuple(
            ReadmeNote(
                title=note.title,
                body=note.body,
                kind=NoteKind(note.kind),
                topic=topic,
                tags=_tags_of(note.tags),
                solution=note.solution,
                created_at=note.created_at,
            )
            for note, topic in rows
        )

    # ------------------------------------------------------------------ votes

    async def toggle_helpful(self, guild_id: int, member_id: int, note_id: int) -> VoteResult:
        """Mark a public note helpful, or take the mark back; one vote per member."""
        for attempt in range(2):
            try:
                async with transaction(self._sessions) as session:
                    note = await self._load(session, guild_id, member_id, note_id)
                    if note.is_private:
                        raise ConflictError("Private notes can't be voted on.")
                    if note.author_id == member_id:
                        raise PermissionDeniedError("You can't mark your own note as helpful.")
                    vote = await session.get(NoteVote, (note.id, member_id))
                    if vote is None:
                        session.add(NoteVote(note_id=note.id, member_id=member_id, guild_id=guild_id))
                    else:
                        await session.delete(vote)
                    await session.flush()
                    return VoteResult(note.id, vote is None, await self._helpful(session, note.id))
            except IntegrityError:
                # a double click inserted the same vote concurrently: read the state again
                if attempt:
                    raise
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ search

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
        """
        words = tokenize(query)
        topic_id = await self._topic_id(guild_id, topic)
        async with await self._reading(guild_id) as session:
            filters = [_visible_to(guild_id, viewer_id)]
            if topic_id is not None:
                filters.append(Note.topic_id == topic_id)
            if kind is not None:
                filters.append(Note.kind == kind.value)
            if author_id is not None:
                filters.append(Note.author_id == author_id)
            hits: tuple[SearchHit, ...] = ()
            matched_all = True
            if words:
                hits = await self._ranked(session, words, filters, limit, any_word=False)
                if not hits and len(words) > 1:
                    hits = await self._ranked(session, words, filters, limit, any_word=True)
                    matched_all = False
            tags = await self._recent_tags(session, guild_id, viewer_id) if not hits else []
        suggestions: tuple[str, ...] = ()
        if not hits:
            # the topics come from the cache after the session is closed: a cache miss opens its own
            # session, and one use case must never hold two pooled connections at once
            suggestions = suggest(query, [*await self.topics(guild_id), *tags])
        return SearchResult(words, hits, matched_all, suggestions)

    async def autocomplete(
        self, guild_id: int, viewer_id: int, typed: str, *, own_only: bool = False
    ) -> tuple[NoteSummary, ...]:
        """Up to 25 notes whose id, title or content matches what is typed so far."""
        filters: list[ColumnElement[bool]] = [_visible_to(guild_id, viewer_id)]
        if own_only:
            filters.append(Note.author_id == viewer_id)
        typed = strip_control(typed, keep_newlines=False)
        words = tokenize(typed)
        async with self._sessions() as session:
            found: dict[int, NoteSummary] = {}
            note_id = parse_note_ref(typed) if typed.strip().lstrip("#").isdigit() else None
            if note_id is not None:
                row = (await session.execute(_summary_columns().where(Note.id == note_id, *filters))).first()
                if row is not None:
                    found[row.id] = _summary(row)
            if not words:
                rows = (
                    await session.execute(
                        _summary_columns().where(*filters).order_by(Note.id.desc()).limit(AUTOCOMPLETE_LIMIT)
                    )
                ).all()
            elif _dialect(session) == "sqlite":
                rows = (
                    await session.execute(
                        _summary_columns()
                        .join(_FTS, Note.id == _FTS_ROWID)
                        .where(_FTS_TABLE.match(fts5_match(words, prefix=True)), *filters)
                        .order_by(literal_column(_BM25))
                        .limit(AUTOCOMPLETE_LIMIT)
                    )
                ).all()
            else:
                tsquery = func.plainto_tsquery(_PG_CONFIG, " ".join(words))
                rows = (
                    await session.execute(
                        _summary_columns()
                        .where(
                            or_(Note.title.ilike(like_pattern(typed)), _PG_VECTOR.op("@@")(tsquery)),
                            *filters,
                        )
                        .order_by(Note.title.ilike(like_pattern(typed)).desc(), Note.id.desc())
                        .limit(AUTOCOMPLETE_LIMIT)
                    )
                ).all()
            for row in rows:
                found.setdefault(row.id, _summary(row))
        return tuple(found.values())[:AUTOCOMPLETE_LIMIT]

    async def _ranked(
        self,
        session: AsyncSession,
        words: tuple[str, ...],
        filters: list[ColumnElement[bool]],
        limit: int,
        *,
        any_word: bool,
    ) -> tuple[SearchHit, ...]:
        if _dialect(session) == "sqlite":
            match = fts5_match(words, any_word=any_word)
            # Rank inside the FTS index alone (no join) and over-fetch; the filters then keep the page.
            # When the filters leave fewer than `limit` of a full over-fetch, rank again with the
            # filters inside the ranking query: slower, but exact.
            found = await self._fts_page(session, match, filters, limit, overfetch=limit * SEARCH_OVERFETCH)
            if len(found) < limit and found.fetched == limit * SEARCH_OVERFETCH:
                found = await self._fts_page(session, match, filters, limit, overfetch=None)
            return tuple(SearchHit(_summary(r, int(r.helpful)), _snippet(r, words), float(r.score)) for r in found)
        tsquery: ColumnElement[Any] = func.plainto_tsquery(_PG_CONFIG, " ".join(words))
        if any_word:
            parts: list[ColumnElement[Any]] = [func.plainto_tsquery(_PG_CONFIG, w) for w in words]
            tsquery = functools.reduce(lambda a, b: a.op("||")(b), parts)
        rank = func.ts_rank(_PG_VECTOR, tsquery)
        votes = select(func.count()).where(NoteVote.note_id == Note.id).scalar_subquery()
        rows = (
            await session.execute(
                _summary_columns()
                .add_columns(rank.label("score"), Note.body, Note.solution, votes.label("helpful"))
                .where(_PG_VECTOR.op("@@")(tsquery), *filters)
                .order_by(rank.desc(), Note.id.desc())
                .limit(limit)
            )
        ).all()
        return tuple(SearchHit(_summary(r, int(r.helpful)), _snippet(r, words), -float(r.score)) for r in rows)

    @staticmethod
    async def _fts_page(
        session: AsyncSession,
        match: str,
        filters: list[ColumnElement[bool]],
        limit: int,
        *,
        overfetch: int | None,
    ) -> _Page:
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
                _summary_columns()
                .add_columns(ranked.c.score, Note.body, Note.solution, votes.label("helpful"), fetched.label("fetched"))
                .join(ranked, ranked.c.id == Note.id)
                .where(*filters)
                .order_by(ranked.c.score, Note.id.desc())
                .limit(limit)
            )
        ).all()
        return _Page(rows, int(rows[0].fetched) if rows else await _count_cte(session, ranked))

    @staticmethod
    async def _recent_tags(session: AsyncSession, guild_id: int, viewer_id: int) -> list[str]:
        pool: list[str] = []
        tag_rows = await session.scalars(
            select(Note.tags)
            .where(_visible_to(guild_id, viewer_id), Note.tags != "")
            .order_by(Note.id.desc())
            .limit(SUGGESTION_TAG_SAMPLE)
        )
        for text in tag_rows:
            pool.extend(_tags_of(text))
        return pool

    # ------------------------------------------------------------------ helpers

    @staticmethod
    async def _load(session: AsyncSession, guild_id: int, viewer_id: int, note_id: int) -> Note:
        """The note if the viewer may see it in this guild; otherwise NotFoundError (no hint it exists)."""
        note = await session.scalar(
            select(Note).options(joinedload(Note.topic)).where(Note.id == note_id, _visible_to(guild_id, viewer_id))
        )
        if note is None:
            raise _not_found(f"#{note_id}")
        return note

    @staticmethod
    async def _helpful(session: AsyncSession, note_id: int) -> int:
        return int(await session.scalar(select(func.count()).where(NoteVote.note_id == note_id)) or 0)

    @staticmethod
    async def _helpful_counts(session: AsyncSession, ids: list[int]) -> dict[int, int]:
        if not ids:
            return {}
        rows = await session.execute(
            select(NoteVote.note_id, func.count()).where(NoteVote.note_id.in_(ids)).group_by(NoteVote.note_id)
        )
        return {note_id: int(count) for note_id, count in rows}


class _Page(list[Any]):
    """A page of ranked rows, and how many rows the ranking step fetched before filtering."""

    def __init__(self, rows: Sequence[Any], fetched: int) -> None:
        super().__init__(rows)
        self.fetched = fetched


async def _count_cte(session: AsyncSession, ranked: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(ranked)) or 0)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name
