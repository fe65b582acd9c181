"""Note search: 100,000 notes, the ranked full-text search vs a plain LIKE scan of the same data.

SQLite (FTS5, bm25) by default; PostgreSQL (tsvector, GIN index, ts_rank) with --database-url.

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

from sqlalchemy import insert, select, text

from bench.postgres import BENCH_DATABASE, drop_database, fresh_database
from bot.db import create_engine, create_sessionmaker, upgrade_database, upgrade_database_async
from bot.domain.notes import DEFAULT_TOPICS, topic_key
from bot.domain.search import tokenize
from bot.services.notes import NoteService
from bot.services.notes.backend import like_pattern
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


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(url: str, repeat: int) -> None:
    engine = create_engine(url)
    like_operator = "ILIKE" if engine.dialect.name == "postgresql" else "LIKE"
    sessions = create_sessionmaker(engine)
    service = NoteService(sessions)
    fts: list[float] = []
    like: list[float] = []
    per_query: list[tuple[str, int, float, float]] = []
    for query in QUERIES:  # warm up the page cache and the connection pool
        await service.search(GUILD, VIEWER, query)
    for query in QUERIES:
        words = tokenize(query)
        conditions = " AND ".join(LIKE_TERM.format(n=f"w{i}", like=like_operator) for i in range(len(words)))
        statement = text(LIKE_SCAN.format(conditions=conditions))
        params: dict[str, object] = {"guild": GUILD, "viewer": VIEWER, "no": False}
        params.update({f"w{i}": like_pattern(word) for i, word in enumerate(words)})
        mine: list[float] = []
        scan: list[float] = []
        hits = 0
        for _ in range(repeat):
            started = time.perf_counter()
            result = await service.search(GUILD, VIEWER, query)
            mine.append(time.perf_counter() - started)
            hits = len(result.hits)
            started = time.perf_counter()
            async with sessions() as session:
                (await session.execute(statement, params)).all()
            scan.append(time.perf_counter() - started)
        fts += mine
        like += scan
        per_query.append((query, hits, statistics.median(mine) * 1000, statistics.median(scan) * 1000))
    await engine.dispose()

    print(f"{'query':<28}{'hits':>6}{'search ms':>12}{'LIKE ms':>10}")
    for query, hits, mine_ms, scan_ms in per_query:
        print(f"{query:<28}{hits:>6}{mine_ms:>12.2f}{scan_ms:>10.1f}")
    fts_median, fts_p95 = statistics.median(fts) * 1000, _pct(fts, 0.95) * 1000
    like_median, like_p95 = statistics.median(like) * 1000, _pct(like, 0.95) * 1000
    print()
    ranking = "tsvector, ts_rank" if like_operator == "ILIKE" else "FTS5, bm25"
    print(f"service search ({ranking}, snippets): median {fts_median:.2f} ms, p95 {fts_p95:.2f} ms")
    print(f"plain {like_operator} '%term%' scan: median {like_median:.1f} ms, p95 {like_p95:.1f} ms")
    print(f"speed-up: {like_median / fts_median:.0f}x at the median, {like_p95 / fts_p95:.0f}x at p95")
    ok = fts_p95 < 10 and like_median / fts_median >= 20
    print("targets (p95 < 10 ms, >= 20x faster):", "met" if ok else "NOT met")


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
