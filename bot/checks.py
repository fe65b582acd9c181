"""App-command checks shared by the cogs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import discord
from discord import app_commands

from bot.errors import NotStaffError

if TYPE_CHECKING:
    from bot.client import NexusBot

T = TypeVar("T")


async def is_staff(interaction: discord.Interaction[Any]) -> bool:
    """Manage Server in this guild, or the staff role set with /setup staff-role."""
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        raise app_commands.NoPrivateMessage()
    if interaction.permissions.manage_guild or interaction.permissions.administrator:
        return True
    bot = cast("NexusBot", interaction.client)
    config = await bot.services.settings.get(interaction.guild.id)
    return bool(config.staff_role_id is not None and interaction.user.get_role(config.staff_role_id) is not None)


async def _staff_predicate(interaction: discord.Interaction[Any]) -> bool:
    if await is_staff(interaction):
        return True
    raise NotStaffError()


def staff_only() -> Callable[[T], T]:
    """Restrict a command to staff; the permission-table test finds it by this marker."""
    return app_commands.check(_staff_predicate)


def is_staff_command(command: app_commands.Command[Any, ..., Any]) -> bool:
    """Whether `command` carries the staff_only check."""
    return _staff_predicate in command.checks


def _cooldown_key(interaction: discord.Interaction[Any]) -> tuple[int | None, int]:
    return (interaction.guild_id, interaction.user.id)


def _write_cooldown(interaction: discord.Interaction[Any]) -> app_commands.Cooldown | None:
    bot = cast("NexusBot", interaction.client)
    return app_commands.Cooldown(bot.settings.write_cooldown_rate, bot.settings.write_cooldown_seconds)


WRITE_MARKER = "__nexus_writes__"


def writes() -> Callable[[T], T]:
    """Mark a command that changes data: it gets the per-member, per-guild write cooldown."""
    cooldown = app_commands.checks.dynamic_cooldown(_write_cooldown, key=_cooldown_key)

    def decorator(func: T) -> T:
        setattr(func, WRITE_MARKER, True)
        return cooldown(func)

    return decorator


def is_write_command(command: app_commands.Command[Any, ..., Any]) -> bool:
    """Whether `command` was marked with `writes()` (and so has the write cooldown)."""
    return bool(getattr(command.callback, WRITE_MARKER, False))
