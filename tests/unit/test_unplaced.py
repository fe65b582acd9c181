"""True reasons for the unplaced: decided from where every other-track learner stands, then rendered."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.cohort import Track
from bot.domain.matching import Candidate, ExistingPair, PairRules, pair_key, plan_cohort, plan_project
from bot.domain.teams import TRIO_MAX
from bot.domain.unplaced import Counterpart, UnplacedReason, describe_unplaced, unplaced_reason
from models import PoolEntry

B, F = Track.BACKEND, Track.FRONTEND
R = UnplacedReason


def cand(uid: int, track: Track, offset: int | None = 60) -> Candidate:
    return Candidate(uid, track, offset)


def forbid(*pairs: tuple[int, int]) -> PairRules:
    return PairRules(forbidden=frozenset(pair_key(a, b) for a, b in pairs))


def free(uid: int, track: Track) -> Counterpart:
    return Counterpart(uid, track)


def team(*members: tuple[int, Track]) -> list[Counterpart]:
    ids = tuple(uid for uid, _ in members)
    return [Counterpart(uid, track, ids) for uid, track in members]


ME = cand(1, B)


def test_nobody_of_the_other_track():
    assert unplaced_reason(ME, [], PairRules()) is R.NOBODY_ANNOUNCED
    # learners of my own track, and I myself, do not count
    assert unplaced_reason(ME, [free(1, B), free(2, B), *team((3, B), (4, B))], PairRules()) is R.NOBODY_ANNOUNCED


def test_declined_free_learners():
    assert unplaced_reason(ME, [free(10, F), free(11, F)], forbid((1, 10), (11, 1))) is R.DECLINED


def test_a_pair_holding_someone_i_declined_is_declined_not_full():
    # B1 declined F10; F10 then paired with B2: B1 cannot join them because of the decline
    assert unplaced_reason(ME, team((2, B), (10, F)), forbid((1, 10))) is R.DECLINED
    # the same when the one I declined is my own track's member of their pair
    assert unplaced_reason(ME, team((2, B), (10, F)), forbid((1, 2))) is R.DECLINED


def test_full_teams():
    assert unplaced_reason(ME, team((2, B), (3, B), (10, F)), PairRules()) is R.TEAMS_FULL
    both_full = [*team((2, B), (3, B), (10, F)), *team((4, B), (11, F), (12, F))]
    assert unplaced_reason(ME, both_full, PairRules()) is R.TEAMS_FULL


def test_a_decline_outranks_a_full_team():
    assert unplaced_reason(ME, team((2, B), (3, B), (10, F)), forbid((1, 3))) is R.DECLINED


def test_declined_or_full():
    others = [*team((2, B), (3, B), (10, F)), free(11, F)]
    assert unplaced_reason(ME, others, forbid((1, 11))) is R.DECLINED_OR_FULL


def test_taken_when_someone_could_have_been_a_partner():
    assert unplaced_reason(ME, [free(10, F)], PairRules()) is R.TAKEN
    assert unplaced_reason(ME, team((2, B), (10, F)), PairRules()) is R.TAKEN  # a pair with room
    mixed = [*team((2, B), (3, B), (10, F)), free(11, F), *team((4, B), (12, F))]
    assert unplaced_reason(ME, mixed, forbid((1, 11))) is R.TAKEN


def test_team_member_ids_may_leave_out_the_learner_themselves():
    trio_without_self = [Counterpart(10, F, (2, 3)), Counterpart(2, B, (3, 10)), Counterpart(3, B, (2, 10))]
    assert unplaced_reason(ME, trio_without_self, PairRules()) is R.TEAMS_FULL


@pytest.mark.parametrize(("reason", "track"), list(itertools.product(UnplacedReason, Track)))
def test_every_reason_reads_as_a_plain_sentence(reason: UnplacedReason, track: Track):
    text = describe_unplaced(reason, track)
    assert track.value in text
    assert text == text.strip() and text[0].islower() and not text.endswith(".")  # follows "unplaced: <@x>: "
    assert "<" not in text and "*" not in text
    assert len(text) <= PoolEntry.__table__.c.reason.type.length  # stored as the pool entry's reason


def test_sentences_say_what_they_mean():
    assert describe_unplaced(R.NOBODY_ANNOUNCED, F) == "nobody on the frontend track has announced this project yet"
    assert "full" in describe_unplaced(R.TEAMS_FULL, F) and str(TRIO_MAX) in describe_unplaced(R.TEAMS_FULL, F)
    assert "declined" in describe_unplaced(R.DECLINED, B) and "backend" in describe_unplaced(R.DECLINED, B)
    assert "free right now" in describe_unplaced(R.TAKEN, F)
    assert len({describe_unplaced(r, F) for r in UnplacedReason}) == len(UnplacedReason)


# --- the plan carries the code ---


def test_plan_a_fourth_learner_after_a_trio_is_told_the_teams_are_full():
    trio = team((2, B), (3, B), (10, F))  # formed earlier; its learners are not candidates any more
    outcome = plan_project([cand(4, B)], PairRules(), taken=trio)
    (unplaced,) = outcome.unplaced
    assert (unplaced.user_id, unplaced.reason, unplaced.track) == (4, R.TEAMS_FULL, B)
    assert "already has a partner and each team is full" in unplaced.description
    # without being told about the trio, the plan can only say nobody announced (the old wrong text)
    assert plan_project([cand(4, B)], PairRules()).unplaced[0].reason is R.NOBODY_ANNOUNCED


def test_plan_a_learner_who_declined_the_only_frontend_is_told_so():
    pair = ExistingPair(team_id=7, members=(cand(2, B), cand(10, F)))
    rules = forbid((1, 10))
    outcome = plan_project([cand(1, B)], rules, existing=[pair], taken=team((2, B), (10, F)))
    assert outcome.joins == ()
    (unplaced,) = outcome.unplaced
    assert (unplaced.user_id, unplaced.reason) == (1, R.DECLINED)
    assert unplaced.description.startswith("every frontend learner on this project, or someone in their team")
    # the existing pair alone is enough to know
    assert plan_project([cand(1, B)], rules, existing=[pair]).unplaced[0].reason is R.DECLINED


def test_plan_counts_the_trios_it_makes_itself():
    # 3 backends, 1 frontend: a trio and one backend left; the frontend is in a full team of this plan
    outcome = plan_project([cand(1, B), cand(2, B), cand(3, B), cand(10, F)], PairRules())
    assert [u.reason for u in outcome.unplaced] == [R.TEAMS_FULL]
    # an existing pair that takes a leftover this run is full for the next leftover
    pair = ExistingPair(team_id=7, members=(cand(2, B), cand(10, F)))
    outcome = plan_project([cand(4, B), cand(5, B)], PairRules(), existing=[pair])
    assert [j.candidate.user_id for j in outcome.joins] == [4]
    assert [(u.user_id, u.reason) for u in outcome.unplaced] == [(5, R.TEAMS_FULL)]


def test_plan_cohort_takes_the_taken_per_project():
    plan = plan_cohort(
        {1: [cand(4, B)], 2: [cand(5, F)]},
        PairRules(),
        taken={1: team((2, B), (3, B), (10, F))},
    )
    assert plan[1].unplaced[0].reason is R.TEAMS_FULL
    assert plan[2].unplaced[0].reason is R.NOBODY_ANNOUNCED
    assert plan[2].unplaced[0].description.startswith("nobody on the backend track")


@st.composite
def projects(draw: st.DrawFn) -> tuple[list[Candidate], list[ExistingPair], list[Counterpart], PairRules]:
    """A project as the service sees it: free learners, open pairs and trios, and random declines."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    ids = itertools.count(1)
    free_learners = [cand(next(ids), rng.choice([B, F]), rng.choice([0, 60, 180])) for _ in range(rng.randint(0, 7))]
    pairs: list[ExistingPair] = []
    taken: list[Counterpart] = []
    for team_id in range(rng.randint(0, 4)):
        tracks = rng.choice([(B, F), (B, F), (B, B, F), (B, F, F)])
        members = tuple(cand(next(ids), t) for t in tracks)
        if len(members) == 2:
            pairs.append(ExistingPair(team_id, members))
        taken += team(*((m.user_id, m.track) for m in members))
    everyone = [c.user_id for c in free_learners] + [c.user_id for c in taken]
    declines = frozenset(pair_key(a, b) for a, b in itertools.combinations(everyone, 2) if rng.random() < 0.2)
    return free_learners, pairs, taken, PairRules(forbidden=declines)


@settings(max_examples=300, deadline=None)
@given(projects())
def test_plan_reasons_are_never_taken_when_the_service_passes_everything(
    project: tuple[list[Candidate], list[ExistingPair], list[Counterpart], PairRules],
):
    candidates, pairs, taken, rules = project
    outcome = plan_project(candidates, rules, existing=pairs, taken=taken)
    # the reasons never change who is placed
    plain = plan_project(candidates, rules, existing=pairs)
    assert (outcome.groups, outcome.joins) == (plain.groups, plain.joins)
    assert [u.user_id for u in outcome.unplaced] == [u.user_id for u in plain.unplaced]
    tracks = {c.track for c in candidates} | {c.track for c in taken}
    for unplaced in outcome.unplaced:
        # whoever could have worked with them was placed, so a lasting reason always exists
        assert unplaced.reason is not R.TAKEN
        assert (unplaced.reason is R.NOBODY_ANNOUNCED) == (unplaced.track.opposite not in tracks)
