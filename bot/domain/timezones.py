"""Time zones as members type them: an IANA name, a city, a country, an abbreviation or an offset.

`nairobi`, `kenya` and `EAT` are Africa/Nairobi; `UTC+3` is Etc/GMT-3 (the Etc names count the
other way round); an offset that no whole-hour zone has, such as `UTC-05:30`, is kept as the fixed
offset `UTC-05:30`, which `offset_minutes` reads.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rapidfuzz import fuzz, process, utils

from bot.domain.errors import ValidationError
from bot.domain.text import quoted

TIMEZONE_SUGGEST_SCORE = 70
"""The least rapidfuzz score for a zone, city or country to be offered as "did you mean"."""
OFFSET_MAX_MINUTES = 14 * 60
"""The widest offset from UTC any place uses (Kiribati, +14:00; the lowest is -12:00)."""

ALIASES: dict[str, str] = {
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "wat": "Africa/Lagos",
    "cat": "Africa/Maputo",
    "eat": "Africa/Nairobi",
    "sast": "Africa/Johannesburg",
    "wet": "Europe/Lisbon",
    "bst": "Europe/London",
    "cet": "Europe/Paris",
    "cest": "Europe/Paris",
    "eet": "Europe/Athens",
    "msk": "Europe/Moscow",
    "est": "America/New_York",
    "edt": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "mst": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "jst": "Asia/Tokyo",
    "hkt": "Asia/Hong_Kong",
    "aest": "Australia/Sydney",
}
"""Abbreviations that name one zone unambiguously enough to accept (IST, which is India, Ireland
and Israel, is left out on purpose)."""

_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$")


def all_timezones() -> tuple[str, ...]:
    """Every IANA zone name with a region (and UTC), sorted."""
    return _all_timezones()


@functools.cache
def _all_timezones() -> tuple[str, ...]:
    return tuple(sorted(tz for tz in available_timezones() if "/" in tz or tz == "UTC"))


@functools.cache
def _by_lower_name() -> dict[str, str]:
    return {tz.lower(): tz for tz in all_timezones()}


def _tab(name: str) -> list[list[str]]:
    for folder in zoneinfo.TZPATH:
        path = Path(folder) / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            return [line.split("\t") for line in lines if line and not line.startswith("#")]
    return []


@functools.cache
def _places() -> dict[str, str]:
    """Lower-case city and country names mapped to their zone, when only one zone fits."""
    country_zones: dict[str, list[str]] = {}
    for row in _tab("zone.tab"):
        if len(row) >= 3:
            country_zones.setdefault(row[0], []).append(row[2])
    known = set(all_timezones())
    canonical = {zone for zones in country_zones.values() for zone in zones}
    places: dict[str, set[str]] = {}
    for zone in known:
        if "/" in zone and not zone.startswith("Etc/"):
            city = zone.rsplit("/", 1)[1].replace("_", " ").lower()
            places.setdefault(city, set()).add(zone)
    for row in _tab("iso3166.tab"):
        zones = [z for z in country_zones.get(row[0], []) if z in known]
        if len(row) >= 2 and zones:
            places.setdefault(row[1].lower(), set()).update(zones)
    found: dict[str, str] = {}
    for place, matching in places.items():
        preferred = sorted(matching & canonical) or sorted(matching)
        if len(preferred) == 1:
            found[place] = preferred[0]
    return found


def _offset_zone(text: str) -> str | None:
    match = _OFFSET.match(text.strip().lower())
    if match is None:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    total = hours * 60 + minutes
    if minutes >= 60 or total > OFFSET_MAX_MINUTES:
        raise ValidationError("No place is that far from UTC: offsets run from UTC-12 to UTC+14.")
    if total == 0:
        return "UTC"
    if minutes == 0 and (sign == "+" or hours <= 12):
        # Etc/GMT-3 is three hours *ahead* of UTC: the POSIX sign convention
        return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def offset_minutes(zone: str, at: datetime) -> int | None:
    """The offset from UTC at `at`, in minutes, of a stored zone (IANA or fixed `UTC±HH:MM`)."""
    fixed = re.match(r"^UTC([+-])(\d{2}):(\d{2})$", zone)
    if fixed:
        minutes = int(fixed.group(2)) * 60 + int(fixed.group(3))
        return minutes if fixed.group(1) == "+" else -minutes
    try:
        offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    except (ValueError, KeyError):
        return None
    return int(offset // timedelta(minutes=1)) if offset is not None else None


def _lookup(text: str) -> str | None:
    lowered = " ".join(text.split()).lower()
    return (
        _by_lower_name().get(lowered.replace(" ", "_"))
        or ALIASES.get(lowered)
        or _places().get(lowered)
        or _offset_zone(lowered)
    )


def _candidates() -> list[str]:
    return [*all_timezones(), *(p.title() for p in _places())]


def suggest_timezones(text: str, limit: int = 3) -> list[str]:
    """Zones, cities or countries that look like the text."""
    found = process.extract(
        text,
        _candidates(),
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=TIMEZONE_SUGGEST_SCORE,
    )
    return list(dict.fromkeys(_lookup(name) or name for name, _, _ in found))


def clean_timezone(name: str) -> str:
    """The zone a member means: an IANA name (any case), a city, a country with one zone, a common
    abbreviation, or an offset such as UTC+3; otherwise a ValidationError with suggestions."""
    candidate = name.strip()
    found = _lookup(candidate) if candidate else None
    if found is None:
        close = suggest_timezones(candidate) if candidate else []
        hint = f" Did you mean {' or '.join(close)}?" if close else " Pick one from the list, e.g. Africa/Lagos."
        raise ValidationError(f"{quoted(candidate)} is not a time zone.{hint}")
    if found.startswith("UTC") and found != "UTC":
        return found  # a fixed offset, read by offset_minutes
    try:
        ZoneInfo(found)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{found} is not available on this server.") from None
    return found


def timezone_choices(text: str, limit: int) -> list[str]:
    """Zones for an autocomplete box: by zone name, then by city, country or abbreviation."""
    lowered = " ".join(text.split()).lower()
    picks: list[str] = []
    exact = _lookup(lowered) if lowered else None
    if exact:
        picks.append(exact)
    key = lowered.replace(" ", "_")
    picks += [z for z in all_timezones() if key in z.lower()]
    picks += [zone for place, zone in _places().items() if place.startswith(lowered)]
    if len(picks) < limit:
        for name in suggest_timezones(text, limit):
            picks.append(_lookup(name) or name)
    return list(dict.fromkeys(picks))[:limit]
