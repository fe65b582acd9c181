"""The life of a proposal and team: its statuses, what happens to it, why it ended, and how that reads.

A proposal (`PROPOSED`) becomes a team (`ACTIVE`) when every member accepts; it ends declined,
expired or cancelled, and a team ends dissolved. A formed pair may take a third member (a trio
"newcomer") who must accept; the pair stays a team whatever the newcomer does. `transition` is the
one place that says which of those changes are allowed.

Pure code: statuses and reasons are stored as these enums' values, and the ui renders them (it passes
in how to mention a member), so nothing here holds Discord markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import assert_never

from bot.domain.errors import ConflictError

TRIO_MAX = 3
"""The most members a team can have: a pair, or a trio when a project's tracks are uneven."""


class TeamStatus(StrEnum):
    """Where a proposal or team stands; the values are what `teams.status` stores."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    DECLINED = "declined"
    EXPIRED = "expired"
    DISSOLVED = "dissolved"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        """Still waiting for answers or formed: its members are not free for another team."""
        return self in (TeamStatus.PROPOSED, TeamStatus.ACTIVE)

    @property
    def forbids_repeat(self) -> bool:
        """Ended in a way that means its members are never proposed to each other again."""
        return self in (TeamStatus.DECLINED, TeamStatus.DISSOLVED)

    @property
    def label(self) -> str:
        """The plain text shown for this status on a proposal or team post."""
        return STATUS_LABELS[self]


STATUS_LABELS: Mapping[TeamStatus, str] = MappingProxyType(
    {
        TeamStatus.PROPOSED: "Proposed: every member accepts to form the team",
        TeamStatus.ACTIVE: "Team formed",
        TeamStatus.DECLINED: "Declined",
        TeamStatus.EXPIRED: "Expired: nobody answered in time",
        TeamStatus.DISSOLVED: "Dissolved",
        TeamStatus.CANCELLED: "Cancelled",
    }
)


class EndReason(StrEnum):
    """Why a proposal or team ended: stored as a code, rendered by `describe_ending`."""

    DECLINED = "declined"
    """A member declined the proposal."""
    EXPIRED = "expired"
    """Nobody answered before the deadline."""
    LEFT = "left"
    """A member left with `/partner leave`."""
    WITHDREW = "withdrew"
    """A member withdrew their project announcement."""
    FORGOTTEN = "forgotten"
    """A member had Nexus forget them; they are never named afterwards."""

    @property
    def names_actor(self) -> bool:
        """Whether the member who caused the ending is named when it is shown."""
        return self in (EndReason.DECLINED, EndReason.LEFT, EndReason.WITHDREW)


_END_CODES = frozenset(reason.value for reason in EndReason)


@dataclass(frozen=True)
class TeamEnding:
    """Why a team ended and, when the reason names one, the member who ended it.

    `actor_id` is dropped for reasons that never name anyone (expired, forgotten), so a forgotten
    member's id cannot be stored with the ending by mistake.
    """

    reason: EndReason
    actor_id: int | None = None

    def __post_init__(self) -> None:
        if not self.reason.names_actor and self.actor_id is not None:
            object.__setattr__(self, "actor_id", None)

    @property
    def code(self) -> str:
        """A compact form to store, such as `left:123` or `expired`."""
        return self.reason.value if self.actor_id is None else f"{self.reason.value}:{self.actor_id}"

    @classmethod
    def from_code(cls, code: str) -> TeamEnding | None:
        """The ending a `code` stored; None for text that is not one (older rows held sentences)."""
        reason, _, actor = code.partition(":")
        if reason not in _END_CODES or (actor and not actor.isdigit()):
            return None
        return cls(EndReason(reason), int(actor) if actor else None)


def describe_ending(ending: TeamEnding, mention: Callable[[int], str]) -> str:
    """The plain sentence saying why a team ended ("declined by …"); `mention` renders a member."""
    actor = None if ending.actor_id is None else mention(ending.actor_id)
    match ending.reason:
        case EndReason.DECLINED:
            return f"declined by {actor}" if actor else "declined"
        case EndReason.EXPIRED:
            return "nobody answered in time"
        case EndReason.LEFT:
            return f"{actor} left" if actor else "a member left"
        case EndReason.WITHDREW:
            return f"{actor} withdrew their announcement" if actor else "a member withdrew their announcement"
        case EndReason.FORGOTTEN:
            return "a member left Nexus"
        case _ as unreachable:
            assert_never(unreachable)


class TeamEvent(StrEnum):
    """Something that happens to a proposal or team; `transition` says what status follows."""

    MEMBER_ACCEPTED = "member_accepted"
    """A member of a proposal accepted and someone else still has to."""
    ALL_ACCEPTED = "all_accepted"
    """The last member of a proposal accepted: the team is formed."""
    DECLINED = "declined"
    """A member of a proposal declined it."""
    EXPIRED = "expired"
    """A proposal reached its deadline with someone still to answer."""
    MEMBER_LEFT = "member_left"
    """A current member left (`/partner leave`)."""
    MEMBER_WITHDREW = "member_withdrew"
    """A current member withdrew their project announcement."""
    MEMBER_FORGOTTEN = "member_forgotten"
    """A current member had Nexus forget them."""
    NEWCOMER_JOINED = "newcomer_joined"
    """A matching run added a third learner to an open pair; they have to accept."""
    NEWCOMER_ACCEPTED = "newcomer_accepted"
    """The newcomer to a formed pair accepted: the team is a trio."""
    NEWCOMER_DECLINED = "newcomer_declined"
    """The newcomer to a formed pair, or the pair, declined: the pair stays a team."""
    NEWCOMER_EXPIRED = "newcomer_expired"
    """Nobody answered for the newcomer to a formed pair in time: the pair stays a team."""
    NEWCOMER_LEFT = "newcomer_left"
    """The newcomer to a formed pair left, withdrew or was forgotten before accepting: the pair stays."""

    @property
    def ending(self) -> EndReason | None:
        """The reason recorded when this event ends the proposal or team; None when it ends nothing."""
        return _ENDINGS.get(self)


_ENDINGS: Mapping[TeamEvent, EndReason] = MappingProxyType(
    {
        TeamEvent.DECLINED: EndReason.DECLINED,
        TeamEvent.EXPIRED: EndReason.EXPIRED,
        TeamEvent.MEMBER_LEFT: EndReason.LEFT,
        TeamEvent.MEMBER_WITHDREW: EndReason.WITHDREW,
        TeamEvent.MEMBER_FORGOTTEN: EndReason.FORGOTTEN,
    }
)

TRANSITIONS: Mapping[tuple[TeamStatus, TeamEvent], TeamStatus] = MappingProxyType(
    {
        (TeamStatus.PROPOSED, TeamEvent.MEMBER_ACCEPTED): TeamStatus.PROPOSED,
        (TeamStatus.PROPOSED, TeamEvent.ALL_ACCEPTED): TeamStatus.ACTIVE,
        (TeamStatus.PROPOSED, TeamEvent.DECLINED): TeamStatus.DECLINED,
        (TeamStatus.PROPOSED, TeamEvent.EXPIRED): TeamStatus.EXPIRED,
        (TeamStatus.PROPOSED, TeamEvent.MEMBER_LEFT): TeamStatus.CANCELLED,
        (TeamStatus.PROPOSED, TeamEvent.MEMBER_WITHDREW): TeamStatus.CANCELLED,
        (TeamStatus.PROPOSED, TeamEvent.MEMBER_FORGOTTEN): TeamStatus.CANCELLED,
        # a proposed pair can take a third learner too; they simply answer with the others
        (TeamStatus.PROPOSED, TeamEvent.NEWCOMER_JOINED): TeamStatus.PROPOSED,
        (TeamStatus.ACTIVE, TeamEvent.MEMBER_LEFT): TeamStatus.DISSOLVED,
        (TeamStatus.ACTIVE, TeamEvent.MEMBER_WITHDREW): TeamStatus.DISSOLVED,
        (TeamStatus.ACTIVE, TeamEvent.MEMBER_FORGOTTEN): TeamStatus.DISSOLVED,
        (TeamStatus.ACTIVE, TeamEvent.NEWCOMER_JOINED): TeamStatus.ACTIVE,
        (TeamStatus.ACTIVE, TeamEvent.NEWCOMER_ACCEPTED): TeamStatus.ACTIVE,
        (TeamStatus.ACTIVE, TeamEvent.NEWCOMER_DECLINED): TeamStatus.ACTIVE,
        (TeamStatus.ACTIVE, TeamEvent.NEWCOMER_EXPIRED): TeamStatus.ACTIVE,
        (TeamStatus.ACTIVE, TeamEvent.NEWCOMER_LEFT): TeamStatus.ACTIVE,
    }
)
"""Every allowed change; any other (status, event) is refused, and ended statuses accept nothing."""

_ANSWERS = frozenset(
    {
        TeamEvent.MEMBER_ACCEPTED,
        TeamEvent.ALL_ACCEPTED,
        TeamEvent.DECLINED,
        TeamEvent.NEWCOMER_ACCEPTED,
        TeamEvent.NEWCOMER_DECLINED,
    }
)
_NEWCOMER_ONLY = frozenset(
    {TeamEvent.NEWCOMER_ACCEPTED, TeamEvent.NEWCOMER_DECLINED, TeamEvent.NEWCOMER_EXPIRED, TeamEvent.NEWCOMER_LEFT}
)


class InvalidTransition(ConflictError):
    """The event cannot happen to a proposal or team in its current status."""

    def __init__(self, status: TeamStatus, event: TeamEvent) -> None:
        super().__init__(_refusal(status, event))
        self.status = status
        self.event = event


def _refusal(status: TeamStatus, event: TeamEvent) -> str:
    if not status.is_open:
        if event in _ANSWERS:
            return f"This proposal is {status.value}; there is nothing left to answer."
        return f"This proposal or team has already ended ({status.value})."
    if status is TeamStatus.ACTIVE:
        if event is TeamEvent.DECLINED:
            return "Your team is already formed; use `/partner leave` to dissolve it."
        if event is TeamEvent.EXPIRED:
            return "This team is already formed; it no longer expires."
        return "Your team is already formed; there is nothing left to accept."
    if event in _NEWCOMER_ONLY:
        return "This proposal has no newcomer waiting to join a formed team."
    return f"This proposal cannot change that way ({event.value})."  # pragma: no cover - table covers the rest


def transition(status: TeamStatus, event: TeamEvent) -> TeamStatus:
    """The status after `event`; raises InvalidTransition (a ConflictError) when it cannot happen."""
    try:
        return TRANSITIONS[status, event]
    except KeyError:
        raise InvalidTransition(status, event) from None
