"""Where a record now shows in Discord, or why it could not be shown."""

from __future__ import annotations

from dataclasses import dataclass

POST_WAIT_SECONDS = 1.0
"""How long a command waits for its channel post before it answers the member without the link.

Discord lets a bot post 5 new messages per channel every 5 seconds, so in a Week-1 burst posts
queue; the member is told the post is on its way, and it goes on in the background."""


@dataclass(frozen=True)
class PostOutcome:
    """Where a record now shows, or why it could not be shown (a sentence for people)."""

    channel_id: int | None = None
    message_id: int | None = None
    problem: str | None = None
    guild_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.message_id is not None

    @property
    def jump_url(self) -> str | None:
        if not self.ok or self.guild_id is None:
            return None
        return f"https://discord.com/channels/{self.guild_id}/{self.channel_id}/{self.message_id}"
