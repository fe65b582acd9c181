"""The cohort chart's numbers: the Week-1 funnel and each project's sides, from per-learner facts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.cohort import ChecklistStep, RosterStep, Track
from bot.domain.progress import (
    CHART_PROJECTS_MAX,
    LearnerProgress,
    ProjectSides,
    cohort_picture,
    funnel,
    project_sides,
    projects_to_show,
    sides_from_board,
)


def learner(
    profile=False, announced=False, teamed=False, api=False, noted=False, project=None, track=None
) -> LearnerProgress:
    if announced:
        project = project or "Job Board"
        track = track or Track.BACKEND
    return LearnerProgress(profile, announced, teamed, api, noted, project, track)


def counts(progress) -> dict[ChecklistStep, int]:
    return {step.step: step.learners for step in funnel(progress)}


def test_a_cohort_at_different_steps():
    cohort = [
        learner(profile=True),  # profile only
        learner(announced=True),  # announced, no profile
        learner(profile=True, announced=True, teamed=True, track=Track.BACKEND),
        learner(profile=True, announced=True, teamed=True, api=True, noted=True, track=Track.FRONTEND),
        learner(noted=True),  # wrote a note only
        learner(profile=True, announced=True, project="E-Commerce", track=Track.FRONTEND),
    ]
    assert counts(cohort) == {
        ChecklistStep.PROFILE: 4,
        ChecklistStep.ANNOUNCED: 4,
        ChecklistStep.PARTNER: 2,
        ChecklistStep.API: 1,
        ChecklistStep.NOTE: 2,
    }
    assert project_sides(cohort) == (
        ProjectSides("E-Commerce", backend=0, frontend=1, paired=0),
        ProjectSides("Job Board", backend=2, frontend=1, paired=2),
    )
    picture = cohort_picture(cohort)
    assert picture.known == 6
    assert [step.label for step in picture.funnel] == [
        "Profile set",
        "Announced",
        "Partner found",
        "API agreed",
        "First note",
    ]


def test_empty_cohort():
    picture = cohort_picture([])
    assert picture.known == 0 and picture.projects == ()
    assert [step.learners for step in picture.funnel] == [0] * len(ChecklistStep)


def test_a_partner_counts_once_announced_and_an_api_once_partnered():
    # facts left behind by a withdrawal: the roster lists them as not announced, so does the funnel
    stale = learner(profile=True, teamed=True, api=True)
    assert stale.reached == {ChecklistStep.PROFILE}
    assert counts([stale])[ChecklistStep.PARTNER] == 0
    unpaired_agreement = learner(announced=True, api=True)
    assert ChecklistStep.API not in unpaired_agreement.reached


def test_withdrawn_learners_are_on_no_project():
    assert project_sides([learner(profile=True, project="Job Board", track=Track.BACKEND)]) == ()


def test_projects_are_sorted_case_insensitively():
    cohort = [learner(announced=True, project=name) for name in ("beta", "Alpha", "alpha", "Gamma")]
    assert [p.project_name for p in project_sides(cohort)] == ["Alpha", "alpha", "beta", "Gamma"]


def test_board_rows_become_sides():
    assert sides_from_board("Job Board", 3, 2, 1) == ProjectSides("Job Board", 3, 2, 4)
    assert sides_from_board("Empty", 0, 0, 0) == ProjectSides("Empty", 0, 0, 0)


def test_only_the_largest_projects_are_shown_in_their_order():
    projects = [ProjectSides(f"P{i:02}", i, 0, 0) for i in range(CHART_PROJECTS_MAX + 5)]
    shown, hidden = projects_to_show(projects)
    assert hidden == 5 and len(shown) == CHART_PROJECTS_MAX
    assert [p.project_name for p in shown] == [f"P{i:02}" for i in range(5, CHART_PROJECTS_MAX + 5)]
    few = projects[:3]
    assert projects_to_show(few) == (tuple(few), 0)
    ties = [ProjectSides(name, 1, 1, 0) for name in ("c", "a", "b")]
    assert projects_to_show(ties, limit=2) == ((ties[1], ties[2]), 1)


facts = st.builds(
    learner,
    profile=st.booleans(),
    announced=st.booleans(),
    teamed=st.booleans(),
    api=st.booleans(),
    noted=st.booleans(),
    project=st.sampled_from(["Job Board", "E-Commerce"]),
    track=st.sampled_from(list(Track)),
)

MISSING_FOR = {
    ChecklistStep.PROFILE: RosterStep.NO_PROFILE,
    ChecklistStep.ANNOUNCED: RosterStep.NOT_ANNOUNCED,
    ChecklistStep.NOTE: RosterStep.NO_NOTES,
}


@given(st.lists(facts, max_size=40))
def test_the_funnel_and_the_roster_add_up(cohort):
    reached = counts(cohort)
    for step, missing in MISSING_FOR.items():
        assert reached[step] + sum(missing in p.missing for p in cohort) == len(cohort)
    announced = reached[ChecklistStep.ANNOUNCED]
    assert reached[ChecklistStep.PARTNER] + sum(RosterStep.NO_PARTNER in p.missing for p in cohort) == announced
    assert (
        reached[ChecklistStep.API] + sum(RosterStep.NO_API in p.missing for p in cohort)
        == (reached[ChecklistStep.PARTNER])
    )
    sides = project_sides(cohort)
    assert sum(p.learners for p in sides) == announced
    assert sum(p.paired for p in sides) == reached[ChecklistStep.PARTNER]
