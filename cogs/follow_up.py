"""Follow-ups on teams: the loop that asks each team, an interval after it formed (and again after a
"not yet"), whether its members have met and agreed the API. Answers come through the buttons
(`bot.ui.follow_ups`); staff read them in `/cohort roster`."""

from __future__ import annotations

import logging

from discord.ext import commands

from bot.client import NexusBot
from bot.domain.events import FollowUpAsked

log = logging.getLogger("nexus.follow_up")


class FollowUpCog(commands.Cog):
    """The pass that claims each due follow-up round exactly once and asks the team's members."""

    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        self.due_pass = bot.background_loop("Follow-up pass", bot.settings.follow_up_interval_seconds, self.run_due)

    async def cog_load(self) -> None:
        self.due_pass.start()

    async def cog_unload(self) -> None:
        self.due_pass.cancel()

    async def run_due(self) -> int:
        """Claim every follow-up round due in the guilds this process serves and ask its members;
        how many rounds were asked."""
        claimed = await self.bot.services.follow_ups.run_pass([guild.id for guild in self.bot.guilds])
        for asked in claimed:
            log.info("Asking team %s its follow-up (round %s)", asked.team_id, asked.round)
            await self.bot.delivery.deliver(asked.guild_id, [FollowUpAsked(asked.team_id, asked.round)])
        return len(claimed)


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(FollowUpCog(bot))
