"""Time to plan matching for 10,000 learners over 10 projects (target: under one second).

Run: python bench/matching.py [--learners N] [--projects P] [--repeat R]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from bot.domain.cohort import Track
from bot.domain.matching import Candidate, PairRules, pair_key, plan_cohort

SKILLS = ["python", "django", "drf", "graphql", "docker", "react", "typescript", "css", "postgresql", "redis"]
OFFSETS = [-300, 0, 60, 120, 180, 240, 330, 480]


def cohort(learners: int, projects: int, seed: int = 1) -> tuple[dict[int, list[Candidate]], PairRules]:
    rng = random.Random(seed)
    by_project: dict[int, list[Candidate]] = {p: [] for p in range(projects)}
    for uid in range(learners):
        track = Track.BACKEND if rng.random() < 0.55 else Track.FRONTEND
        skills = Candidate.normalise_skills(rng.sample(SKILLS, 3))
        by_project[rng.randrange(projects)].append(Candidate(uid, track, rng.choice(OFFSETS), skills))
    forbidden = set()
    for members in by_project.values():
        for _ in range(len(members) // 10):
            a, b = rng.sample(members, 2)
            forbidden.add(pair_key(a.user_id, b.user_id))
    return by_project, PairRules(forbidden=frozenset(forbidden))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    projects, rules = cohort(args.learners, args.projects)
    times = []
    plan = {}
    for _ in range(args.repeat):
        start = time.perf_counter()
        plan = plan_cohort(projects, rules)
        times.append(time.perf_counter() - start)
    groups = sum(len(o.groups) for o in plan.values())
    trios = sum(g.is_trio for o in plan.values() for g in o.groups)
    unplaced = sum(len(o.unplaced) for o in plan.values())
    placed = sum(len(g.members) for o in plan.values() for g in o.groups)
    print(f"learners={args.learners} projects={args.projects} forbidden_pairs={len(rules.forbidden)}")
    print(f"groups={groups} trios={trios} placed={placed} unplaced={unplaced}")
    print(f"plan time: median {statistics.median(times):.3f} s, max {max(times):.3f} s over {args.repeat} runs")
    print(f"target < 1.000 s: {'met' if max(times) < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
