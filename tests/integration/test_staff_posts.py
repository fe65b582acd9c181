"""The rule every staff post follows when what it says changes (`shown_or_on_its_way`), on a real
database: forget-me gives a new revision to a check-in flag in the staff channel or waiting to be
posted, and none to one recorded as shown while no staff channel was set (a new revision would post
it late, once a channel is set)."""

from __future__ import annotations

from sqlalchemy import select

from bot.domain.events import CheckinFlagged
from bot.services.checkins import forget_checkins
from models import CheckinFlag
from tests.integration.test_follow_ups_service import GUILD, START, _teams

SILENT = 99


async def test_forget_me_shows_again_only_the_flags_posted_or_on_their_way(sessions):
    never, posted, waiting = await _teams(sessions, 3)
    async with sessions() as session, session.begin():
        for team_id, posted_revision, message_id in ((never, 1, None), (posted, 1, 7001), (waiting, 0, None)):
            session.add(
                CheckinFlag(
                    guild_id=GUILD,
                    team_id=team_id,
                    silent=f"1,{SILENT}",
                    flagged_at=START,
                    revision=1,
                    posted_revision=posted_revision,
                    channel_id=7000 if message_id else None,
                    message_id=message_id,
                )
            )
    async with sessions() as session, session.begin():
        _, events = await forget_checkins(session, GUILD, SILENT)
    flagged = {event.flag_id for event in events if isinstance(event, CheckinFlagged)}
    async with sessions() as session:
        flags = {flag.team_id: flag for flag in await session.scalars(select(CheckinFlag))}
    assert {team: flag.silent for team, flag in flags.items()} == {never: "1", posted: "1", waiting: "1"}
    assert {team: flag.revision for team, flag in flags.items()} == {never: 1, posted: 2, waiting: 2}
    assert flagged == {flags[posted].id, flags[waiting].id}
