"""The outbox task: retries channel posts that failed or were cut off, with backoff."""

from __future__ import annotations

import logging

from discord.ext import commands

from bot.client import NexusBot

log = logging.getLogger("nexus.outbox")


class OutboxCog(commands.Cog):
    """Every few seconds, post what is due in every guild this process serves."""

    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        self.retry = bot.background_loop("Outbox pass", bot.settings.outbox_interval_seconds, self.flush_due)

    async def cog_load(self) -> None:
        self.retry.start()

    async def cog_unload(self) -> None:
        self.retry.cancel()

    async def flush_due(self) -> tuple[int, int]:
        """One outbox pass over every guild: (posted, still waiting)."""
        posted = waiting = 0
        for guild in list(self.bot.guilds):
            done, left = await self.bot.delivery.flush(guild.id, due_only=True)
            posted += done
            waiting += left
        if posted or waiting:
            log.info("Outbox: posted %d, still waiting %d", posted, waiting)
        return posted, waiting


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(OutboxCog(bot))
