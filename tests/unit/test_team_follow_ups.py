"""The follow-up state machine: due, asked, answered, asked again, flagged; every state and verdict."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import ValidationError
from bot.domain.events import FollowUpAsked, FollowUpFlagged, PostKindName, follow_ups
from bot.domain.team_follow_ups import (
    ANSWER_LABELS,
    FLAG_ROUND,
    FollowUpAnswer,
    FollowUpClosed,
    FollowUpState,
    Verdict,
    after_answers,
    after_asking,
    after_team_ended,
    clean_follow_up_hours,
    first_due,
    verdict,
)

A = FollowUpAnswer
St = FollowUpState
NOW = datetime(2026, 3, 4, 9, tzinfo=UTC)
HOURS = timedelta(hours=48)


def test_a_team_is_due_one_interval_after_it_formed():
    assert first_due(NOW, HOURS) == NOW + HOURS


def test_answers_say_what_they_mean():
    assert (A.BOTH.met, A.BOTH.api_agreed) == (True, True)
    assert (A.MET.met, A.MET.api_agreed) == (True, False)
    assert (A.NOT_YET.met, A.NOT_YET.api_agreed) == (False, False)
    assert set(ANSWER_LABELS) == set(A) and A.MET.label == "Met, API not yet"


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, Verdict.PENDING),
        ({1: A.BOTH}, Verdict.PENDING),
        ({1: A.BOTH, 2: A.BOTH}, Verdict.ALL_YES),
        ({1: A.MET}, Verdict.NOT_YET),
        ({1: A.BOTH, 2: A.NOT_YET}, Verdict.NOT_YET),
        ({1: A.BOTH, 2: A.BOTH, 9: A.NOT_YET}, Verdict.ALL_YES),  # 9 left the team: not counted
    ],
)
def test_the_verdict_of_a_pair(answers, expected):
    assert verdict(answers, [1, 2]) is expected


def test_a_team_with_no_members_is_never_all_yes():
    assert verdict({}, []) is Verdict.PENDING


def test_asking_moves_from_nothing_to_round_one_and_from_waiting_to_the_next_round():
    assert after_asking(None, 0) == (St.ASKED, 1)
    assert after_asking(St.WAITING, 1) == (St.ASKED, 2)
    for state in set(St) - {St.WAITING}:
        with pytest.raises(FollowUpClosed):
            after_asking(state, 1)


@pytest.mark.parametrize(("state", "outcome", "round_"), list(itertools.product(St, Verdict, (1, FLAG_ROUND))))
def test_every_state_verdict_and_round(state: FollowUpState, outcome: Verdict, round_: int):
    if state is St.ENDED:
        with pytest.raises(FollowUpClosed):
            after_answers(state, round_, outcome, NOW, HOURS, None)
        return
    new, next_at = after_answers(state, round_, outcome, NOW, HOURS, None)
    if state is St.FLAGGED:
        assert (new, next_at) == (St.FLAGGED, None)  # flagged once; answers change nothing more
    elif outcome is Verdict.ALL_YES:
        assert (new, next_at) == (St.DONE, None)
    elif outcome is Verdict.PENDING:
        assert (new, next_at) == (St.ASKED, None)
    elif round_ >= FLAG_ROUND:
        assert (new, next_at) == (St.FLAGGED, None)
    else:
        assert (new, next_at) == (St.WAITING, NOW + HOURS)


def test_the_next_round_is_one_interval_after_the_first_not_yet():
    first = NOW - timedelta(hours=5)
    assert after_answers(St.WAITING, 1, Verdict.NOT_YET, NOW, HOURS, first) == (St.WAITING, first + HOURS)


def test_the_whole_story_due_asked_not_yet_asked_again_flagged():
    state, round_ = after_asking(None, 0)
    state, next_at = after_answers(state, round_, verdict({1: A.MET}, [1, 2]), NOW, HOURS, None)
    assert state is St.WAITING and next_at == NOW + HOURS
    state, round_ = after_asking(state, round_)
    assert (state, round_) == (St.ASKED, 2)
    state, _ = after_answers(state, round_, verdict({2: A.BOTH}, [1, 2]), NOW, HOURS, None)
    assert state is St.ASKED
    state, next_at = after_answers(state, round_, verdict({1: A.NOT_YET, 2: A.BOTH}, [1, 2]), NOW, HOURS, None)
    assert (state, next_at) == (St.FLAGGED, None)
    assert after_team_ended(state) is St.FLAGGED


def test_an_ended_team_is_never_asked_nor_answered():
    assert after_team_ended(None) is St.ENDED and after_team_ended(St.WAITING) is St.ENDED
    assert not St.ENDED.takes_answers and all(s.takes_answers for s in set(St) - {St.ENDED})


def test_a_follow_up_asks_the_team_and_a_flag_is_a_staff_post():
    plan = follow_ups([FollowUpAsked(3, 1), FollowUpAsked(3, 1), FollowUpFlagged(7)])
    assert plan.ask == [FollowUpAsked(3, 1)]
    assert plan.posts == [(PostKindName.FLAG, 7)] and not plan.empty


def test_a_server_interval_is_whole_hours_within_limits():
    assert clean_follow_up_hours(1) == 1 and clean_follow_up_hours(720) == 720
    for hours in (0, -5, 721):
        with pytest.raises(ValidationError, match="outside"):
            clean_follow_up_hours(hours)
