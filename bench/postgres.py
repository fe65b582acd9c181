"""A throwaway database on a loopback PostgreSQL server, for the benchmarks' --database-url."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url

BENCH_DATABASE = "nexus_bench"


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def fresh_database(server_url: str) -> str:
    """An empty database BENCH_DATABASE on the (loopback) PostgreSQL server of `server_url`."""
    server = make_url(server_url)
    if server.host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("--database-url must name a loopback PostgreSQL server")
    connection = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    finally:
        await connection.close()
    return server.set(database=BENCH_DATABASE).render_as_string(hide_password=False)


async def drop_database(server_url: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    finally:
        await connection.close()
