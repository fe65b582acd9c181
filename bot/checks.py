"""App-command checks shared by the cogs, and the write budget every writing entry point spends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.app import app_of
from bot.errors import NotStaffError

T = TypeVar("T")

WRITE_BUDGETS_MAX = 10_000
"""Members whose write budget is remembered at once; older windows are dropped first."""


async def is_staff(interaction: discord.Interaction[Any]) -> bool:
    """Manage Server in this guild, or the staff role set with /setup staff-role."""
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        raise app_commands.NoPrivateMessage()
    if interaction.permissions.manage_guild or interaction.permissions.administrator:
        return True
    config = await app_of(interaction).services.settings.get(interaction.guild.id)
    return bool(config.staff_role_id is not None and interaction.user.get_role(config.staff_role_id) is not None)


async def _staff_predicate(interaction: discord.Interaction[Any]) -> bool:
    if await is_staff(interaction):
        return True
    raise NotStaffError()


def staff_only() -> Callable[[T], T]:
    """Restrict a command to staff; the permission-table test finds it by this marker."""
    return app_commands.check(_staff_predicate)


STAFF_GROUPS = ("setup", "match", "cohort", "schedule")
"""The groups marked staff_group, by name (a test checks the two agree): a well set-up server allows
its staff role on each, as the sandbox's sample server and the tests' world do."""
STAFF_GROUP_PERMISSIONS = discord.Permissions(manage_guild=True)
"""What Discord requires, unless an override allows a role or member, to show a staff group at all."""


def staff_group() -> Callable[[T], T]:
    """Mark a GroupCog whose every subcommand is staff_only: Discord hides the whole group from members
    without Manage Server (default_member_permissions) unless an admin allows a role on it in Server
    Settings → Integrations. The subcommands keep their staff_only check: the bot still decides."""
    return app_commands.default_permissions(STAFF_GROUP_PERMISSIONS)


def is_staff_command(command: app_commands.Command[Any, ..., Any]) -> bool:
    """Whether `command` carries the staff_only check."""
    return _staff_predicate in command.checks


class WriteBudget:
    """How many writes each member may make per window in each guild, whatever the entry point
    (a slash command, a form behind a button): one bucket per member and guild."""

    def __init__(self, rate: int, per: float) -> None:
        self.rate = rate
        self.per = per
        self._buckets: dict[tuple[int | None, int], app_commands.Cooldown] = {}

    def spend(self, guild_id: int | None, user_id: int) -> None:
        """Count one write; raises CommandOnCooldown (a "slow down" reply) when the budget is spent."""
        key = (guild_id, user_id)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= WRITE_BUDGETS_MAX:
                self._forget_idle()
            bucket = self._buckets[key] = app_commands.Cooldown(self.rate, self.per)
        retry_after = bucket.update_rate_limit()
        if retry_after:
            raise app_commands.CommandOnCooldown(bucket, retry_after)

    def _forget_idle(self) -> None:
        now = time.time()
        idle = [key for key, bucket in self._buckets.items() if now > bucket._window + self.per]
        for key in idle or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]


async def _spend_write(interaction: discord.Interaction[Any]) -> bool:
    app_of(interaction).write_gate.spend(interaction.guild_id, interaction.user.id)
    return True


WRITE_MARKER = "__nexus_writes__"


def writes() -> Callable[[T], T]:
    """Mark a command that changes data: it spends from the member's write budget."""
    check = app_commands.check(_spend_write)

    def decorator(func: T) -> T:
        setattr(func, WRITE_MARKER, True)
        return check(func)

    return decorator


def is_write_command(command: app_commands.Command[Any, ..., Any]) -> bool:
    """Whether `command` was marked with `writes()` (and so spends from the write budget)."""
    return bool(getattr(command.callback, WRITE_MARKER, False))
