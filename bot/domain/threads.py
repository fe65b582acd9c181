"""A team's private thread: its name, how long it stays open idle, and its states.

Discord caps a server at 1,000 active threads; a team whose thread it refused falls back to its
team message and DMs, and staff are told once (`StaffNoticeKind.THREAD_CAP`).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from bot.domain.text import truncate

THREAD_NAME_MAX = 100
"""Discord's limit on a thread's name."""
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
"""The auto_archive_duration values (minutes) Discord accepts: an hour, a day, three days, a week."""
MAX_ACTIVE_THREADS = 1000
"""Discord's cap on a server's active threads; one more is refused with THREAD_CAP_CODE."""
THREAD_CAP_CODE = 160006
"""Discord's error code: "Maximum number of active threads reached"."""


class ThreadState(StrEnum):
    """Where a team's thread stands."""

    OPEN = "open"
    """The team is formed: its thread is made (or about to be) and kept in step."""
    CLOSED = "closed"
    """The team ended: its thread is archived and locked."""
    CAPPED = "capped"
    """Discord's thread cap refused it: the team's posts go to its team message and DMs."""


class StaffNoticeKind(StrEnum):
    """What staff are told once per server."""

    THREAD_CAP = "thread_cap"
    """Discord's cap of 1,000 active threads was reached: new teams get no thread."""


def thread_marker(team_id: int) -> str:
    """What a team's thread name ends with, so a retry finds a thread whose creation answer was lost."""
    return f" · team {team_id}"


def thread_name(team_id: int, project_name: str, member_names: Sequence[str]) -> str:
    """The thread's name: the project and its members (none once the team ended, so nobody's name
    outlives their team), cut to fit, ending with the team's marker."""
    marker = thread_marker(team_id)
    names = ", ".join(" ".join(name.split()) for name in member_names)
    text = " ".join((f"{project_name}: {names}" if names else project_name).split())
    return truncate(text, THREAD_NAME_MAX - len(marker)) + marker


def archive_duration(minutes: float) -> int:
    """The auto_archive_duration Discord accepts nearest to `minutes` (the larger one on a tie)."""
    return min(ARCHIVE_DURATIONS, key=lambda allowed: (abs(allowed - minutes), -allowed))
