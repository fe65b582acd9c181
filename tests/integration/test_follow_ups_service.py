"""Follow-ups on a real database: each round claimed once however many passes race for it (two
engines: two processes), answers, the flag stored once, and teams that ended left alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, inspect, select

from bot.clock import MovableClock
from bot.db import alembic_config, create_engine, create_sessionmaker, upgrade_database
from bot.domain.errors import PermissionDeniedError
from bot.domain.team_follow_ups import FollowUpAnswer, FollowUpClosed, FollowUpState
from bot.domain.teams import TeamStatus
from bot.services.follow_ups import FollowUpService
from bot.services.outbox import CLAIM_LEASE
from models import FollowUpAsk, FollowUpFlag, GuildSettings, Project, Team, TeamMember
from tests.harness import DatabaseFactory, postgres_url
from tests.integration.test_migrations import _empty_database

GUILD = 4242
START = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOURS = 48.0
TEAMS = 12


async def _teams(sessions, count: int, *, status: TeamStatus = TeamStatus.ACTIVE) -> list[int]:
    """`count` pairs formed at START: members 2i+1 and 2i+2 of team i."""
    async with sessions() as session, session.begin():
        project = Project(guild_id=GUILD, name="Job Board", name_key="job board")
        session.add(project)
        await session.flush()
        ids = []
        for i in range(count):
            team = Team(guild_id=GUILD, project_id=project.id, status=status.value, expires_at=START, formed_at=START)
            session.add(team)
            await session.flush()
            for user_id, track in ((2 * i + 1, "backend"), (2 * i + 2, "frontend")):
                session.add(
                    TeamMember(
                        guild_id=GUILD,
                        team_id=team.id,
                        user_id=user_id,
                        track=track,
                        accepted_at=START,
                        is_current=status is TeamStatus.ACTIVE,
                    )
                )
            ids.append(team.id)
        return ids


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _race(services: list[FollowUpService]) -> int:
    """Passes racing in both engines; each asks what it claimed (as the delivery layer does)."""
    passes = await asyncio.gather(*(s.run_pass([GUILD]) for s in services for _ in range(3)))
    for claimed in passes:
        for asked in claimed:
            await services[0].mark_asked(asked.team_id, asked.round)
    return sum(len(claimed) for claimed in passes)


@pytest.mark.skipif(postgres_url() is None, reason="two processes on one PostgreSQL database (NEXUS_TEST_DATABASE_URL)")
async def test_racing_passes_on_postgresql_claim_each_round_once(database_url, sessions):
    clock = MovableClock(START)
    engine = create_engine(database_url)
    services = [FollowUpService(sessions, clock, HOURS), FollowUpService(create_sessionmaker(engine), clock, HOURS)]
    try:
        teams = await _teams(sessions, TEAMS)
        clock.advance(timedelta(hours=HOURS, minutes=1))
        assert await _race(services) == TEAMS
        assert await _race(services) == 0
        for team_id in teams:  # every team says "not yet": round 2 is due an interval later
            await services[0].answer(team_id, 2 * teams.index(team_id) + 1, FollowUpAnswer.NOT_YET)
        clock.advance(timedelta(hours=HOURS, minutes=1))
        assert await _race(services) == TEAMS
        assert await _count(sessions, FollowUpAsk) == 2 * TEAMS
        # both members answering "not yet" at once, through both engines: one flag per team
        async with sessions() as session, session.begin():
            session.add(GuildSettings(guild_id=GUILD, staff_channel_id=99))
        answers = [
            services[k % 2].answer(team_id, 2 * i + 1 + k, FollowUpAnswer.NOT_YET)
            for i, team_id in enumerate(teams)
            for k in (0, 1)
        ]
        answered = await asyncio.gather(*answers)
        assert sum(len(a.events) for a in answered) == TEAMS
        assert await _count(sessions, FollowUpFlag) == TEAMS
    finally:
        await engine.dispose()


async def test_two_engines_claim_once_and_a_flag_is_stored_once(database_url, sessions):
    clock = MovableClock(START)
    engine = create_engine(database_url)
    services = [FollowUpService(sessions, clock, HOURS), FollowUpService(create_sessionmaker(engine), clock, HOURS)]
    try:
        (team_id,) = await _teams(sessions, 1)
        clock.advance(timedelta(hours=HOURS - 1))
        assert await services[0].due([GUILD]) == []
        clock.advance(timedelta(hours=2))
        assert await _race(services) == 1
        with pytest.raises(PermissionDeniedError):
            await services[0].answer(team_id, 99, FollowUpAnswer.BOTH)
        first = await services[0].answer(team_id, 1, FollowUpAnswer.MET)
        assert first.state is FollowUpState.WAITING and first.next_ask_at is not None
        assert abs(first.next_ask_at - clock.now() - timedelta(hours=HOURS)) < timedelta(seconds=5)
        changed = await services[1].answer(team_id, 1, FollowUpAnswer.BOTH)
        assert changed.state is FollowUpState.ASKED  # changed their mind; the partner has not answered
        back = await services[1].answer(team_id, 1, FollowUpAnswer.NOT_YET)
        assert back.state is FollowUpState.WAITING
        clock.advance(timedelta(hours=HOURS + 1))
        assert await _race(services) == 1
        flagged = await services[0].answer(team_id, 2, FollowUpAnswer.NOT_YET)
        assert flagged.state is FollowUpState.FLAGGED and flagged.events == ()  # no staff channel: no post
        again = await services[1].answer(team_id, 1, FollowUpAnswer.NOT_YET)
        assert again.state is FollowUpState.FLAGGED and again.events == ()
        assert await _count(sessions, FollowUpFlag) == 1
        (view,) = await services[0].teams(GUILD, flagged_only=True)
        assert view.flagged and [m.answer for m in view.members] == [FollowUpAnswer.NOT_YET, FollowUpAnswer.NOT_YET]
        clock.advance(timedelta(days=30))
        assert await _race(services) == 0
    finally:
        await engine.dispose()


async def test_teams_that_ended_are_not_followed_up(database_url, sessions):
    clock = MovableClock(START)
    service = FollowUpService(sessions, clock, HOURS)
    (active,) = await _teams(sessions, 1)
    async with sessions() as session, session.begin():
        project_id = await session.scalar(select(Project.id))
        session.add(
            Team(
                guild_id=GUILD,
                project_id=project_id,
                status=TeamStatus.DISSOLVED.value,
                expires_at=START,
                formed_at=START,
            )
        )
    clock.advance(timedelta(hours=HOURS + 1))
    assert [a.team_id for a in await service.run_pass([GUILD])] == [active]
    await service.answer(active, 1, FollowUpAnswer.NOT_YET)
    async with sessions() as session, session.begin():
        team = await session.get(Team, active)
        assert team is not None
        team.status = TeamStatus.DISSOLVED.value
    clock.advance(timedelta(hours=HOURS + 1))
    assert await service.run_pass([GUILD]) == []
    (view,) = await service.teams(GUILD)
    assert view.state is FollowUpState.ENDED
    with pytest.raises(FollowUpClosed):
        await service.answer(active, 1, FollowUpAnswer.BOTH)
    assert await service.run_pass([GUILD + 1]) == [] and await service.due([]) == []


async def test_a_round_whose_process_died_before_asking_is_asked_once_the_lease_ends(database_url, sessions):
    clock = MovableClock(START)
    engine = create_engine(database_url)
    services = [FollowUpService(sessions, clock, HOURS), FollowUpService(create_sessionmaker(engine), clock, HOURS)]
    try:
        (team_id,) = await _teams(sessions, 1)
        clock.advance(timedelta(hours=HOURS + 1))
        (claimed,) = await services[0].run_pass([GUILD])  # ... and the process dies before asking
        assert await services[1].run_pass([GUILD]) == []  # leased to the first process
        clock.advance(CLAIM_LEASE + timedelta(seconds=1))
        passes = await asyncio.gather(*(s.run_pass([GUILD]) for s in services for _ in range(2)))
        (again,) = [asked for claimed_now in passes for asked in claimed_now]
        assert again == claimed and (again.team_id, again.round) == (team_id, 1)
        await services[1].mark_asked(team_id, 1)
        clock.advance(CLAIM_LEASE * 2)
        assert await services[0].run_pass([GUILD]) == []
        assert await _count(sessions, FollowUpAsk) == 1
    finally:
        await engine.dispose()


def test_migration_0013_downgrades_and_upgrades_again(database_factory: DatabaseFactory, tmp_path: Path):
    url = _empty_database(database_factory, tmp_path)
    try:
        upgrade_database(url)
        command.downgrade(alembic_config(url), "0012")
        engine = create_engine(url)

        async def shape() -> tuple[set[str], set[str]]:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: (
                        set(inspect(sync).get_table_names()),
                        {c["name"] for c in inspect(sync).get_columns("guild_settings")},
                    )
                )

        tables, columns = asyncio.run(shape())
        asyncio.run(engine.dispose())
        assert not tables & {"team_follow_ups", "follow_up_asks", "follow_up_replies", "follow_up_flags"}
        assert "follow_up_hours" not in columns and "staff_channel_id" in columns
        upgrade_database(url)
        command.check(alembic_config(url))
    finally:
        database_factory.drop(url)
