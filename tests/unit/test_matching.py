"""Scoring and assignment: optimal, deterministic, never a declined pair, trios for the leftovers."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.domain.cohort import Track
from bot.domain.matching import (
    BASE_SCORE,
    FORBIDDEN,
    Candidate,
    ExistingPair,
    PairRules,
    assign_pairs,
    best_counterpart,
    overlap_hours,
    pair_key,
    pair_score,
    plan_project,
)
from bot.domain.unplaced import UnplacedReason

B, F = Track.BACKEND, Track.FRONTEND


def cand(uid: int, track: Track, offset: int | None = 60, skills: tuple[str, ...] = ()) -> Candidate:
    return Candidate(uid, track, offset, Candidate.normalise_skills(skills))


def test_overlap_of_working_hours():
    assert overlap_hours(60, 60) == 9  # Lagos and Lagos
    assert overlap_hours(60, 180) == 7  # Lagos and Nairobi
    assert overlap_hours(0, 12 * 60) == 0  # London and Auckland-ish: no shared office hours
    assert overlap_hours(-5 * 60, 60) == 3  # New York and Lagos
    assert overlap_hours(None, 60) == 4


def test_score_prefers_overlap_shared_and_complementary_skills():
    base = pair_score(cand(1, B), cand(2, F), PairRules())
    far = pair_score(cand(1, B, 0), cand(2, F, 12 * 60), PairRules())
    skilled = pair_score(cand(1, B, skills=("Django", "GraphQL")), cand(2, F, skills=("React", "graphql")), PairRules())
    assert far < base < skilled
    assert far >= BASE_SCORE  # every allowed pair beats leaving someone out


def test_declined_pairs_are_forbidden_and_earlier_pairs_penalised():
    rules = PairRules(forbidden=frozenset({pair_key(2, 1)}))
    assert pair_score(cand(1, B), cand(2, F), rules) == FORBIDDEN
    again = PairRules(previous=frozenset({pair_key(1, 2)}))
    assert pair_score(cand(1, B), cand(2, F), again) < pair_score(cand(1, B), cand(2, F), PairRules())
    assert pair_score(cand(1, B), cand(3, B), PairRules()) == FORBIDDEN  # same track never pairs


def _brute_force_best(backends, frontends, rules) -> int:
    small, large = (backends, frontends) if len(backends) <= len(frontends) else (frontends, backends)
    best = None
    for chosen in itertools.permutations(large, len(small)):
        total = sum(pair_score(a, b, rules) for a, b in zip(small, chosen, strict=True))
        best = total if best is None else max(best, total)
    return best or 0


@pytest.mark.parametrize("seed", range(40))
def test_assignment_equals_brute_force_optimum(seed):
    rng = random.Random(seed)
    n_b, n_f = rng.randint(1, 5), rng.randint(1, 5)
    skills = ["django", "react", "graphql", "docker", "css", "typescript"]
    backends = [cand(i, B, rng.choice([-300, 0, 60, 120, 180, 330]), tuple(rng.sample(skills, 2))) for i in range(n_b)]
    frontends = [
        cand(100 + i, F, rng.choice([-300, 0, 60, 120, 180, 330]), tuple(rng.sample(skills, 2))) for i in range(n_f)
    ]
    forbidden = {pair_key(b.user_id, f.user_id) for b in backends for f in frontends if rng.random() < 0.2}
    rules = PairRules(forbidden=frozenset(forbidden))
    pairs, leftover = assign_pairs(backends, frontends, rules)
    best = _brute_force_best(backends, frontends, rules)
    forced = best // FORBIDDEN if best < 0 else 0  # forbidden edges the optimum cannot avoid
    got = sum(score for _, _, score in pairs) + forced * FORBIDDEN
    assert got == best
    assert all(rules.allows(b.user_id, f.user_id) for b, f, _ in pairs)
    placed = {c.user_id for b, f, _ in pairs for c in (b, f)}
    assert placed | {c.user_id for c in leftover} == {c.user_id for c in backends + frontends}


def test_unequal_counts_make_trios_and_nobody_is_silently_dropped():
    backends = [cand(i, B) for i in range(1, 4)]
    frontends = [cand(10, F)]
    outcome = plan_project(backends + frontends, PairRules())
    assert len(outcome.groups) == 1 and outcome.groups[0].is_trio
    (unplaced,) = outcome.unplaced
    assert unplaced.reason is UnplacedReason.TEAMS_FULL
    assert "already has a partner and each team is full" in unplaced.description
    everyone = {m.user_id for g in outcome.groups for m in g.members} | {u.user_id for u in outcome.unplaced}
    assert everyone == {1, 2, 3, 10}


def test_trio_joins_the_best_scoring_pair():
    backends = [cand(1, B, 60), cand(2, B, 60)]
    frontends = [cand(10, F, 60), cand(11, F, -300)]
    extra = cand(3, B, -300)  # New York: pairs with the New York frontend
    outcome = plan_project([*backends, *frontends, extra], PairRules())
    by_size = sorted(outcome.groups, key=lambda g: len(g.members))
    assert set(by_size[0].user_ids) == {3, 11}
    assert set(by_size[1].user_ids) == {1, 2, 10}  # the Lagos leftover joins the Lagos pair


def test_leftover_joins_an_existing_pair_as_trio():
    outcome = plan_project(
        [cand(5, B)], PairRules(), existing=[ExistingPair(team_id=7, members=(cand(1, B), cand(10, F)))]
    )
    assert [(j.team_id, j.candidate.user_id) for j in outcome.joins] == [(7, 5)]
    assert outcome.unplaced == ()


def test_reasons_for_the_unplaced():
    alone = plan_project([cand(1, B)], PairRules())
    assert alone.unplaced[0].reason is UnplacedReason.NOBODY_ANNOUNCED
    assert "nobody on the frontend track" in alone.unplaced[0].description
    declined = plan_project([cand(1, B), cand(10, F)], PairRules(forbidden=frozenset({pair_key(1, 10)})))
    assert {u.user_id for u in declined.unplaced} == {1, 10}
    assert all(u.reason is UnplacedReason.DECLINED for u in declined.unplaced)
    assert all("declined proposal or a dissolved team" in u.description for u in declined.unplaced)


def test_plan_is_deterministic_whatever_the_input_order():
    rng = random.Random(7)
    people = [cand(i, B if i % 3 else F, rng.choice([0, 60, 120])) for i in range(30)]
    first = plan_project(people, PairRules())
    for _ in range(5):
        rng.shuffle(people)
        assert plan_project(people, PairRules()) == first


def test_best_counterpart_skips_forbidden_and_breaks_ties_by_id():
    me = cand(1, B)
    others = [cand(12, F), cand(11, F), cand(10, F)]
    assert best_counterpart(me, others, PairRules()).user_id == 10
    rules = PairRules(forbidden=frozenset({pair_key(1, 10)}))
    assert best_counterpart(me, others, rules).user_id == 11
    assert best_counterpart(me, [], rules) is None


@pytest.mark.parametrize("seed", range(10))
def test_score_matrix_equals_pair_score(seed):
    from bot.domain.matching import score_matrix

    rng = random.Random(seed)
    skills = ["django", "react", "graphql", "docker", "css", "typescript", "python"]
    people = [
        cand(i, rng.choice([B, F]), rng.choice([None, -300, 0, 45, 60, 330, 765]), tuple(rng.sample(skills, 3)))
        for i in range(12)
    ]
    rules = PairRules(
        forbidden=frozenset({pair_key(0, 1), pair_key(2, 3)}), previous=frozenset({pair_key(4, 5), pair_key(6, 7)})
    )
    matrix = score_matrix(people, people, rules)
    for i, a in enumerate(people):
        for j, b in enumerate(people):
            assert matrix[i, j] == pair_score(a, b, rules), (a, b)
