"""What a kind of channel post is: a record rendered as it should look now, and the registry entry
that names its model, its renderer and, for posts that are not one message in the project channel,
how it is shown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import discord

from bot.app import NexusApp
from bot.delivery.channel import ChannelFinder
from bot.delivery.outcome import PostOutcome
from bot.domain.events import PostKindName
from bot.services.outbox import PostedModel


@dataclass(frozen=True)
class ThreadPlan:
    """A team thread as it should be: its name, members, whether it is closed, how long it stays open idle."""

    name: str
    member_ids: Sequence[int]
    closed: bool
    archive_minutes: int


@dataclass(frozen=True)
class Rendered:
    """A record's post as it should look now (or that it should go), and where it currently is."""

    revision: int
    posted_revision: int
    channel_id: int | None
    message_id: int | None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    content: str | None = None
    allowed_mentions: discord.AllowedMentions | None = None
    """Whom the post may notify, when not the bot's default (users by id, never roles)."""
    file: discord.File | None = None
    """An image the embed shows (the digest's funnel chart)."""
    thread: ThreadPlan | None = None
    """For a team thread: the thread the post opens."""

    @property
    def delete(self) -> bool:
        """Nothing is left to show: the message is deleted."""
        return self.embed is None

    @property
    def current(self) -> bool:
        return self.posted_revision == self.revision and (self.message_id is not None or self.delete)


Renderer = Callable[[NexusApp, int], Awaitable[Rendered]]


class Shower(Protocol):
    """Shows a rendered record somewhere other than the project channel (a team thread, the staff
    channel); `retry` first looks for what an earlier attempt made but never recorded."""

    def __call__(
        self, app: NexusApp, guild: discord.Guild, kind: PostKind, record_id: int, rendered: Rendered, *, retry: bool
    ) -> Awaitable[PostOutcome]: ...


@dataclass(frozen=True)
class PostKind:
    """One kind of channel post: its name, its model (with the ChannelPosted columns), its renderer,
    whether its record goes once its message is deleted, and how it is shown when not as one message
    in the project channel."""

    name: PostKindName
    model: PostedModel
    render: Renderer
    remove_when_deleted: bool = False
    show: Shower | None = None
    channel: ChannelFinder | None = None
    """Where a one-message post goes, when not the project channel (the staff channel for a flag)."""
    code: str | None = None
    """The letter its markers and nonces start with (the name's initial by default)."""

    def nonce(self, record_id: int, revision: int) -> str:
        """A nonce unique per kind, record and revision (Discord allows 25 characters)."""
        return f"{self.short_id(record_id)}.{revision}"

    def short_id(self, record_id: int) -> str:
        """The record as a few characters: the kind's letter and its id."""
        return f"{self.code or self.name.value[0]}{record_id}"

    def marker(self, record_id: int) -> str:
        """What the post's footer ends with, so a retry can find a post whose answer was lost."""
        return f"post {self.short_id(record_id)}"
