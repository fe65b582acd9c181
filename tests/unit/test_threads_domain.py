"""A team thread's name and archive duration (pure)."""

from __future__ import annotations

import pytest

from bot.domain.threads import ARCHIVE_DURATIONS, THREAD_NAME_MAX, archive_duration, thread_marker, thread_name


def test_the_name_is_the_project_and_members_ending_with_the_team_marker():
    assert thread_name(12, "Job Board", ["Ada", "Bola"]) == "Job Board: Ada, Bola · team 12"


def test_an_ended_teams_name_names_nobody():
    assert thread_name(12, "Job Board", []) == "Job Board · team 12"


def test_a_long_name_is_cut_to_discords_limit_and_keeps_its_marker():
    name = thread_name(10**9, "P" * 80, ["a very\nlong   name " * 5, "B" * 60])
    assert len(name) == THREAD_NAME_MAX
    assert name.endswith(thread_marker(10**9)) and "…" in name and "\n" not in name


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(0, 60), (60, 60), (700, 60), (800, 1440), (10080, 10080), (7000, 4320), (8000, 10080), (10**6, 10080)],
)
def test_the_archive_duration_is_the_nearest_one_discord_accepts(minutes, expected):
    assert archive_duration(minutes) == expected
    assert archive_duration(minutes) in ARCHIVE_DURATIONS
