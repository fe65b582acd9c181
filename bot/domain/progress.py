"""The cohort at a glance: how many learners reached each Week-1 step, and each project's sides.

Pure counting over per-learner facts; the service reads the facts, the charts draw these numbers
and the replies print them, so the image and its text can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.domain.cohort import ChecklistStep, RosterStep, Track, roster_missing

FUNNEL_LABELS: dict[ChecklistStep, str] = {
    ChecklistStep.PROFILE: "Profile set",
    ChecklistStep.ANNOUNCED: "Announced",
    ChecklistStep.PARTNER: "Partner found",
    ChecklistStep.API: "API agreed",
    ChecklistStep.NOTE: "First note",
}
"""The funnel's bars, in checklist order, as the chart and its text name them."""

CHART_PROJECTS_MAX = 25
"""Projects one chart (and its text) shows: the ones with the most learners; the rest are counted."""


@dataclass(frozen=True)
class LearnerProgress:
    """What one learner has done of Week 1, and where they build (None until they announce)."""

    profile: bool
    announced: bool
    teamed: bool
    api_agreed: bool
    noted: bool
    project_name: str | None = None
    track: Track | None = None

    @property
    def missing(self) -> list[RosterStep]:
        """The roster steps this learner is missing, in checklist order."""
        return roster_missing(
            profile=self.profile,
            announced=self.announced,
            teamed=self.teamed,
            api_agreed=self.api_agreed,
            noted=self.noted,
        )

    @property
    def reached(self) -> frozenset[ChecklistStep]:
        """The Week-1 steps done. As in the roster, a partner counts once announced and an agreed
        API once partnered, so a step's learners and the roster's learners missing it add up."""
        done: set[ChecklistStep] = set()
        if self.profile:
            done.add(ChecklistStep.PROFILE)
        if self.announced:
            done.add(ChecklistStep.ANNOUNCED)
            if self.teamed:
                done.add(ChecklistStep.PARTNER)
                if self.api_agreed:
                    done.add(ChecklistStep.API)
        if self.noted:
            done.add(ChecklistStep.NOTE)
        return frozenset(done)


@dataclass(frozen=True)
class FunnelStep:
    """One bar of the funnel: how many learners reached `step`."""

    step: ChecklistStep
    label: str
    learners: int


@dataclass(frozen=True)
class ProjectSides:
    """One project's announced learners per side, and how many of them are in a formed team."""

    project_name: str
    backend: int
    frontend: int
    paired: int

    @property
    def learners(self) -> int:
        """Everyone who announced this project, on either side."""
        return self.backend + self.frontend


@dataclass(frozen=True)
class CohortPicture:
    """Everything the staff chart shows: the learners Nexus knows, the funnel, every project."""

    known: int
    funnel: tuple[FunnelStep, ...]
    projects: tuple[ProjectSides, ...]


def funnel(progress: Iterable[LearnerProgress]) -> tuple[FunnelStep, ...]:
    """How many of these learners reached each Week-1 step, in checklist order."""
    counts = dict.fromkeys(ChecklistStep, 0)
    for learner in progress:
        for step in learner.reached:
            counts[step] += 1
    return tuple(FunnelStep(step, FUNNEL_LABELS[step], counts[step]) for step in ChecklistStep)


def project_sides(progress: Iterable[LearnerProgress]) -> tuple[ProjectSides, ...]:
    """Each project an active announcement names, with its backend, frontend and paired counts,
    by name (case-insensitive)."""
    sides: dict[str, list[int]] = {}
    for learner in progress:
        if not learner.announced or learner.project_name is None:
            continue
        counts = sides.setdefault(learner.project_name, [0, 0, 0])
        counts[0 if learner.track is Track.BACKEND else 1] += 1
        counts[2] += learner.teamed
    return tuple(
        ProjectSides(name, backend, frontend, paired)
        for name, (backend, frontend, paired) in sorted(sides.items(), key=lambda item: (item[0].casefold(), item[0]))
    )


def cohort_picture(progress: Sequence[LearnerProgress]) -> CohortPicture:
    """The staff chart's numbers for these learners (every learner Nexus knows in a guild)."""
    return CohortPicture(len(progress), funnel(progress), project_sides(progress))


def sides_from_board(project_name: str, backend: int, frontend: int, without_partner: int) -> ProjectSides:
    """A board row (announced per side and those without a partner) as the chart's sides."""
    return ProjectSides(project_name, backend, frontend, max(0, backend + frontend - without_partner))


def projects_to_show(
    projects: Sequence[ProjectSides], limit: int = CHART_PROJECTS_MAX
) -> tuple[tuple[ProjectSides, ...], int]:
    """The `limit` projects with the most learners (ties by name), in their given order, and how
    many were left out."""
    if len(projects) <= limit:
        return tuple(projects), 0
    ranked = sorted(range(len(projects)), key=lambda i: (-projects[i].learners, projects[i].project_name.casefold()))
    kept = sorted(ranked[:limit])
    return tuple(projects[i] for i in kept), len(projects) - limit
