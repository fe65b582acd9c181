"""Time zones as members type them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.errors import ValidationError
from bot.domain.timezones import clean_timezone, offset_minutes, timezone_choices

JAN = datetime(2026, 1, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("africa/lagos", "Africa/Lagos"),
        ("nairobi", "Africa/Nairobi"),
        ("Kenya", "Africa/Nairobi"),
        ("london", "Europe/London"),
        ("lagos", "Africa/Lagos"),
        ("new york", "America/New_York"),
        ("EAT", "Africa/Nairobi"),
        ("WAT", "Africa/Lagos"),
        ("CET", "Europe/Paris"),
        ("UTC+3", "Etc/GMT-3"),
        ("GMT+1", "Etc/GMT-1"),
        ("utc-5", "Etc/GMT+5"),
        ("UTC+0", "UTC"),
        ("UTC-05:30", "UTC-05:30"),
        ("+5:30", "UTC+05:30"),
    ],
)
def test_cities_countries_aliases_and_offsets(typed, zone):
    assert clean_timezone(typed) == zone


@pytest.mark.parametrize(("zone", "minutes"), [("Etc/GMT-3", 180), ("Etc/GMT+5", -300), ("UTC-05:30", -330)])
def test_offsets_are_read_back_with_the_right_sign(zone, minutes):
    assert offset_minutes(zone, JAN) == minutes


def test_unknown_zone_suggests_the_closest():
    with pytest.raises(ValidationError, match="Did you mean Africa/Nairobi"):
        clean_timezone("nairobbi")
    with pytest.raises(ValidationError, match="UTC-12 to UTC\\+14"):
        clean_timezone("UTC+15")


def test_autocomplete_finds_zones_by_country_and_alias():
    assert timezone_choices("kenya", 25)[0] == "Africa/Nairobi"
    assert timezone_choices("EAT", 25)[0] == "Africa/Nairobi"
    assert "Africa/Lagos" in timezone_choices("lagos", 25)
