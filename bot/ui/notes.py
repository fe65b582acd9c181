"""Notes on Discord: embeds, the note modal, the persistent Helpful button and the README file."""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.app import app_of
from bot.domain.notes import (
    BODY_MAX_LENGTH,
    SOLUTION_MAX_LENGTH,
    TAGS_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    NoteKind,
)
from bot.domain.text import safe_text, truncate
from bot.observability.interactions import completed
from bot.services.notes.records import NoteSummary, NoteView
from bot.ui.drafts import refuse_form
from bot.ui.embeds import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TITLE_LIMIT,
    MESSAGE_EMBEDS_TOTAL,
    NEXUS_COLOUR,
    fit_fields,
)
from bot.ui.views import guarded

SEARCH_PAGE_SIZE = 5
"""Search hits per page."""
LIST_PAGE_SIZE = 10
"""Notes per page of /note mine and /tip top."""
MODAL_TITLE_LIMIT = 45
CHOICE_NAME_LIMIT = 100
SNIPPET_LIMIT = 300
HELPFUL_LABEL = "Helpful"
KIND_EMOJI = {NoteKind.LEARNING: "📘", NoteKind.CHALLENGE: "🧩", NoteKind.PRACTICE: "✅", NoteKind.TIP: "💡"}


def plain_text(text: str, limit: int) -> str:
    """Member text for places Discord shows without markdown (choices, modal titles)."""
    return truncate(" ".join(text.split()), limit)


def note_embed(note: NoteView) -> discord.Embed:
    """The note as one embed within Discord's 6,000 characters a message: title, body, solution,
    topic, kind, tags, author and helpful count. When the note is longer, what is cut ends in "…"
    and the footer says the whole note is attached (`note_message` attaches it)."""
    return _note_embed(note)[0]


def note_message(note: NoteView) -> tuple[discord.Embed, discord.File | None]:
    """The note's embed and, when it could not hold the whole note, the note as a Markdown file."""
    embed, whole = _note_embed(note)
    return embed, None if whole else note_file(note)


def _note_embed(note: NoteView) -> tuple[discord.Embed, bool]:
    # a tip's title is its text (shortened), so a tip shows its text once: in the description
    shown_title = "Tip" if note.kind is NoteKind.TIP else safe_text(note.title)
    title = f"{KIND_EMOJI[note.kind]} #{note.id} · {shown_title}"
    embed = discord.Embed(title=truncate(title, EMBED_TITLE_LIMIT), colour=NEXUS_COLOUR, timestamp=note.created_at)
    embed.add_field(name="Topic", value=safe_text(note.topic))
    embed.add_field(name="Kind", value=note.kind.label)
    embed.add_field(name="Author", value=f"<@{note.author_id}>")
    if note.tags:
        embed.add_field(name="Tags", value=safe_text(", ".join(note.tags)), inline=False)
    visibility = "🔒 Private: only you can see it" if note.is_private else f"👍 {note.helpful_count} found it helpful"
    footer = f"{visibility} · too long for one message: the whole note is attached"
    fixed = len(embed) + len(footer)
    body = safe_text(note.body)
    solution = safe_text(note.solution) if note.solution else ""
    # the body first, then the solution in the fields before Topic, Kind, Author and Tags
    room = MESSAGE_EMBEDS_TOTAL - fixed
    shown_body = truncate(body, min(EMBED_DESCRIPTION_LIMIT, room - min(len(solution), room // 2)))
    embed.description = shown_body
    whole = shown_body == body
    if solution:
        trailing = embed.fields
        embed.clear_fields()
        whole = fit_fields(embed, "Solution", solution, budget=room - len(shown_body)) and whole
        for field in trailing:
            embed.add_field(name=field.name or "", value=field.value or "", inline=bool(field.inline))
    embed.set_footer(text=visibility if whole else footer)
    return embed, whole


async def send_note(
    interaction: discord.Interaction[Any],
    note: NoteView,
    *,
    content: str | None = None,
    ephemeral: bool,
    view: discord.ui.View | None = None,
) -> None:
    """Answer with the note (and the whole note as a file when the embed could not hold it)."""
    embed, file = note_message(note)
    extra: dict[str, Any] = {}
    if file is not None:
        extra["file"] = file
    if view is not None:
        extra["view"] = view
    await interaction.response.send_message(content, embed=embed, ephemeral=ephemeral, **extra)


def note_file(note: NoteView) -> discord.File:
    """The whole note as a Markdown file (shown as a file, not rendered in chat)."""
    parts = [f"# #{note.id} {note.title}", "", note.body]
    if note.solution:
        parts += ["", "## Solution", "", note.solution]
    parts += ["", f"Topic: {note.topic} · Kind: {note.kind.label}"]
    if note.tags:
        parts.append(f"Tags: {', '.join(note.tags)}")
    return discord.File(io.BytesIO("\n".join(parts).encode()), filename=f"note-{note.id}.md")


def summary_line(note: NoteSummary) -> str:
    lock = " 🔒" if note.is_private else ""
    return (
        f"{KIND_EMOJI[note.kind]} **#{note.id}** {safe_text(note.title)}{lock}\n"
        f"{safe_text(note.topic)} · <@{note.author_id}> · 👍 {note.helpful_count} · "
        f"{discord.utils.format_dt(note.created_at, 'd')}"
    )


def summary_pages(title: str, notes: Sequence[NoteSummary], *, empty: str) -> list[discord.Embed]:
    """A list of notes as embeds of LIST_PAGE_SIZE lines."""
    if not notes:
        return [discord.Embed(title=title, description=empty, colour=NEXUS_COLOUR)]
    pages = []
    for start in range(0, len(notes), LIST_PAGE_SIZE):
        lines = [summary_line(n) for n in notes[start : start + LIST_PAGE_SIZE]]
        description = truncate("\n\n".join(lines), EMBED_DESCRIPTION_LIMIT)
        pages.append(discord.Embed(title=title, description=description, colour=NEXUS_COLOUR))
    return pages


def note_choices(notes: Sequence[NoteSummary]) -> list[discord.app_commands.Choice[str]]:
    """Autocomplete choices: the note's title shown, its id sent."""
    return [
        discord.app_commands.Choice(name=plain_text(f"#{n.id} · {n.title}", CHOICE_NAME_LIMIT), value=str(n.id))
        for n in notes
    ]


def readme_file(markdown: str, member_name: str) -> discord.File:
    """The README as a Markdown attachment named after the member."""
    slug = re.sub(r"[^a-z0-9]+", "-", member_name.casefold()).strip("-") or "learner"
    return discord.File(io.BytesIO(markdown.encode()), filename=f"README-{slug[:40]}.md")


NoteSubmit = Callable[[discord.Interaction[Any], "NoteModal"], Awaitable[None]]


class NoteModal(discord.ui.Modal):
    """Title, body, solution (challenges only) and tags, for a new note or an edit."""

    def __init__(
        self,
        *,
        heading: str,
        kind: NoteKind,
        on_submit: NoteSubmit,
        note: NoteView | None = None,
        draft: tuple[str, str, str | None, str] | None = None,
    ) -> None:
        super().__init__(title=plain_text(heading, MODAL_TITLE_LIMIT))
        self._heading, self._kind, self._on_submit = heading, kind, on_submit
        if draft is None and note is not None:
            draft = (note.title, note.body, note.solution, ", ".join(note.tags))
        title, body, solution, tags = draft or (None, None, None, None)
        self.note_title: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
            label="Title",
            max_length=TITLE_MAX_LENGTH,
            default=title,
            placeholder="JWT refresh tokens in DRF",
        )
        self.body: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
            label="What did you learn?" if kind is not NoteKind.CHALLENGE else "The challenge",
            style=discord.TextStyle.paragraph,
            max_length=BODY_MAX_LENGTH,
            default=body,
        )
        self.add_item(self.note_title)
        self.add_item(self.body)
        self.solution: discord.ui.TextInput[NoteModal] | None = None
        if kind is NoteKind.CHALLENGE:
            self.solution = discord.ui.TextInput(
                label="How you solved it",
                style=discord.TextStyle.paragraph,
                max_length=SOLUTION_MAX_LENGTH,
                required=False,
                default=solution,
            )
            self.add_item(self.solution)
        self.tags: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
            label="Tags (comma separated)",
            max_length=TAGS_MAX_LENGTH,
            required=False,
            default=tags,
            placeholder="jwt, auth, drf",
        )
        self.add_item(self.tags)

    @property
    def values(self) -> tuple[str, str, str | None, str]:
        """Title, body, solution and tags as typed."""
        solution = self.solution.value if self.solution is not None else None
        return self.note_title.value, self.body.value, solution, self.tags.value

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await self._on_submit(interaction, self)
        completed(interaction)

    def reopened(self) -> NoteModal:
        """The same form again, filled with what was typed in this one."""
        return NoteModal(heading=self._heading, kind=self._kind, on_submit=self._on_submit, draft=self.values)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        await refuse_form(interaction, error, self.reopened)


class HelpfulButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"nexus:note:helpful:(?P<note_id>[0-9]{1,10})",
):
    """Marks a note helpful (or takes the mark back); works on messages sent before a restart."""

    def __init__(self, note_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=HELPFUL_LABEL,
                emoji="👍",
                style=discord.ButtonStyle.success,
                custom_id=f"nexus:note:helpful:{note_id}",
            )
        )
        self.note_id = note_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> HelpfulButton:
        return cls(int(match["note_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await self._toggle(interaction)

    @guarded
    async def _toggle(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        notes = app_of(interaction).services.notes
        vote = await notes.toggle_helpful(interaction.guild_id, interaction.user.id, self.note_id)
        note = await notes.get_note(interaction.guild_id, interaction.user.id, self.note_id)
        await interaction.response.edit_message(embed=note_embed(note), view=helpful_view(note))
        text = (
            f"Thanks: you marked #{note.id} as helpful."
            if vote.voted
            else f"Your helpful mark on #{note.id} was taken back."
        )
        await interaction.followup.send(text, ephemeral=True)


def helpful_view(note: NoteView) -> discord.ui.View | None:
    """The Helpful button for a public note (private notes can't be voted on)."""
    if note.is_private:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(HelpfulButton(note.id))
    return view
