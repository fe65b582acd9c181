"""Views shared by every feature: error-safe callbacks, pagination, confirmation."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import discord

from bot.app import app_of
from bot.domain.errors import NotFoundError
from bot.errors import error_text, report_error
from bot.logging_setup import bind_log_context
from bot.observability.interactions import completed, log_context

VIEW_TIMEOUT_SECONDS = 600
"""How long pagination and confirmation buttons stay usable."""
PREVIOUS_LABEL = "◀ Previous"
NEXT_LABEL = "Next ▶"

SelfT = TypeVar("SelfT")
Callback = Callable[[SelfT, discord.Interaction[Any]], Coroutine[Any, Any, None]]


def guarded(func: Callback[SelfT]) -> Callback[SelfT]:
    """Wrap a component callback so any failure becomes a clear ephemeral reply.

    discord.py only logs exceptions raised in DynamicItem callbacks; the member would see
    "This interaction failed". Every persistent button's callback goes through this.
    """

    @functools.wraps(func)
    async def wrapper(self: SelfT, interaction: discord.Interaction[Any]) -> None:
        bind_log_context(log_context(interaction))
        try:
            await func(self, interaction)
        except Exception as exc:  # every failure gets an answer
            await report_error(interaction, exc)
            return
        completed(interaction)

    return wrapper


class NexusView(discord.ui.View):
    """A view whose buttons only its owner may press, with errors reported to the presser."""

    def __init__(self, owner_id: int | None, *, timeout: float | None = VIEW_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.message: discord.Message | discord.InteractionMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if self.owner_id is not None and interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report_error(interaction, error)

    def disable_all(self) -> None:
        for child in self.children:
            if isinstance(child, discord.ui.Button | discord.ui.Select):
                child.disabled = True


def detached_view(*items: discord.ui.Item[Any]) -> discord.ui.View:
    """A view of DynamicItems that the bot keeps nothing of: a press reaches its item by custom_id.

    discord.py keeps a live view (and an ephemeral one's 15-minute timer) until it times out; a
    stopped view is sent the same but never stored, so a busy cohort's replies cost no memory.
    """
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    view.stop()
    return view


class Paginator(NexusView):
    """Previous/next buttons over a list of embeds."""

    def __init__(self, owner_id: int, pages: Sequence[discord.Embed], *, start: int = 0) -> None:
        super().__init__(owner_id)
        self.pages = list(pages) or [discord.Embed(description="Nothing to show.")]
        self.page_count = len(self.pages)
        self.index = min(max(0, start), self.page_count - 1)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= self.page_count - 1
        self.position.label = f"{self.index + 1}/{self.page_count}"

    async def send(
        self, interaction: discord.Interaction[Any], *, ephemeral: bool = True, file: discord.File | None = None
    ) -> None:
        """Answer `interaction` with the first page (and the buttons when there is more than one),
        and `file` attached when given (it stays as the pages turn)."""
        embed = self.pages[self.index]
        files = _files(file)
        if self.page_count == 1:
            if interaction.response.is_done():
                await interaction.followup.send(embed=embed, ephemeral=ephemeral, **files)
            else:
                await interaction.response.send_message(embed=embed, ephemeral=ephemeral, **files)
            return
        if interaction.response.is_done():
            self.message = await interaction.followup.send(
                embed=embed, view=self, ephemeral=ephemeral, wait=True, **files
            )
        else:
            callback = await interaction.response.send_message(embed=embed, view=self, ephemeral=ephemeral, **files)
            # the callback's response carries the message; fetching it again would cost a request
            resource = callback.resource
            if isinstance(resource, discord.InteractionMessage):
                self.message = resource
            else:
                self.message = await interaction.original_response()

    async def _show(self, interaction: discord.Interaction[Any]) -> None:
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.pages[self.index], view=self)

    @discord.ui.button(label=PREVIOUS_LABEL, style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.index = max(0, self.index - 1)
        await self._show(interaction)

    @discord.ui.button(label="1/1", style=discord.ButtonStyle.secondary, disabled=True)
    async def position(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()

    @discord.ui.button(label=NEXT_LABEL, style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.index = min(self.page_count - 1, self.index + 1)
        await self._show(interaction)

    async def on_timeout(self) -> None:
        self.disable_all()
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)


LIST_CUSTOM_ID = "nexus:list:{name}:{owner}:{page}:{arg}"
LIST_PAGE_LIMIT = 9999
CUSTOM_ID_BYTES = 100
"""Discord's custom_id limit, counted in UTF-8 bytes (the strictest reading)."""
NOT_YOURS = "These buttons belong to someone else's command."


class ListPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"(?s)nexus:list:(?P<name>[a-z_]{1,16}):(?P<owner>[0-9]{1,20}):(?P<page>[0-9]{1,4}):(?P<arg>.*)",
):
    """Previous or Next on a list reply: builds the list again, fresh, with the bot's source `name`.

    Nothing is kept per reply, and the buttons work for as long as the message exists, restarts
    included. Only the member who ran the command may turn the pages.
    """

    def __init__(
        self, name: str, owner_id: int, page: int, arg: str, *, label: str = "Page", disabled: bool = False
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=LIST_CUSTOM_ID.format(name=name, owner=owner_id, page=page, arg=arg),
            )
        )
        self.name, self.owner_id, self.page, self.arg = name, owner_id, page, arg

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ListPageButton:
        return cls(match["name"], int(match["owner"]), int(match["page"]), match["arg"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return
        source = app_of(interaction).list_sources.get(self.name)
        if source is None:
            raise NotFoundError("This list can't be paged any more; run the command again.")
        pages = await source(interaction, self.arg)
        embed, view = list_page(self.name, self.owner_id, self.arg, pages, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


def pager_view(
    page: int, page_count: int, position_id: str, button: Callable[[int, str, bool], discord.ui.Item[Any]]
) -> discord.ui.View:
    """Previous, the position and Next for page `page` of `page_count` (two or more), as a view that
    nothing keeps: `button(target_page, label, disabled)` makes the persistent button for a page;
    the position label gets `position_id`, which no button template should match."""
    last = page_count - 1
    position = discord.ui.Button[discord.ui.View](
        label=f"{page + 1}/{page_count}", disabled=True, custom_id=position_id
    )
    return detached_view(
        button(max(0, page - 1), PREVIOUS_LABEL, page == 0),
        position,
        button(min(last, page + 1), NEXT_LABEL, page == last),
    )


def _files(file: discord.File | None) -> dict[str, Any]:
    """discord.py's `file=` keyword when there is a file (it refuses None)."""
    return {} if file is None else {"file": file}


async def send_embed(
    interaction: discord.Interaction[Any],
    embed: discord.Embed,
    view: discord.ui.View | None,
    *,
    ephemeral: bool,
    file: discord.File | None = None,
) -> None:
    """Answer with `embed` (a follow-up when the interaction was deferred), `view` and `file` when
    there are."""
    extra = _files(file)
    if view is not None:
        extra["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(embed=embed, ephemeral=ephemeral, **extra)
    else:
        await interaction.response.send_message(embed=embed, ephemeral=ephemeral, **extra)


def list_page(
    name: str, owner_id: int, arg: str, pages: Sequence[discord.Embed], page: int
) -> tuple[discord.Embed, discord.ui.View | None]:
    """Page `page` of a list, with buttons that rebuild it when there is more than one page."""
    pages = list(pages) or [discord.Embed(description="Nothing to show.")]
    page = min(max(0, page), len(pages) - 1)
    if len(pages) == 1:
        return pages[0], None

    def button(target: int, label: str, disabled: bool) -> ListPageButton:
        return ListPageButton(name, owner_id, target, arg, label=label, disabled=disabled)

    return pages[page], pager_view(page, len(pages), f"nexus:list:{name}:position", button)


async def send_list(
    interaction: discord.Interaction[Any],
    pages: Sequence[discord.Embed],
    *,
    name: str,
    arg: str = "",
    ephemeral: bool = True,
    file: discord.File | None = None,
) -> None:
    """Answer (or follow a deferral up) with the first of `pages`, and `file` attached. The buttons
    rebuild the list with the bot's list source `name` (from `arg`) when that fits a custom_id;
    otherwise a live Paginator keeps the pages. Turning a page keeps the attachment."""
    longest = LIST_CUSTOM_ID.format(name=name, owner=interaction.user.id, page=LIST_PAGE_LIMIT, arg=arg)
    if len(longest.encode()) > CUSTOM_ID_BYTES:
        await Paginator(interaction.user.id, pages).send(interaction, ephemeral=ephemeral, file=file)
        return
    embed, view = list_page(name, interaction.user.id, arg, pages, 0)
    await send_embed(interaction, embed, view, ephemeral=ephemeral, file=file)


class Confirm(NexusView):
    """Confirm/Cancel buttons for a destructive action; `value` is True, False, or None (timed out)."""

    def __init__(self, owner_id: int, *, confirm_label: str = "Confirm", timeout: float = 120) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.value: bool | None = None
        self.interaction: discord.Interaction[Any] | None = None
        self.confirm.label = confirm_label

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.value = True
        self.interaction = interaction
        self.stop()

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.value = False
        self.interaction = interaction
        self.stop()


async def ask_confirmation(
    interaction: discord.Interaction[Any],
    question: str,
    *,
    confirm_label: str = "Confirm",
) -> discord.Interaction[Any] | None:
    """Ask `question` ephemerally; return the button press to answer if confirmed, else None.

    On cancel or timeout the prompt is edited to say nothing was changed.
    """
    view = Confirm(interaction.user.id, confirm_label=confirm_label)
    await interaction.response.send_message(question, view=view, ephemeral=True)
    await view.wait()
    if view.value and view.interaction is not None:
        return view.interaction
    view.disable_all()
    text = "Cancelled: nothing was changed." if view.value is False else "No answer: nothing was changed."
    if view.interaction is not None:
        await view.interaction.response.edit_message(content=text, view=None)
    else:
        with contextlib.suppress(discord.HTTPException):
            await interaction.edit_original_response(content=text, view=None)
    return None


async def confirm_then(
    interaction: discord.Interaction[Any],
    question: str,
    action: Callable[[], Awaitable[str]],
    *,
    confirm_label: str = "Confirm",
) -> None:
    """Ask `question`; when confirmed run `action` and show its text (or the error) in the prompt."""
    press = await ask_confirmation(interaction, question, confirm_label=confirm_label)
    if press is None:
        return
    await press.response.defer()
    try:
        text = await action()
    except Exception as exc:  # the press must always be answered
        text = error_text(exc)
    await press.edit_original_response(content=text, view=None)
