"""Notes on Discord: embeds, the note modal, the persistent Helpful button and the README file."""

from __future__ import annotations

import io
import json
import re
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import discord

from bot.app import NexusApp, app_of
from bot.domain.errors import NotFoundError
from bot.domain.notes import (
    BODY_MAX_LENGTH,
    SOLUTION_MAX_LENGTH,
    TAGS_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    NoteKind,
)
from bot.domain.search import Snippet
from bot.domain.text import safe_text, truncate
from bot.errors import report_error
from bot.services.notes import NoteService
from bot.services.notes.records import NoteSummary, NoteView
from bot.services.notes.search import SearchResult
from bot.ui.embeds import EMBED_FIELD_LIMIT, NEXUS_COLOUR, chunk_lines
from bot.ui.views import guarded, pager_view


class SearchApp(NexusApp, Protocol):
    """The bot as search pages need it: with the searches too long for a custom_id."""

    kept_searches: KeptSearches


SEARCH_PAGE_SIZE = 5
"""Search hits per page."""
LIST_PAGE_SIZE = 10
"""Notes per page of /note mine and /tip top."""
MODAL_TITLE_LIMIT = 45
CHOICE_NAME_LIMIT = 100
SNIPPET_LIMIT = 300
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_TITLE_LIMIT = 256
HELPFUL_LABEL = "Helpful"
KIND_EMOJI = {NoteKind.LEARNING: "📘", NoteKind.CHALLENGE: "🧩", NoteKind.PRACTICE: "✅", NoteKind.TIP: "💡"}


def _plain(text: str, limit: int) -> str:
    """Member text for places Discord shows without markdown (choices, modal titles)."""
    return truncate(" ".join(text.split()), limit)


def note_embed(note: NoteView) -> discord.Embed:
    """The full note: title, body, solution, topic, kind, tags, author and helpful count."""
    title = f"{KIND_EMOJI[note.kind]} #{note.id} · {safe_text(note.title)}"
    embed = discord.Embed(
        title=truncate(title, EMBED_TITLE_LIMIT),
        description=safe_text(note.body, limit=EMBED_DESCRIPTION_LIMIT),
        colour=NEXUS_COLOUR,
        timestamp=note.created_at,
    )
    if note.solution:
        blocks = chunk_lines(safe_text(note.solution).split("\n"), EMBED_FIELD_LIMIT)
        for index, block in enumerate(blocks[:2]):
            embed.add_field(name="Solution" if index == 0 else "Solution (more)", value=block, inline=False)
    embed.add_field(name="Topic", value=safe_text(note.topic))
    embed.add_field(name="Kind", value=note.kind.label)
    embed.add_field(name="Author", value=f"<@{note.author_id}>")
    if note.tags:
        embed.add_field(name="Tags", value=safe_text(", ".join(note.tags)), inline=False)
    visibility = "🔒 Private: only you can see it" if note.is_private else f"👍 {note.helpful_count} found it helpful"
    embed.set_footer(text=visibility)
    return embed


def _summary_line(note: NoteSummary) -> str:
    lock = " 🔒" if note.is_private else ""
    return (
        f"{KIND_EMOJI[note.kind]} **#{note.id}** {safe_text(note.title)}{lock}\n"
        f"{safe_text(note.topic)} · <@{note.author_id}> · 👍 {note.helpful_count} · "
        f"{discord.utils.format_dt(note.created_at, 'd')}"
    )


_MATCH_START = "\ue000"
_MATCH_END = "\ue001"
"""Private-use characters that mark a snippet's matches while it is escaped; then they become bold."""


def render_snippet(snippet: Snippet, *, limit: int) -> str:
    """A search snippet made safe for Discord, its matches in bold, at most about `limit` characters."""
    pieces: list[str] = []
    done = 0
    for start, end in snippet.spans:
        pieces += [snippet.text[done:start], _MATCH_START, snippet.text[start:end], _MATCH_END]
        done = end
    pieces.append(snippet.text[done:])
    rendered = safe_text(" ".join("".join(pieces).split()))
    rendered = rendered.replace(_MATCH_START, "**").replace(_MATCH_END, "**")
    rendered = rendered.replace("****", "")
    if len(rendered) > limit:
        rendered = rendered[: limit - 1].rstrip() + "…"
        if rendered.count("**") % 2:
            rendered = rendered[:-1].rstrip("*") + "**…"
    return rendered


SEARCH_CUSTOM_ID = "nexus:search:{page}:{state}"
"""A search page button: the page it shows and the search (packed, or a kept-search token)."""
CUSTOM_ID_LIMIT = 100
"""Discord's limit on a custom_id; counted here in UTF-8 bytes, the strictest reading."""
SEARCH_PAGE_LIMIT = 999
"""The highest page number a search button can name (a search returns at most a few pages)."""
KEPT_SEARCHES = 1000
"""Searches too long for a custom_id that one process keeps for their page buttons (newest first)."""
SNOWFLAKE_LIMIT = 2**63
"""Discord ids are below this (a forged larger one would overflow the database's BIGINT)."""
EXPIRED_SEARCH = "This search is too old to page through (Nexus keeps the newest ones). Run /note search again."


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A /note search: its words and filters. The page buttons carry it, so no view stays in memory."""

    text: str
    topic: str | None = None
    kind: NoteKind | None = None
    author_id: int | None = None

    def packed(self) -> str:
        """A compact JSON list for a custom_id; trailing empty filters are left out."""
        fields: list[str | int | None] = [self.text, self.topic, self.kind.value if self.kind else None, self.author_id]
        while fields[-1] is None:
            fields.pop()
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def unpacked(cls, packed: str) -> SearchQuery | None:
        """The search `packed` describes, or None when it is not one (a damaged or forged custom_id)."""
        try:
            fields = json.loads(packed)
        except ValueError:
            return None
        if not isinstance(fields, list) or not 1 <= len(fields) <= 4:
            return None
        text, topic, kind, author_id = [*fields, None, None, None][:4]
        if not isinstance(text, str) or not isinstance(topic, str | None):
            return None
        if author_id is not None and not (type(author_id) is int and 0 <= author_id < SNOWFLAKE_LIMIT):
            return None
        if kind is not None and kind not in {k.value for k in NoteKind}:
            return None
        return cls(text, topic, NoteKind(kind) if kind is not None else None, author_id)

    async def run(self, notes: NoteService, guild_id: int, viewer_id: int) -> SearchResult:
        """The hits `viewer_id` may see, now."""
        return await notes.search(
            guild_id, viewer_id, self.text, topic=self.topic, kind=self.kind, author_id=self.author_id
        )


class KeptSearches:
    """Searches whose packed form does not fit a custom_id, under a random token; the newest `size`."""

    TOKEN_MARK = "~"

    def __init__(self, size: int = KEPT_SEARCHES) -> None:
        self.size = size
        self._packed: OrderedDict[str, str] = OrderedDict()

    def button_state(self, query: SearchQuery) -> str:
        """What a page button's custom_id carries for `query`: the search itself when it fits."""
        packed = query.packed()
        longest = SEARCH_CUSTOM_ID.format(page=SEARCH_PAGE_LIMIT, state=packed)
        if len(longest.encode()) <= CUSTOM_ID_LIMIT:
            return packed
        # random, so a button from before a restart can never name another member's search
        token = self.TOKEN_MARK + secrets.token_urlsafe(9)
        self._packed[token] = packed
        while len(self._packed) > self.size:
            self._packed.popitem(last=False)
        return token

    def query(self, state: str) -> SearchQuery | None:
        """The search a button's state names; None when it is damaged or no longer kept."""
        if state.startswith(self.TOKEN_MARK):
            packed = self._packed.get(state)
            return SearchQuery.unpacked(packed) if packed is not None else None
        return SearchQuery.unpacked(state)


def search_page(query: str, result: SearchResult, index: int) -> discord.Embed:
    """Page `index` of a search's hits (SEARCH_PAGE_SIZE per page, best first)."""
    count = len(result.hits)
    header = f"{count} note{'' if count == 1 else 's'} for “{safe_text(query, limit=100)}”"
    if not result.matched_all_words:
        header += "\nNo note has every word, so these have some of them."
    embed = discord.Embed(title="Note search", description=header, colour=NEXUS_COLOUR)
    start = index * SEARCH_PAGE_SIZE
    page_hits = result.hits[start : start + SEARCH_PAGE_SIZE]
    for hit in page_hits:
        note = hit.note
        name = truncate(f"{KIND_EMOJI[note.kind]} #{note.id} · {_plain(note.title, 200)}", 256)
        lock = " · 🔒 private" if note.is_private else ""
        meta = f"{safe_text(note.topic)} · <@{note.author_id}> · 👍 {note.helpful_count}{lock}"
        snippet = render_snippet(hit.snippet, limit=SNIPPET_LIMIT) or "…"
        embed.add_field(name=safe_text(name, limit=256), value=truncate(f"{snippet}\n{meta}", 1024), inline=False)
    if not page_hits:
        embed.add_field(name="Nothing on this page any more", value="Run the search again for fresh results.")
    embed.set_footer(text="Open one with /note show id:<number>")
    return embed


def search_reply(
    query: SearchQuery, result: SearchResult, page: int, state: str
) -> tuple[discord.Embed, discord.ui.View | None]:
    """Page `page` of a search's hits, with page buttons carrying `state` when there are more pages."""
    page_count = max(1, -(-len(result.hits) // SEARCH_PAGE_SIZE))
    page = min(max(0, page), page_count - 1)
    embed = search_page(query.text, result, page)
    if page_count == 1:
        return embed, None

    def button(target: int, label: str, disabled: bool) -> SearchPageButton:
        return SearchPageButton(target, state, label=label, disabled=disabled)

    return embed, pager_view(page, page_count, "nexus:search:position", button)


class SearchPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"nexus:search:(?P<page>[0-9]{1,3}):(?P<state>.+)",
):
    """Previous or Next on search results: runs the search again, fresh, for the page it names.

    The custom_id carries the search, so the buttons keep working for as long as the member keeps
    the reply, through restarts, and the bot holds nothing per search.
    """

    def __init__(self, page: int, state: str, *, label: str = "Page", disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=SEARCH_CUSTOM_ID.format(page=page, state=state),
            )
        )
        self.page = page
        self.state = state

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SearchPageButton:
        return cls(int(match["page"]), match["state"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = cast(SearchApp, interaction.client)
        if interaction.guild_id is None:
            raise discord.app_commands.NoPrivateMessage()
        query = bot.kept_searches.query(self.state)
        if query is None:
            raise NotFoundError(EXPIRED_SEARCH)
        result = await query.run(bot.services.notes, interaction.guild_id, interaction.user.id)
        embed, view = search_reply(query, result, self.page, self.state)
        await interaction.response.edit_message(embed=embed, view=view)


def summary_pages(title: str, notes: Sequence[NoteSummary], *, empty: str) -> list[discord.Embed]:
    """A list of notes as embeds of LIST_PAGE_SIZE lines."""
    if not notes:
        return [discord.Embed(title=title, description=empty, colour=NEXUS_COLOUR)]
    pages = []
    for start in range(0, len(notes), LIST_PAGE_SIZE):
        lines = [_summary_line(n) for n in notes[start : start + LIST_PAGE_SIZE]]
        description = truncate("\n\n".join(lines), EMBED_DESCRIPTION_LIMIT)
        pages.append(discord.Embed(title=title, description=description, colour=NEXUS_COLOUR))
    return pages


def note_choices(notes: Sequence[NoteSummary]) -> list[discord.app_commands.Choice[str]]:
    """Autocomplete choices: the note's title shown, its id sent."""
    return [
        discord.app_commands.Choice(name=_plain(f"#{n.id} · {n.title}", CHOICE_NAME_LIMIT), value=str(n.id))
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
    ) -> None:
        super().__init__(title=_plain(heading, MODAL_TITLE_LIMIT))
        self._on_submit = on_submit
        self.note_title: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
            label="Title",
            max_length=TITLE_MAX_LENGTH,
            default=note.title if note else None,
            placeholder="JWT refresh tokens in DRF",
        )
        self.body: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
            label="What did you learn?" if kind is not NoteKind.CHALLENGE else "The challenge",
            style=discord.TextStyle.paragraph,
            max_length=BODY_MAX_LENGTH,
            default=note.body if note else None,
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
                default=note.solution if note else None,
            )
            self.add_item(self.solution)
        self.tags: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
            label="Tags (comma separated)",
            max_length=TAGS_MAX_LENGTH,
            required=False,
            default=", ".join(note.tags) if note else None,
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

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error)


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
