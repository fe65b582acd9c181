"""Follow-ups on teams: a while after a team forms, its members are asked whether they have met and
agreed the API; a team that says "not yet" is asked again one interval later, and flagged to staff
the second time.

Pure code: the states and answers are stored as these enums' values, and `after_asking` and
`after_answers` are the one place that says how a follow-up moves on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.errors import ConflictError, ValidationError

DEFAULT_FOLLOW_UP_HOURS = 48.0
"""How long after a team forms (and after a "not yet") its members are asked."""
FOLLOW_UP_HOURS_MIN = 1
FOLLOW_UP_HOURS_MAX = 24 * 30
"""The follow-up interval staff may set for their server, in hours."""
FLAG_ROUND = 2
"""The round whose "not yet" flags the team to staff (the first "not yet" only asks again)."""


class FollowUpState(StrEnum):
    """Where a team's follow-up stands; the values are what `team_follow_ups.state` stores."""

    ASKED = "asked"
    """A round was asked; not every member answered yet, and nobody said "not yet"."""
    WAITING = "waiting"
    """A member said "not yet": the team is asked again at `next_ask_at`."""
    DONE = "done"
    """Every member has met their partners and agreed the API."""
    FLAGGED = "flagged"
    """The team said "not yet" on FLAG_ROUND rounds: staff were told (once)."""
    ENDED = "ended"
    """The team ended before it was asked again: it is never followed up."""

    @property
    def takes_answers(self) -> bool:
        """Members may still answer (a team that ended takes none)."""
        return self is not FollowUpState.ENDED


class FollowUpAnswer(StrEnum):
    """A member's answer to "Have you met your partner(s)? Have you agreed the API?"."""

    BOTH = "both"
    MET = "met"
    NOT_YET = "not_yet"

    @property
    def met(self) -> bool:
        return self is not FollowUpAnswer.NOT_YET

    @property
    def api_agreed(self) -> bool:
        return self is FollowUpAnswer.BOTH

    @property
    def label(self) -> str:
        """The button that gives this answer."""
        return ANSWER_LABELS[self]


ANSWER_LABELS: Mapping[FollowUpAnswer, str] = {
    FollowUpAnswer.BOTH: "Yes, both",
    FollowUpAnswer.MET: "Met, API not yet",
    FollowUpAnswer.NOT_YET: "Not yet",
}


class Verdict(StrEnum):
    """What a round's answers say about the team."""

    PENDING = "pending"
    """Nobody said "not yet", and someone has not answered."""
    ALL_YES = "all_yes"
    """Every member met and agreed the API."""
    NOT_YET = "not_yet"
    """At least one member has not met or not agreed the API."""


class FollowUpClosed(ConflictError):
    """The follow-up cannot move that way (its team ended, or it was asked already)."""


def clean_follow_up_hours(hours: int) -> int:
    """A server's follow-up interval: whole hours from FOLLOW_UP_HOURS_MIN to FOLLOW_UP_HOURS_MAX."""
    if not FOLLOW_UP_HOURS_MIN <= hours <= FOLLOW_UP_HOURS_MAX:
        raise ValidationError(
            f"Follow-ups come {FOLLOW_UP_HOURS_MIN} to {FOLLOW_UP_HOURS_MAX} hours after a team forms; "
            f"{hours} is outside that."
        )
    return hours


def verdict(answers: Mapping[int, FollowUpAnswer], members: Collection[int]) -> Verdict:
    """The team's verdict from its current members' answers to the current round."""
    given = [answers[m] for m in members if m in answers]
    if any(answer is not FollowUpAnswer.BOTH for answer in given):
        return Verdict.NOT_YET
    return Verdict.ALL_YES if members and len(given) == len(members) else Verdict.PENDING


def first_due(formed_at: datetime, interval: timedelta) -> datetime:
    """When a team that formed at `formed_at` is asked the first time."""
    return formed_at + interval


def after_asking(state: FollowUpState | None, round_: int) -> tuple[FollowUpState, int]:
    """The state and round once the next round is asked: the first round (no follow-up yet) or
    again after a "not yet" (`WAITING`); anything else cannot be asked."""
    if state is None and round_ == 0:
        return FollowUpState.ASKED, 1
    if state is FollowUpState.WAITING:
        return FollowUpState.ASKED, round_ + 1
    raise FollowUpClosed("This team's follow-up was already asked.")


def after_answers(
    state: FollowUpState,
    round_: int,
    outcome: Verdict,
    now: datetime,
    interval: timedelta,
    waiting_since: datetime | None,
) -> tuple[FollowUpState, datetime | None]:
    """The state after a member answered round `round_` and the team's verdict became `outcome`,
    with when the team is asked again (None: not asked again).

    A flagged follow-up stays flagged (staff were told once; answers are still recorded), and an
    ended one takes no answers. A "not yet" asks again one interval after the first "not yet" of
    the round (`waiting_since`, or `now`), and flags the team on round FLAG_ROUND.
    """
    if state is FollowUpState.ENDED:
        raise FollowUpClosed("This team has ended; there is nothing left to answer.")
    if state is FollowUpState.FLAGGED:
        return state, None
    match outcome:
        case Verdict.ALL_YES:
            return FollowUpState.DONE, None
        case Verdict.PENDING:
            return FollowUpState.ASKED, None
        case Verdict.NOT_YET:
            if round_ >= FLAG_ROUND:
                return FollowUpState.FLAGGED, None
            return FollowUpState.WAITING, (waiting_since or now) + interval
    raise AssertionError(outcome)  # pragma: no cover - the match is exhaustive


def after_team_ended(state: FollowUpState | None) -> FollowUpState:
    """A follow-up whose team ended: never asked again (a flag already raised stays)."""
    return FollowUpState.FLAGGED if state is FollowUpState.FLAGGED else FollowUpState.ENDED
