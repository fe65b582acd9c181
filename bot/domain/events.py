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
    TEAM_THREAD = "team_thread"
    """A team's private thread (made, members added, archived and locked when the team ends)."""
    STAFF_NOTICE = "staff_notice"
    """Something staff are told once, in the staff channel."""
    NUDGE = "nudge"
    FLAG = "flag"
    """A team flagged to staff by its follow-up (posted in the staff channel)."""
    CHECKIN_REPORT = "checkin_report"
    """A team's check-in report (posted in its thread once ready; late answers edit it)."""
    CHECKIN_FLAG = "checkin_flag"
    """A team with a member silent on two check-ins in a row, flagged to staff once."""


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
class StaffNoticeStored:
    """Something staff must be told once (the thread cap reached) was stored."""

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
class NudgePostStored:
    """A channel message of a roster nudge was stored (or changed) and must be posted."""

    post_id: int


@dataclass(frozen=True)
class NudgeDmsStored:
    """A DM nudge run stored its DMs: send them, then post the refused ones' fallback."""

    guild_id: int
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
class CheckinPromptsClaimed:
    """Check-in prompts were claimed: send each to its member."""

    prompt_ids: tuple[int, ...]


@dataclass(frozen=True)
class CheckinReportChanged:
    """A check-in report became ready, or changed after it was posted (a late answer, a blocker closed)."""

    report_id: int


@dataclass(frozen=True)
class CheckinFlagged:
    """A team was flagged to staff for a member's silence on two check-ins in a row."""

    flag_id: int


@dataclass(frozen=True)
class MemberForgotten:
    user_id: int


@dataclass(frozen=True)
class ApiChanged:
    """A team's API contract changed (change `change_id`); `tell` are the members to tell what changed."""

    team_id: int
    change_id: int
    tell: tuple[int, ...] = ()


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
    | StaffNoticeStored
    | PostRetired
    | ScheduledRunClaimed
    | NudgePostStored
    | NudgeDmsStored
    | FollowUpAsked
    | FollowUpFlagged
    | CheckinPromptsClaimed
    | CheckinReportChanged
    | CheckinFlagged
    | MemberForgotten
    | ApiChanged
)


@dataclass(frozen=True)
class Telling:
    """Members to tell that their team ended, and why."""

    team_id: int
    reason: EndReason
    actor_id: int | None
    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class ContractTelling:
    """Members to tell what changed in their team's API contract."""

    team_id: int
    change_id: int
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
    tell: list[Telling | ContractTelling] = field(default_factory=list)
    ask: list[FollowUpAsked] = field(default_factory=list)
    match: list[PoolCall] = field(default_factory=list)
    nudge_dms: list[int] = field(default_factory=list)
    """Runs whose nudge DMs are to be sent."""
    checkin_prompts: list[int] = field(default_factory=list)
    """Check-in prompts to send."""

    @property
    def empty(self) -> bool:
        return not (self.posts or self.tell or self.ask or self.match or self.nudge_dms or self.checkin_prompts)


def follow_ups(events: Iterable[Event]) -> FollowUps:
    """The posts to refresh, the members to tell or ask and the pools to match after `events`."""
    plan = FollowUps()
    for event in events:
        post: tuple[PostKindName, int] | None = None
        then: tuple[PostKindName, int] | None = None
        call: PoolCall | None = None
        match event:
            case Announced():
                post = (PostKindName.ANNOUNCEMENT, event.announcement_id)
                call = PoolCall(event.project_id, event.user_id)
            case Withdrew():
                post = (PostKindName.ANNOUNCEMENT, event.announcement_id)
            case ProposalMade() | ProposalAnswered():
                post = (PostKindName.TEAM, event.team_id)
            case TeamChanged():
                post = (PostKindName.TEAM, event.team_id)
                then = (PostKindName.TEAM_THREAD, event.team_id)  # its opening names the members too
            case TeamFormed():
                post = (PostKindName.TEAM, event.team_id)
                then = (PostKindName.TEAM_THREAD, event.team_id)  # made, or a trio newcomer added
            case TeamEnded():
                post = (PostKindName.TEAM, event.team_id)
                then = (PostKindName.TEAM_THREAD, event.team_id)  # archived and locked, if it has one
                if event.tell:
                    plan.tell.append(Telling(event.team_id, event.reason, event.actor_id, event.tell))
            case BecameWaiting():
                call = PoolCall(event.project_id)
            case NoticeStored():
                post = (PostKindName.NOTICE, event.notice_id)
            case StaffNoticeStored():
                post = (PostKindName.STAFF_NOTICE, event.notice_id)
            case PostRetired():
                post = (PostKindName.DELETION, event.deletion_id)
            case ScheduledRunClaimed():
                post = (PostKindName.SCHEDULED, event.run_id)
            case ApiChanged():
                post = (PostKindName.TEAM, event.team_id)  # the team's post shows the contract
                if event.tell:
                    plan.tell.append(ContractTelling(event.team_id, event.change_id, event.tell))
            case NudgePostStored():
                post = (PostKindName.NUDGE, event.post_id)
            case NudgeDmsStored():
                if event.run_id not in plan.nudge_dms:
                    plan.nudge_dms.append(event.run_id)
            case FollowUpAsked():
                if event not in plan.ask:
                    plan.ask.append(event)
            case FollowUpFlagged():
                post = (PostKindName.FLAG, event.flag_id)
            case CheckinPromptsClaimed():
                plan.checkin_prompts += [p for p in event.prompt_ids if p not in plan.checkin_prompts]
            case CheckinReportChanged():
                post = (PostKindName.CHECKIN_REPORT, event.report_id)
            case CheckinFlagged():
                post = (PostKindName.CHECKIN_FLAG, event.flag_id)
            case MemberForgotten():
                pass  # what changed for others arrives as events of its own
        for wanted in (post, then):
            if wanted is not None and wanted not in plan.posts:
                plan.posts.append(wanted)
        if call is not None and call not in plan.match:
            plan.match.append(call)
    return plan
