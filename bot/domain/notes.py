"""Notes, challenges and tips: kinds, limits and validation of what a member writes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import ValidationError
from bot.domain.text import ZERO_WIDTH_SPACE, strip_control


class NoteKind(StrEnum):
    """What a note records."""

    LEARNING = "learning"
    CHALLENGE = "challenge"
    PRACTICE = "practice"
    TIP = "tip"

    @property
    def label(self) -> str:
        """The human name of the kind."""
        return _KIND_LABELS[self]


_KIND_LABELS = {
    NoteKind.LEARNING: "Learning",
    NoteKind.CHALLENGE: "Challenge",
    NoteKind.PRACTICE: "Best practice",
    NoteKind.TIP: "Tip",
}

DEFAULT_TOPICS: tuple[str, ...] = (
    "Python",
    "Django",
    "REST APIs",
    "GraphQL",
    "Docker",
    "CI/CD",
    "Database design",
    "Async programming",
    "Caching",
)
"""Topics every server starts with; staff add more with /topic add."""

TITLE_MAX_LENGTH = 100
BODY_MAX_LENGTH = 4000
SOLUTION_MAX_LENGTH = 4000
TAGS_MAX_LENGTH = 200
MAX_TAGS = 10
TAG_MAX_LENGTH = 30
TIP_MAX_LENGTH = 300
TOPIC_NAME_MAX_LENGTH = 40
MAX_TOPICS_PER_GUILD = 100
MAX_NOTE_ID = 2**31 - 1
"""Note ids are 32-bit; anything larger cannot exist."""

_TAG_SPLIT = re.compile(r"[,\s]+")
_TAG_CHARS = re.compile(r"[^\w+#.-]")
_NOTE_REF = re.compile(r"#?\s*(\d{1,12})\b")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class NoteDraft:
    """A note's member-written fields, cleaned and within limits."""

    title: str
    body: str
    solution: str | None
    tags: tuple[str, ...]


def _is_blank(text: str) -> bool:
    return not text.replace(ZERO_WIDTH_SPACE, "").strip()


def _check_length(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValidationError(f"The {name} is {len(value):,} characters long; the limit is {limit:,}.")


def parse_tags(text: str | None) -> tuple[str, ...]:
    """Comma- or space-separated tags, lower-cased, deduplicated, `#` prefixes dropped."""
    if not text:
        return ()
    _check_length("tags field", text, TAGS_MAX_LENGTH)
    tags: list[str] = []
    for raw in _TAG_SPLIT.split(strip_control(text, keep_newlines=False).casefold()):
        tag = _TAG_CHARS.sub("", raw.lstrip("#")).strip(".-")
        if not tag or tag in tags:
            continue
        if len(tag) > TAG_MAX_LENGTH:
            raise ValidationError(f"The tag {tag[:TAG_MAX_LENGTH]}… is too long: at most {TAG_MAX_LENGTH} characters.")
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"A note can have at most {MAX_TAGS} tags; you gave {len(tags)}.")
    return tuple(tags)


def validate_note(
    kind: NoteKind, title: str, body: str, solution: str | None = None, tags: str | None = None
) -> NoteDraft:
    """Clean and check a note's fields; raise ValidationError with what to fix."""
    title = _SPACES.sub(" ", strip_control(title, keep_newlines=False))
    body = strip_control(body)
    cleaned_solution = strip_control(solution) if solution else ""
    if _is_blank(title):
        raise ValidationError("The title can't be blank: give your note a short title.")
    _check_length("title", title, TITLE_MAX_LENGTH)
    if _is_blank(body):
        raise ValidationError("The note can't be empty: write what you learned in the body.")
    _check_length("body", body, BODY_MAX_LENGTH)
    if kind is not NoteKind.CHALLENGE and cleaned_solution:
        raise ValidationError("Only challenges have a solution.")
    _check_length("solution", cleaned_solution, SOLUTION_MAX_LENGTH)
    return NoteDraft(title, body, cleaned_solution or None, parse_tags(tags))


def validate_tip(text: str) -> NoteDraft:
    """A one-line tip: its text is the body, and (shortened if needed) the title."""
    line = _SPACES.sub(" ", strip_control(text, keep_newlines=False))
    if _is_blank(line):
        raise ValidationError("The tip can't be blank.")
    _check_length("tip", line, TIP_MAX_LENGTH)
    title = line if len(line) <= TITLE_MAX_LENGTH else line[: TITLE_MAX_LENGTH - 1].rstrip() + "…"
    return NoteDraft(title, line, None, ())


def clean_topic_name(name: str) -> str:
    """A topic name as it will be stored: single spaces, no control characters, within limits."""
    cleaned = _SPACES.sub(" ", strip_control(name, keep_newlines=False))
    if _is_blank(cleaned):
        raise ValidationError("The topic name can't be blank.")
    _check_length("topic name", cleaned, TOPIC_NAME_MAX_LENGTH)
    return cleaned


def topic_key(name: str) -> str:
    """The case-insensitive key that makes topic names unique in a server."""
    return _SPACES.sub(" ", strip_control(name, keep_newlines=False)).casefold()


def parse_note_ref(text: str) -> int | None:
    """The note id in `12`, `#12` or an autocomplete value like `12`; None when there is none."""
    match = _NOTE_REF.match(text.strip())
    if match is None:
        return None
    value = int(match.group(1))
    return value if 0 < value <= MAX_NOTE_ID else None
