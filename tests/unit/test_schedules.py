"""Scheduled posts' pure logic: parsing, the next occurrence across daylight-saving changes, the
grace for missed runs, and a schedule's life."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError as PydanticValidationError

from bot.clock import FileClock, MovableClock
from bot.config import Settings
from bot.domain.errors import ValidationError
from bot.domain.schedules import (
    Repeat,
    RunOutcome,
    ScheduleEvent,
    ScheduleState,
    Timing,
    clean_text,
    days_text,
    local_to_utc,
    new_timing,
    parse_date,
    parse_days,
    parse_time,
    run_outcome,
    transition,
    zone_of,
)
from bot.runtime import clock_for

PARIS = "Europe/Paris"
# 2026: summer time starts Sunday 29 March (02:00 -> 03:00), ends Sunday 25 October (03:00 -> 02:00)


def test_parse_date_time_and_days():
    assert parse_date("2026-03-30") == date(2026, 3, 30)
    assert parse_time("9:05") == time(9, 5)
    assert parse_time("23:59") == time(23, 59)
    assert parse_days("mon,wed") == {0, 2}
    assert parse_days("Monday Friday sun") == {0, 4, 6}
    assert parse_days(None) == frozenset()
    assert days_text({4, 0}) == "mon,fri"


@pytest.mark.parametrize("typed", ["25:00", "12:60", "noon", "", "9"])
def test_bad_times_are_refused(typed):
    with pytest.raises(ValidationError, match="HH:MM"):
        parse_time(typed)


@pytest.mark.parametrize("typed", ["2026-02-30", "30/03/2026", "tomorrow", "2026-13-01"])
def test_bad_dates_are_refused(typed):
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        parse_date(typed)


def test_bad_days_and_text_are_refused():
    with pytest.raises(ValidationError, match="not a day"):
        parse_days("mon,funday")
    with pytest.raises(ValidationError, match="empty"):
        clean_text("   \n ")
    with pytest.raises(ValidationError, match="2,000"):
        clean_text("x" * 2001)
    assert clean_text("  hello  ") == "hello"


def test_unknown_zone_is_refused():
    with pytest.raises(ValidationError):
        zone_of("Mars/Olympus")
    assert zone_of("UTC+05:30").utcoffset(None) == timedelta(hours=5, minutes=30)


def test_new_timing_refuses_the_past_and_a_weekly_without_days():
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)
    with pytest.raises(ValidationError, match="in the past"):
        new_timing(Repeat.ONCE, "2026-03-20", "12:00", None, PARIS, now)  # 11:00 UTC
    with pytest.raises(ValidationError, match="at least one day"):
        new_timing(Repeat.WEEKLY, "2026-03-21", "09:00", None, PARIS, now)
    with pytest.raises(ValidationError, match="weekly"):
        new_timing(Repeat.ONCE, "2026-03-21", "09:00", "mon", PARIS, now)
    timing = new_timing(Repeat.ONCE, "2026-03-20", "14:00", None, PARIS, now)
    assert timing.first() == datetime(2026, 3, 20, 13, tzinfo=UTC)
    assert timing.after(timing.first()) is None


def test_weekly_keeps_its_wall_clock_time_across_the_march_change():
    # weekly on Sunday and Monday at 09:00 Paris, from Monday 23 March 2026
    timing = Timing(Repeat.WEEKLY, date(2026, 3, 23), time(9), frozenset({0, 6}), PARIS)
    first = timing.first()
    assert first == datetime(2026, 3, 23, 8, tzinfo=UTC)  # CET, UTC+1
    sunday = timing.after(first)
    assert sunday == datetime(2026, 3, 29, 7, tzinfo=UTC)  # the change's day: CEST, UTC+2
    monday = timing.after(sunday)
    assert monday == datetime(2026, 3, 30, 7, tzinfo=UTC)
    for moment in (first, sunday, monday):
        assert moment.astimezone(zone_of(PARIS)).time() == time(9)


def test_weekly_keeps_its_wall_clock_time_across_the_october_change():
    timing = Timing(Repeat.WEEKLY, date(2026, 10, 18), time(9), frozenset({6}), PARIS)
    before = timing.first()
    after = timing.after(before)
    assert before == datetime(2026, 10, 18, 7, tzinfo=UTC)  # CEST
    assert after == datetime(2026, 10, 25, 8, tzinfo=UTC)  # CET from that Sunday 03:00
    assert after - before == timedelta(days=7, hours=1)


def test_a_time_the_clock_skips_or_repeats():
    paris = zone_of(PARIS)
    # 02:30 does not exist on 29 March: it runs at 03:30 summer time (01:30 UTC)
    assert local_to_utc(date(2026, 3, 29), time(2, 30), paris) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 02:30 happens twice on 25 October: the first one (summer time, 00:30 UTC)
    assert local_to_utc(date(2026, 10, 25), time(2, 30), paris) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    weekly = Timing(Repeat.WEEKLY, date(2026, 10, 18), time(2, 30), frozenset({6}), PARIS)
    assert weekly.after(datetime(2026, 10, 20, tzinfo=UTC)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_weekly_after_a_long_gap_finds_the_next_day_from_then():
    timing = Timing(Repeat.WEEKLY, date(2026, 1, 5), time(18, 45), frozenset({2}), "Africa/Lagos")
    later = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
    assert timing.after(later) == datetime(2026, 6, 3, 17, 45, tzinfo=UTC)


def test_a_missed_run_is_posted_within_the_grace_and_skipped_beyond():
    due = datetime(2026, 3, 30, 7, tzinfo=UTC)
    grace = timedelta(minutes=60)
    assert run_outcome(due, due, grace) is RunOutcome.POSTED
    assert run_outcome(due, due + grace, grace) is RunOutcome.POSTED
    assert run_outcome(due, due + grace + timedelta(seconds=1), grace) is RunOutcome.SKIPPED


@pytest.mark.parametrize("state", list(ScheduleState))
@pytest.mark.parametrize("event", list(ScheduleEvent))
def test_every_transition(state, event):
    expected = {
        (ScheduleState.ACTIVE, ScheduleEvent.RAN_LAST): ScheduleState.FINISHED,
        (ScheduleState.ACTIVE, ScheduleEvent.REMOVED): ScheduleState.REMOVED,
        (ScheduleState.FINISHED, ScheduleEvent.REMOVED): ScheduleState.REMOVED,
    }.get((state, event))
    if expected is None:
        with pytest.raises(ValidationError):
            transition(state, event)
    else:
        assert transition(state, event) is expected


def test_the_movable_clock_moves_and_keeps_ticking():
    clock = MovableClock(datetime(2026, 3, 29, 6, tzinfo=UTC))
    assert abs(clock.now() - datetime(2026, 3, 29, 6, tzinfo=UTC)) < timedelta(seconds=1)
    clock.advance(timedelta(days=7))
    assert abs(clock.time() - datetime(2026, 4, 5, 6, tzinfo=UTC).timestamp()) < 1
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 1, 1))  # naive


def test_the_file_clock_follows_its_file(tmp_path):
    path = tmp_path / "clock"
    clock = FileClock(path)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)  # no file: the real time
    FileClock.write(path, datetime(2030, 1, 1, tzinfo=UTC))
    assert abs(clock.now() - datetime(2030, 1, 1, tzinfo=UTC)) < timedelta(seconds=1)
    FileClock.write(path, datetime(2030, 2, 1, 12, tzinfo=UTC))
    assert abs(clock.now() - datetime(2030, 2, 1, 12, tzinfo=UTC)) < timedelta(seconds=1)


def test_the_clock_file_is_refused_outside_the_sandbox(tmp_path):
    with pytest.raises(PydanticValidationError, match="NEXUS_CLOCK_FILE"):
        Settings(_env_file=None, nexus_clock_file=tmp_path / "clock")  # type: ignore[call-arg]
    sandbox = Settings(
        _env_file=None,  # type: ignore[call-arg]
        nexus_clock_file=tmp_path / "clock",
        discord_api_base_url="http://127.0.0.1:5000/api/v10",
    )
    assert sandbox.nexus_clock_file == tmp_path / "clock"
    assert isinstance(clock_for(sandbox), FileClock)
    assert Settings(_env_file=None, nexus_clock_file="").nexus_clock_file is None  # type: ignore[call-arg]
