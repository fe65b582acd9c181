"""Refused forms keep what the member typed: the refusal carries an Edit button that reopens the form
filled in (Discord cannot answer a form with another form, hence the button).

The typed values live in memory for DRAFT_TTL_SECONDS, keyed by a random token in the button's
custom_id; after a restart (or once expired) the button says to run the command again.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.errors import count_failure, describe_error, error_text, report_error, send_ephemeral
from bot.ui.views import guarded

DRAFT_TTL_SECONDS = 15 * 60
"""How long an Edit button can reopen a refused form."""
DRAFTS_MAX = 2000
"""Drafts kept at most (the oldest go first), so a flood of refusals cannot grow memory without end."""
EDIT_LABEL = "Edit"
EXPIRED_MESSAGE = "This form expired (Nexus keeps a refused form for 15 minutes): run the command again."

Reopen = Callable[[], discord.ui.Modal]


@dataclass(frozen=True, slots=True)
class Draft:
    user_id: int
    kept_until: float
    reopen: Reopen


_drafts: dict[str, Draft] = {}


def keep_draft(user_id: int, reopen: Reopen) -> str:
    """Keep a way to reopen a refused form for its member; returns the token for the button."""
    now = time.monotonic()
    for token in [t for t, d in _drafts.items() if d.kept_until < now]:
        del _drafts[token]
    while len(_drafts) >= DRAFTS_MAX:
        del _drafts[next(iter(_drafts))]
    token = secrets.token_hex(16)
    _drafts[token] = Draft(user_id, now + DRAFT_TTL_SECONDS, reopen)
    return token


def draft_for(token: str, user_id: int) -> Draft | None:
    """The member's live draft under `token`, or None when expired, forgotten or someone else's."""
    draft = _drafts.get(token)
    if draft is None or draft.user_id != user_id or draft.kept_until < time.monotonic():
        return None
    return draft


class EditDraftButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nexus:draft:(?P<token>[0-9a-f]{32})"):
    """Reopens a refused form with what the member typed."""

    def __init__(self, token: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=EDIT_LABEL, emoji="✏️", style=discord.ButtonStyle.primary, custom_id=f"nexus:draft:{token}"
            )
        )
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> EditDraftButton:
        return cls(match["token"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        draft = draft_for(self.token, interaction.user.id)
        if draft is None:
            await send_ephemeral(interaction, EXPIRED_MESSAGE)
            return
        await interaction.response.send_modal(draft.reopen())


async def refuse_form(interaction: discord.Interaction[Any], error: Exception, reopen: Reopen) -> None:
    """Answer a form the use case refused: the reason, and an Edit button that reopens it filled in.

    Unexpected failures are reported as usual (with their reference) and get no button."""
    _message, expected = describe_error(error)
    if not expected:
        await report_error(interaction, error)
        return
    view = discord.ui.View(timeout=None)
    view.add_item(EditDraftButton(keep_draft(interaction.user.id, reopen)))
    text = error_text(error)  # the same words as the command's refusal; the button says the rest
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, view=view, ephemeral=True)
        else:
            await interaction.response.send_message(text, view=view, ephemeral=True)
    except discord.HTTPException:
        await send_ephemeral(interaction, error_text(error))
    count_failure(interaction, error, expected=True)
