"""Building and running the bot: endpoints, resources, signals, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from typing import Any

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.client import NexusBot, ShardedNexusBot
from bot.clock import Clock, FileClock, SystemClock
from bot.config import Settings
from bot.db import create_engine, create_sessionmaker, upgrade_database_async

log = logging.getLogger("nexus")


def apply_discord_endpoints(api_base_url: str, gateway_url: str) -> None:
    """Point discord.py at Discord, a proxy, or the loopback emulator."""
    Route.BASE = api_base_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def build_bot(
    settings: Settings, *, sync_on_start: bool = True, guild_ready_timeout: float = 2.0, clock: Clock | None = None
) -> NexusBot:
    """A bot with its own engine and sessions (closed by `close_bot`), reading the time from `clock`
    (by default the system's, or NEXUS_CLOCK_FILE's in the sandbox and tests)."""
    apply_discord_endpoints(settings.discord_api_base_url, settings.discord_gateway_url)
    engine = create_engine(settings.database_url)
    clock = clock or clock_for(settings)
    options: dict[str, Any] = {}
    bot_class: type[NexusBot] = NexusBot
    if settings.shard_count is not None:
        bot_class = ShardedNexusBot
        options = {"shard_count": settings.shard_count, "shard_ids": settings.shard_id_list}
    return bot_class(
        settings=settings,
        engine=engine,
        sessions=create_sessionmaker(engine, clock=clock),
        sync_on_start=sync_on_start,
        guild_ready_timeout=guild_ready_timeout,
        clock=clock,
        **options,
    )


def clock_for(settings: Settings) -> Clock:
    """The system's clock, or the file clock tests drive (settings refuse it outside the sandbox)."""
    if settings.nexus_clock_file is not None:
        log.warning("The clock follows %s (tests and the sandbox only)", settings.nexus_clock_file)
        return FileClock(settings.nexus_clock_file)
    return SystemClock()


async def run_bot(settings: Settings, *, migrate: bool = True) -> None:
    """Migrate, connect and serve until SIGTERM or Ctrl-C, then shut down cleanly."""
    assert settings.discord_token is not None
    if migrate:
        await upgrade_database_async(settings.database_url)
    bot = build_bot(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with bot:
            runner = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
            freezer = asyncio.create_task(_freeze_startup_objects(bot))
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                log.info("Shutting down")
                await bot.close()
            stopper.cancel()
            freezer.cancel()
            await runner
    finally:
        await bot.engine.dispose()
        log.info("Stopped")


async def _freeze_startup_objects(bot: NexusBot) -> None:
    """Once connected, move everything start-up created out of the garbage collector's view.

    Modules, the command tree, SQLAlchemy's mappers and discord.py's caches live as long as the
    process; without this, every full collection walks all of them again, a pause of tens of
    milliseconds in the middle of serving interactions (measured with gc.callbacks under
    bench/interactions.py: 30 to 100 ms per full collection).
    """
    await bot.wait_until_ready()
    gc.collect()
    gc.freeze()
    log.debug("Froze %d start-up objects", gc.get_freeze_count())


async def sync_commands(settings: Settings, guild_id: int | None) -> int:
    """Log in over REST only, sync the command tree, log out; returns how many were synced."""
    assert settings.discord_token is not None
    bot = build_bot(settings, sync_on_start=False)
    try:
        async with bot:
            await bot.login(settings.discord_token.get_secret_value())
            synced = await bot.sync_commands(guild_id)
            return len(synced)
    finally:
        await bot.engine.dispose()


def describe_connect_failure(error: BaseException, settings: Settings) -> str | None:
    """One line on what failed while connecting to Discord and what to check, or None when the
    error is not a connection or login failure (a bug: its traceback stays)."""
    if isinstance(error, discord.LoginFailure):
        return "Discord refused the bot token: check DISCORD_TOKEN (Developer Portal, Bot, Reset Token)."
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return "Discord refused the gateway intents: enable them in the Developer Portal (Bot, Privileged Intents)."
    if isinstance(error, discord.ConnectionClosed):
        return (
            f"the Discord gateway closed the connection (code {error.code}): "
            "check DISCORD_GATEWAY_URL and DISCORD_TOKEN."
        )
    if isinstance(error, discord.GatewayNotFound):
        return f"no Discord gateway found at {settings.discord_gateway_url}: check DISCORD_GATEWAY_URL."
    if isinstance(error, discord.HTTPException):
        return (
            f"Discord's API at {settings.discord_api_base_url} answered {error.status} {error.text or ''}".rstrip()
            + ": check DISCORD_API_BASE_URL and DISCORD_TOKEN."
        )
    if isinstance(error, aiohttp.ClientError | TimeoutError):
        return (
            f"could not reach Discord's API at {settings.discord_api_base_url} ({error or 'timed out'}): "
            "check DISCORD_API_BASE_URL and the network."
        )
    return None
