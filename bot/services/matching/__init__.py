"""Partner matching: find, answer, leave, expire, the self-matching pool and cohort-wide runs."""

from bot.services.matching.lifecycle import end_membership
from bot.services.matching.service import AnswerResult, FindResult, MatchingService, RunResult, Waiting
from bot.services.matching.views import MemberView, TeamView

__all__ = [
    "AnswerResult",
    "FindResult",
    "MatchingService",
    "MemberView",
    "RunResult",
    "TeamView",
    "Waiting",
    "end_membership",
]
