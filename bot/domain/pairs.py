"""Who can be paired: a learner as the matcher sees them, and the rules on pairs seen before."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.cohort import Track


@dataclass(frozen=True)
class Candidate:
    """A learner who can be matched: the same project, one track, a time zone offset and skills."""

    user_id: int
    track: Track
    utc_offset_minutes: int | None = None
    skills: frozenset[str] = frozenset()

    @staticmethod
    def normalise_skills(skills: Iterable[str]) -> frozenset[str]:
        return frozenset(" ".join(s.casefold().split()) for s in skills if s.strip())


def pair_key(a: int, b: int) -> tuple[int, int]:
    """The order-free identity of a pair of learners."""
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class PairRules:
    """Pairs that may never be proposed again, and pairs that were proposed before."""

    forbidden: frozenset[tuple[int, int]] = frozenset()
    previous: frozenset[tuple[int, int]] = frozenset()

    def allows(self, a: int, b: int) -> bool:
        return pair_key(a, b) not in self.forbidden
