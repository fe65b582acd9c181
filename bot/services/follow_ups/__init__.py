"""Follow-ups on teams: the rounds the loop claims, members' answers, and what staff see."""

from bot.services.follow_ups.rounds import PASS_ROUNDS_MAX, AskedRound, DueRound, FollowUpRounds
from bot.services.follow_ups.service import (
    Answered,
    FollowUpPrompt,
    FollowUpService,
    MemberAnswer,
    TeamFollowUpView,
)

__all__ = [
    "PASS_ROUNDS_MAX",
    "Answered",
    "AskedRound",
    "DueRound",
    "FollowUpPrompt",
    "FollowUpRounds",
    "FollowUpService",
    "MemberAnswer",
    "TeamFollowUpView",
]
