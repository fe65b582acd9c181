"""Team check-ins: asynchronous stand-ups. Each member is prompted on the team's days at its time
of day in their own zone; their answers become one report, ready when everyone answered or
REPORT_HOURS after the earliest prompt; a "blocked by" answer is a blocker until a member closes it.

Pure code: parsing what members type, when each member is prompted next (DST-safe through
zoneinfo), when a report is ready, which contract endpoint a blocker names, and streaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot.domain.errors import ValidationError
from bot.domain.schedules import days_text, local_to_utc, parse_days, parse_time, zone_of

__all__ = [
    "ANSWER_MAX",
    "REPORT_HOURS",
    "CheckinPlan",
    "days_text",
    "ensure_answers",
    "linked_endpoint",
    "missed_twice",
    "next_prompt",
    "report_ready",
    "streak",
]

REPORT_HOURS = 12
"""A report is posted this long after its earliest prompt when not everyone answered by then."""
ANSWER_MAX = 1000
"""Characters per answer (a modal's paragraph field)."""
SILENT_RUNS_FLAGGED = 2
"""Check-ins in a row a member misses before their team is flagged to staff (once)."""
VIA_DM, VIA_THREAD, VIA_CHANNEL, VIA_NONE = "dm", "thread", "channel", "none"
"""How a prompt reached its member: by DM; when their DMs are closed, posted in the team's thread,
or in the project channel for a team without a thread; or not at all (the thread locked, or no
channel to post in). Forget-me deletes the project-channel posts."""
_PATH = re.compile(r"/[A-Za-z0-9_\-./{}:]*")


@dataclass(frozen=True)
class CheckinPlan:
    """A team's check-in days (0 is Monday) and time of day, as a member set them."""

    days: frozenset[int]
    at: time

    @classmethod
    def parse(cls, days: str, at: str) -> CheckinPlan:
        """Check what a member typed: at least one day, and an HH:MM time on the 24-hour clock."""
        parsed = parse_days(days)
        if not parsed:
            raise ValidationError("Name at least one day for check-ins, e.g. `days: mon,wed,fri`.")
        return cls(parsed, parse_time(at))

    @property
    def days_text(self) -> str:
        return days_text(self.days)

    @property
    def time_text(self) -> str:
        return self.at.strftime("%H:%M")

    @classmethod
    def stored(cls, days: str, at: str) -> CheckinPlan:
        """The plan as stored (`mon,wed` and `09:30`)."""
        return cls.parse(days, at)


def next_prompt(plan: CheckinPlan, zone: str, after: datetime) -> datetime:
    """The first prompt strictly after `after` (UTC) for a member in `zone`: the next chosen day at
    the plan's time on their wall clock. A time skipped by a DST change is read with the offset
    before it (02:30 becomes 03:30), a repeated one is its first occurrence."""
    tz = zone_of(zone)
    local_day = after.astimezone(tz).date()
    for offset in range(9):  # a week and a margin for an offset change around midnight
        day = local_day + timedelta(days=offset)
        if day.weekday() in plan.days:
            candidate = local_to_utc(day, plan.at, tz)
            if candidate > after:
                return candidate
    raise AssertionError("a plan with a day always has a next prompt")


def report_ready(earliest_prompt: datetime, now: datetime, answered: int, members: int) -> bool:
    """Whether a report is due: every member answered, or REPORT_HOURS passed since the earliest prompt."""
    return (members > 0 and answered >= members) or now >= earliest_prompt + timedelta(hours=REPORT_HOURS)


def report_deadline(earliest_prompt: datetime) -> datetime:
    """When a report is posted whoever answered."""
    return earliest_prompt + timedelta(hours=REPORT_HOURS)


def clean_answer(text: str | None) -> str:
    """One answer, trimmed; a ValidationError when too long."""
    cleaned = (text or "").strip()
    if len(cleaned) > ANSWER_MAX:
        raise ValidationError(f"An answer is {len(cleaned):,} characters; the limit is {ANSWER_MAX:,}.")
    return cleaned


def ensure_answers(done: str, next_: str, blocked: str) -> tuple[str, str, str]:
    """The three answers cleaned; a ValidationError when "done" and "next" are both empty."""
    answers = clean_answer(done), clean_answer(next_), clean_answer(blocked)
    if not answers[0] and not answers[1]:
        raise ValidationError(
            "Your check-in is empty: say what you did since last time or what you'll do next. Nothing was recorded."
        )
    return answers


@dataclass(frozen=True)
class EndpointRef:
    """An endpoint of the team's contract, as a blocker links it."""

    id: int
    method: str
    path: str


def _normal(path: str) -> str:
    return path.rstrip("/.,;:").lower() or "/"


def linked_endpoint(blocked: str, endpoints: Sequence[EndpointRef]) -> EndpointRef | None:
    """The contract endpoint a blocker names by path (`blocked by /api/orders`), the longest match
    first; None when it names none."""
    named = {_normal(p) for p in _PATH.findall(blocked)}
    for endpoint in sorted(endpoints, key=lambda e: -len(e.path)):
        if _normal(endpoint.path) in named:
            return endpoint
    return None


def streak(answered: Iterable[bool]) -> int:
    """Check-ins in a row a member answered, counting back from the latest report (newest first)."""
    count = 0
    for given in answered:
        if not given:
            break
        count += 1
    return count


def missed_twice(answered: Sequence[bool]) -> bool:
    """Whether a member missed the latest SILENT_RUNS_FLAGGED reports (newest first)."""
    return len(answered) >= SILENT_RUNS_FLAGGED and not any(answered[:SILENT_RUNS_FLAGGED])


def utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime."""
    return moment.astimezone(UTC)
