"""Why a learner was left without a partner: one reason code, decided from plain facts, and its sentence.

A learner is placed with someone of the other track on the same project, in a new pair or as the
third member of a pair. When that is impossible the reason depends on what every learner of the
other track is doing: nobody is there, each one is barred by an earlier decline or dissolved team,
each one is in a full team, or the ones who could work with this learner went to someone else.
The same code explains a `/match run` (dry or real), `/partner find` and `/partner status`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import assert_never

from bot.domain.cohort import Track
from bot.domain.pairs import Candidate, PairRules
from bot.domain.teams import TRIO_MAX


class UnplacedReason(StrEnum):
    """Why a learner has no partner; the value is the stored code."""

    NOBODY_ANNOUNCED = "nobody_announced"
    """No learner of the other track has an active announcement for the project."""
    DECLINED = "declined"
    """Every learner of the other track is barred: they, or someone in their team, had a declined
    proposal or a dissolved team with this learner, and such pairs are never proposed again."""
    TEAMS_FULL = "teams_full"
    """Every learner of the other track is in a full team (TRIO_MAX members) with nobody barred."""
    DECLINED_OR_FULL = "declined_or_full"
    """Every learner of the other track is barred or in a full team, and there are some of each."""
    TAKEN = "taken"
    """Some learner of the other track could work with this one but is not free: paired with someone
    else (in this plan, or already, when only a new pair is possible as with `/partner find`)."""


@dataclass(frozen=True)
class Counterpart:
    """A learner of the project as the matcher sees them: free, or in an open proposal or team.

    `team_member_ids` are the current members of that proposal or team (the learner among them or
    not); empty means the learner is free.
    """

    user_id: int
    track: Track
    team_member_ids: tuple[int, ...] = ()

    @property
    def team(self) -> frozenset[int]:
        """Everyone the learner is currently teamed with, the learner included."""
        return frozenset((*self.team_member_ids, self.user_id))


def _obstacle(person: Candidate, other: Counterpart, rules: PairRules) -> UnplacedReason | None:
    """What keeps `person` from `other`; None when nothing lasting does (they were just taken)."""
    team = other.team - {person.user_id}
    if not all(rules.allows(person.user_id, member) for member in team):
        return UnplacedReason.DECLINED  # a decline is forever; it outranks a full team
    if len(team) >= TRIO_MAX:
        return UnplacedReason.TEAMS_FULL
    return None


def unplaced_reason(person: Candidate, others: Sequence[Counterpart], rules: PairRules) -> UnplacedReason:
    """Why `person` could not be placed, given every learner of the project and where they stand.

    `others` must hold every learner with an ACTIVE announcement on the person's project, whatever
    their situation: free (waiting in the pool or not), or in an open proposal or team with that
    team's current member ids (a pending trio newcomer counts as a member). Learners of the person's
    own track, and the person, may be included; they are ignored. Called for someone the matcher
    could not place, so an allowed free counterpart or one in a pair with room reads as TAKEN.
    """
    counterparts = [o for o in others if o.track is not person.track and o.user_id != person.user_id]
    if not counterparts:
        return UnplacedReason.NOBODY_ANNOUNCED
    obstacles = {_obstacle(person, other, rules) for other in counterparts}
    if None in obstacles:
        return UnplacedReason.TAKEN
    if obstacles == {UnplacedReason.DECLINED}:
        return UnplacedReason.DECLINED
    if obstacles == {UnplacedReason.TEAMS_FULL}:
        return UnplacedReason.TEAMS_FULL
    return UnplacedReason.DECLINED_OR_FULL


def describe_unplaced(reason: UnplacedReason, track_of_others: Track) -> str:
    """The plain sentence (no markup) for a reason, naming the track the learner needed a partner from."""
    side = track_of_others.value
    match reason:
        case UnplacedReason.NOBODY_ANNOUNCED:
            return f"nobody on the {side} track has announced this project yet"
        case UnplacedReason.DECLINED:
            return (
                f"every {side} learner on this project, or someone in their team, had a declined proposal "
                "or a dissolved team with you, and Nexus never pairs those again"
            )
        case UnplacedReason.TEAMS_FULL:
            return (
                f"every {side} learner on this project already has a partner and each team is full "
                f"({TRIO_MAX} learners at most)"
            )
        case UnplacedReason.DECLINED_OR_FULL:
            return (
                f"each {side} learner on this project is in a full team ({TRIO_MAX} learners at most), "
                "or they or a teammate had a declined proposal or a dissolved team with you"
            )
        case UnplacedReason.TAKEN:
            return (
                f"no {side} learner on this project is free right now: those you could work with "
                "are already paired with someone else"
            )
        case _ as unreachable:
            assert_never(unreachable)
