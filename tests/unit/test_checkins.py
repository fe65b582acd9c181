"""Check-ins' pure rules: parsing a plan, the next prompt in a member's own zone (DST included),
when a report is ready, which endpoint a blocker names, streaks and silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.checkins import (
    CheckinPlan,
    EndpointRef,
    ensure_answers,
    linked_endpoint,
    missed_twice,
    next_prompt,
    report_ready,
    streak,
)
from bot.domain.errors import ValidationError


def test_a_plan_needs_days_and_a_real_time():
    plan = CheckinPlan.parse("mon, Wed,fri", "9:30")
    assert plan.days == {0, 2, 4} and plan.days_text == "mon,wed,fri" and plan.time_text == "09:30"
    for days, at in (("mon", "25:00"), ("mon", "9"), ("", "09:00"), ("  ", "09:00"), ("someday", "09:00")):
        with pytest.raises(ValidationError):
            CheckinPlan.parse(days, at)


def test_each_member_is_prompted_at_the_time_on_their_own_wall_clock():
    plan = CheckinPlan.parse("mon", "11:00")
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert next_prompt(plan, "Africa/Lagos", monday) == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert next_prompt(plan, "America/New_York", monday) == datetime(2026, 3, 2, 16, tzinfo=UTC)
    assert next_prompt(plan, "Asia/Tokyo", monday) == datetime(2026, 3, 9, 2, tzinfo=UTC)  # 11:00 Tokyo passed
    # strictly after: a prompt exactly now is next week's
    assert next_prompt(plan, "UTC", datetime(2026, 3, 2, 11, tzinfo=UTC)) == datetime(2026, 3, 9, 11, tzinfo=UTC)


def test_the_local_time_holds_across_a_dst_change():
    plan = CheckinPlan.parse("mon", "09:00")
    before = next_prompt(plan, "America/New_York", datetime(2026, 3, 2, 15, tzinfo=UTC))  # after Mon 9 EST
    assert before == datetime(2026, 3, 9, 13, tzinfo=UTC)  # 09:00 EDT (clocks went forward on Mar 8)
    gap = CheckinPlan.parse("sun", "02:30")  # 02:30 does not exist on Mar 8 in New York
    skipped = next_prompt(gap, "America/New_York", datetime(2026, 3, 7, tzinfo=UTC))
    assert skipped == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # read with the offset before the change
    fold = CheckinPlan.parse("sun", "01:30")  # 01:30 happens twice on Nov 1 in New York
    assert next_prompt(fold, "America/New_York", datetime(2026, 10, 31, tzinfo=UTC)) == datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )


def test_a_report_is_ready_when_all_answered_or_12_hours_passed():
    opened = datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert report_ready(opened, opened, 2, 2)
    assert not report_ready(opened, opened + timedelta(hours=11, minutes=59), 1, 2)
    assert report_ready(opened, opened + timedelta(hours=12), 0, 2)


def test_an_empty_check_in_is_refused():
    with pytest.raises(ValidationError, match="empty"):
        ensure_answers("  ", "", "stuck")
    assert ensure_answers(" built it ", "", "") == ("built it", "", "")
    with pytest.raises(ValidationError):
        ensure_answers("x" * 1001, "", "")


def test_a_blocker_links_the_endpoint_it_names_by_path():
    orders = EndpointRef(3, "GET", "/api/orders")
    order = EndpointRef(4, "GET", "/api/orders/{id}")
    assert linked_endpoint("waiting on /api/orders.", [order, orders]) == orders
    assert linked_endpoint("need /api/orders/{id} first", [orders, order]) == order
    assert linked_endpoint("need /API/Orders/", [orders]) == orders
    assert linked_endpoint("the designer", [orders]) is None
    assert linked_endpoint("/api/ordersx", [orders]) is None


def test_streaks_and_silence():
    assert streak([True, True, False, True]) == 2 and streak([]) == 0 and streak([False]) == 0
    assert missed_twice([False, False, True]) and not missed_twice([False, True]) and not missed_twice([False])
