"""Channel notices: the kinds Nexus posts and the part each mentioned member plays in one."""

from __future__ import annotations

from enum import StrEnum

NOTICE_MENTIONS_MAX = 90
"""Members a notice mentions at most (Discord pings at most 100 users per message; the rest are
counted, not named)."""


class NoticeKind(StrEnum):
    """What a channel notice says."""

    TEAM_ENDED = "team_ended"
    """A team ended: told in the channel to members whose DMs are closed."""
    MATCH_RUN = "match_run"
    API_CHANGED = "api_changed"
    """A team's API contract changed: told in the channel to members whose DMs are closed."""
    """A cohort-wide matching run's summary: how many proposals, who joined a team, who still waits."""
    FOLLOW_UP = "follow_up"
    """A team's follow-up question, asked in the channel of members whose DMs are closed."""


class NoticeRole(StrEnum):
    """Why a member is mentioned in a notice."""

    TOLD = "told"
    JOINED = "joined"
    UNPLACED = "unplaced"
    ASKED = "asked"
