"""What /healthz checks and what a scrape reads at scrape time: the gateway, the database, the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

import discord
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.observability.metrics import NexusMetrics, ShardState
from bot.services.outbox import OutboxService, PostedModel

DATABASE_CHECK_SECONDS = 2.0
"""How long /healthz waits for the database to answer SELECT 1."""
OUTBOX_SCRAPE_SECONDS = 2.0
"""How long a scrape waits for the outbox figures before answering without fresh ones."""


def shard_states(client: discord.Client) -> list[ShardState]:
    """Every gateway shard this process runs: connected (websocket open and the bot ready) and latency."""
    ready = client.is_ready() and not client.is_closed()
    if isinstance(client, discord.AutoShardedClient):
        return [
            ShardState(shard_id, ready and not info.is_closed(), info.latency)
            for shard_id, info in sorted(client.shards.items())
        ]
    ws = client.ws
    connected = ready and ws is not None and ws.open
    return [ShardState(client.shard_id or 0, connected, client.latency)]


def gateway_problem(client: discord.Client) -> str | None:
    """Why the gateway is not serving, or None when every shard of this process is connected."""
    if client.is_closed():
        return "the client is closed"
    if not client.is_ready():
        return "not ready: still connecting or loading guilds"
    shards = shard_states(client)
    if not shards:
        return "no gateway shard running"
    down = [str(s.shard_id) for s in shards if not s.connected]
    if down:
        return f"gateway disconnected (shard {', '.join(down)})"
    return None


async def database_problem(engine: AsyncEngine, timeout: float = DATABASE_CHECK_SECONDS) -> str | None:
    """Why the database does not answer, or None when SELECT 1 returns within `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        return f"no answer to SELECT 1 within {timeout:g} s"
    except Exception as exc:  # any failure means unhealthy; the name says which
        return f"SELECT 1 failed ({type(exc).__name__})"
    return None


async def refresh_outbox(
    metrics: NexusMetrics,
    outbox: OutboxService,
    kinds: Sequence[PostedModel],
    guild_ids: Collection[int] | None,
    timeout: float = OUTBOX_SCRAPE_SECONDS,
) -> None:
    """Set the outbox gauges from the database; on a timeout or failure keep the last figures."""
    try:
        async with asyncio.timeout(timeout):
            backlog = await outbox.backlog(kinds, guild_ids)
    except Exception:  # a scrape must answer even when the database does not
        metrics.scrape_failures.inc()
        return
    metrics.outbox_backlog.set(backlog.waiting)
    age = 0.0 if backlog.oldest is None else (datetime.now(UTC) - backlog.oldest).total_seconds()
    metrics.outbox_oldest_seconds.set(max(0.0, age))
