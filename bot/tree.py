"""The command tree: one place where every app-command failure becomes a clear reply."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.errors import GUILD_ONLY_MESSAGE, report_error, send_ephemeral


class NexusTree(app_commands.CommandTree[Any]):
    """Refuses direct messages politely and maps errors to ephemeral replies."""

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if interaction.guild_id is None:
            await send_ephemeral(interaction, GUILD_ONLY_MESSAGE)
            return False
        return True

    async def on_error(self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /) -> None:
        await report_error(interaction, error)
