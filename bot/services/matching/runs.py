"""Carrying out a cohort-wide matching plan inside the run's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.events import Event, NoticeStored, ProposalMade
from bot.domain.matching import ProjectOutcome
from bot.domain.notices import NOTICE_MENTIONS_MAX, NoticeKind, NoticeRole
from bot.domain.teams import TeamEvent, TeamStatus
from bot.services.matching.lifecycle import create_team, leave_pool, move, to_pool
from bot.services.notices import NoticeLine, add_notice
from models import Team, TeamMember


async def apply_plan(
    session: AsyncSession, guild_id: int, plan: dict[int, ProjectOutcome], expires_at: datetime
) -> tuple[int, list[Event]]:
    """Create the plan's proposals and trio joins, keep the unplaced in the pool with their reason,
    and store the run's channel notice; returns how many proposals were made and the events."""
    events: list[Event] = []
    lines: list[NoticeLine] = []
    created = 0
    for project_id, outcome in plan.items():
        for group in outcome.groups:
            team = await create_team(session, guild_id, project_id, group.members, group.score, expires_at)
            events.append(ProposalMade(team.id))
            created += 1
        for join in outcome.joins:
            joined = await session.get(Team, join.team_id, with_for_update=True)
            assert joined is not None
            move(joined, TeamEvent.NEWCOMER_JOINED)
            session.add(
                TeamMember(
                    guild_id=guild_id,
                    team_id=joined.id,
                    user_id=join.candidate.user_id,
                    track=join.candidate.track.value,
                )
            )
            if joined.status == TeamStatus.ACTIVE:
                joined.expires_at = expires_at
            await leave_pool(session, guild_id, [join.candidate.user_id])
            events.append(ProposalMade(joined.id))
            lines.append(NoticeLine(join.candidate.user_id, NoticeRole.JOINED, join.candidate.track))
        for unplaced in outcome.unplaced:
            await to_pool(session, guild_id, [unplaced.user_id], unplaced.reason)
            lines.append(NoticeLine(unplaced.user_id, NoticeRole.UNPLACED, unplaced.track, unplaced.reason.value))
    await session.flush()
    notice = await add_notice(session, guild_id, NoticeKind.MATCH_RUN, lines[:NOTICE_MENTIONS_MAX], count=created)
    events.append(NoticeStored(notice.id))
    return created, events
