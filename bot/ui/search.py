"""Search results on Discord: pages, snippets in bold, and the stateless Previous/Next buttons."""

from __future__ import annotations

import json
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol, cast

import discord

from bot.app import NexusApp
from bot.domain.errors import NotFoundError
from bot.domain.notes import NoteKind
from bot.domain.search import MAX_QUERY_LENGTH, Snippet
from bot.domain.text import escape_markdown, neutralise_mentions, safe_text, truncate
from bot.services.notes import NoteService
from bot.services.notes.search import SearchResult
from bot.ui.embeds import NEXUS_COLOUR
from bot.ui.notes import KIND_EMOJI, SEARCH_PAGE_SIZE, SNIPPET_LIMIT, plain_text
from bot.ui.views import guarded, pager_view


class SearchApp(NexusApp, Protocol):
    """The bot as search pages need it: with the searches too long for a custom_id."""

    kept_searches: KeptSearches


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
    marked = " ".join("".join(pieces).split())
    # printable text has no control or format character to drop: the markers are the only
    # unprintable ones, which safe_text keeps, but only after looking at every character
    clean = snippet.text.isprintable()
    rendered = neutralise_mentions(escape_markdown(marked)) if clean else safe_text(marked)
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


def query_remarks(result: SearchResult) -> str:
    """What was changed in the member's query before searching (empty when nothing was)."""
    remarks = []
    if result.ignored_invisible:
        remarks.append("(ignored invisible characters)")
    if result.cut:
        remarks.append(f"(your search was cut to the first {MAX_QUERY_LENGTH} characters)")
    return " ".join(remarks)


def nothing_found(query: str, result: SearchResult) -> str:
    """The reply to a search without hits: why, what was changed in the query, and suggestions."""
    if not result.words:
        text = "Nothing found: your search has no words to look for. Try letters or numbers."
    else:
        text = f"Nothing found for “{safe_text(query, limit=100)}”."
    if remarks := query_remarks(result):
        text += f" {remarks}"
    if result.suggestions:
        text += " Try " + ", ".join(f"**{safe_text(s)}**" for s in result.suggestions) + "."
    return text


def search_page(query: str, result: SearchResult, index: int) -> discord.Embed:
    """Page `index` of a search's hits (SEARCH_PAGE_SIZE per page, best first)."""
    count = len(result.hits)
    header = f"{count} note{'' if count == 1 else 's'} for “{safe_text(query, limit=100)}”"
    if remarks := query_remarks(result):
        header += f" {remarks}"
    if not result.matched_all_words:
        header += "\nNo note has every word, so these have some of them."
    embed = discord.Embed(title="Note search", description=header, colour=NEXUS_COLOUR)
    start = index * SEARCH_PAGE_SIZE
    page_hits = result.hits[start : start + SEARCH_PAGE_SIZE]
    for hit in page_hits:
        note = hit.note
        name = truncate(f"{KIND_EMOJI[note.kind]} #{note.id} · {plain_text(note.title, 200)}", 256)
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
