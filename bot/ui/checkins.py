"""Check-ins as members and staff see them: the prompt with its persistent button, the three-question
form, the report with its blockers' close buttons, history and blocker pages, and the staff flag."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import discord

from bot.app import app_of
from bot.domain.checkins import ANSWER_MAX, REPORT_HOURS
from bot.domain.text import safe_text, truncate
from bot.services.checkins import BlockerView, CheckinAnswered, CheckinFlagView, PromptInfo, ReportView
from bot.ui.drafts import refuse_form
from bot.ui.embeds import NEXUS_COLOUR, chunk_lines
from bot.ui.views import guarded

PROMPT_LEAD = "Check-in time"
QUESTIONS = ("Done since last time", "Next", "Blocked by")
QUESTION_HINTS = (
    "What you finished (this or Next must say something)",
    "What you will do next",
    "What blocks you; leave it empty when nothing does",
)
FORM_TIMEOUT_SECONDS = 900
PAGE_CHARS = 3500
"""Characters of lines per page of history or blockers (an embed description holds 4,096)."""
FIELD_CHARS = 1000
"""Characters of one member's answers shown in a report (an embed field holds 1,024)."""
CLOSE_BUTTONS_MAX = 25
"""Blocker close buttons on one report (Discord allows 25 components)."""
FLAG_COLOUR = discord.Colour.red()


def _mention(user_id: int) -> str:
    return f"<@{user_id}>"


def prompt_text(info: PromptInfo) -> str:
    """The prompt as its member reads it (in a DM, or the team's thread)."""
    return (
        f"{PROMPT_LEAD} for your **{safe_text(info.project_name)}** team! Press the button and answer three "
        "questions: done since last time, next, and what blocks you (leave it empty when nothing does)."
    )


def prompt_view(prompt_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CheckinAnswerButton(prompt_id))
    return view


def endpoint_text(method: str | None, path: str | None, endpoint_id: int | None) -> str:
    """`GET /api/orders (endpoint #3)`."""
    return f"`{method} {path}` (endpoint #{endpoint_id})" if endpoint_id is not None else ""


def answered_text(answered: CheckinAnswered) -> str:
    """What a member is told once their answers are recorded."""
    text = "Thanks, your check-in is recorded."
    if answered.late:
        text += " Your team's report was posted already: it now shows your answers."
    if answered.endpoint is not None:
        text += f" Your blocker is linked to `{answered.endpoint.method} {answered.endpoint.path}` (endpoint #{answered.endpoint.id})."
    elif answered.blocker:
        text += " Your blocker is listed for staff until a member of your team closes it."
    return text


class CheckinModal(discord.ui.Modal, title="Check-in"):
    """The three questions; "done" or "next" must say something."""

    def __init__(self, prompt_id: int, typed: Sequence[str] = ()) -> None:
        super().__init__(timeout=FORM_TIMEOUT_SECONDS)
        self.prompt_id = prompt_id
        self.fields: list[discord.ui.TextInput[Any]] = []
        for index, (question, hint) in enumerate(zip(QUESTIONS, QUESTION_HINTS, strict=True)):
            field: discord.ui.TextInput[Any] = discord.ui.TextInput(
                label=question,
                custom_id=f"nexus:checkin:q{index}",
                style=discord.TextStyle.paragraph,
                required=False,
                max_length=ANSWER_MAX,
                placeholder=hint,
                default=typed[index] if index < len(typed) and typed[index] else None,
            )
            self.fields.append(field)
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        app = app_of(interaction)
        app.write_gate.spend(interaction.guild_id, interaction.user.id)
        done, next_, blocked = (f.value for f in self.fields)
        answered = await app.services.checkins.answer(self.prompt_id, interaction.user.id, done, next_, blocked)
        await interaction.response.send_message(answered_text(answered), ephemeral=True)
        await app.delivery.deliver(answered.guild_id, answered.events)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        # refused (an empty check-in, a prompt already answered): the Edit button reopens it filled in
        typed = tuple(field.value for field in self.fields)
        await refuse_form(interaction, error, lambda: CheckinModal(self.prompt_id, typed))


class CheckinAnswerButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nexus:checkin:answer:(?P<prompt>[0-9]+)"
):
    """Opens the check-in form for one prompt; rebuilt after a restart. Only its member may answer."""

    def __init__(self, prompt_id: int) -> None:
        self.prompt_id = prompt_id
        super().__init__(
            discord.ui.Button(
                label="Check in", style=discord.ButtonStyle.primary, custom_id=f"nexus:checkin:answer:{prompt_id}"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CheckinAnswerButton:
        return cls(int(match["prompt"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        info = await app_of(interaction).services.checkins.prompt(self.prompt_id)
        if info.user_id != interaction.user.id:
            await interaction.response.send_message(
                "This check-in is another member's: only they can answer it.", ephemeral=True
            )
            return
        await interaction.response.send_modal(CheckinModal(self.prompt_id))


class CloseBlockerButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nexus:checkin:unblock:(?P<answer>[0-9]+)"
):
    """Closes one blocker (a member of its team); rebuilt after a restart."""

    def __init__(self, answer_id: int, label: str = "Close blocker") -> None:
        self.answer_id = answer_id
        super().__init__(
            discord.ui.Button(
                label=truncate(label, 80),
                style=discord.ButtonStyle.secondary,
                custom_id=f"nexus:checkin:unblock:{answer_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CloseBlockerButton:
        return cls(int(match["answer"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        app = app_of(interaction)
        app.write_gate.spend(interaction.guild_id, interaction.user.id)
        closed = await app.services.checkins.close_blocker(self.answer_id, interaction.user.id)
        await interaction.response.send_message("Blocker closed. 🎉", ephemeral=True)
        await app.delivery.deliver(closed.guild_id, closed.events)


def blocker_line(blocker: BlockerView) -> str:
    """A blocker with its linked endpoint and state."""
    endpoint = endpoint_text(blocker.endpoint_method, blocker.endpoint_path, blocker.endpoint_id)
    state = "✅ closed" if blocker.closed else "⛔ open"
    linked = f" · {endpoint}" if endpoint else ""
    return f"{state}{linked}: {truncate(safe_text(blocker.text), 300)}"


def blockers_summary(blockers: Sequence[BlockerView]) -> str:
    """Open check-in blockers, as `/setup show` counts them (`/cohort blockers` lists them)."""
    if not blockers:
        return "none"
    oldest = blockers[0]  # oldest first
    teams = len({blocker.team_id for blocker in blockers})
    return (
        f"⛔ {len(blockers)} open in {teams} team(s), the oldest since <t:{int(oldest.since.timestamp())}:R> "
        f"({safe_text(oldest.project_name)}, team #{oldest.team_id}). `/cohort blockers` lists them."
    )


def report_embed(report: ReportView) -> discord.Embed:
    """A check-in report: each member's answers, blockers marked; silent members named."""
    embed = discord.Embed(
        title=f"Check-in · {safe_text(report.project_name)}",
        description=f"Prompted <t:{int(report.opened_at.timestamp())}:f>",
        colour=NEXUS_COLOUR,
    )
    for answer in report.answers:
        lines = [f"**Done:** {safe_text(answer.done) or '—'}", f"**Next:** {safe_text(answer.next) or '—'}"]
        if answer.blocker is not None:
            lines.append(f"**Blocked by:** {blocker_line(answer.blocker)}")
        embed.add_field(
            name="Member", value=truncate(f"{_mention(answer.user_id)}\n" + "\n".join(lines), FIELD_CHARS), inline=False
        )
    if report.silent:
        embed.add_field(name="No answer", value=" ".join(_mention(uid) for uid in report.silent), inline=False)
    embed.set_footer(text=f"Team #{report.team_id} · posted when all answered or {REPORT_HOURS} h after the prompt")
    return embed


def report_view(report: ReportView) -> discord.ui.View:
    """Close buttons for the report's open blockers; an empty view once all are closed, so an edit
    takes the old buttons off."""
    open_ = [a.blocker for a in report.answers if a.blocker is not None and not a.blocker.closed]
    view = discord.ui.View(timeout=None)
    for blocker in open_[:CLOSE_BUTTONS_MAX]:
        view.add_item(CloseBlockerButton(blocker.answer_id, f"Close blocker #{blocker.answer_id}"))
    return view


def history_pages(reports: Sequence[ReportView]) -> list[discord.Embed]:
    """The team's past check-ins, newest first, as pages."""
    lines = []
    for report in reports:
        answers = "; ".join(
            f"{_mention(a.user_id)}: {truncate(safe_text(a.done) or safe_text(a.next), 120)}"
            + (" ⛔" if a.blocker and not a.blocker.closed else "")
            for a in report.answers
        )
        silent = f" · no answer: {' '.join(_mention(u) for u in report.silent)}" if report.silent else ""
        lines.append(f"**<t:{int(report.opened_at.timestamp())}:d>** {answers or 'nobody answered'}{silent}")
    return _pages("Check-in history", lines, "Your team has no check-ins yet.", len(reports), "check-in(s)")


def blocker_pages(blockers: Sequence[BlockerView]) -> list[discord.Embed]:
    """Open blockers across teams, oldest first, as pages."""
    lines = [
        f"**{safe_text(b.project_name)}** (team #{b.team_id}) · {_mention(b.user_id)} "
        f"since <t:{int(b.since.timestamp())}:R>\n> {blocker_line(b)}"
        for b in blockers
    ]
    return _pages("Open blockers", lines, "No open blockers. 🎉", len(blockers), "open blocker(s)")


def _pages(title: str, lines: list[str], empty: str, count: int, noun: str) -> list[discord.Embed]:
    blocks = chunk_lines(lines, PAGE_CHARS) or [empty]
    pages = []
    for index, block in enumerate(blocks):
        embed = discord.Embed(title=title, description=block, colour=NEXUS_COLOUR)
        page = f" · page {index + 1}/{len(blocks)}" if len(blocks) > 1 else ""
        embed.set_footer(text=f"{count} {noun}{page}")
        pages.append(embed)
    return pages


def checkin_flag_embed(flag: CheckinFlagView) -> discord.Embed:
    """The staff-channel post for a team with a member silent on two check-ins in a row."""
    return discord.Embed(
        title=f"🚩 Check-ins: a {safe_text(flag.project_name)} team went silent",
        description="Missed two check-ins in a row: "
        + (", ".join(_mention(uid) for uid in flag.silent) or "a former member"),
        colour=FLAG_COLOUR,
    ).set_footer(text=f"Team #{flag.team_id} · flagged once")


def streak_text(streak: int | None) -> str:
    """What a roster or progress line adds: ` · check-in streak 3`."""
    return "" if streak is None else f" · check-in streak {streak}"
