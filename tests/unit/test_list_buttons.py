"""The buttons of a list reply: what their custom_ids carry, and what a shrunken list shows."""

from __future__ import annotations

import discord

from bot.ui.views import ListPageButton, list_page


def _ids(view: discord.ui.View) -> list[str]:
    """The custom_ids as they are sent to Discord."""
    return [button["custom_id"] for row in view.to_components() for button in row["components"]]


async def test_every_page_has_distinct_buttons_that_name_it():
    pages = [discord.Embed(title=f"page {index}") for index in range(3)]
    template = ListPageButton.__discord_ui_compiled_template__
    for page in range(3):
        embed, view = list_page("project_who", 42, "Café: Δ\nboard", pages, page)
        assert embed.title == f"page {page}" and view is not None
        ids = _ids(view)
        assert len(set(ids)) == len(ids) == 3
        matched = [template.fullmatch(custom_id) for custom_id in ids]
        assert matched[1] is None  # the position label is not a button that pages
        assert [m["arg"] for m in (matched[0], matched[2]) if m] == ["Café: Δ\nboard"] * 2
        assert [int(m["page"]) for m in (matched[0], matched[2]) if m] == [max(0, page - 1), min(2, page + 1)]


async def test_a_list_that_shrank_to_one_page_loses_its_buttons():
    embed, view = list_page("note_mine", 42, "", [discord.Embed(title="only")], 5)
    assert embed.title == "only" and view is None
    embed, view = list_page("note_mine", 42, "", [], 0)
    assert embed.description == "Nothing to show." and view is None
