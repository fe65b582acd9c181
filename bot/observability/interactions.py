"""Timing each interaction from its arrival to its completion, and naming it in the logs.

The clock starts when discord.py has parsed INTERACTION_CREATE (the bot's `dispatch` of the
"interaction" event, before any handler ran) and stops at the first of: the command's completion
event, a failure answered by `bot.errors.report_error`, a refusal by the tree, or a persistent
button's callback returning. The start time rides on the interaction itself (`extras`), so an
interaction that never completes leaves nothing behind.
"""

from __future__ import annotations

import time
from typing import Any

import discord

from bot.logging_setup import LogContext
from bot.observability.metrics import OUTCOME_ERROR, OUTCOME_OK, OUTCOME_REFUSED, NexusMetrics

RECEIVED_KEY = "nexus.received"
"""Where the arrival time (time.perf_counter()) is kept in `Interaction.extras`."""

TIMED_TYPES = frozenset(
    {
        discord.InteractionType.application_command,
        discord.InteractionType.component,
        discord.InteractionType.modal_submit,
    }
)
"""Autocomplete is not timed: it answers keystrokes, not a member's request."""


def interaction_name(interaction: discord.Interaction[Any]) -> str:
    """The command's qualified name, or the kind of component ("button", "select", "modal")."""
    if interaction.type is discord.InteractionType.modal_submit:
        return "modal"
    if interaction.type is discord.InteractionType.component:
        data: Any = interaction.data or {}
        return "button" if data.get("component_type") == discord.ComponentType.button.value else "select"
    if interaction.command is not None:
        return interaction.command.qualified_name
    data = interaction.data or {}
    return str(data.get("name") or "unknown")


def log_context(interaction: discord.Interaction[Any]) -> LogContext:
    """The fields every log line written while serving `interaction` carries."""
    return LogContext(
        guild=interaction.guild_id,
        command=interaction_name(interaction),
        interaction=interaction.id,
    )


class InteractionTimer:
    """Feeds `nexus_interaction_seconds` and `nexus_errors_total` for one bot."""

    def __init__(self, metrics: NexusMetrics) -> None:
        self._metrics = metrics

    def received(self, interaction: discord.Interaction[Any]) -> None:
        """Start the clock for a command, button, select or form."""
        if interaction.type in TIMED_TYPES:
            interaction.extras[RECEIVED_KEY] = time.perf_counter()

    def finished(self, interaction: discord.Interaction[Any], outcome: str) -> None:
        """Stop the clock (only the first call for an interaction counts)."""
        started = interaction.extras.pop(RECEIVED_KEY, None)
        if started is None:
            return
        elapsed = time.perf_counter() - started
        self._metrics.interaction_seconds.labels(interaction_name(interaction), outcome).observe(elapsed)

    def failed(self, interaction: discord.Interaction[Any], kind: str, outcome: str) -> None:
        """Count a failure answered to the member, then stop the clock."""
        self._metrics.errors.labels(kind, outcome).inc()
        self.finished(interaction, outcome)


def timer_of(interaction: discord.Interaction[Any]) -> InteractionTimer | None:
    """The timer of the bot serving `interaction`, if it keeps one."""
    timer = getattr(interaction.client, "interaction_timer", None)
    return timer if isinstance(timer, InteractionTimer) else None


def completed(interaction: discord.Interaction[Any]) -> None:
    """`interaction` was served: stop its clock with the outcome ok (no-op if already stopped)."""
    timer = timer_of(interaction)
    if timer is not None:
        timer.finished(interaction, OUTCOME_OK)


def refused_or_failed(interaction: discord.Interaction[Any], kind: str, *, expected: bool) -> None:
    """A failure was answered to the member: count it by `kind` and stop the clock."""
    timer = timer_of(interaction)
    if timer is not None:
        timer.failed(interaction, kind, OUTCOME_REFUSED if expected else OUTCOME_ERROR)
