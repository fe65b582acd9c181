"""The pure plan of what follows a change, and the registry of channel-post kinds."""

from __future__ import annotations

from bot.delivery.kinds import POST_KINDS
from bot.domain.events import (
    Announced,
    BecameWaiting,
    MemberForgotten,
    NoticeStored,
    PoolCall,
    PostKindName,
    PostRetired,
    ProposalAnswered,
    ProposalMade,
    StaffNoticeStored,
    TeamChanged,
    TeamEnded,
    TeamFormed,
    Withdrew,
    follow_ups,
)
from bot.domain.teams import EndReason


def test_an_announcement_is_posted_then_offered_to_the_pool():
    plan = follow_ups([Announced(7, 42, 3)])
    assert plan.posts == [(PostKindName.ANNOUNCEMENT, 7)]
    assert plan.match == [PoolCall(3, 42)] and plan.tell == []


def test_a_team_post_is_refreshed_once_however_many_events_name_it():
    plan = follow_ups([ProposalAnswered(5, 1, True), TeamFormed(5), TeamChanged(5), ProposalMade(6)])
    assert plan.posts == [(PostKindName.TEAM, 5), (PostKindName.TEAM_THREAD, 5), (PostKindName.TEAM, 6)]


def test_an_ended_team_tells_its_members_and_matches_them_again():
    plan = follow_ups([TeamEnded(5, EndReason.LEFT, 1, (2,)), BecameWaiting(3, (2,)), BecameWaiting(3, (1,))])
    assert plan.posts == [(PostKindName.TEAM, 5), (PostKindName.TEAM_THREAD, 5)]  # its thread is locked
    assert [(t.team_id, t.reason, t.actor_id, t.user_ids) for t in plan.tell] == [(5, EndReason.LEFT, 1, (2,))]
    assert plan.match == [PoolCall(3)]  # one pass over the project's pool, not one per learner


def test_an_expiry_tells_nobody():
    assert follow_ups([TeamEnded(5, EndReason.EXPIRED, None)]).tell == []


def test_forgetting_posts_what_it_changed_and_deletes_what_is_gone():
    plan = follow_ups([Withdrew(1, 9), PostRetired(4), NoticeStored(8), MemberForgotten(9)])
    assert plan.posts == [
        (PostKindName.ANNOUNCEMENT, 1),
        (PostKindName.DELETION, 4),
        (PostKindName.NOTICE, 8),
    ]
    assert follow_ups([MemberForgotten(9)]).empty


def test_a_staff_notice_is_posted():
    assert follow_ups([StaffNoticeStored(3)]).posts == [(PostKindName.STAFF_NOTICE, 3)]


def test_every_post_kind_is_registered_with_a_distinct_nonce_prefix():
    assert set(POST_KINDS) == set(PostKindName)
    assert len({kind.nonce(1, 1)[0] for kind in POST_KINDS.values()}) == len(POST_KINDS)
    longest = max(kind.nonce(10**12 - 1, 10**9 - 1) for kind in POST_KINDS.values())
    assert len(longest) <= 25  # Discord's nonce limit
