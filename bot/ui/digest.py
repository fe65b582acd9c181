"""The weekly digest post: the week's new teams, its most helpful notes (a button each, since a
command mention cannot carry the note's id) and the cohort's progress; and the funnel chart hook."""

from __future__ import annotations

import io
import re
from typing import Any

import discord

from bot.app import app_of
from bot.domain.cohort import CHECKLIST_LABELS
from bot.domain.text import safe_text, truncate
from bot.services.digest import Digest
from bot.ui.embeds import EMBED_FIELD_LIMIT, NEXUS_COLOUR
from bot.ui.notes import KIND_EMOJI, send_note
from bot.ui.views import guarded

FUNNEL_FILENAME = "funnel.png"
BUTTON_LABEL_MAX = 80
"""Characters of a note's title on its button (Discord allows 80)."""


def funnel_attachment(embed: discord.Embed, png: bytes | None) -> discord.File | None:
    """With the funnel chart's PNG bytes, the digest's embed shows them as its image and the file to
    attach is returned; with None (the chart could not be drawn), the digest goes without one."""
    if png is None:
        return None
    embed.set_image(url=f"attachment://{FUNNEL_FILENAME}")
    return discord.File(io.BytesIO(png), filename=FUNNEL_FILENAME)


def _block(lines: list[str], empty: str) -> str:
    text = "\n".join(lines) or empty
    return text if len(text) <= EMBED_FIELD_LIMIT else text[: EMBED_FIELD_LIMIT - 1].rsplit("\n", 1)[0] + "\n…"


def digest_embed(digest: Digest) -> discord.Embed:
    """The digest as one embed: three fields, each within Discord's limits."""
    start, end = digest.start.strftime("%d %b"), digest.end.strftime("%d %b %Y")
    embed = discord.Embed(title=f"Nexus weekly digest · {start} – {end}", colour=NEXUS_COLOUR)
    teams = [
        f"• **{safe_text(team.project_name)}**: " + (", ".join(f"<@{u}>" for u in team.member_ids) or "—")
        for team in digest.new_teams
    ]
    if digest.new_team_count > len(digest.new_teams):
        teams.append(f"…and {digest.new_team_count - len(digest.new_teams)} more")
    embed.add_field(
        name=f"New teams ({digest.new_team_count})", value=_block(teams, "No new team this week."), inline=False
    )
    notes = [
        f"{KIND_EMOJI[note.kind]} **#{note.note_id} {safe_text(truncate(note.title, 80))}** by <@{note.author_id}>"
        f" · 👍 {note.votes}"
        for note in digest.top_notes
    ]
    embed.add_field(
        name="Most helpful notes and tips",
        value=_block(notes, "No note was marked helpful this week: `/note search`, then 👍 Helpful."),
        inline=False,
    )
    progress = [
        f"{label.split(' (')[0]}: **{digest.progress[step]}** / {digest.known}"
        for step, label in CHECKLIST_LABELS.items()
    ]
    embed.add_field(name="Cohort progress", value=_block(progress, "—"), inline=False)
    embed.set_footer(text="Weekly digest · the buttons show each note")
    return embed


class DigestNoteButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"nexus:digest:note:(?P<note_id>[0-9]{1,10})",
):
    """Shows one of the digest's notes to whoever presses it, privately; works after a restart."""

    def __init__(self, note_id: int, label: str = "Show note") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, custom_id=f"nexus:digest:note:{note_id}"
            )
        )
        self.note_id = note_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DigestNoteButton:
        return cls(int(match["note_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await self._show(interaction)

    @guarded
    async def _show(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        note = await app_of(interaction).services.notes.get_note(
            interaction.guild_id, interaction.user.id, self.note_id
        )
        await send_note(interaction, note, ephemeral=True)


def digest_view(digest: Digest) -> discord.ui.View | None:
    """A button per top note (None when there is none)."""
    if not digest.top_notes:
        return None
    view = discord.ui.View(timeout=None)
    for note in digest.top_notes:
        view.add_item(DigestNoteButton(note.note_id, truncate(f"#{note.note_id} {note.title}", BUTTON_LABEL_MAX)))
    return view
