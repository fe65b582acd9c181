"""Charts as Discord replies: the image as an attachment, and the same numbers as text for screen
readers (and for anyone whose client does not load images)."""

from __future__ import annotations

import io

import discord

from bot.domain.text import safe_text, truncate
from bot.render.charts import RenderedChart
from bot.ui.embeds import EMBED_DESCRIPTION_LIMIT, NEXUS_COLOUR

FUNNEL_FILE = "funnel.png"
BOARD_FILE = "board.png"
PROJECT_NAME_SHOWN = 60
"""Characters of a project name in the chart's text (a catalog name has at most 60)."""
COHORT_ALT_TEXT = (
    "Bar charts: how many learners reached each Week-1 step, and per project how many build the backend, "
    "the frontend, and are in a team. The same numbers are in the message."
)
BOARD_ALT_TEXT = (
    "Bar chart: per project, how many learners build the backend, the frontend, and are in a team. "
    "The same numbers are in the board above."
)
CHART_RULE = "A partner counts once announced and an agreed API once partnered, as in /cohort roster."


def chart_file(chart: RenderedChart, filename: str, alt_text: str) -> discord.File:
    """The chart's PNG as an attachment, with alt text for screen readers."""
    return discord.File(io.BytesIO(chart.png), filename=filename, description=alt_text)


def board_chart_file(chart: RenderedChart) -> discord.File:
    """The project board's chart as an attachment."""
    return chart_file(chart, BOARD_FILE, BOARD_ALT_TEXT)


def chart_lines(chart: RenderedChart) -> list[str]:
    """The numbers a chart was drawn from, one per line, as the reply prints them."""
    lines: list[str] = []
    if chart.funnel:
        lines.append("**Week-1 funnel** (learners who reached each step)")
        if chart.known is not None:
            lines.append(f"Known learners: {chart.known}")
        lines += [f"{step.label}: {step.learners}" for step in chart.funnel]
        lines.append("")
    lines.append("**Per project** (backend · frontend · in a team)")
    if not chart.projects:
        lines.append("No project announced yet.")
    lines += [
        f"{safe_text(p.project_name, limit=PROJECT_NAME_SHOWN)}: {p.backend} · {p.frontend} · {p.paired}"
        for p in chart.projects
    ]
    if chart.hidden_projects:
        lines.append(f"…and {chart.hidden_projects} smaller project(s): see /project board.")
    return lines


def cohort_chart_embed(chart: RenderedChart) -> discord.Embed:
    """The staff chart's reply: the image (attached as FUNNEL_FILE) and its numbers."""
    embed = discord.Embed(
        title="Cohort chart",
        description=truncate("\n".join(chart_lines(chart)), EMBED_DESCRIPTION_LIMIT),
        colour=NEXUS_COLOUR,
    )
    embed.set_image(url=f"attachment://{FUNNEL_FILE}")
    embed.set_footer(text=CHART_RULE)
    return embed


def cohort_chart_file(chart: RenderedChart) -> discord.File:
    """The staff chart as the attachment its embed shows."""
    return chart_file(chart, FUNNEL_FILE, COHORT_ALT_TEXT)
