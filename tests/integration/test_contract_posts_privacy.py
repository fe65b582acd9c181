"""Forget-me deletes exactly the contract-change posts that name the member (on a real database):
those of changes she made and of changes made while she was an accepted member (each pings the
accepted members told), not a pair's posts a trio newcomer who never accepted was never told of."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db import create_engine, create_sessionmaker, upgrade_database
from bot.services.api import ApiService
from bot.services.privacy import PrivacyService
from models import ApiChange, PostDeletion, Project, Team, TeamMember

GUILD, THREAD = 5, 900
A, B, NEWCOMER, LATE = 11, 12, 13, 14
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.fixture
async def team(database_url: str):
    upgrade_database(database_url)
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions.begin() as session:
        project = Project(guild_id=GUILD, name="Job Board", name_key="job board")
        session.add(project)
        await session.flush()
        team = Team(guild_id=GUILD, project_id=project.id, status="active", expires_at=T0, formed_at=T0)
        session.add(team)
        await session.flush()
        members = [
            (A, "backend", T0, True),
            (B, "frontend", T0, True),
            (NEWCOMER, "backend", None, False),  # proposed as a third, declined: never told
            (LATE, "frontend", T0 + timedelta(hours=2), True),  # accepted after the first change
        ]
        for user_id, track, accepted, current in members:
            session.add(
                TeamMember(
                    guild_id=GUILD,
                    team_id=team.id,
                    user_id=user_id,
                    track=track,
                    accepted_at=accepted,
                    is_current=current,
                )
            )
        for version, (actor, hours) in enumerate(((A, 1), (B, 3)), start=1):
            session.add(
                ApiChange(
                    guild_id=GUILD,
                    team_id=team.id,
                    endpoint_id=1,
                    version=version,
                    actor_id=actor,
                    created_at=T0 + timedelta(hours=hours),
                    post_channel_id=THREAD,
                    post_message_id=version,  # message 1 for the first change, 2 for the second
                )
            )
    yield sessions, team.id
    await engine.dispose()


async def _deleted(sessions) -> set[int | None]:
    async with sessions() as session:
        return {d.message_id for d in await session.scalars(select(PostDeletion))}


async def test_a_newcomer_who_never_accepted_leaves_the_pairs_posts(team):
    sessions, _ = team
    await PrivacyService(sessions).forget(GUILD, NEWCOMER)
    assert await _deleted(sessions) == set()


async def test_a_member_accepted_later_takes_only_the_posts_after_she_joined(team):
    sessions, _ = team
    await PrivacyService(sessions).forget(GUILD, LATE)
    assert await _deleted(sessions) == {2}
    async with sessions() as session:
        kept = {c.version: c.post_message_id for c in await session.scalars(select(ApiChange))}
    assert kept == {1: 1, 2: None}  # recorded no more: a teammate forgotten later does not ask again


async def test_the_author_takes_her_change_and_those_she_was_told(team):
    sessions, _ = team
    await PrivacyService(sessions).forget(GUILD, A)
    assert await _deleted(sessions) == {1, 2}


async def test_a_post_recorded_after_its_author_was_forgotten_is_deleted_at_once(team):
    """The race: the post is sent, forget-me commits, then the post is recorded."""
    sessions, team_id = team
    async with sessions.begin() as session:
        change = ApiChange(guild_id=GUILD, team_id=team_id, endpoint_id=1, version=3, actor_id=B)
        session.add(change)
    await PrivacyService(sessions).forget(GUILD, B)
    api = ApiService(sessions)
    retired = await api.record_post(change.id, THREAD, 77, [A, LATE])
    assert retired and 77 in await _deleted(sessions)
    async with sessions() as session:
        row = await session.get(ApiChange, change.id)
        assert row is not None and row.post_message_id is None


async def test_a_post_recorded_after_a_told_member_was_forgotten_is_deleted_at_once(team):
    sessions, team_id = team
    async with sessions.begin() as session:
        change = ApiChange(guild_id=GUILD, team_id=team_id, endpoint_id=1, version=3, actor_id=A)
        session.add(change)
    await PrivacyService(sessions).forget(GUILD, LATE)
    assert await ApiService(sessions).record_post(change.id, THREAD, 78, [B, LATE])
    assert 78 in await _deleted(sessions)
    # and with nobody forgotten, the post is recorded
    async with sessions.begin() as session:
        other = ApiChange(guild_id=GUILD, team_id=team_id, endpoint_id=1, version=4, actor_id=A)
        session.add(other)
    assert await ApiService(sessions).record_post(other.id, THREAD, 79, [B]) == []
    async with sessions() as session:
        row = await session.get(ApiChange, other.id)
        assert row is not None and (row.post_channel_id, row.post_message_id) == (THREAD, 79)
