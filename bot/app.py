"""What the ui and delivery layers may use of the running bot: a small Protocol, not `NexusBot`.

Buttons, forms and the delivery layer reach the bot through `interaction.client`; typing it with
this Protocol keeps them from importing the client module (which imports them), so the import
graph has no cycle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import discord

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.outcome import PostOutcome
from bot.domain.events import Event
from bot.services import Services

if TYPE_CHECKING:
    from bot.render.charts import ChartRenderer

ListSource = Callable[[discord.Interaction[Any], str], Awaitable[Sequence[discord.Embed]]]
"""Builds a list's pages for the member pressing a button, from the list's short argument."""


class Deliverer(Protocol):
    """The delivery layer as its callers see it."""

    async def deliver(
        self, guild_id: int, events: Sequence[Event], *, wait: float | None = ...
    ) -> PostOutcome | None: ...

    async def flush(self, guild_id: int, *, due_only: bool = ...) -> tuple[int, int]: ...


class WriteGate(Protocol):
    """The per-member write budget every writing entry point spends from."""

    def spend(self, guild_id: int | None, user_id: int) -> None: ...


class NexusApp(Protocol):
    """The parts of the bot that ui and delivery code use."""

    @property
    def settings(self) -> Settings: ...

    @property
    def services(self) -> Services: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def charts(self) -> ChartRenderer:
        """Draws charts off the event loop (the digest's funnel)."""
        ...

    @property
    def delivery(self) -> Deliverer: ...

    @property
    def write_gate(self) -> WriteGate: ...

    @property
    def list_sources(self) -> dict[str, ListSource]: ...

    @property
    def guilds(self) -> Sequence[discord.Guild]: ...

    def get_guild(self, guild_id: int, /) -> discord.Guild | None: ...

    def get_user(self, user_id: int, /) -> discord.User | None: ...

    async def fetch_user(self, user_id: int, /) -> discord.User: ...


def app_of(interaction: discord.Interaction[Any]) -> NexusApp:
    """The bot behind an interaction, as ui code may use it."""
    client: NexusApp = interaction.client
    return client
