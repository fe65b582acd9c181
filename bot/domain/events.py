"""What a use case changed, as plain values, and the follow-ups each change calls for.

Use cases commit and return these events; the delivery layer turns the plan `follow_ups` makes
of them into channel posts, notifications and matching. Deciding *what* follows a change is pure
and lives here; *doing* it (Discord, the database) is the delivery layer's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.teams import EndReason


class PostKindName(StrEnum):
    """The kinds of channel post Nexus keeps in step with a record."""

    ANNOUNCEMENT = "announcement"
    TEAM = "team"
    NOTICE = "notice"
    DELETION = "deletion"
    SCHEDULED = "scheduled"
    FLAG = "flag"
    """A team flagged to staff by its follow-up (posted in the staff channel)."""


@dataclass(frozen=True)
class Announced:
    """A learner announced (or re-announced) a project: they are available to the waiting pool."""

    announcement_id: int
    user_id: int
    project_id: int


@dataclass(frozen=True)
class Withdrew:
    announcement_id: int
    user_id: int


@dataclass(frozen=True)
class ProposalMade:
    """A new proposal, or a newcomer proposed to join a team as a trio."""

    team_id: int


@dataclass(frozen=True)
class ProposalAnswered:
    team_id: int
    user_id: int
    accepted: bool


@dataclass(frozen=True)
class TeamFormed:
    team_id: int


@dataclass(frozen=True)
class TeamEnded:
    """A proposal or team ended (declined, expired, a member left, withdrew or was forgotten);
    `tell` are the members to notify."""

    team_id: int
    reason: EndReason
    actor_id: int | None
    tell: tuple[int, ...] = ()


@dataclass(frozen=True)
class TeamChanged:
    """A team's post must show a change that is not one of the above (a member forgotten, say)."""

    team_id: int


@dataclass(frozen=True)
class BecameWaiting:
    """Learners of a project were returned to the pool (or asked to join it) and wait for a partner."""

    project_id: int
    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class NoticeStored:
    notice_id: int


@dataclass(frozen=True)
class PostRetired:
    """A message whose record is gone was queued for deletion."""

    deletion_id: int


@dataclass(frozen=True)
class ScheduledRunClaimed:
    """An occurrence of a schedule was claimed for posting."""

    run_id: int


@dataclass(frozen=True)
class FollowUpAsked:
    """A round of a team's follow-up was claimed: its members are to be asked."""

    team_id: int
    round: int


@dataclass(frozen=True)
class FollowUpFlagged:
    """A team said "not yet" twice and was flagged to staff (a staff-channel post)."""

    flag_id: int


@dataclass(frozen=True)
class MemberForgotten:
    user_id: int


Event = (
    Announced
    | Withdrew
    | ProposalMade
    | ProposalAnswered
    | TeamFormed
    | TeamEnded
    | TeamChanged
    | BecameWaiting
    | NoticeStored
    | PostRetired
    | ScheduledRunClaimed
    | FollowUpAsked
    | FollowUpFlagged
    | MemberForgotten
)


@dataclass(frozen=True)
class Telling:
    """Members to tell that their team ended, and why."""

    team_id: int
    reason: EndReason
    actor_id: int | None
    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class PoolCall:
    """Match project `project_id`'s waiting learners now; `newcomer` only announced (not waiting)."""

    project_id: int
    newcomer: int | None = None


@dataclass
class FollowUps:
    """What must happen after a commit, in order: posts (the first is the caller's own record),
    then notifications (team endings, follow-up questions), then matching."""

    posts: list[tuple[PostKindName, int]] = field(default_factory=list)
    tell: list[Telling] = field(default_factory=list)
    ask: list[FollowUpAsked] = field(default_factory=list)
    match: list[PoolCall] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.posts or self.tell or self.ask or self.match)


def follow_ups(events: Iterable[Event]) -> FollowUps:
    """The posts to refresh, the members to tell or ask and the pools to match after `events`."""
    plan = FollowUps()
    for event in events:
        post: tuple[PostKindName, int] | None = None
        call: PoolCall | None = None
        match event:
            case Announced():
                post = (PostKindName.ANNOUNCEMENT, event.announcement_id)
                call = PoolCall(event.project_id, event.user_id)
            case Withdrew():
                post = (PostKindName.ANNOUNCEMENT, event.announcement_id)
            case ProposalMade() | ProposalAnswered() | TeamFormed() | TeamChanged():
                post = (PostKindName.TEAM, event.team_id)
            case TeamEnded():
                post = (PostKindName.TEAM, event.team_id)
                if event.tell:
                    plan.tell.append(Telling(event.team_id, event.reason, event.actor_id, event.tell))
            case BecameWaiting():
                call = PoolCall(event.project_id)
            case NoticeStored():
                post = (PostKindName.NOTICE, event.notice_id)
            case PostRetired():
                post = (PostKindName.DELETION, event.deletion_id)
            case ScheduledRunClaimed():
                post = (PostKindName.SCHEDULED, event.run_id)
            case FollowUpAsked():
                if event not in plan.ask:
                    plan.ask.append(event)
            case FollowUpFlagged():
                post = (PostKindName.FLAG, event.flag_id)
            case MemberForgotten():
                pass  # what changed for others arrives as events of its own
        if post is not None and post not in plan.posts:
            plan.posts.append(post)
        if call is not None and call not in plan.match:
            plan.match.append(call)
    return plan
