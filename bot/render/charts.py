"""The cohort's charts as PNG images: the Week-1 funnel and each project's sides.

matplotlib (about 0.5 s and 30 MB to import) loads on the first chart, not at start-up, and only
through its object-oriented API (`Figure` on an Agg canvas): no pyplot, no global figure state, so a
figure drawn on a worker thread touches nothing the event loop's thread uses. Drawing still runs
one figure at a time (`ChartRenderer`), since matplotlib does not promise more.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import io
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from bot.domain.progress import CohortPicture, FunnelStep, ProjectSides, projects_to_show
from bot.domain.text import strip_control, truncate

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ft2font import FT2Font

T = TypeVar("T")

CHART_WIDTH_INCHES = 8.0
CHART_DPI = 100
FUNNEL_INCHES = 2.6
PROJECT_ROW_INCHES = 0.42
PROJECTS_MIN_INCHES = 1.4
TITLE_INCHES = 0.9
LABEL_MAX = 30
"""Characters of a project name on the chart (the text beside it has the whole name)."""
LABEL_POINTS = 10
"""The size of the bars' names. The left margin is set from the widest name, measured with the font
(matplotlib's constrained layout would measure every text of the figure and double the drawing
time)."""
LABEL_MAX_INCHES = 2.4
MARGIN_INCHES = 0.25
TITLE_POINTS = 11

FUNNEL_COLOUR = "#5865F2"
BACKEND_COLOUR = "#3B82F6"
FRONTEND_COLOUR = "#F59E0B"
PAIRED_COLOUR = "#10B981"
MISSING_GLYPH = "?"

_DRAWING = threading.Lock()
"""matplotlib is not thread-safe beyond one figure per thread, and `_drawn` pauses the process's
garbage collector: one figure is drawn at a time."""


@dataclass(frozen=True)
class RenderedChart:
    """A chart as PNG bytes, its size in pixels, and the numbers it was drawn from."""

    png: bytes
    width: int
    height: int
    funnel: tuple[FunnelStep, ...]
    known: int | None
    projects: tuple[ProjectSides, ...]
    hidden_projects: int


@functools.cache
def _font_characters() -> frozenset[int]:
    """The code points the default font can draw (matplotlib warns on any other)."""
    from matplotlib import font_manager, rcParams
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(font_manager.FontProperties(family=rcParams["font.family"]))
    return frozenset(FT2Font(path).get_charmap())


def drawable(text: str, limit: int = LABEL_MAX) -> str:
    """Member text as a chart label: one line, shortened, `$` kept literal (matplotlib would read
    `$...$` as mathematics), characters the font lacks shown as `?`."""
    drawn = {ord(" ")} | _font_characters()
    line = strip_control(" ".join(text.split()), keep_newlines=False)
    shown = "".join(ch if ord(ch) in drawn else MISSING_GLYPH for ch in truncate(line, limit))
    return shown.replace("$", r"\$")


def _label_font() -> FT2Font:
    from matplotlib import font_manager, rcParams

    font = font_manager.get_font(font_manager.findfont(font_manager.FontProperties(family=rcParams["font.family"])))
    font.set_size(LABEL_POINTS, CHART_DPI)
    return font


def _label_inches(font: FT2Font, label: str) -> float:
    font.set_text(label.replace(r"\$", "$"), 0.0)
    return font.get_width_height()[0] / 64 / CHART_DPI  # FreeType counts 64ths of a pixel


def _fitted(labels: Sequence[str]) -> tuple[list[str], float]:
    """`labels` shortened where wider than LABEL_MAX_INCHES, and the widest one's width in inches."""
    font = _label_font()
    fitted, widest = [], 0.0
    for label in labels:
        width = _label_inches(font, label)
        while width > LABEL_MAX_INCHES and len(label) > 2:
            label = truncate(label, len(label) - 1)
            width = _label_inches(font, label)
        fitted.append(label)
        widest = max(widest, width)
    return fitted, widest


def _title(axes: Axes, text: str) -> None:
    """A panel's title, from the figure's left margin rather than from the axes (past the labels)."""
    box = axes.get_position()
    axes.set_title(text, loc="left", x=(MARGIN_INCHES / CHART_WIDTH_INCHES - box.x0) / box.width, fontsize=TITLE_POINTS)


def _figure(height_inches: float, labels: Sequence[str], *, titles: int) -> Figure:
    """An empty figure on an Agg canvas whose left margin fits the longest of `labels`; `titles`
    rows of axes, each with a title above it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(CHART_WIDTH_INCHES, height_inches), dpi=CHART_DPI)
    FigureCanvasAgg(figure)
    left = MARGIN_INCHES + min(LABEL_MAX_INCHES, _fitted(labels)[1])
    figure.subplots_adjust(
        left=left / CHART_WIDTH_INCHES,
        right=1 - MARGIN_INCHES / CHART_WIDTH_INCHES,
        top=1 - 0.45 / height_inches,
        bottom=0.6 / height_inches,
        hspace=0.9 / height_inches * titles,
    )
    return figure


def _png(figure: Figure) -> tuple[bytes, int, int]:
    buffer = io.BytesIO()
    # the fastest zlib level: half the encoding time (about 10 ms saved) for a file 5% larger
    figure.savefig(buffer, format="png", dpi=CHART_DPI, metadata={"Software": None}, pil_kwargs={"compress_level": 1})
    width, height = figure.canvas.get_width_height()
    return buffer.getvalue(), int(width), int(height)


def _projects_height(count: int) -> float:
    return max(PROJECTS_MIN_INCHES, PROJECT_ROW_INCHES * count + 0.6)


def _values_on_bars_only(axes: Axes) -> None:
    """No value axis: every bar carries its number (and each tick would cost a text to draw)."""
    axes.set_xticks([])
    axes.spines[["top", "right", "bottom"]].set_visible(False)
    axes.tick_params(axis="y", length=0)


def _funnel_labels(steps: Sequence[FunnelStep]) -> list[str]:
    return ["Known learners", *(step.label for step in steps)]


def _project_labels(projects: Sequence[ProjectSides]) -> list[str]:
    return _fitted([drawable(p.project_name) for p in projects])[0]


def _draw_funnel(axes: Axes, known: int, steps: Sequence[FunnelStep]) -> None:
    labels = _funnel_labels(steps)
    values = [known, *(step.learners for step in steps)]
    bars = axes.barh(range(len(values)), values, color=FUNNEL_COLOUR)
    axes.bar_label(bars, padding=3)
    axes.set_yticks(range(len(values)), labels=labels, fontsize=LABEL_POINTS)
    axes.invert_yaxis()
    axes.set_xlim(0, max(1, *values) * 1.12)
    _values_on_bars_only(axes)
    _title(axes, "Week-1 funnel: learners who reached each step")


def _draw_projects(axes: Axes, projects: Sequence[ProjectSides], hidden: int) -> None:
    title = "Per project: learners on each side, and in a team"
    if hidden:
        title += f" ({hidden} smaller not shown)"
    _title(axes, title)
    if not projects:
        axes.text(0.5, 0.5, "No project announced yet", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return
    height = 0.27
    rows = range(len(projects))
    series = (
        ("Backend", BACKEND_COLOUR, [p.backend for p in projects]),
        ("Frontend", FRONTEND_COLOUR, [p.frontend for p in projects]),
        ("In a team", PAIRED_COLOUR, [p.paired for p in projects]),
    )
    for offset, (label, colour, values) in zip((-height, 0.0, height), series, strict=True):
        bars = axes.barh([row + offset for row in rows], values, height=height, color=colour, label=label)
        # no bar, no number: a board of a new cohort would be a column of zeros
        axes.bar_label(bars, labels=[str(value) if value else "" for value in values], padding=2, fontsize=8)
    axes.set_yticks(rows, labels=_project_labels(projects), fontsize=LABEL_POINTS)
    axes.invert_yaxis()
    axes.set_xlim(0, max(1, *(max(values) for _, _, values in series)) * 1.12)
    _values_on_bars_only(axes)
    axes.margins(y=0.02)
    # below the axis, in the figure's bottom margin: inside, it could cover the longest bars
    axes.legend(
        loc="lower center", bbox_to_anchor=(0.5, 0.0), bbox_transform=axes.figure.transFigure, ncols=3, fontsize=8
    )


def _cohort_png(picture: CohortPicture, shown: Sequence[ProjectSides], hidden: int) -> tuple[bytes, int, int]:
    projects_inches = _projects_height(len(shown))
    labels = [*_funnel_labels(picture.funnel), *_project_labels(shown)]
    figure = _figure(FUNNEL_INCHES + projects_inches + TITLE_INCHES, labels, titles=2)
    funnel_axes, projects_axes = figure.subplots(2, 1, height_ratios=[FUNNEL_INCHES, projects_inches])
    _draw_funnel(funnel_axes, picture.known, picture.funnel)
    _draw_projects(projects_axes, shown, hidden)
    return _png(figure)


def _board_png(shown: Sequence[ProjectSides], hidden: int) -> tuple[bytes, int, int]:
    figure = _figure(_projects_height(len(shown)) + TITLE_INCHES / 2, _project_labels(shown), titles=1)
    _draw_projects(figure.add_subplot(), shown, hidden)
    return _png(figure)


def _drawn(draw: Callable[[], tuple[bytes, int, int]]) -> tuple[bytes, int, int]:
    """Run `draw` (which makes, draws and drops one figure), one figure at a time, and free the
    figure at once.

    A figure is thousands of objects in reference cycles (figure, axes, artists, transforms) that
    only the cycle collector frees. Left to it, they reach the oldest generation, whose collection
    walks every object in the process with the GIL held: 100 to 400 ms on the development machine,
    during which the event loop stands still although the drawing runs on another thread. With
    automatic collection paused while drawing, the figure's objects are all still in the youngest
    generation afterwards, and collecting that one frees them in a few milliseconds.
    """
    with _DRAWING:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return draw()
        finally:
            gc.collect(0)
            if enabled:
                gc.enable()


def draw_cohort_chart(picture: CohortPicture) -> RenderedChart:
    """The staff chart: the funnel above each project's backend, frontend and paired counts."""
    shown, hidden = projects_to_show(picture.projects)
    png, width, height = _drawn(lambda: _cohort_png(picture, shown, hidden))
    return RenderedChart(png, width, height, picture.funnel, picture.known, shown, hidden)


def draw_board_chart(projects: Sequence[ProjectSides]) -> RenderedChart:
    """The anonymous chart on the project board: each project's sides, no names of learners."""
    shown, hidden = projects_to_show(projects)
    png, width, height = _drawn(lambda: _board_png(shown, hidden))
    return RenderedChart(png, width, height, (), None, shown, hidden)


class ChartRenderer:
    """Draws charts on one worker thread of its own, never on the event loop: other interactions go
    on while a chart is drawn, and a burst of charts queues here rather than taking the threads of
    the loop's default executor (which DNS look-ups use)."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None

    async def cohort(self, picture: CohortPicture) -> RenderedChart:
        """The staff chart, drawn off the event loop."""
        return await self._run(draw_cohort_chart, picture)

    async def board(self, projects: Sequence[ProjectSides]) -> RenderedChart:
        """The project board's chart, drawn off the event loop."""
        return await self._run(draw_board_chart, tuple(projects))

    async def _run(self, draw: Callable[[T], RenderedChart], data: T) -> RenderedChart:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nexus-charts")
        return await asyncio.get_running_loop().run_in_executor(self._executor, draw, data)

    def close(self) -> None:
        """Stop the worker thread (a chart being drawn finishes; queued ones are dropped)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
