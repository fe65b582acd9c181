"""A new server time zone moves the next check-in prompts of members without a zone of their own
(and only theirs, and only prompts not yet due), on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.clock import MovableClock
from bot.services.settings import SettingsService
from models import CheckinMember, CheckinSchedule, Learner
from tests.integration.test_follow_ups_service import GUILD, _teams

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday


async def test_the_server_zone_moves_the_prompts_of_members_without_their_own(sessions):
    (team,) = await _teams(sessions, 1)  # members 1 and 2
    async with sessions() as session, session.begin():
        session.add(CheckinSchedule(team_id=team, guild_id=GUILD, days="mon", at="11:00", paused=False, set_by=1))
        session.add(Learner(guild_id=GUILD, user_id=2, display_name="two", timezone="Asia/Tokyo"))
        session.add(CheckinMember(team_id=team, user_id=1, guild_id=GUILD, next_prompt_at=NOW + timedelta(hours=2)))
        session.add(CheckinMember(team_id=team, user_id=2, guild_id=GUILD, next_prompt_at=NOW - timedelta(minutes=1)))
    await SettingsService(sessions, MovableClock(NOW)).set_timezone(GUILD, "America/New_York")
    async with sessions() as session:
        nexts = dict((await session.execute(select(CheckinMember.user_id, CheckinMember.next_prompt_at))).all())
    assert nexts[1] == datetime(2026, 3, 2, 16, tzinfo=UTC)  # 11:00 in New York (UTC-5)
    assert nexts[2] == NOW - timedelta(minutes=1)  # due already: left for the pass that sends it
