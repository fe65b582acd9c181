"""Note search: 100,000 notes, the ranked full-text search vs a plain LIKE scan of the same data.

SQLite (FTS5, bm25) by default; PostgreSQL (tsvector, GIN index, ts_rank) with --database-url.
Beside the service it times the raw engine query (one statement through the plain driver, sqlite3 or
asyncpg, for the same rows) and prints the service's overhead over it; it checks that both return
the same hits.

Run from the repository root:  python bench/search.py [--notes 100000] [--repeat 30]
                               [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy import insert, make_url, select, text

from bench.postgres import BENCH_DATABASE, drop_database, fresh_database
from bot.db import create_engine, create_sessionmaker, upgrade_database, upgrade_database_async
from bot.domain.notes import DEFAULT_TOPICS, topic_key
from bot.domain.search import filter_only, query_terms, tokenize
from bot.services.notes import NoteService
from bot.services.notes.backend import like_pattern
from bot.services.notes.fts5 import fts5_match, split_match
from bot.sqlite_adapter import INLINE_READER_PRAGMAS
from models import Note, NoteTopic

GUILD = 1
VIEWER = 999
AUTHORS = 300
QUERIES = (
    "JWT",
    "docker compose postgres",
    "N+1 queries",
    "select_related",
    "celery redis",
    "graphql mutation",
    "cache invalidation",
    "github actions",
    "async await",
    "database index migration",
    "refresh token rotation",
    "pagination cursor",
)

SUBJECTS = [
    "JWT authentication",
    "refresh token rotation",
    "docker compose",
    "postgres connection pool",
    "N+1 queries",
    "select_related and prefetch_related",
    "celery with redis",
    "graphql mutation",
    "graphene schema",
    "cache invalidation",
    "github actions workflow",
    "async await in Django",
    "database index",
    "schema migration",
    "cursor pagination",
    "rate limiting",
    "CORS headers",
    "serializer validation",
    "unit tests with pytest",
    "environment variables",
    "nginx reverse proxy",
    "gunicorn workers",
    "query optimisation",
    "foreign key constraints",
    "transactions and locking",
    "API versioning",
    "OpenAPI documentation",
    "webhooks",
    "background jobs",
    "logging and monitoring",
    "class based views",
    "viewsets and routers",
    "signals",
    "custom managers",
    "model inheritance",
    "file uploads",
    "email sending",
    "websockets with channels",
    "search with full text",
    "Kubernetes",
    "load balancing",
    "SQL joins",
    "ERD modelling",
    "normalisation",
    "soft deletes",
    "UUID primary keys",
    "timezone handling",
    "password hashing",
    "OAuth2 login",
    "permissions and groups",
    "throttling",
    "Swagger UI",
    "data seeding",
    "fixtures",
    "factory boy",
    "mocking HTTP calls",
    "type hints with mypy",
    "pre-commit hooks",
    "ruff linting",
    "dependency pinning",
]
SUBJECT_MENTION_RATE = 0.15
"""Share of sentences that mention one of the subjects (the rest is everyday filler)."""
FILLER = [
    "the",
    "endpoint",
    "returned",
    "a",
    "response",
    "after",
    "the",
    "request",
    "was",
    "handled",
    "by",
    "the",
    "view",
    "and",
    "the",
    "serializer",
    "model",
    "field",
    "queryset",
    "filter",
    "order",
    "limit",
    "offset",
    "user",
    "order",
    "product",
    "payment",
    "cart",
    "checkout",
    "admin",
    "settings",
    "middleware",
    "permission",
    "class",
    "token",
    "header",
    "status",
    "code",
    "error",
    "message",
    "debug",
    "trace",
    "latency",
    "throughput",
    "worker",
    "queue",
    "broker",
    "retry",
    "timeout",
    "session",
    "cookie",
    "template",
    "static",
    "media",
    "storage",
    "bucket",
    "config",
    "secret",
    "key",
    "build",
    "image",
    "container",
    "volume",
    "network",
    "port",
    "health",
    "check",
    "deploy",
    "release",
    "branch",
    "commit",
    "review",
    "merge",
    "pipeline",
    "lint",
    "format",
    "type",
    "hint",
    "fixture",
    "mock",
    "coverage",
    "benchmark",
    "profile",
    "memory",
]


def _sentence(rng: random.Random) -> str:
    words = rng.choices(FILLER, k=rng.randint(8, 18))
    if rng.random() < SUBJECT_MENTION_RATE:
        words.insert(rng.randint(0, len(words)), rng.choice(SUBJECTS))
    return " ".join(words).capitalize() + "."


def _rows(count: int, topic_ids: list[int], rng: random.Random, guild_id: int = GUILD) -> list[tuple[object, ...]]:
    kinds = ("learning", "challenge", "practice", "tip")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for index in range(count):
        kind = rng.choices(kinds, weights=(5, 2, 2, 3))[0]
        subject = rng.choice(SUBJECTS)
        title = f"{subject.capitalize()}: {' '.join(rng.choices(FILLER, k=3))}"[:100]
        body = " ".join(_sentence(rng) for _ in range(rng.randint(2, 8)))
        solution = " ".join(_sentence(rng) for _ in range(2)) if kind == "challenge" else None
        tags = ", ".join(sorted({subject.split()[0].lower(), rng.choice(FILLER)}))
        created = start + timedelta(minutes=index)
        rows.append(
            (
                guild_id,
                rng.randint(1, AUTHORS),
                kind,
                rng.choice(topic_ids),
                title,
                body,
                solution,
                tags,
                rng.random() < 0.1,
                created,
                created,
            )
        )
    return rows


def load(path: Path, count: int, guild_id: int = GUILD) -> None:
    """A migrated database at `path` with `count` notes of `guild_id`, inserted in bulk."""
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    db = sqlite3.connect(path)
    now = datetime.now(UTC).isoformat(sep=" ")
    db.executemany(
        "INSERT INTO note_topics (guild_id, name, name_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        [(guild_id, name, topic_key(name), now, now) for name in DEFAULT_TOPICS],
    )
    topic_ids = [row[0] for row in db.execute("SELECT id FROM note_topics WHERE guild_id = ?", (guild_id,))]
    rows = _rows(count, topic_ids, random.Random(5), guild_id)
    db.executemany(
        "INSERT INTO notes (guild_id, author_id, kind, topic_id, title, body, solution, tags, is_private, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*row[:-2], *(str(stamp.isoformat(sep=" ")) for stamp in row[-2:])) for row in rows],
    )
    db.commit()
    db.execute("INSERT INTO notes_fts(notes_fts) VALUES ('optimize')")
    db.execute("ANALYZE")
    db.commit()
    db.close()


async def load_async(url: str, count: int, guild_id: int = GUILD) -> None:
    """The same notes as `load`, into the (migrated) database at `url`, PostgreSQL included."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            insert(NoteTopic),
            [
                {"guild_id": guild_id, "name": name, "name_key": topic_key(name), "created_at": now, "updated_at": now}
                for name in DEFAULT_TOPICS
            ],
        )
        topic_ids = list(await connection.scalars(select(NoteTopic.id).where(NoteTopic.guild_id == guild_id)))
        columns = ("guild_id", "author_id", "kind", "topic_id", "title", "body", "solution", "tags", "is_private")
        rows = _rows(count, topic_ids, random.Random(5), guild_id)
        await connection.execute(
            insert(Note), [dict(zip((*columns, "created_at", "updated_at"), row, strict=True)) for row in rows]
        )
    await engine.dispose()


LIKE_SCAN = """
SELECT id FROM notes
WHERE guild_id = :guild AND (is_private = :no OR author_id = :viewer) AND {conditions}
ORDER BY created_at DESC LIMIT 50
"""
LIKE_TERM = (
    "(title {like} :{n} ESCAPE '\\' OR body {like} :{n} ESCAPE '\\' "
    "OR solution {like} :{n} ESCAPE '\\' OR tags {like} :{n} ESCAPE '\\')"
)
"""`like` is LIKE on SQLite (which ignores ASCII case) and ILIKE on PostgreSQL, for the same matches."""


RAW_FTS5 = """
WITH ranked AS (
    SELECT notes_fts.rowid AS id, bm25(notes_fts, 10.0, 1.0, 1.0, 5.0, 1.0) AS score FROM notes_fts
    WHERE notes_fts MATCH :match{holding} ORDER BY score, notes_fts.rowid DESC LIMIT 100
)
SELECT notes.id, notes.title, notes.kind, note_topics.name, notes.author_id, notes.is_private,
       notes.created_at, ranked.score, notes.body, notes.solution,
       (SELECT count(*) FROM note_votes WHERE note_votes.note_id = notes.id) AS helpful
FROM notes JOIN note_topics ON note_topics.id = notes.topic_id JOIN ranked ON ranked.id = notes.id
WHERE notes.guild_id = :guild AND (notes.is_private = 0 OR notes.author_id = :viewer)
ORDER BY ranked.score, notes.id DESC LIMIT 25
"""
"""The engine alone: one statement through sqlite3 for the rows a search shows, ranked as the service
ranks them (bm25 inside the FTS index, the top 100 then filtered by guild and privacy; for these
queries at least 25 of them pass, so the service needs no second, exact query)."""
RAW_HOLDING = (
    " AND +notes_fts.rowid IN (SELECT rowid FROM notes_fts AS every_word WHERE every_word.notes_fts MATCH :every_word)"
)
"""As the service: words in half the notes or more may only filter (bot.domain.search.filter_only)."""
RAW_TSVECTOR = """
SELECT notes.id, notes.title, notes.kind, note_topics.name, notes.author_id, notes.is_private,
       notes.created_at, ts_rank(notes.search_vector, {tsquery}) AS score, notes.body, notes.solution,
       (SELECT count(*) FROM note_votes WHERE note_votes.note_id = notes.id) AS helpful
FROM notes JOIN note_topics ON note_topics.id = notes.topic_id
WHERE notes.search_vector @@ {tsquery} AND notes.guild_id = $1 AND (notes.is_private = false OR notes.author_id = $2)
ORDER BY score DESC, notes.id DESC LIMIT 25
"""
"""The same on PostgreSQL through asyncpg: every word as phraseto_tsquery('simple', …), all of them."""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class RawEngine:
    """The raw engine query through the plain driver: sqlite3, or asyncpg for PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith("postgresql")
        self._sqlite: sqlite3.Connection | None = None
        self._asyncpg: asyncpg.Connection | None = None
        self._common: dict[tuple[str, ...], frozenset[str]] = {}

    async def open(self) -> None:
        if self.postgres:
            self._asyncpg = await asyncpg.connect(
                make_url(self.url).set(drivername="postgresql").render_as_string(False)
            )
        else:
            path = make_url(self.url).database
            assert path is not None
            self._sqlite = sqlite3.connect(path)
            for pragma in INLINE_READER_PRAGMAS:  # the connection the service's searches run on has these
                self._sqlite.execute(pragma)

    async def close(self) -> None:
        if self._asyncpg is not None:
            await self._asyncpg.close()
        if self._sqlite is not None:
            self._sqlite.close()

    async def ids(self, query: str, *, any_word: bool = False) -> list[int]:
        """The ids of the hits, best first (the whole rows are fetched, as the service fetches them).
        With `any_word`, notes with any of the words: the statement that finds the rows when no note
        has them all (the service tries all first)."""
        return [found for found, _ in await self.hits(query, any_word=any_word)]

    async def hits(self, query: str, *, any_word: bool = False, split: bool = True) -> list[tuple[int, float]]:
        """`ids`, each with its score. Without `split`, ranked by every word, as bm25 alone ranks."""
        terms = query_terms(tokenize(query))
        if self._sqlite is not None:
            holding = None
            if any_word or len(terms) < 2:
                match = fts5_match(terms, any_word=any_word)
            else:
                match, holding = split_match(terms, self.filter_only(terms) if split else frozenset())
            params = {"match": match, "every_word": holding, "guild": GUILD, "viewer": VIEWER}
            sql = RAW_FTS5.format(holding=RAW_HOLDING if holding else "")
            return [(row[0], row[7]) for row in self._sqlite.execute(sql, params).fetchall()]
        assert self._asyncpg is not None
        tsquery = (
            "("
            + (" || " if any_word else " && ").join(f"phraseto_tsquery('simple', ${i + 3})" for i in range(len(terms)))
            + ")"
        )
        rows = await self._asyncpg.fetch(RAW_TSVECTOR.format(tsquery=tsquery), GUILD, VIEWER, *terms)
        return [(row[0], row[7]) for row in rows]

    def filter_only(self, terms: tuple[str, ...]) -> frozenset[str]:
        """The words that only filter (the service's rule, `filter_only`), counted once per query
        here: the service keeps its counts for minutes, so they are part of the query, not its cost."""
        known = self._common.get(terms)
        if known is None:
            assert self._sqlite is not None
            notes = self._sqlite.execute("SELECT count(*) FROM notes").fetchone()[0]
            count = "SELECT count(*) FROM notes_fts WHERE notes_fts MATCH ?"
            counts = {term: self._sqlite.execute(count, (fts5_match([term]),)).fetchone()[0] for term in terms}
            known = self._common[terms] = filter_only(counts, notes)
        return known


def _summary(name: str, values: list[float]) -> tuple[float, float]:
    median, p95 = statistics.median(values) * 1000, _pct(values, 0.95) * 1000
    print(f"{name}: median {median:.2f} ms, p95 {p95:.2f} ms")
    return median, p95


async def measure(url: str, repeat: int) -> None:
    engine = create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    like_operator = "ILIKE" if postgres else "LIKE"
    sessions = create_sessionmaker(engine)
    service = NoteService(sessions)
    # the scan reads the whole table: on its own connection it does not evict the search's pages.
    # On SQLite that is a plain sqlite3 connection on this thread, like the raw query's: through
    # aiosqlite the scan ran on another thread while this one idled for ~90 ms, and on this machine
    # a core that has just idled runs the next few milliseconds of work up to 1.5x slower, which the
    # search after each scan then paid (a search timed right after another does not)
    scan_engine = create_engine(url) if postgres else None
    scans = create_sessionmaker(scan_engine) if scan_engine is not None else None
    scan_path = make_url(url).database if not postgres else None
    plain_scan = sqlite3.connect(scan_path) if scan_path is not None else None
    raw = RawEngine(url)
    await raw.open()
    mine_all: list[float] = []
    raw_all: list[float] = []
    like: list[float] = []
    per_query: list[tuple[str, int, float, float, float]] = []
    any_word: dict[str, bool] = {}
    for query in QUERIES:  # warm up the page cache and the connection pool; the same hits both ways
        result = await service.search(GUILD, VIEWER, query)
        any_word[query] = not result.matched_all_words  # PostgreSQL reads "N+1" as "n" and "+1"
        got = [hit.note.id for hit in result.hits]
        expected = await raw.ids(query, any_word=any_word[query])
        assert got == expected, f"{query!r}: the service returned {got}, the raw engine query {expected}"
        if not postgres and not any_word[query]:
            # against bm25 over every word, too: each score within 2.2e-6 per word set aside
            # (notes tied on the other words may swap places)
            tolerance = 2.2e-6 * len(raw.filter_only(query_terms(tokenize(query)))) + 1e-12
            plain = [score for _, score in await raw.hits(query, split=False)]
            mine = [hit.score for hit in result.hits]
            assert len(mine) == len(plain) and all(abs(a - b) <= tolerance for a, b in zip(mine, plain, strict=True)), (
                f"{query!r}: the service's scores {mine} are not bm25's over every word {plain}"
            )
    for query in QUERIES:
        words = tokenize(query)
        conditions = " AND ".join(LIKE_TERM.format(n=f"w{i}", like=like_operator) for i in range(len(words)))
        statement = text(LIKE_SCAN.format(conditions=conditions))
        plain_sql = LIKE_SCAN.format(conditions=conditions)
        params: dict[str, object] = {"guild": GUILD, "viewer": VIEWER, "no": False}
        params.update({f"w{i}": like_pattern(word) for i, word in enumerate(words)})
        mine: list[float] = []
        engine_only: list[float] = []
        scan: list[float] = []
        hits = 0
        for turn in range(repeat):
            # interleaved, so a busy moment of the machine hits all three alike; the service and the
            # raw query take turns going first, since the second finds the same pages warm
            for first in (True, False) if turn % 2 else (False, True):
                started = time.perf_counter()
                if first:
                    result = await service.search(GUILD, VIEWER, query)
                    mine.append(time.perf_counter() - started)
                    hits = len(result.hits)
                else:
                    await raw.ids(query, any_word=any_word[query])
                    engine_only.append(time.perf_counter() - started)
            started = time.perf_counter()
            if plain_scan is not None:
                plain_scan.execute(plain_sql, params).fetchall()
            elif scans is not None:
                async with scans() as session:
                    (await session.execute(statement, params)).all()
            scan.append(time.perf_counter() - started)
        mine_all += mine
        raw_all += engine_only
        like += scan
        per_query.append(
            (query, hits, *(statistics.median(v) * 1000 for v in (engine_only, mine, scan)))  # type: ignore[arg-type]
        )
    await raw.close()
    await engine.dispose()
    if scan_engine is not None:
        await scan_engine.dispose()
    if plain_scan is not None:
        plain_scan.close()

    print(f"{'query':<28}{'hits':>6}{'raw ms':>9}{'search ms':>11}{'LIKE ms':>10}")
    for query, hits, raw_ms, mine_ms, scan_ms in per_query:
        note = " (no note has every word: any of them)" if any_word[query] else ""
        print(f"{query:<28}{hits:>6}{raw_ms:>9.2f}{mine_ms:>11.2f}{scan_ms:>10.1f}{note}")
    print()
    ranking = "tsvector, ts_rank" if postgres else "FTS5, bm25"
    driver = "asyncpg" if postgres else "sqlite3"
    raw_median, raw_p95 = _summary(f"raw engine query ({ranking}, one statement through {driver})", raw_all)
    median, p95 = _summary("service search (the same rows, and snippets)", mine_all)
    like_median, like_p95 = _summary(f"plain {like_operator} '%term%' scan (through {driver})", like)
    print(
        f"service overhead over the raw query: {median - raw_median:+.2f} ms at the median "
        f"({median / raw_median:.2f}x), {p95 - raw_p95:+.2f} ms at p95 ({p95 / raw_p95:.2f}x)"
    )
    print(f"speed-up over the scan: {like_median / median:.0f}x at the median, {like_p95 / p95:.0f}x at p95")
    targets = {
        "service p95 <= 1.5x raw p95": p95 <= 1.5 * raw_p95,
        "service p95 < 8 ms": p95 < 8,
        ">= 20x the scan at the median and p95": like_median / median >= 20 and like_p95 / p95 >= 20,
    }
    for name, met in targets.items():
        reference = " (a SQLite target, shown for reference)" if postgres else ""
        print(f"target {name}: {'met' if met else 'NOT met'}{reference}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--database-url",
        help="run on PostgreSQL: a loopback server's URL (postgresql+asyncpg://…); a throwaway database "
        f"{BENCH_DATABASE} is created there and dropped afterwards",
    )
    args = parser.parse_args()
    if args.database_url:
        asyncio.run(on_postgres(args.database_url, args.notes, args.repeat))
        return
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        started = time.perf_counter()
        load(path, args.notes)
        size = path.stat().st_size / 1e6
        print(f"loaded {args.notes:,} notes in {time.perf_counter() - started:.1f} s ({size:.0f} MB)")
        asyncio.run(measure(f"sqlite+aiosqlite:///{path}", args.repeat))


async def on_postgres(server_url: str, notes: int, repeat: int) -> None:
    url = await fresh_database(server_url)
    try:
        started = time.perf_counter()
        await upgrade_database_async(url)
        await load_async(url, notes)
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
        await engine.dispose()
        print(f"loaded {notes:,} notes into PostgreSQL in {time.perf_counter() - started:.1f} s")
        await measure(url, repeat)
    finally:
        await drop_database(server_url)


if __name__ == "__main__":
    main()
