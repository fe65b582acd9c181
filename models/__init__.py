"""Typed SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from models.base import Base, Timestamped, utcnow
from models.checkin import CheckinAnswer, CheckinFlag, CheckinMember, CheckinPrompt, CheckinReport, CheckinSchedule
from models.cohort import Announcement, AnnouncementRevision, Learner, Project
from models.delivery import ChannelNotice, NoticeMember, PostDeletion, StaffNotice
from models.follow_up import FollowUpAsk, FollowUpFlag, FollowUpReply, TeamFollowUp
from models.guild import GuildSettings
from models.matching import ApiAgreement, ApiChange, ApiEndpoint, PairHistory, PoolEntry, Team, TeamMember, TeamThread
from models.note import Note, NoteTopic, NoteVote
from models.nudge import NudgeDm, NudgePost, ReminderOptOut
from models.schedule import Schedule, ScheduleRun

__all__ = [
    "Announcement",
    "AnnouncementRevision",
    "ApiAgreement",
    "ApiChange",
    "ApiEndpoint",
    "Base",
    "ChannelNotice",
    "CheckinAnswer",
    "CheckinFlag",
    "CheckinMember",
    "CheckinPrompt",
    "CheckinReport",
    "CheckinSchedule",
    "FollowUpAsk",
    "FollowUpFlag",
    "FollowUpReply",
    "GuildSettings",
    "Learner",
    "Note",
    "NoteTopic",
    "NoteVote",
    "NoticeMember",
    "NudgeDm",
    "NudgePost",
    "PairHistory",
    "PoolEntry",
    "PostDeletion",
    "Project",
    "ReminderOptOut",
    "Schedule",
    "ScheduleRun",
    "StaffNotice",
    "Team",
    "TeamFollowUp",
    "TeamMember",
    "TeamThread",
    "Timestamped",
    "utcnow",
]
