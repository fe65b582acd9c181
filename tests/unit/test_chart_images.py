"""The charts as images: decoded, the right size, not blank, drawn from the right numbers, off the loop."""

from __future__ import annotations

import asyncio
import gc
import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bot.domain.cohort import Track
from bot.domain.progress import CHART_PROJECTS_MAX, LearnerProgress, ProjectSides, cohort_picture
from bot.render import charts
from bot.render.charts import CHART_DPI, CHART_WIDTH_INCHES, ChartRenderer, draw_board_chart, draw_cohort_chart
from bot.ui.charts import chart_lines

ROOT = Path(__file__).resolve().parents[2]


def decoded(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB"), dtype=np.float64)


def assert_not_blank(pixels: np.ndarray) -> None:
    # a white page has no variance; bars, labels and axes give plenty
    assert pixels.std() > 20
    assert (pixels.sum(axis=2) < 200).mean() > 0.001  # some dark text
    blue = (pixels[:, :, 2] > 200) & (pixels[:, :, 0] < 120)
    assert blue.mean() > 0.01  # the funnel's or the backend's bars


def cohort() -> list[LearnerProgress]:
    return [
        LearnerProgress(True, False, False, False, False),
        LearnerProgress(False, True, False, False, False, "Job Board", Track.BACKEND),
        LearnerProgress(True, True, True, False, False, "Job Board", Track.BACKEND),
        LearnerProgress(True, True, True, True, True, "Job Board", Track.FRONTEND),
        LearnerProgress(True, True, False, False, True, "E-Commerce", Track.FRONTEND),
    ]


def test_the_cohort_chart_decodes_with_its_numbers():
    picture = cohort_picture(cohort())
    chart = draw_cohort_chart(picture)
    pixels = decoded(chart.png)
    assert pixels.shape[:2] == (chart.height, chart.width)
    assert chart.width == int(CHART_WIDTH_INCHES * CHART_DPI)
    assert 400 < chart.height < 1400
    assert_not_blank(pixels)
    assert chart.known == 5
    assert [(s.label, s.learners) for s in chart.funnel] == [
        ("Profile set", 4),
        ("Announced", 4),
        ("Partner found", 2),
        ("API agreed", 1),
        ("First note", 2),
    ]
    assert chart.projects == (ProjectSides("E-Commerce", 0, 1, 0), ProjectSides("Job Board", 2, 1, 2))
    assert chart.hidden_projects == 0
    text = "\n".join(chart_lines(chart))
    assert "Known learners: 5" in text and "API agreed: 1" in text
    assert "Job Board: 2 · 1 · 2" in text and "E-Commerce: 0 · 1 · 0" in text


def test_the_board_chart_grows_with_projects_and_shows_the_largest():
    few = draw_board_chart([ProjectSides("Job Board", 3, 2, 4)])
    many_projects = [ProjectSides(f"Project {i}", i % 7, i % 5, 0) for i in range(CHART_PROJECTS_MAX + 10)]
    many = draw_board_chart(many_projects)
    assert few.funnel == () and few.known is None
    assert many.width == few.width and many.height > few.height
    assert len(many.projects) == CHART_PROJECTS_MAX and many.hidden_projects == 10
    for chart in (few, many):
        pixels = decoded(chart.png)
        assert pixels.shape[:2] == (chart.height, chart.width)
        assert_not_blank(pixels)
    assert "…and 10 smaller project(s)" in "\n".join(chart_lines(many))


def test_an_empty_cohort_still_draws():
    chart = draw_cohort_chart(cohort_picture([]))
    assert decoded(chart.png).std() > 10
    assert "No project announced yet." in chart_lines(chart)


def test_odd_project_names_draw_as_plain_text():
    assert charts.drawable("Pay $5 for $x^2$") == r"Pay \$5 for \$x^2\$"
    assert charts.drawable("Café API 日本") == "Café API ??"
    assert charts.drawable("x" * 80).endswith("…") and len(charts.drawable("x" * 80)) == charts.LABEL_MAX
    assert charts.drawable("two\nlines\x00") == "two lines"
    odd = [ProjectSides(name, 1, 1, 1) for name in ("$\\frac{", "Émoji 🚀", "<@everyone> **bold**", "a" * 60)]
    chart = draw_board_chart(odd)  # mathtext would raise on the first name; a missing glyph would warn
    assert_not_blank(decoded(chart.png))


def test_pyplot_is_never_used():
    draw_board_chart([ProjectSides("Job Board", 1, 1, 2)])
    assert "matplotlib.pyplot" not in sys.modules


def test_the_bot_starts_without_matplotlib():
    probe = "import sys, bot.runtime, cogs.cohort, cogs.project; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_the_renderer_draws_on_its_own_thread_while_the_loop_runs(monkeypatch):
    threads: list[int] = []
    real = charts.draw_board_chart

    def slow_draw(projects):
        threads.append(threading.get_ident())
        time.sleep(0.3)  # a cold import: the loop must not wait for it
        return real(projects)

    monkeypatch.setattr(charts, "draw_board_chart", slow_draw)
    renderer = ChartRenderer()
    try:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        first, second = await asyncio.gather(
            renderer.board([ProjectSides("A", 1, 0, 0)]), renderer.board([ProjectSides("B", 0, 1, 0)])
        )
        task.cancel()
        assert ticks >= 20  # the loop went on ticking through 0.6 s of drawing
        assert threading.get_ident() not in threads
        assert len(set(threads)) == 1  # one worker: one figure at a time
        assert first.projects[0].project_name == "A" and second.projects[0].project_name == "B"
    finally:
        renderer.close()


def test_a_drawn_figure_is_freed_at_once_and_collection_resumes():
    from matplotlib.figure import Figure

    draw_board_chart([ProjectSides("Job Board", 1, 1, 2)])
    assert gc.isenabled()
    assert not [o for o in gc.get_objects() if isinstance(o, Figure)]  # no full collection needed
    gc.disable()
    try:
        draw_board_chart([ProjectSides("Job Board", 1, 1, 2)])
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_a_wide_name_is_shortened_to_fit_the_margin():
    (short, wide), widest = charts._fitted(["Job Board", "W" * charts.LABEL_MAX])
    assert short == "Job Board"
    assert wide.endswith("…") and len(wide) < charts.LABEL_MAX
    assert widest <= charts.LABEL_MAX_INCHES
