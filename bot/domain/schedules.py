"""Scheduled posts: parsing what staff type, the next occurrence in the server's zone, and a
schedule's life. Pure: no Discord, no database.

Times are wall-clock times in the server's zone: a weekly post at 09:00 stays at 09:00 local
across daylight-saving changes, so its UTC time moves by an hour twice a year. A local time that
does not exist (the hour skipped in spring) runs as the same clock reading before the change would
(02:30 becomes 03:30); a local time that happens twice (autumn) runs the first time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import ValidationError

SCHEDULE_ID_MAX = 2**31 - 1
"""The largest id a schedule can have (the database's integer); larger ones are refused by Discord's option."""

SCHEDULE_TEXT_MAX = 2000
"""A scheduled post's text, as Discord allows in one message."""
SCHEDULES_PER_GUILD_MAX = 100
"""Active schedules one server may have."""
CATCH_UP_RUNS_MAX = 60
"""Missed occurrences of one schedule handled in one pass (the next pass takes the rest)."""
DEFAULT_ZONE = "UTC"
"""The server's zone until staff set one with /setup timezone."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {
    **{name: index for index, name in enumerate(WEEKDAYS)},
    **{
        name: index
        for index, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    },
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2})[:h.](\d{2})$")
_FIXED = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")


class Repeat(StrEnum):
    """How often a schedule runs."""

    ONCE = "once"
    WEEKLY = "weekly"


class ScheduledPost(StrEnum):
    """What a schedule posts: staff's text, or one of Nexus's own posts."""

    TEXT = "text"
    KICKOFF = "kickoff"
    NUDGE = "nudge"
    """The roster nudge: the learners missing each Week-1 step, named (bot.domain.nudges)."""
    DIGEST = "digest"

    @property
    def label(self) -> str:
        return POST_LABELS[self]


POST_LABELS = {
    ScheduledPost.TEXT: "Text post",
    ScheduledPost.KICKOFF: "Kickoff post",
    ScheduledPost.NUDGE: "Roster nudge",
    ScheduledPost.DIGEST: "Weekly digest",
}


class NudgeDelivery(StrEnum):
    """Where a roster nudge reaches learners: one channel post naming them, or a DM to each."""

    CHANNEL = "channel"
    DM = "dm"


def check_post_options(post: ScheduledPost, delivery: NudgeDelivery, text: str | None) -> None:
    """A ValidationError for options that do not go with the chosen post (a text for Nexus's own
    posts, DMs for anything but a nudge)."""
    if post is not ScheduledPost.TEXT and text is not None:
        raise ValidationError(f"A {post.label.lower()} is written by Nexus: leave `text` out, or choose `post: text`.")
    if post is not ScheduledPost.NUDGE and delivery is NudgeDelivery.DM:
        raise ValidationError("`delivery: dm` is for roster nudges only: choose `post: roster nudge`.")


class ScheduleState(StrEnum):
    """A schedule's life: active until its last run (a once schedule) or until staff remove it."""

    ACTIVE = "active"
    FINISHED = "finished"
    REMOVED = "removed"


class ScheduleEvent(StrEnum):
    RAN_LAST = "ran_last"
    """Its last occurrence was claimed (posted or skipped): nothing is left to run."""
    REMOVED = "removed"


def transition(state: ScheduleState, event: ScheduleEvent) -> ScheduleState:
    """The state after `event`; a ValidationError when it cannot happen in `state`."""
    if state is ScheduleState.ACTIVE:
        return ScheduleState.FINISHED if event is ScheduleEvent.RAN_LAST else ScheduleState.REMOVED
    if state is ScheduleState.FINISHED and event is ScheduleEvent.REMOVED:
        return ScheduleState.REMOVED
    raise ValidationError("That schedule was already removed." if state is ScheduleState.REMOVED else "It is done.")


class RunOutcome(StrEnum):
    """What became of one occurrence."""

    POSTED = "posted"
    SKIPPED = "skipped"
    """Missed by more than the grace (the bot was down): recorded, not posted."""


def run_outcome(due_at: datetime, now: datetime, grace: timedelta) -> RunOutcome:
    """Post an occurrence that is due and younger than the grace; skip an older one."""
    return RunOutcome.POSTED if now - due_at <= grace else RunOutcome.SKIPPED


def zone_of(name: str) -> tzinfo:
    """The tzinfo of a stored zone name (IANA, or a fixed `UTC±HH:MM` offset)."""
    fixed = _FIXED.match(name)
    if fixed:
        minutes = int(fixed.group(2)) * 60 + int(fixed.group(3))
        return timezone(timedelta(minutes=minutes if fixed.group(1) == "+" else -minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{name} is not a time zone I know.") from None


def parse_date(text: str) -> date:
    """A YYYY-MM-DD date, or a ValidationError that shows the format."""
    found = _DATE.match(text.strip())
    try:
        if found is None:
            raise ValueError
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise ValidationError(
            f"`{text.strip()[:20]}` is not a date: write it as YYYY-MM-DD, e.g. 2026-03-30."
        ) from None


def parse_time(text: str) -> time:
    """An HH:MM time of day (24-hour), or a ValidationError that shows the format."""
    found = _TIME.match(text.strip())
    try:
        if found is None:
            raise ValueError
        return time(int(found.group(1)), int(found.group(2)))
    except ValueError:
        raise ValidationError(
            f"`{text.strip()[:20]}` is not a time of day: write it as HH:MM on the 24-hour clock, e.g. 09:30."
        ) from None


def parse_days(text: str | None) -> frozenset[int]:
    """Weekdays (0 is Monday) from text such as `mon,wed` or `Monday Friday`; empty for None."""
    if text is None or not text.strip():
        return frozenset()
    days = set()
    for word in re.split(r"[\s,;/]+", text.strip().lower()):
        if not word:
            continue
        if word not in _DAY_NAMES:
            raise ValidationError(f"`{word[:20]}` is not a day: use mon, tue, wed, thu, fri, sat or sun.")
        days.add(_DAY_NAMES[word])
    return frozenset(days)


def days_text(days: Iterable[int]) -> str:
    """`mon,wed` for Monday and Wednesday, in week order."""
    return ",".join(WEEKDAYS[d] for d in sorted(set(days)))


def clean_text(text: str) -> str:
    """The post's text, trimmed; a ValidationError when empty or too long."""
    cleaned = text.strip()
    if not cleaned:
        raise ValidationError("The post's text is empty: write what Nexus should post.")
    if len(cleaned) > SCHEDULE_TEXT_MAX:
        raise ValidationError(f"The post's text is {len(cleaned):,} characters; the limit is {SCHEDULE_TEXT_MAX:,}.")
    return cleaned


def local_to_utc(day: date, at: time, zone: tzinfo) -> datetime:
    """The UTC moment a wall clock in `zone` reads `day` `at` (see the module for DST gaps and folds)."""
    # fold=0 reads a skipped time with the offset before the change (02:30 runs at 03:30, new time)
    # and a repeated time as its first occurrence (PEP 495)
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


@dataclass(frozen=True)
class Timing:
    """When a schedule runs: from `start` (a local date) at `at` local time, once or on `days`."""

    repeat: Repeat
    start: date
    at: time
    days: frozenset[int]
    zone: str

    def first(self) -> datetime:
        """The first occurrence (UTC): the start date itself, or the first chosen day from it."""
        zone = zone_of(self.zone)
        if self.repeat is Repeat.ONCE:
            return local_to_utc(self.start, self.at, zone)
        for offset in range(7):
            day = self.start + timedelta(days=offset)
            if day.weekday() in self.days:
                return local_to_utc(day, self.at, zone)
        raise ValidationError("A weekly schedule needs at least one day, e.g. `days: mon,wed`.")

    def after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after `moment` (UTC), or None when there is none left."""
        first = self.first()
        if first > moment:
            return first
        if self.repeat is Repeat.ONCE:
            return None
        zone = zone_of(self.zone)
        local_day = max(moment.astimezone(zone).date(), self.start)
        for offset in range(9):  # a week and a margin for a changed offset around midnight
            day = local_day + timedelta(days=offset)
            if day.weekday() in self.days:
                candidate = local_to_utc(day, self.at, zone)
                if candidate > moment:
                    return candidate
        raise AssertionError("a weekly schedule always has a next day")


def new_timing(repeat: Repeat, start: str, at: str, days: str | None, zone: str, now: datetime) -> Timing:
    """Check what staff typed for a new schedule: valid date and time, days for a weekly one (and
    none for a one-off), a first occurrence in the future. A ValidationError says what is wrong."""
    day, clock = parse_date(start), parse_time(at)
    chosen = parse_days(days)
    if repeat is Repeat.WEEKLY and not chosen:
        raise ValidationError("A weekly schedule needs at least one day, e.g. `days: mon,wed`.")
    if repeat is Repeat.ONCE and chosen:
        raise ValidationError("Days are for weekly schedules: choose `repeat: weekly`, or leave `days` empty.")
    timing = Timing(repeat, day, clock, chosen, zone)
    local_start = local_to_utc(day, clock, zone_of(zone))
    if local_start <= now:
        shown = now.astimezone(zone_of(zone)).strftime("%Y-%m-%d %H:%M")
        raise ValidationError(f"{start.strip()} {at.strip()} is in the past: it is {shown} now in {zone}.")
    return timing


def local_text(moment: datetime, zone: str) -> str:
    """`Mon 2026-03-30 09:00` in the server's zone."""
    return moment.astimezone(zone_of(zone)).strftime("%a %Y-%m-%d %H:%M")
