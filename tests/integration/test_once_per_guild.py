"""Work that must happen once happens once, even when two processes try at the same moment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.db import create_engine, create_sessionmaker
from bot.services.announcements import AnnouncementService
from bot.services.matching import MatchingService
from bot.services.outbox import CLAIM_LEASE, OutboxService
from bot.services.profiles import ProfileService
from models import Announcement, Learner, PairHistory, Project, Team, utcnow


async def _two_learners(sessions, guild_id: int) -> None:
    profiles, announcements = ProfileService(sessions), AnnouncementService(sessions)
    for user_id, track in ((1, "backend"), (2, "frontend")):
        await profiles.set(guild_id, user_id, f"u{user_id}", track=track, timezone="UTC", github=None, skills=None)
        await announcements.announce(
            guild_id, user_id, f"u{user_id}", project="Job Board", track=track, pitch="p", repo_url=None
        )


async def test_two_processes_expire_a_proposal_once(database_url, sessions):
    await _two_learners(sessions, 77)
    first = MatchingService(sessions, proposal_hours=1)
    assert (await first.find(77, 1)).team is not None
    # a second "process": its own engine and pool on the same database
    engine = create_engine(database_url)
    second = MatchingService(create_sessionmaker(engine), proposal_hours=1)
    later = utcnow() + timedelta(hours=2)
    results = await asyncio.gather(first.expire_due(later, [77]), second.expire_due(later, [77]))
    await engine.dispose()
    assert sorted(len(r) for r in results) == [0, 1]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(PairHistory.outcome == "expired")) == 1


async def test_two_match_runs_at_once_place_each_learner_once(database_url, sessions):
    await _two_learners(sessions, 78)
    engine = create_engine(database_url)
    services = [MatchingService(sessions, 1), MatchingService(create_sessionmaker(engine), 1)]
    results = await asyncio.gather(*(s.run(78, None, dry_run=False) for s in services), return_exceptions=True)
    await engine.dispose()
    created = sum(r.created for r in results if not isinstance(r, BaseException))
    assert created == 1
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Team)) == 1


async def test_two_outbox_passes_claim_each_post_once(database_url, sessions):
    guild_id = 79
    await _two_learners(sessions, guild_id)
    team = (await MatchingService(sessions, proposal_hours=1).find(guild_id, 1)).team
    assert team is not None
    async with sessions() as session:
        before = {row.id: row.updated_at for row in (await session.scalars(select(Announcement))).all()}
    waiting = [(Announcement, record_id) for record_id in before] + [(Team, team.id)]
    engine = create_engine(database_url)
    passes = [OutboxService(sessions), OutboxService(create_sessionmaker(engine))]
    now = utcnow()
    for kind, record_id in waiting:
        claims = await asyncio.gather(*(o.claim(kind, record_id, now) for o in passes))
        assert sorted(claims) == [False, True], (kind, claims)  # exactly one pass makes the post
    await engine.dispose()
    # a claimed post is not due again until the lease ends; the claim left "updated" alone
    assert await passes[0].due(Announcement, guild_id, now=now) == []
    assert await passes[0].due(Announcement, guild_id, now=now + CLAIM_LEASE) == sorted(before)
    assert await passes[0].claim(Team, team.id, now + CLAIM_LEASE)
    async with sessions() as session:
        after = {row.id: row.updated_at for row in (await session.scalars(select(Announcement))).all()}
    assert after == before


async def test_a_new_servers_first_commands_at_once(database_url, sessions):
    """The catalog seed and a new member's learner row are created once, however many race for them."""
    guild_id = 80
    engine = create_engine(database_url)
    pools = [sessions, create_sessionmaker(engine)]

    def announce(pool: int, uid: int):
        return AnnouncementService(pools[pool]).announce(
            guild_id, uid, f"u{uid}", project="Job Board", track="backend", pitch="p", repo_url=None
        )

    # the first announcements in the server race to seed its catalog
    await asyncio.gather(*(announce(uid % 2, uid) for uid in range(1, 9)))
    # then new members each run two commands at the same moment: both create their learner row
    profiles = [
        ProfileService(pools[0]).set(
            guild_id, uid, f"u{uid}", track="frontend", timezone="UTC", github=None, skills=None
        )
        for uid in range(100, 106)
    ]
    await asyncio.gather(*profiles, *(announce(1, uid) for uid in range(100, 106)))
    await engine.dispose()
    async with sessions() as session:
        keys = (await session.scalars(select(Project.name_key).where(Project.guild_id == guild_id))).all()
        learners = await session.scalar(select(func.count()).select_from(Learner).where(Learner.guild_id == guild_id))
    assert keys and len(keys) == len(set(keys))
    assert learners == 14
