"""Frontend/backend partner matching: pair scores and the per-project assignment.

Pure code: the services load candidates from the database, this module decides. Each project is an
assignment problem (scipy's `linear_sum_assignment` on a rectangular score matrix, maximised);
learners left over join the best-scoring pair as a trio, and whoever still cannot be placed gets a
reason code (see `bot.domain.unplaced`). Inputs are sorted first, so the same input always gives the
same plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.cohort import Track
from bot.domain.pairs import Candidate, PairRules, pair_key
from bot.domain.teams import TRIO_MAX
from bot.domain.unplaced import Counterpart, UnplacedReason, describe_unplaced, unplaced_reason

if TYPE_CHECKING:
    import numpy as np

# numpy and scipy (about 40 MB) load on the first cohort-wide plan, not at start-up: a single
# /partner find scores its pairs in plain Python.

BASE_SCORE = 100
"""Every allowed pair starts here, so any allowed pair beats leaving someone out."""
HOUR_POINTS = 10
"""Points per hour of shared working time."""
WORKDAY_START_HOUR = 9
WORKDAY_HOURS = 9
UNKNOWN_TIMEZONE_HOURS = 4
"""Assumed overlap when a learner has not set a time zone."""
SHARED_SKILL_POINTS = 8
SHARED_SKILL_CAP = 40
COMPLEMENTARY_POINTS = 15
PAIRED_BEFORE_PENALTY = 60
FORBIDDEN = -1_000_000_000

BACKEND_SKILLS = frozenset(
    {
        "python",
        "django",
        "drf",
        "django rest framework",
        "graphql",
        "postgresql",
        "postgres",
        "mysql",
        "sql",
        "docker",
        "redis",
        "celery",
        "ci/cd",
        "fastapi",
        "flask",
        "node",
        "node.js",
        "rest",
        "rest apis",
    }
)
FRONTEND_SKILLS = frozenset(
    {
        "react",
        "next.js",
        "nextjs",
        "vue",
        "angular",
        "svelte",
        "typescript",
        "javascript",
        "css",
        "tailwind",
        "html",
        "react native",
        "redux",
        "figma",
    }
)


def overlap_hours(offset_a: int | None, offset_b: int | None) -> float:
    """Shared hours of two 9-to-6 working days, given UTC offsets in minutes."""
    if offset_a is None or offset_b is None:
        return float(UNKNOWN_TIMEZONE_HOURS)
    start_a = (WORKDAY_START_HOUR * 60 - offset_a) % 1440
    start_b = (WORKDAY_START_HOUR * 60 - offset_b) % 1440
    length = WORKDAY_HOURS * 60
    best = 0
    for shift in (-1440, 0, 1440):  # windows may wrap around midnight UTC
        lo = max(start_a, start_b + shift)
        hi = min(start_a + length, start_b + shift + length)
        best = max(best, hi - lo)
    return best / 60


def pair_score(a: Candidate, b: Candidate, rules: PairRules) -> int:
    """How good a backend/frontend pair is; FORBIDDEN when it may not be proposed."""
    if not rules.allows(a.user_id, b.user_id) or a.track == b.track:
        return FORBIDDEN
    score = BASE_SCORE + round(overlap_hours(a.utc_offset_minutes, b.utc_offset_minutes) * HOUR_POINTS)
    score += min(SHARED_SKILL_CAP, SHARED_SKILL_POINTS * len(a.skills & b.skills))
    backend, frontend = (a, b) if a.track is Track.BACKEND else (b, a)
    if backend.skills & BACKEND_SKILLS and frontend.skills & FRONTEND_SKILLS:
        score += COMPLEMENTARY_POINTS
    if pair_key(a.user_id, b.user_id) in rules.previous:
        score -= PAIRED_BEFORE_PENALTY
    return score


@dataclass(frozen=True)
class Group:
    """A proposed pair or trio: members sorted by track then id, and its total score."""

    members: tuple[Candidate, ...]
    score: int

    @property
    def user_ids(self) -> tuple[int, ...]:
        return tuple(m.user_id for m in self.members)

    @property
    def is_trio(self) -> bool:
        return len(self.members) == TRIO_MAX


@dataclass(frozen=True)
class Unplaced:
    """A learner the plan could not place, their track, and why."""

    user_id: int
    reason: UnplacedReason
    track: Track

    @property
    def description(self) -> str:
        """The reason as a plain sentence."""
        return describe_unplaced(self.reason, self.track.opposite)


@dataclass
class ExistingPair:
    """A pair already formed or proposed outside this run that a leftover may join as a trio."""

    team_id: int
    members: tuple[Candidate, ...]


@dataclass(frozen=True)
class TrioJoin:
    team_id: int
    candidate: Candidate
    score: int


@dataclass(frozen=True)
class ProjectOutcome:
    """The plan for one project: new groups, joins into existing pairs, and the unplaced."""

    groups: tuple[Group, ...]
    joins: tuple[TrioJoin, ...]
    unplaced: tuple[Unplaced, ...]


def _overlap_minutes(rows: Sequence[Candidate], cols: Sequence[Candidate]) -> np.ndarray:
    import numpy as np

    known_r = np.array([c.utc_offset_minutes is not None for c in rows])
    known_c = np.array([c.utc_offset_minutes is not None for c in cols])
    off_r = np.array([c.utc_offset_minutes or 0 for c in rows], dtype=np.int64)
    off_c = np.array([c.utc_offset_minutes or 0 for c in cols], dtype=np.int64)
    start_r = ((WORKDAY_START_HOUR * 60 - off_r) % 1440)[:, None]
    start_c = ((WORKDAY_START_HOUR * 60 - off_c) % 1440)[None, :]
    length = WORKDAY_HOURS * 60
    best = np.zeros((len(rows), len(cols)), dtype=np.int64)
    for shift in (-1440, 0, 1440):
        lo = np.maximum(start_r, start_c + shift)
        hi = np.minimum(start_r + length, start_c + shift + length)
        best = np.maximum(best, hi - lo)
    unknown = ~(known_r[:, None] & known_c[None, :])
    best[unknown] = UNKNOWN_TIMEZONE_HOURS * 60
    return best


def score_matrix(rows: Sequence[Candidate], cols: Sequence[Candidate], rules: PairRules) -> np.ndarray:
    """`pair_score` for every row/column pair at once (rows and columns on opposite tracks)."""
    import numpy as np

    overlap = _overlap_minutes(rows, cols)
    scores = BASE_SCORE + np.rint(overlap * HOUR_POINTS / 60).astype(np.int64)
    vocabulary = {skill: i for i, skill in enumerate(sorted({s for c in (*rows, *cols) for s in c.skills}))}
    if vocabulary:
        skills_r = np.zeros((len(rows), len(vocabulary)), dtype=np.int64)
        skills_c = np.zeros((len(cols), len(vocabulary)), dtype=np.int64)
        for i, c in enumerate(rows):
            skills_r[i, [vocabulary[s] for s in c.skills]] = 1
        for j, c in enumerate(cols):
            skills_c[j, [vocabulary[s] for s in c.skills]] = 1
        scores += np.minimum(SHARED_SKILL_CAP, SHARED_SKILL_POINTS * (skills_r @ skills_c.T))
    back_r = np.array([bool(c.skills & BACKEND_SKILLS) for c in rows])
    front_r = np.array([bool(c.skills & FRONTEND_SKILLS) for c in rows])
    back_c = np.array([bool(c.skills & BACKEND_SKILLS) for c in cols])
    front_c = np.array([bool(c.skills & FRONTEND_SKILLS) for c in cols])
    row_is_backend = np.array([c.track is Track.BACKEND for c in rows])[:, None]
    complementary = np.where(row_is_backend, back_r[:, None] & front_c[None, :], front_r[:, None] & back_c[None, :])
    scores += COMPLEMENTARY_POINTS * complementary
    row_index = {c.user_id: i for i, c in enumerate(rows)}
    col_index = {c.user_id: j for j, c in enumerate(cols)}
    for a, b in rules.previous:
        for x, y in ((a, b), (b, a)):
            if x in row_index and y in col_index:
                scores[row_index[x], col_index[y]] -= PAIRED_BEFORE_PENALTY
    same_track = (
        np.array([c.track for c in rows], dtype=object)[:, None]
        == np.array([c.track for c in cols], dtype=object)[None, :]
    )
    scores[same_track] = FORBIDDEN
    for a, b in rules.forbidden:
        for x, y in ((a, b), (b, a)):
            if x in row_index and y in col_index:
                scores[row_index[x], col_index[y]] = FORBIDDEN
    return scores


def _solve(
    backends: Sequence[Candidate], frontends: Sequence[Candidate], rules: PairRules
) -> tuple[list[tuple[int, int]], list[Candidate], list[Candidate], np.ndarray]:
    """Sorted rows and columns, their score matrix, and the allowed (row, col) assignment."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    rows = sorted(backends, key=lambda c: c.user_id)
    cols = sorted(frontends, key=lambda c: c.user_id)
    if not rows or not cols:
        return [], rows, cols, np.zeros((len(rows), len(cols)), dtype=np.int64)
    matrix = score_matrix(rows, cols, rules)
    row_idx, col_idx = linear_sum_assignment(matrix, maximize=True)
    chosen = [(r, c) for r, c in zip(row_idx.tolist(), col_idx.tolist(), strict=True) if int(matrix[r, c]) != FORBIDDEN]
    return chosen, rows, cols, matrix


def assign_pairs(
    backends: Sequence[Candidate], frontends: Sequence[Candidate], rules: PairRules
) -> tuple[list[tuple[Candidate, Candidate, int]], list[Candidate]]:
    """The maximum-total-score pairing of two sides, and the learners it leaves over."""
    chosen, rows, cols, matrix = _solve(backends, frontends, rules)
    pairs = [(rows[r], cols[c], int(matrix[r, c])) for r, c in chosen]
    used_rows = {r for r, _ in chosen}
    used_cols = {c for _, c in chosen}
    leftover = [rows[i] for i in range(len(rows)) if i not in used_rows]
    leftover += [cols[i] for i in range(len(cols)) if i not in used_cols]
    return pairs, leftover


def plan_project(
    candidates: Sequence[Candidate],
    rules: PairRules,
    existing: Sequence[ExistingPair] = (),
    taken: Sequence[Counterpart] = (),
) -> ProjectOutcome:
    """Pairs by assignment, then trios for the leftovers, then reasons for whoever is left.

    `candidates` are the project's free learners, `existing` its open pairs a leftover may join, and
    `taken` its learners in any open proposal or team (trios included) with their team's member ids:
    they are never placed, only used to tell the unplaced why (see `unplaced_reason`).
    """
    import numpy as np

    backends = [c for c in candidates if c.track is Track.BACKEND]
    frontends = [c for c in candidates if c.track is Track.FRONTEND]
    chosen, rows, cols, matrix = _solve(backends, frontends, rules)
    used_rows = {r for r, _ in chosen}
    used_cols = {c for _, c in chosen}
    leftover = sorted(
        [rows[i] for i in range(len(rows)) if i not in used_rows]
        + [cols[i] for i in range(len(cols)) if i not in used_cols],
        key=lambda c: c.user_id,
    )
    slot_rows = np.array([r for r, _ in chosen], dtype=np.int64)
    slot_cols = np.array([c for _, c in chosen], dtype=np.int64)
    joined: list[list[Candidate]] = [[] for _ in chosen]
    open_slots = np.ones(len(chosen), dtype=bool)
    pairs_before = [p for p in sorted(existing, key=lambda p: p.team_id) if len(p.members) == 2]
    existing_open = [True] * len(pairs_before)
    row_of = {c.user_id: i for i, c in enumerate(rows)}
    col_of = {c.user_id: j for j, c in enumerate(cols)}
    joins: list[TrioJoin] = []
    stranded: list[Candidate] = []
    for person in leftover:
        if person.track is Track.BACKEND:
            scores = matrix[row_of[person.user_id], slot_cols] if len(chosen) else np.zeros(0, dtype=np.int64)
        else:
            scores = matrix[slot_rows, col_of[person.user_id]] if len(chosen) else np.zeros(0, dtype=np.int64)
        scores = np.where(open_slots, scores, FORBIDDEN)
        best_new = int(np.argmax(scores)) if len(scores) else -1
        best_new_score = int(scores[best_new]) if best_new >= 0 else FORBIDDEN
        best_old, best_old_score = -1, FORBIDDEN
        for index, pair in enumerate(pairs_before):
            if not existing_open[index]:
                continue
            counterpart = next((m for m in pair.members if m.track != person.track), None)
            if counterpart is None or not all(rules.allows(person.user_id, m.user_id) for m in pair.members):
                continue
            score = pair_score(person, counterpart, rules)
            if score > best_old_score:
                best_old, best_old_score = index, score
        if best_new_score == FORBIDDEN and best_old_score == FORBIDDEN:
            stranded.append(person)
        elif best_new_score >= best_old_score:
            joined[best_new].append(person)
            open_slots[best_new] = False
        else:
            joins.append(TrioJoin(pairs_before[best_old].team_id, person, best_old_score))
            existing_open[best_old] = False
    groups = []
    for index, (r, c) in enumerate(chosen):
        members = [rows[r], cols[c], *joined[index]]
        score = int(matrix[r, c]) + sum(
            int(matrix[row_of[m.user_id], c]) if m.track is Track.BACKEND else int(matrix[r, col_of[m.user_id]])
            for m in joined[index]
        )
        groups.append(Group(tuple(sorted(members, key=lambda m: (m.track.value, m.user_id))), score))
    situation = _situation(candidates, groups, existing, joins, taken)
    unplaced = [Unplaced(p.user_id, unplaced_reason(p, situation, rules), p.track) for p in stranded]
    return ProjectOutcome(tuple(groups), tuple(joins), tuple(unplaced))


def _situation(
    candidates: Sequence[Candidate],
    groups: Sequence[Group],
    existing: Sequence[ExistingPair],
    joins: Sequence[TrioJoin],
    taken: Sequence[Counterpart],
) -> list[Counterpart]:
    """Every learner of the project as the plan leaves them: in a new group, a joined pair, or free."""
    where = {c.user_id: c for c in taken}
    where.update((c.user_id, Counterpart(c.user_id, c.track)) for c in candidates)
    for pair in existing:
        team = (*pair.members, *(j.candidate for j in joins if j.team_id == pair.team_id))
        where.update((m.user_id, Counterpart(m.user_id, m.track, tuple(t.user_id for t in team))) for m in team)
    for group in groups:
        where.update((m.user_id, Counterpart(m.user_id, m.track, group.user_ids)) for m in group.members)
    return [where[uid] for uid in sorted(where)]


def plan_cohort(
    projects: Mapping[int, Sequence[Candidate]],
    rules: PairRules,
    existing: Mapping[int, Sequence[ExistingPair]] | None = None,
    taken: Mapping[int, Sequence[Counterpart]] | None = None,
) -> dict[int, ProjectOutcome]:
    """Plan every project independently, in project-id order (`plan_project` per project id)."""
    existing = existing or {}
    taken = taken or {}
    return {
        pid: plan_project(projects[pid], rules, existing.get(pid, ()), taken.get(pid, ())) for pid in sorted(projects)
    }


def best_counterpart(me: Candidate, others: Sequence[Candidate], rules: PairRules) -> Candidate | None:
    """The highest-scoring allowed partner for one learner right now (ties: lowest id)."""
    best: tuple[int, int, Candidate] | None = None
    for other in others:
        score = pair_score(me, other, rules)
        if score == FORBIDDEN:
            continue
        key = (score, -other.user_id, other)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None
