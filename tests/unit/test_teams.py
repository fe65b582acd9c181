"""The team lifecycle: every (status, event) pair is either an allowed transition or refused."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import ConflictError
from bot.domain.teams import (
    STATUS_LABELS,
    TRANSITIONS,
    EndReason,
    InvalidTransition,
    TeamEnding,
    TeamEvent,
    TeamStatus,
    describe_ending,
    transition,
)

S, E = TeamStatus, TeamEvent

# Written out by hand, apart from the code's table: adding a status or an event fails the
# exhaustive test below until this says what it does.
ALLOWED: dict[tuple[TeamStatus, TeamEvent], TeamStatus] = {
    (S.PROPOSED, E.MEMBER_ACCEPTED): S.PROPOSED,
    (S.PROPOSED, E.ALL_ACCEPTED): S.ACTIVE,
    (S.PROPOSED, E.DECLINED): S.DECLINED,
    (S.PROPOSED, E.EXPIRED): S.EXPIRED,
    (S.PROPOSED, E.MEMBER_LEFT): S.CANCELLED,
    (S.PROPOSED, E.MEMBER_WITHDREW): S.CANCELLED,
    (S.PROPOSED, E.MEMBER_FORGOTTEN): S.CANCELLED,
    (S.PROPOSED, E.NEWCOMER_JOINED): S.PROPOSED,
    (S.ACTIVE, E.MEMBER_LEFT): S.DISSOLVED,
    (S.ACTIVE, E.MEMBER_WITHDREW): S.DISSOLVED,
    (S.ACTIVE, E.MEMBER_FORGOTTEN): S.DISSOLVED,
    (S.ACTIVE, E.NEWCOMER_JOINED): S.ACTIVE,
    (S.ACTIVE, E.NEWCOMER_ACCEPTED): S.ACTIVE,
    (S.ACTIVE, E.NEWCOMER_DECLINED): S.ACTIVE,
    (S.ACTIVE, E.NEWCOMER_EXPIRED): S.ACTIVE,
    (S.ACTIVE, E.NEWCOMER_LEFT): S.ACTIVE,
}


@pytest.mark.parametrize(("status", "event"), list(itertools.product(TeamStatus, TeamEvent)))
def test_every_status_and_event(status: TeamStatus, event: TeamEvent):
    if (status, event) in ALLOWED:
        assert transition(status, event) is ALLOWED[status, event]
        return
    with pytest.raises(InvalidTransition) as refused:
        transition(status, event)
    assert isinstance(refused.value, ConflictError)
    assert (refused.value.status, refused.value.event) == (status, event)
    message = str(refused.value)
    assert message[0].isupper() and message.endswith(".") and "<@" not in message


def test_the_code_allows_exactly_the_table():
    assert dict(TRANSITIONS) == ALLOWED


def test_ended_statuses_accept_nothing():
    for status in TeamStatus:
        if not status.is_open:
            assert not any(s is status for s, _ in ALLOWED)


def test_statuses_keep_the_stored_strings():
    # what existing databases hold in teams.status: changing a value needs a migration
    assert {s.value for s in TeamStatus} == {"proposed", "active", "declined", "expired", "dissolved", "cancelled"}
    assert {s for s in TeamStatus if s.is_open} == {S.PROPOSED, S.ACTIVE}
    assert {s for s in TeamStatus if s.forbids_repeat} == {S.DECLINED, S.DISSOLVED}


def test_every_status_has_a_plain_label():
    assert set(STATUS_LABELS) == set(TeamStatus)
    assert S.PROPOSED.label == "Proposed: every member accepts to form the team"
    assert S.ACTIVE.label == "Team formed"
    assert S.EXPIRED.label == "Expired: nobody answered in time"
    assert all("<" not in label for label in STATUS_LABELS.values())


def test_refusals_say_what_to_do():
    with pytest.raises(InvalidTransition) as answered:
        transition(S.DECLINED, E.ALL_ACCEPTED)
    assert str(answered.value) == "This proposal is declined; there is nothing left to answer."
    with pytest.raises(InvalidTransition, match="/partner leave"):
        transition(S.ACTIVE, E.DECLINED)
    with pytest.raises(InvalidTransition, match="already ended"):
        transition(S.DISSOLVED, E.MEMBER_LEFT)
    with pytest.raises(InvalidTransition, match="no newcomer"):
        transition(S.PROPOSED, E.NEWCOMER_ACCEPTED)


def test_exactly_the_ending_events_end_an_open_team():
    for (status, event), after in ALLOWED.items():
        ended = status.is_open and not after.is_open
        assert ended == (event.ending is not None), (status, event)
    assert {e.ending for e in TeamEvent if e.ending} == set(EndReason)


@given(st.lists(st.sampled_from(list(TeamEvent)), max_size=12))
def test_once_ended_a_team_stays_ended(events: list[TeamEvent]):
    status = S.PROPOSED
    for event in events:
        try:
            after = transition(status, event)
        except InvalidTransition:
            continue
        assert status.is_open
        if status is S.ACTIVE:
            assert after in (S.ACTIVE, S.DISSOLVED)  # a formed team never goes back to a proposal
        status = after


def mention(user_id: int) -> str:
    return f"@{user_id}"


ENDINGS = {
    EndReason.DECLINED: ("declined by @7", "declined"),
    EndReason.EXPIRED: ("nobody answered in time", "nobody answered in time"),
    EndReason.LEFT: ("@7 left", "a member left"),
    EndReason.WITHDREW: ("@7 withdrew their announcement", "a member withdrew their announcement"),
    EndReason.FORGOTTEN: ("a member left Nexus", "a member left Nexus"),
}


@pytest.mark.parametrize("reason", list(EndReason))
def test_describe_every_ending_with_and_without_its_actor(reason: EndReason):
    with_actor, without = ENDINGS[reason]
    assert describe_ending(TeamEnding(reason, 7), mention) == with_actor
    assert describe_ending(TeamEnding(reason, None), mention) == without


def test_a_forgotten_member_is_never_named_nor_kept():
    ending = TeamEnding(EndReason.FORGOTTEN, 7)
    assert ending.actor_id is None
    called: list[int] = []
    describe_ending(ending, lambda uid: called.append(uid) or "")
    assert called == []
    assert TeamEnding(EndReason.EXPIRED, 7).actor_id is None
    assert TeamEnding(EndReason.LEFT, 7).actor_id == 7


@pytest.mark.parametrize("reason", list(EndReason))
def test_endings_are_stored_as_codes(reason: EndReason):
    for actor in (None, 123456789012345678):
        ending = TeamEnding(reason, actor)
        assert TeamEnding.from_code(ending.code) == ending
        assert "<" not in ending.code


@pytest.mark.parametrize("text", ["declined by <@5>", "nobody answered in time", "<@5> left", "left:abc", ""])
def test_older_sentences_are_not_codes(text: str):
    assert TeamEnding.from_code(text) is None
