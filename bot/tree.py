"""The command tree: one place where every app-command failure becomes a clear reply."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.domain.text import carriable
from bot.errors import GUILD_ONLY_MESSAGE, report_error, send_ephemeral
from bot.logging_setup import bind_log_context
from bot.observability.interactions import log_context, refused_or_failed


def clean_options(options: list[Any]) -> None:
    """Drop NUL and lone surrogates from every string option, subcommands included, in place.

    Discord delivers them (a member can paste them), but no reply or database row can carry them;
    cleaning here, before discord.py reads the options, covers every command and autocomplete."""
    for option in options:
        if isinstance(option.get("value"), str):
            option["value"] = carriable(option["value"])
        if isinstance(option.get("options"), list):
            clean_options(option["options"])


class NexusTree(app_commands.CommandTree[Any]):
    """Refuses direct messages politely and maps errors to ephemeral replies."""

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        data: Any = interaction.data or {}
        if isinstance(data.get("options"), list):
            clean_options(data["options"])
        # this runs first in the task that serves the interaction: its log lines name it
        bind_log_context(log_context(interaction))
        if interaction.guild_id is None:
            await send_ephemeral(interaction, GUILD_ONLY_MESSAGE)
            refused_or_failed(interaction, app_commands.NoPrivateMessage.__name__, expected=True)
            return False
        return True

    async def on_error(self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /) -> None:
        await report_error(interaction, error)
