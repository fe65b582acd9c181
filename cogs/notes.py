"""/note, /tip and /topic: learning notes, challenges and tips, searchable by the whole cohort."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_staff, staff_only, writes
from bot.client import NexusBot
from bot.domain.cohort import AFTER_NOTE
from bot.domain.errors import PermissionDeniedError
from bot.domain.names import rank_names
from bot.domain.notes import TIP_MAX_LENGTH, TOPIC_NAME_MAX_LENGTH, NoteKind
from bot.domain.search import MAX_QUERY_LENGTH
from bot.domain.text import safe_text
from bot.services.notes.notes import TOP_TIPS_MAX_DAYS
from bot.ui.embeds import NEXUS_COLOUR
from bot.ui.notes import NoteModal, helpful_view, note_choices, send_note, summary_pages
from bot.ui.search import SearchQuery, nothing_found, search_reply
from bot.ui.views import Paginator, confirm_then, send_embed, send_list

MINE_LIST = "note_mine"
NOTE_REF_MAX_LENGTH = 100
"""The id option holds a number (or `#number`); autocomplete fills it from titles."""
AUTOCOMPLETE_CHOICES = 25

NoteRef = app_commands.Range[str, 1, NOTE_REF_MAX_LENGTH]
TopicName = app_commands.Range[str, 1, TOPIC_NAME_MAX_LENGTH]
KIND_CHOICES = [app_commands.Choice(name=kind.label, value=kind.value) for kind in NoteKind]


def _guild_id(interaction: discord.Interaction[Any]) -> int:
    assert interaction.guild_id is not None  # the tree refuses direct messages
    return interaction.guild_id


async def _topic_autocomplete(
    interaction: discord.Interaction[NexusBot], current: str
) -> list[app_commands.Choice[str]]:
    names = await interaction.client.services.notes.topics(_guild_id(interaction))
    matching = rank_names(current, names, AUTOCOMPLETE_CHOICES)
    return [app_commands.Choice(name=n, value=n) for n in matching]


async def _visible_note_autocomplete(
    interaction: discord.Interaction[NexusBot], current: str
) -> list[app_commands.Choice[str]]:
    found = await interaction.client.services.notes.autocomplete(_guild_id(interaction), interaction.user.id, current)
    return note_choices(found)


async def _own_note_autocomplete(
    interaction: discord.Interaction[NexusBot], current: str
) -> list[app_commands.Choice[str]]:
    found = await interaction.client.services.notes.autocomplete(
        _guild_id(interaction), interaction.user.id, current, own_only=True
    )
    return note_choices(found)


async def _deletable_note_autocomplete(
    interaction: discord.Interaction[NexusBot], current: str
) -> list[app_commands.Choice[str]]:
    """The notes the member may delete: their own, or (staff) any they can see."""
    found = await interaction.client.services.notes.autocomplete(
        _guild_id(interaction), interaction.user.id, current, own_only=not await is_staff(interaction)
    )
    return note_choices(found)


@app_commands.guild_only()
class NoteCog(commands.GroupCog, group_name="note", group_description="Learning notes and challenges"):
    """Write, find, show, edit and delete notes."""

    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        bot.list_sources[MINE_LIST] = self._mine_pages

    async def cog_unload(self) -> None:
        self.bot.list_sources.pop(MINE_LIST, None)

    @app_commands.command(name="add", description="Write a learning note, challenge or best practice")
    @writes()
    @app_commands.describe(topic="What it is about", kind="What it records", private="Only you can see it")
    @app_commands.choices(kind=KIND_CHOICES)
    @app_commands.autocomplete(topic=_topic_autocomplete)
    async def add(
        self,
        interaction: discord.Interaction[NexusBot],
        topic: TopicName,
        kind: app_commands.Choice[str],
        private: bool = False,
    ) -> None:
        note_kind = NoteKind(kind.value)
        notes = self.bot.services.notes
        guild_id = _guild_id(interaction)
        topic = await notes.topic_name(guild_id, topic)  # an unknown topic is refused before the form opens

        async def save(modal_interaction: discord.Interaction[Any], modal: NoteModal) -> None:
            title, body, solution, tags = modal.values
            note = await notes.create_note(
                guild_id,
                modal_interaction.user.id,
                topic=topic,
                kind=note_kind,
                title=title,
                body=body,
                solution=solution,
                tags=tags,
                private=private,
            )
            await send_note(
                modal_interaction, note, content=f"Saved as note #{note.id}. Next: {AFTER_NOTE}.", ephemeral=True
            )

        heading = f"New {note_kind.label.lower()}: {topic}"
        await interaction.response.send_modal(NoteModal(heading=heading, kind=note_kind, on_submit=save))

    @app_commands.command(name="search", description="Search the cohort's notes (best matches first)")
    @app_commands.describe(
        query="Words to look for", topic="Only this topic", kind="Only this kind", author="Only notes by them"
    )
    @app_commands.choices(kind=KIND_CHOICES)
    @app_commands.autocomplete(topic=_topic_autocomplete)
    async def search(
        self,
        interaction: discord.Interaction[NexusBot],
        query: app_commands.Range[str, 1, MAX_QUERY_LENGTH],
        topic: TopicName | None = None,
        kind: app_commands.Choice[str] | None = None,
        author: discord.Member | None = None,
    ) -> None:
        search = SearchQuery(
            query, topic=topic, kind=NoteKind(kind.value) if kind else None, author_id=author.id if author else None
        )
        result = await search.run(self.bot.services.notes, _guild_id(interaction), interaction.user.id)
        if not result.hits:
            await interaction.response.send_message(nothing_found(query, result), ephemeral=True)
            return
        embed, view = search_reply(search, result, 0, self.bot.kept_searches.button_state(search))
        await send_embed(interaction, embed, view, ephemeral=True)

    @app_commands.command(name="show", description="Show a note (with a Helpful button)")
    @app_commands.rename(note_ref="id")
    @app_commands.describe(note_ref="The note: type its title or content and pick it")
    @app_commands.autocomplete(note_ref=_visible_note_autocomplete)
    async def show(
        self,
        interaction: discord.Interaction[NexusBot],
        note_ref: NoteRef,
    ) -> None:
        note = await self.bot.services.notes.get_note_ref(_guild_id(interaction), interaction.user.id, note_ref)
        view = helpful_view(note)
        await send_note(interaction, note, ephemeral=view is None, view=view)

    @app_commands.command(name="edit", description="Edit one of your notes")
    @writes()
    @app_commands.rename(note_ref="id")
    @app_commands.describe(note_ref="Your note: type its title and pick it")
    @app_commands.autocomplete(note_ref=_own_note_autocomplete)
    async def edit(
        self,
        interaction: discord.Interaction[NexusBot],
        note_ref: NoteRef,
    ) -> None:
        notes = self.bot.services.notes
        guild_id = _guild_id(interaction)
        note = await notes.get_note_ref(guild_id, interaction.user.id, note_ref)
        if note.author_id != interaction.user.id:
            raise PermissionDeniedError("Only the note's author can edit it; nothing was changed.")

        async def save(modal_interaction: discord.Interaction[Any], modal: NoteModal) -> None:
            title, body, solution, tags = modal.values
            updated = await notes.update_note(
                guild_id,
                modal_interaction.user.id,
                note.id,
                title=title,
                body=body,
                solution=solution,
                tags=tags,
            )
            await send_note(modal_interaction, updated, content=f"Note #{updated.id} updated.", ephemeral=True)

        modal = NoteModal(heading=f"Edit note #{note.id}", kind=note.kind, on_submit=save, note=note)
        await interaction.response.send_modal(modal)

    @app_commands.command(name="delete", description="Delete one of your notes (staff: any public note)")
    @writes()
    @app_commands.rename(note_ref="id")
    @app_commands.describe(note_ref="The note: type its title and pick it")
    @app_commands.autocomplete(note_ref=_deletable_note_autocomplete)
    async def delete(
        self,
        interaction: discord.Interaction[NexusBot],
        note_ref: NoteRef,
    ) -> None:
        notes = self.bot.services.notes
        guild_id = _guild_id(interaction)
        staff = await is_staff(interaction)
        target = await notes.get_note_ref(guild_id, interaction.user.id, note_ref)
        note = await notes.deletable_note(guild_id, interaction.user.id, target.id, is_staff=staff)

        async def delete() -> str:
            deleted = await notes.delete_note(guild_id, interaction.user.id, note.id, is_staff=staff)
            await self.bot.delivery.deliver(guild_id, deleted.events)
            return f"Deleted note #{note.id}."

        await confirm_then(
            interaction,
            f"Delete note #{note.id} “{safe_text(note.title)}”? Its helpful votes go too; this can't be undone.",
            delete,
            confirm_label="Delete",
        )

    @app_commands.command(name="mine", description="Your notes, newest first (only you see this)")
    async def mine(self, interaction: discord.Interaction[NexusBot]) -> None:
        pages = await self._mine_pages(interaction, "")
        await send_list(interaction, pages, name=MINE_LIST, ephemeral=True)

    async def _mine_pages(self, interaction: discord.Interaction[Any], arg: str) -> list[discord.Embed]:
        found = await self.bot.services.notes.mine(_guild_id(interaction), interaction.user.id)
        return summary_pages("Your notes", found, empty="You have no notes yet: start with /note add.")


@app_commands.guild_only()
class TipCog(commands.GroupCog, group_name="tip", group_description="One-line tips from the cohort"):
    """Share and discover tips."""

    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot

    @app_commands.command(name="share", description="Share a one-line tip with the cohort")
    @writes()
    @app_commands.describe(text="The tip, in one line", topic="What it is about")
    @app_commands.autocomplete(topic=_topic_autocomplete)
    async def share(
        self,
        interaction: discord.Interaction[NexusBot],
        text: app_commands.Range[str, 1, TIP_MAX_LENGTH],
        topic: TopicName,
    ) -> None:
        note = await self.bot.services.notes.share_tip(_guild_id(interaction), interaction.user.id, text, topic)
        await interaction.response.send_message(
            f"💡 Tip #{note.id} shared in {safe_text(note.topic)}: {safe_text(note.body)}", ephemeral=True
        )

    @app_commands.command(name="random", description="A random tip from the cohort")
    @app_commands.describe(topic="Only tips about this topic")
    @app_commands.autocomplete(topic=_topic_autocomplete)
    async def random(
        self,
        interaction: discord.Interaction[NexusBot],
        topic: TopicName | None = None,
    ) -> None:
        tip = await self.bot.services.notes.random_tip(_guild_id(interaction), topic)
        if tip is None:
            await interaction.response.send_message("No tips yet: share one with /tip share.", ephemeral=True)
            return
        await send_note(interaction, tip, ephemeral=False, view=helpful_view(tip))

    @app_commands.command(name="top", description="The tips the cohort found most helpful")
    @app_commands.describe(topic="Only tips about this topic", days="Only tips shared in the last N days")
    @app_commands.autocomplete(topic=_topic_autocomplete)
    async def top(
        self,
        interaction: discord.Interaction[NexusBot],
        topic: TopicName | None = None,
        days: app_commands.Range[int, 1, TOP_TIPS_MAX_DAYS] | None = None,
    ) -> None:
        tips = await self.bot.services.notes.top_tips(_guild_id(interaction), topic, days)
        title = "Top tips" + (f" in {topic}" if topic else "") + (f", last {days} days" if days else "")
        pages = summary_pages(safe_text(title), tips, empty="No tips yet: share one with /tip share.")
        await Paginator(interaction.user.id, pages).send(interaction, ephemeral=False)  # one page: no view


@app_commands.guild_only()
class TopicCog(commands.GroupCog, group_name="topic", group_description="The topics notes are filed under"):
    """List topics; staff add and remove them."""

    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot

    @app_commands.command(name="list", description="The topics notes can be filed under")
    async def list_topics(self, interaction: discord.Interaction[NexusBot]) -> None:
        names = await self.bot.services.notes.topics(_guild_id(interaction))
        embed = discord.Embed(
            title="Note topics",
            description="\n".join(f"• {safe_text(n)}" for n in names),
            colour=NEXUS_COLOUR,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="add", description="Add a topic for notes")
    @writes()
    @app_commands.describe(name="The topic's name, e.g. Kubernetes")
    @staff_only()
    async def add(
        self,
        interaction: discord.Interaction[NexusBot],
        name: TopicName,
    ) -> None:
        stored = await self.bot.services.notes.add_topic(_guild_id(interaction), name, interaction.user.id)
        await interaction.response.send_message(f"Topic **{safe_text(stored)}** added.", ephemeral=True)

    @app_commands.command(name="remove", description="Remove a topic that no note uses")
    @writes()
    @app_commands.describe(name="The topic to remove")
    @app_commands.autocomplete(name=_topic_autocomplete)
    @staff_only()
    async def remove(
        self,
        interaction: discord.Interaction[NexusBot],
        name: TopicName,
    ) -> None:
        removed = await self.bot.services.notes.remove_topic(_guild_id(interaction), name)
        await interaction.response.send_message(f"Topic **{safe_text(removed)}** removed.", ephemeral=True)


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(NoteCog(bot))
    await bot.add_cog(TipCog(bot))
    await bot.add_cog(TopicCog(bot))
