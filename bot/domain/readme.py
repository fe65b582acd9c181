"""The learner's README: their notes compiled into the learning hub's Markdown shape."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.notes import NoteKind
from bot.domain.text import strip_control

SECTION_TITLES: tuple[str, ...] = (
    "Overview",
    "Key Technologies",
    "Important Concepts",
    "Challenges Faced and Solutions",
    "Best Practices and Takeaways",
    "Collaboration",
)
"""The six `##` sections of every README, in order."""

NOT_RECORDED = "Not recorded yet."
NOTHING_YET = "_Nothing recorded yet._"

_INLINE_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|])")
_HEADING = re.compile(r"^(\s{0,3})(#{1,6})(\s|$)")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_HTML_START = re.compile(r"^(\s*)<")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


@dataclass(frozen=True)
class ReadmeNote:
    """One note as the README needs it."""

    title: str
    body: str
    kind: NoteKind
    topic: str
    tags: tuple[str, ...] = ()
    solution: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class CheckinSummary:
    """The learner's team check-ins: how many, how many they answered, their streak, their blockers."""

    reports: int
    answered: int
    streak: int
    blockers: int
    open_blockers: int


@dataclass(frozen=True)
class Collaboration:
    """The learner's project and partners, when the matching feature has recorded them."""

    project_name: str
    track: str
    partners: tuple[str, ...] = field(default_factory=tuple)
    agreed_endpoints: tuple[str, ...] = field(default_factory=tuple)
    """The team's API endpoints every member agreed to, as `METHOD /path: summary`."""
    checkins: CheckinSummary | None = None
    """The team's check-ins, when it has any."""


def _inline(text: str) -> str:
    """Member text for a heading, list item or emphasis: one line, Markdown characters escaped."""
    return _INLINE_MARKDOWN.sub(r"\\\1", " ".join(strip_control(text).split()))


def _block(text: str) -> str:
    """A note body kept as the learner's Markdown, but unable to open a heading or swallow the page.

    Outside code fences, `#` headings and line-leading HTML are escaped and setext underlines are
    detached from their line; an unclosed fence is closed.
    """
    lines: list[str] = []
    fence: str | None = None
    for line in strip_control(text).split("\n"):
        opening = _FENCE.match(line)
        if opening is not None:
            marker = opening.group(1)
            fence = marker if fence is None else (None if marker == fence else fence)
        elif fence is None:
            if _SETEXT_UNDERLINE.match(line) and lines and lines[-1].strip():
                lines.append("")
            line = _HEADING.sub(lambda m: f"{m.group(1)}\\{m.group(2)}{m.group(3)}", line)
            line = _HTML_START.sub(r"\1\\<", line)
        lines.append(line)
    if fence is not None:
        lines.append(fence)
    return "\n".join(lines)


def _topics_in_order(notes: Sequence[ReadmeNote]) -> list[str]:
    return sorted({note.topic for note in notes}, key=str.casefold)


def _overview(name: str, notes: Sequence[ReadmeNote]) -> list[str]:
    if not notes:
        return [f"{_inline(name)} has not recorded any notes yet."]
    counts = {kind: sum(1 for n in notes if n.kind is kind) for kind in NoteKind}
    parts = [f"{count} {kind.label.lower()}{'' if count == 1 else 's'}" for kind, count in counts.items() if count]
    topics = ", ".join(_inline(t) for t in _topics_in_order(notes))
    lines = [
        f"What {_inline(name)} learned during ALX ProDev Backend Project Nexus: "
        f"{len(notes)} note{'' if len(notes) == 1 else 's'} ({', '.join(parts)}).",
        "",
        f"**Topics covered:** {topics}.",
    ]
    dates = sorted(n.created_at for n in notes if n.created_at is not None)
    if dates:
        lines += ["", f"**Period:** {dates[0]:%d %B %Y} to {dates[-1]:%d %B %Y}."]
    return lines


def _key_technologies(notes: Sequence[ReadmeNote]) -> list[str]:
    lines: list[str] = []
    for topic in _topics_in_order(notes):
        in_topic = [n for n in notes if n.topic == topic]
        learnings = [n for n in in_topic if n.kind is NoteKind.LEARNING]
        lines += [f"### {_inline(topic)}", ""]
        if learnings:
            lines += [f"- {_inline(n.title)}" for n in learnings]
        else:
            lines.append(f"- {len(in_topic)} note{'' if len(in_topic) == 1 else 's'}, no learnings recorded yet")
        lines.append("")
    return lines[:-1] or [NOTHING_YET]


def _tags(note: ReadmeNote) -> str:
    return f" _(tags: {', '.join(_inline(t) for t in note.tags)})_" if note.tags else ""


def _concepts(notes: Sequence[ReadmeNote]) -> list[str]:
    lines: list[str] = []
    for note in notes:
        if note.kind is NoteKind.LEARNING:
            lines += [
                f"### {_inline(note.title)}",
                "",
                f"*{_inline(note.topic)}*{_tags(note)}",
                "",
                _block(note.body),
                "",
            ]
    return lines[:-1] or [NOTHING_YET]


def _challenges(notes: Sequence[ReadmeNote]) -> list[str]:
    lines: list[str] = []
    for note in notes:
        if note.kind is NoteKind.CHALLENGE:
            solution = _block(note.solution) if note.solution else "_No solution recorded yet._"
            lines += [
                f"### {_inline(note.title)}",
                "",
                f"*{_inline(note.topic)}*{_tags(note)}",
                "",
                "**Challenge:**",
                "",
                _block(note.body),
                "",
                "**Solution:**",
                "",
                solution,
                "",
            ]
    return lines[:-1] or [NOTHING_YET]


def _practices(notes: Sequence[ReadmeNote]) -> list[str]:
    lines: list[str] = []
    for note in notes:
        if note.kind is NoteKind.PRACTICE:
            lines += [
                f"### {_inline(note.title)}",
                "",
                f"*{_inline(note.topic)}*{_tags(note)}",
                "",
                _block(note.body),
                "",
            ]
    tips = [n for n in notes if n.kind is NoteKind.TIP]
    if tips:
        lines += ["### Tips", ""]
        lines += [f"- **{_inline(t.topic)}:** {_inline(t.body)}" for t in tips]
        lines.append("")
    return lines[:-1] or [NOTHING_YET]


def _collaboration(collaboration: Collaboration | None) -> list[str]:
    if collaboration is None:
        return [NOT_RECORDED]
    partners = ", ".join(_inline(p) for p in collaboration.partners) or NOT_RECORDED
    return [
        f"- **Project:** {_inline(collaboration.project_name)}",
        f"- **Track:** {_inline(collaboration.track)}",
        f"- **Partner(s):** {partners}",
        *(
            ["- **Agreed API endpoints:**", *(f"  - {_inline(e)}" for e in collaboration.agreed_endpoints)]
            if collaboration.agreed_endpoints
            else []
        ),
        *([_checkins(collaboration.checkins)] if collaboration.checkins else []),
    ]


def _checkins(summary: CheckinSummary) -> str:
    return (
        f"- **Check-ins:** answered {summary.answered} of {summary.reports} (streak {summary.streak}); "
        f"{summary.blockers} blocker(s) raised, {summary.open_blockers} still open"
    )


def render_readme(
    learner_name: str,
    notes: Sequence[ReadmeNote],
    collaboration: Collaboration | None = None,
    *,
    generated_on: datetime | None = None,
) -> str:
    """The learner's README in Markdown: a title and the six sections of SECTION_TITLES."""
    ordered = sorted(notes, key=lambda n: (n.created_at is None, n.created_at, n.title))
    sections = (
        _overview(learner_name, ordered),
        _key_technologies(ordered),
        _concepts(ordered),
        _challenges(ordered),
        _practices(ordered),
        _collaboration(collaboration),
    )
    lines = [f"# {_inline(learner_name)}: Project Nexus Learning Notes", ""]
    if generated_on is not None:
        lines += [f"> Compiled by Nexus on {generated_on:%d %B %Y}.", ""]
    for title, body in zip(SECTION_TITLES, sections, strict=True):
        lines += [f"## {title}", "", *body, ""]
    return "\n".join(lines).rstrip() + "\n"
