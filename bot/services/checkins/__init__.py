"""Team check-ins: plans, prompts claimed once, answers, reports, blockers, streaks and flags."""

from bot.services.checkins.prompts import ClaimedPrompt
from bot.services.checkins.service import (
    BlockerClosed,
    CheckinAnswered,
    CheckinService,
    CheckinSetup,
    PromptInfo,
    forget_checkins,
)
from bot.services.checkins.views import AnswerView, BlockerView, CheckinFlagView, ReportView

__all__ = [
    "AnswerView",
    "BlockerClosed",
    "BlockerView",
    "CheckinAnswered",
    "CheckinFlagView",
    "CheckinService",
    "CheckinSetup",
    "ClaimedPrompt",
    "PromptInfo",
    "ReportView",
    "forget_checkins",
]
