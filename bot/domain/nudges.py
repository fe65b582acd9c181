"""Roster nudges and the weekly digest's numbers: who is named for which step, how the channel
post is split, and what a DM says. Pure: no Discord, no database.

A channel nudge names learners with user mentions only (never a role or @everyone), one line per
step with the command that does it; each message stays within NUDGE_MESSAGE_CHARS characters and
NUDGE_MENTIONS_MAX mentioned users, so a long roster becomes several messages.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.cohort import ChecklistStep, RosterStep

NUDGE_MESSAGE_CHARS = 2000
"""Characters in one channel message, as Discord allows."""
NUDGE_MENTIONS_MAX = 100
"""Users one message may mention (Discord's limit on allowed_mentions users)."""
DIGEST_WINDOW = timedelta(days=7)
"""The weekly digest covers the week before it is posted."""
DIGEST_NOTES_MAX = 5
"""Most helpful notes the digest shows (a button each)."""
DIGEST_TEAMS_MAX = 20
"""New teams the digest lists by name (the rest are counted)."""

STEP_NUDGES: dict[RosterStep, tuple[str, str]] = {
    RosterStep.NO_PROFILE: ("Set your profile", "/profile set"),
    RosterStep.NOT_ANNOUNCED: ("Announce your project", "/project announce"),
    RosterStep.NO_PARTNER: ("Find your partner", "/partner find"),
    RosterStep.NO_API: ("Agree your API with your partner", "/api agree"),
    RosterStep.NO_NOTES: ("Write your first learning note", "/note add"),
}
"""Each step a nudge names: what to do, and the command that does it."""

_CONTINUED = "~"


@dataclass(frozen=True)
class NudgeSection:
    """The learners one message names for one step (`continued` when the step began in an earlier
    message)."""

    step: RosterStep
    user_ids: tuple[int, ...]
    continued: bool = False


def nudge_sections(missing: Mapping[int, Sequence[RosterStep]], opted_out: Collection[int]) -> tuple[NudgeSection, ...]:
    """Per step (in checklist order), the learners missing it, leaving out those who opted out."""
    sections = []
    for step in RosterStep:
        ids = tuple(user_id for user_id, steps in missing.items() if step in steps and user_id not in opted_out)
        if ids:
            sections.append(NudgeSection(step, ids))
    return tuple(sections)


def _head(section: NudgeSection) -> str:
    what, command = STEP_NUDGES[section.step]
    return f"**{what}** with `{command}`{' (continued)' if section.continued else ''}:"


def _mention(user_id: int) -> str:
    return f" <@{user_id}>"


def section_line(section: NudgeSection) -> str:
    """`**Set your profile** with `/profile set`: <@1> <@2>`."""
    return _head(section) + "".join(_mention(user_id) for user_id in section.user_ids)


def nudge_content(sections: Iterable[NudgeSection]) -> str:
    """One channel message of a nudge: a line per step."""
    return "\n".join(section_line(section) for section in sections)


def mentioned(sections: Iterable[NudgeSection]) -> tuple[int, ...]:
    """The users a message mentions, each once, in order."""
    return tuple(dict.fromkeys(user_id for section in sections for user_id in section.user_ids))


def split_nudge(
    sections: Sequence[NudgeSection], *, chars: int = NUDGE_MESSAGE_CHARS, mentions: int = NUDGE_MENTIONS_MAX
) -> list[tuple[NudgeSection, ...]]:
    """The sections spread over messages, in order, so that each message's `nudge_content` stays
    within `chars` characters and mentions at most `mentions` users; a step cut between two
    messages carries on, marked continued, at the top of the next."""
    parts: list[tuple[NudgeSection, ...]] = []
    current: list[NudgeSection] = []
    length = 0
    users: set[int] = set()

    def close() -> None:
        nonlocal current, length, users
        if current:
            parts.append(tuple(current))
        current, length, users = [], 0, set()

    for section in sections:
        started = False
        for user_id in section.user_ids:
            added = len(_mention(user_id))
            same = bool(current) and current[-1].step is section.step and started
            if not same:
                head = replace(section, user_ids=(), continued=started or section.continued)
                added += len(_head(head)) + (1 if current else 0)
            fits = length + added <= chars and (user_id in users or len(users) < mentions)
            if not fits:
                close()
                head = replace(section, user_ids=(), continued=started or section.continued)
                added = len(_head(head)) + len(_mention(user_id))
                same = False
            if same:
                last = current[-1]
                current[-1] = replace(last, user_ids=(*last.user_ids, user_id))
            else:
                current.append(replace(section, user_ids=(user_id,), continued=started or section.continued))
            started = True
            length += added
            users.add(user_id)
    close()
    return parts


def encode_sections(sections: Iterable[NudgeSection]) -> str:
    """Sections as stored: step codes and user ids (`no-profile:1,2;~no-notes:3`), no markup."""
    return ";".join(
        f"{_CONTINUED if s.continued else ''}{s.step.value}:{','.join(map(str, s.user_ids))}" for s in sections
    )


def decode_sections(stored: str) -> tuple[NudgeSection, ...]:
    """The sections `encode_sections` stored (a user id removed later leaves an empty section out)."""
    sections = []
    for chunk in filter(None, stored.split(";")):
        code, _, ids = chunk.partition(":")
        continued = code.startswith(_CONTINUED)
        user_ids = tuple(int(part) for part in ids.split(",") if part)
        if user_ids:
            sections.append(NudgeSection(RosterStep(code.removeprefix(_CONTINUED)), user_ids, continued))
    return tuple(sections)


def without_user(sections: Iterable[NudgeSection], user_id: int) -> tuple[NudgeSection, ...]:
    """The sections with one user taken out (a member who asked to be forgotten)."""
    kept = (replace(s, user_ids=tuple(u for u in s.user_ids if u != user_id)) for s in sections)
    return tuple(s for s in kept if s.user_ids)


def encode_steps(steps: Iterable[RosterStep]) -> str:
    return ",".join(step.value for step in steps)


def decode_steps(stored: str) -> tuple[RosterStep, ...]:
    return tuple(RosterStep(code) for code in stored.split(",") if code)


def nudge_dm_text(guild_name: str, steps: Sequence[RosterStep]) -> str:
    """The DM a learner gets: the steps they are missing, each with its command."""
    lines = [f"👋 A Week-1 reminder from **{guild_name}**: a few steps are still open for you."]
    lines += [f"• {STEP_NUDGES[step][0]} with `{STEP_NUDGES[step][1]}`" for step in steps]
    lines.append("Run them in the server. Turn these reminders off there with `/nexus reminders off`.")
    return "\n".join(lines)


def digest_window(due_at: datetime) -> tuple[datetime, datetime]:
    """The week a digest posted at `due_at` covers: [start, end)."""
    return due_at - DIGEST_WINDOW, due_at


REACHED_IF_NOT_MISSING: dict[ChecklistStep, tuple[RosterStep, ...]] = {
    ChecklistStep.PROFILE: (RosterStep.NO_PROFILE,),
    ChecklistStep.ANNOUNCED: (RosterStep.NOT_ANNOUNCED,),
    ChecklistStep.PARTNER: (RosterStep.NOT_ANNOUNCED, RosterStep.NO_PARTNER),
    ChecklistStep.API: (RosterStep.NOT_ANNOUNCED, RosterStep.NO_PARTNER, RosterStep.NO_API),
    ChecklistStep.NOTE: (RosterStep.NO_NOTES,),
}
"""A learner reached a step unless the roster lists them as missing one of these (the roster lists
a learner without a partner only once they announced, and without an agreed API only once teamed)."""


def progress_counts(known: int, missing: Iterable[Sequence[RosterStep]]) -> dict[ChecklistStep, int]:
    """How many of the `known` learners reached each Week-1 step, from the roster's missing steps."""
    counts = dict.fromkeys(ChecklistStep, known)
    for steps in missing:
        for step, blockers in REACHED_IF_NOT_MISSING.items():
            if any(blocker in steps for blocker in blockers):
                counts[step] -= 1
    return counts


class DmState(StrEnum):
    """A nudge DM's life: pending, claimed for sending, then sent or refused (closed DMs; those
    learners are named in the run's one fallback channel post)."""

    PENDING = "pending"
    SENDING = "sending"
    """Claimed by one process just before it is sent: never sent twice (a crash leaves it here)."""
    SENT = "sent"
    REFUSED = "refused"
    FAILED = "failed"
    """Discord failed otherwise (not a refusal): logged, not retried, not posted in the channel."""
