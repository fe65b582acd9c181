"""Typed SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from models.base import Base, Timestamped, utcnow
from models.cohort import Announcement, AnnouncementRevision, Learner, Project
from models.delivery import ChannelNotice, NoticeMember, PostDeletion
from models.follow_up import FollowUpAsk, FollowUpFlag, FollowUpReply, TeamFollowUp
from models.guild import GuildSettings
from models.matching import ApiAgreement, ApiEndpoint, PairHistory, PoolEntry, Team, TeamMember
from models.note import Note, NoteTopic, NoteVote
from models.schedule import Schedule, ScheduleRun

__all__ = [
    "Announcement",
    "AnnouncementRevision",
    "ApiAgreement",
    "ApiEndpoint",
    "Base",
    "ChannelNotice",
    "FollowUpAsk",
    "FollowUpFlag",
    "FollowUpReply",
    "GuildSettings",
    "Learner",
    "Note",
    "NoteTopic",
    "NoteVote",
    "NoticeMember",
    "PairHistory",
    "PoolEntry",
    "PostDeletion",
    "Project",
    "Schedule",
    "ScheduleRun",
    "Team",
    "TeamFollowUp",
    "TeamMember",
    "Timestamped",
    "utcnow",
]
