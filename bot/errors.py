"""Turning any failure in an interaction into one clear, ephemeral reply."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import discord
from discord import app_commands
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.domain.errors import DomainError
from bot.logging_setup import log_context
from bot.observability.interactions import log_context as interaction_log_context
from bot.observability.interactions import refused_or_failed

log = logging.getLogger("nexus.errors")

GUILD_ONLY_MESSAGE = "Nexus commands work inside the cohort's server, not in direct messages."
DATABASE_UNAVAILABLE_MESSAGE = "The database is not answering right now. Nothing was changed; please try again shortly."


class NotStaffError(app_commands.CheckFailure):
    """The member is neither a Manage Server holder nor in the staff role."""

    def __init__(self) -> None:
        super().__init__("Only staff can do that: you need Manage Server or the cohort's staff role.")


def _unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | discord.ext.commands.CommandInvokeError):
        error = error.original
    return error


def _permission_names(missing: list[str]) -> str:
    return ", ".join(name.replace("_", " ").replace("guild", "server").title() for name in missing)


def describe_error(error: BaseException) -> tuple[str, bool]:
    """The member-facing text for `error`, and whether it was an expected failure."""
    error = _unwrap(error)
    if isinstance(error, DomainError | NotStaffError):
        return str(error), True
    if isinstance(error, app_commands.NoPrivateMessage):
        return GUILD_ONLY_MESSAGE, True
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {_permission_names(error.missing_permissions)} permission for that.", True
    if isinstance(error, app_commands.BotMissingPermissions):
        return f"I need the {_permission_names(error.missing_permissions)} permission here first.", True
    if isinstance(error, app_commands.CommandOnCooldown):
        seconds = max(1, round(error.retry_after))
        return f"Slow down a little: you can do that again in {seconds} s.", True
    if isinstance(error, app_commands.TransformerError):
        return f"{str(error.value)[:100]!r} is not a valid value for that option.", True
    if isinstance(error, app_commands.CommandSignatureMismatch):
        return "This command was just updated; please try again in a minute.", True
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here.", True
    if isinstance(error, discord.Forbidden):
        return (
            "Discord refused: I am missing a permission in that channel. Staff can check with /setup show.",
            True,
        )
    if isinstance(error, OperationalError | InterfaceError | ConnectionError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    ):
        # the database is restarting, unreachable or busy: nothing was committed
        log.warning("Database unavailable: %s", error)
        return DATABASE_UNAVAILABLE_MESSAGE, True
    return "", False


def error_text(error: BaseException, context: object = None) -> str:
    """The member-facing text for `error`; unexpected errors are logged with a short reference."""
    return _reply(error, context)[0]


def _reply(error: BaseException, context: object) -> tuple[str, bool]:
    message, expected = describe_error(error)
    if expected:
        return message, True
    reference = secrets.token_hex(4)
    log.error(
        "Unhandled error [ref %s] in %s", reference, context, exc_info=_unwrap(error), extra={"error_ref": reference}
    )
    base = message or "Something went wrong on our side and nothing was saved."
    return f"{base} If it happens again, tell staff this reference: `{reference}`.", False


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Reply to the member ephemerally; log unexpected errors with a reference they also see."""
    context = interaction.command.qualified_name if interaction.command else interaction.data
    with log_context(interaction_log_context(interaction)):
        text, expected = _reply(error, context)
        await send_ephemeral(interaction, text)
    count_failure(interaction, error, expected=expected)


def count_failure(interaction: discord.Interaction[Any], error: BaseException, *, expected: bool) -> None:
    """Count a failure answered to the member in the bot's metrics, by the error's class."""
    refused_or_failed(interaction, type(_unwrap(error)).__name__, expected=expected)


async def send_ephemeral(interaction: discord.Interaction[Any], message: str) -> None:
    """Send `message` privately, whether or not the interaction was already answered."""
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            if not interaction.response.is_done():
                await interaction.response.autocomplete([])
            return
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("Could not deliver an error message to %s", interaction.user.id, exc_info=True)
