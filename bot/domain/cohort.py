"""Week-1 rules: tracks, profiles, announcements, the catalog and the learner checklist."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

from bot.domain.errors import ValidationError
from bot.domain.text import quoted, strip_control

T = TypeVar("T")

PITCH_MAX = 300
REPO_URL_MAX = 200
PROJECT_NAME_MAX = 60
PROJECT_DESCRIPTION_MAX = 200
GITHUB_HANDLE_MAX = 39
SKILLS_MAX_COUNT = 10
SKILL_MAX = 30
DISPLAY_NAME_MAX = 80

CLEAR_WORDS = frozenset({"none", "-", "remove"})
"""What a learner types in an optional field to remove what is stored (a field left out keeps it):
the repository of an announcement, a profile's GitHub handle and skills."""

REPO_URL_FORBIDDEN = frozenset("<>[]()`\"'|\\{}^*_~")
"""Characters a repository link may not hold: with them a link could carry markdown (a masked link,
an angle-bracket escape, a role pill) into Nexus's own post. GitHub paths never need them."""

_GITHUB = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_HOST = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


class Track(StrEnum):
    """Which side of the project a learner builds."""

    BACKEND = "backend"
    FRONTEND = "frontend"

    @property
    def opposite(self) -> Track:
        return Track.FRONTEND if self is Track.BACKEND else Track.BACKEND

    @property
    def label(self) -> str:
        return self.value.title()


def parse_track(value: str) -> Track:
    """A track from its name; anything else is a validation error."""
    try:
        return Track(value.strip().lower())
    except ValueError:
        raise ValidationError("The track must be backend or frontend.") from None


def clean_pitch(text: str) -> str:
    """The pitch as stored: control characters dropped, trimmed, 1 to PITCH_MAX characters."""
    pitch = strip_control(text)
    if not pitch:
        raise ValidationError("Your pitch is empty: say in a sentence what you are building.")
    if len(pitch) > PITCH_MAX:
        raise ValidationError(f"Your pitch is {len(pitch)} characters; keep it to {PITCH_MAX}.")
    return pitch


def clean_repo_url(text: str | None) -> str | None:
    """An https repository URL, or None when not given; `github.com/you/x` gets its https://."""
    if text is None or not text.strip():
        return None
    url = text.strip()
    if not urlsplit(url).scheme and not url.startswith("/"):
        url = "https://" + url
    if any(ch.isspace() for ch in url) or any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in url):
        raise ValidationError("The repository link must not contain spaces or control characters.")
    bad = sorted({ch for ch in url if ch in REPO_URL_FORBIDDEN})
    if bad:
        raise ValidationError(
            f"The repository link can't contain {' '.join(bad)}: give the plain https:// address of the repository."
        )
    if len(url) > REPO_URL_MAX:
        raise ValidationError(f"The repository link is longer than {REPO_URL_MAX} characters.")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or not _HOST.match(parts.hostname):
        raise ValidationError("The repository must be an https:// link, e.g. https://github.com/you/project.")
    if parts.username or parts.password:
        raise ValidationError("The repository link must not contain a user name or password.")
    return url


def kept_or_cleaned(text: str | None, current: T, clean: Callable[[str], T], cleared: T) -> T:
    """What an optional field stores: `current` when nothing is given, `cleared` when the learner
    typed one of CLEAR_WORDS, otherwise `clean(text)` (which may refuse it)."""
    if text is None or not text.strip():
        return current
    if text.strip().casefold() in CLEAR_WORDS:
        return cleared
    return clean(text)


def repo_to_store(text: str | None, current: str | None) -> str | None:
    """The repository an announcement keeps (`kept_or_cleaned`)."""
    return kept_or_cleaned(text, current, clean_repo_url, None)


def clean_github(text: str | None) -> str | None:
    """A GitHub handle without the @, or None when not given."""
    if text is None or not text.strip():
        return None
    handle = text.strip().removeprefix("@")
    if handle.lower().startswith(("https://github.com/", "github.com/")):
        handle = handle.split("github.com/", 1)[1].strip("/")
    if not _GITHUB.match(handle):
        raise ValidationError(f"{quoted(handle, GITHUB_HANDLE_MAX)} is not a valid GitHub handle.")
    return handle


def parse_skills(text: str | None) -> tuple[str, ...]:
    """A short comma-separated list of skills, deduplicated, in the order given."""
    if text is None:
        return ()
    skills: list[str] = []
    seen: set[str] = set()
    for raw in strip_control(text, keep_newlines=False).split(","):
        skill = " ".join(raw.split())
        if not skill:
            continue
        if len(skill) > SKILL_MAX:
            raise ValidationError(f"Skill {quoted(skill, SKILL_MAX)} is longer than {SKILL_MAX} characters.")
        if skill.casefold() not in seen:
            seen.add(skill.casefold())
            skills.append(skill)
    if len(skills) > SKILLS_MAX_COUNT:
        raise ValidationError(f"List at most {SKILLS_MAX_COUNT} skills.")
    return tuple(skills)


def project_key(name: str) -> str:
    """The case-insensitive identity of a project name (control characters, NUL included, dropped)."""
    return " ".join(strip_control(name, keep_newlines=False).casefold().split())


def clean_project_name(name: str) -> str:
    """A catalog project name: trimmed, single-spaced, 2 to PROJECT_NAME_MAX characters."""
    cleaned = " ".join(strip_control(name, keep_newlines=False).split())
    if len(cleaned) < 2:
        raise ValidationError("A project name needs at least 2 characters.")
    if len(cleaned) > PROJECT_NAME_MAX:
        raise ValidationError(f"A project name has at most {PROJECT_NAME_MAX} characters.")
    return cleaned


def clean_description(text: str) -> str:
    description = " ".join(strip_control(text, keep_newlines=False).split())
    if len(description) > PROJECT_DESCRIPTION_MAX:
        raise ValidationError(f"A description has at most {PROJECT_DESCRIPTION_MAX} characters.")
    return description


def clean_display_name(name: str) -> str:
    """A member's name as Nexus stores it for lists and exports."""
    cleaned = strip_control(name, keep_newlines=False) or "member"
    return cleaned[:DISPLAY_NAME_MAX]


class ChecklistStep(StrEnum):
    """The Week-1 steps every learner goes through, in order."""

    PROFILE = "profile"
    ANNOUNCED = "announced"
    PARTNER = "partner"
    API = "api"
    NOTE = "note"


CHECKLIST_LABELS: dict[ChecklistStep, str] = {
    ChecklistStep.PROFILE: "Profile set (`/profile set`)",
    ChecklistStep.ANNOUNCED: "Project announced (`/project announce`)",
    ChecklistStep.PARTNER: "Partner found (`/partner find`)",
    ChecklistStep.API: "API contract agreed (`/api agree`)",
    ChecklistStep.NOTE: "First learning note (`/note add`)",
}


NEXT_ACTIONS: dict[ChecklistStep, str] = {
    ChecklistStep.PROFILE: "set your profile with /profile set",
    ChecklistStep.ANNOUNCED: "announce your project with /project announce",
    ChecklistStep.PARTNER: "find your partner with /partner find",
    ChecklistStep.API: "agree your API with /api add and /api agree",
    ChecklistStep.NOTE: "write your first learning note with /note add",
}
"""What to do for each step, as the end of a "Next: …" line."""

AFTER_NOTE = "find more with /note search, or share a one-line tip with /tip share"
"""What to do once a note is saved (the last step has no step after it)."""


def next_line(step: ChecklistStep) -> str:
    """The one-line pointer to a step, e.g. "Next: find your partner with /partner find."."""
    return f"Next: {NEXT_ACTIONS[step]}."


@dataclass(frozen=True)
class Checklist:
    """Which Week-1 steps one learner has done."""

    done: frozenset[ChecklistStep]

    def lines(self) -> list[str]:
        return [f"{'✅' if step in self.done else '⬜'} {label}" for step, label in CHECKLIST_LABELS.items()]

    @property
    def next_step(self) -> ChecklistStep | None:
        for step in ChecklistStep:
            if step not in self.done:
                return step
        return None


class RosterStep(StrEnum):
    """What a facilitator can ask the roster for: one filter per Week-1 step.

    Partner and API count as missing only once the step before them is done (a learner who has not
    announced is listed as not announced, not also as without a partner and an agreed API)."""

    NO_PROFILE = "no-profile"
    NOT_ANNOUNCED = "not-announced"
    NO_PARTNER = "no-partner"
    NO_API = "no-api"
    NO_NOTES = "no-notes"


def roster_missing(*, profile: bool, announced: bool, teamed: bool, api_agreed: bool, noted: bool) -> list[RosterStep]:
    """The roster steps a learner with these facts is missing, in checklist order."""
    missing: list[RosterStep] = []
    if not profile:
        missing.append(RosterStep.NO_PROFILE)
    if not announced:
        missing.append(RosterStep.NOT_ANNOUNCED)
    elif not teamed:
        missing.append(RosterStep.NO_PARTNER)
    elif not api_agreed:
        missing.append(RosterStep.NO_API)
    if not noted:
        missing.append(RosterStep.NO_NOTES)
    return missing
