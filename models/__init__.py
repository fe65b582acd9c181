"""Typed SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from models.base import Base, Timestamped, utcnow
from models.cohort import Announcement, AnnouncementRevision, Learner, Project
from models.guild import GuildSettings
from models.matching import ApiAgreement, ApiEndpoint, PairHistory, PoolEntry, Team, TeamMember

__all__ = [
    "Announcement",
    "AnnouncementRevision",
    "ApiAgreement",
    "ApiEndpoint",
    "Base",
    "GuildSettings",
    "Learner",
    "PairHistory",
    "PoolEntry",
    "Project",
    "Team",
    "TeamMember",
    "Timestamped",
    "utcnow",
]
