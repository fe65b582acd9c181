"""Roster nudges and Nexus's own scheduled posts through the emulator, the clock moved instead of
waited for: who a nudge names (and never: the opted-out, roles, @everyone), the split of a long
roster, DMs with the closed-DM fallback, and /nexus reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.clock import MovableClock
from bot.domain.nudges import NUDGE_MENTIONS_MAX, NUDGE_MESSAGE_CHARS
from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.state import EmuMessage
from models import Learner, NudgePost, Schedule
from tests.e2e.test_matching import form_team, setup_learners
from tests.e2e.test_schedules import FAST, until
from tests.harness import World, bot_settings, running_bot

START = datetime(2026, 3, 25, 10, tzinfo=UTC)  # a Wednesday; the server's zone stays UTC
THURSDAY = datetime(2026, 3, 26, 9, tzinfo=UTC)
NEXT_THURSDAY = THURSDAY + timedelta(days=7)


def nudges(emu: DiscordEmulator, world: World) -> list[EmuMessage]:
    return [
        m
        for m in emu.channel_messages(world.project)
        if m.embeds and "Week-1 reminder" in m.embeds[0].get("footer", {}).get("text", "")
    ]


async def _nudge_weekly(world: World, **options: str) -> str:
    emu = world.emu
    await emu.command(world.admin, "setup staff-role", role=world.staff_role)
    added = emu.reply(
        await emu.command(
            world.mentor,
            "schedule add",
            post="nudge",
            date="2026-03-26",
            time="09:00",
            repeat="weekly",
            days="thu",
            **options,
        )
    )
    assert added.ephemeral and "Scheduled #1 roster nudge" in added.content, added.content
    return added.content


async def test_a_scheduled_nudge_names_exactly_the_learners_missing_each_step(world: World, database_url):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    one, two, three, quiet, noted, stranger = world.learners
    settings = bot_settings(emu, database_url, world.guild.id, **FAST)
    async with running_bot(settings, emu, clock=clock) as bot:
        await setup_learners(world, ["backend", "frontend"])  # one and two: profile and announced
        await form_team(world, one, two)
        await emu.command(three, "profile set", track="backend", timezone="Africa/Lagos")
        await emu.command(quiet, "profile set", track="frontend", timezone="Africa/Lagos")
        await bot.services.notes.share_tip(world.guild.id, noted.id, "Read the error message first", "Python")
        off = emu.reply(await emu.command(quiet, "nexus reminders off"))
        assert off.ephemeral and "Reminders are off" in off.content
        again = emu.reply(await emu.command(quiet, "nexus reminders off"))
        assert again.ephemeral and "already" in again.content
        await _nudge_weekly(world)
        listed = emu.reply(await emu.command(world.admin, "schedule list")).text()
        assert "Roster nudge" in listed
        clock.set(THURSDAY + timedelta(seconds=2))
        await until(lambda: len(nudges(emu, world)) == 1)
        (post,) = nudges(emu, world)
        pings = post.pings()
        assert pings.users == {one.id, two.id, three.id, noted.id} and not pings.mass and not pings.roles
        assert post.allowed_mentions is not None and post.allowed_mentions.get("parse") == []
        lines = [line.partition(": ") for line in post.content.splitlines()]
        assert [(head, set(names.split())) for head, _, names in lines] == [
            ("**Set your profile** with `/profile set`", {noted.mention}),
            ("**Announce your project** with `/project announce`", {three.mention, noted.mention}),
            ("**Agree your API with your partner** with `/api agree`", {one.mention, two.mention}),
            ("**Write your first learning note** with `/note add`", {one.mention, two.mention, three.mention}),
        ]
        assert quiet.mention not in post.content and stranger.mention not in post.content
        # the learner turns reminders back on: next week's nudge names them
        on = emu.reply(await emu.command(quiet, "nexus reminders on"))
        assert on.ephemeral and "Reminders are on" in on.content
        clock.set(NEXT_THURSDAY + timedelta(seconds=2))
        await until(lambda: len(nudges(emu, world)) == 2)
        await bot.get_cog("ScheduleCog").run_due()  # a pass more: nothing left to post
        await bot.delivery.settled()
        assert len(nudges(emu, world)) == 2
        assert quiet.id in nudges(emu, world)[1].pings().users


async def test_a_nudge_for_250_learners_is_split_within_discords_limits(world: World, database_url, sessions):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    members = [emu.add_member(world.guild, f"cohort{n}") for n in range(250)]
    async with sessions() as session, session.begin():
        session.add_all(
            Learner(guild_id=world.guild.id, user_id=m.id, display_name=m.user.username, profile_set_at=START)
            for m in members
        )
    settings = bot_settings(emu, database_url, world.guild.id, **FAST)
    async with running_bot(settings, emu, clock=clock):
        await _nudge_weekly(world)
        clock.set(THURSDAY + timedelta(seconds=2))
        # each of the 250 misses two steps (announce, first note): 500 mentions
        await until(lambda: sum(len(m.pings().users) for m in nudges(emu, world)) == 500, timeout=30)
        posts = nudges(emu, world)
        for post in posts:
            assert len(post.content) <= NUDGE_MESSAGE_CHARS
            assert len(post.pings().users) <= NUDGE_MENTIONS_MAX
            assert len(post.allowed_mentions["users"]) <= NUDGE_MENTIONS_MAX
        assert set().union(*(p.pings().users for p in posts)) == {m.id for m in members}
        assert "(continued)" in posts[1].content
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(NudgePost)) == len(posts)


async def test_dm_nudges_fall_back_to_one_channel_post_for_a_closed_dm(world: World, database_url):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    one, two, three, quiet = world.learners[:4]
    settings = bot_settings(emu, database_url, world.guild.id, **FAST)
    async with running_bot(settings, emu, clock=clock) as bot:
        for member in (one, two, three, quiet):
            await emu.command(member, "profile set", track="backend", timezone="Africa/Lagos")
        await emu.command(quiet, "nexus reminders off")
        emu.close_dms(two)
        added = await _nudge_weekly(world, delivery="dm")
        assert "roster nudge by DM" in added
        clock.set(THURSDAY + timedelta(seconds=2))
        await until(lambda: len(nudges(emu, world)) == 1)
        await bot.delivery.settled()
        for member in (one, three):
            (dm,) = emu.channel_messages(emu.dm_channel(member))
            assert "`/project announce`" in dm.content and "`/note add`" in dm.content
            assert "/profile set" not in dm.content  # done already
        assert emu.channel_messages(emu.dm_channel(two)) == []  # Discord refused: 50007
        refused = emu.requests_to(rf"/channels/{emu.dm_channel(two).id}/messages$", "POST")
        assert [r.status for r in refused] == [403]
        assert emu.dm_channel(quiet) is None  # opted out: never DMed
        (fallback,) = nudges(emu, world)
        assert fallback.pings().users == {two.id} and "DMs are closed" in fallback.text()
        await bot.get_cog("ScheduleCog").run_due()
        await bot.delivery.settled()
        assert len(nudges(emu, world)) == 1  # once per run
        # next week two opened DMs again: DMs only, no channel post
        emu.close_dms(two, closed=False)
        clock.set(NEXT_THURSDAY + timedelta(seconds=2))
        await until(lambda: len(emu.channel_messages(emu.dm_channel(two))) == 1)
        await bot.delivery.settled()
        await bot.get_cog("ScheduleCog").run_due()
        assert len(nudges(emu, world)) == 1


async def test_the_kickoff_can_be_scheduled_and_bad_options_change_nothing(world: World, database_url, sessions):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    settings = bot_settings(emu, database_url, world.guild.id, **FAST)
    async with running_bot(settings, emu, clock=clock):
        cases = [
            ({"post": "kickoff", "text": "hello"}, "leave `text` out"),
            ({"post": "digest", "delivery": "dm"}, "roster nudges only"),
            ({"delivery": "dm", "text": "hello"}, "roster nudges only"),
            ({"post": "nudge", "date": "2020-01-01"}, "in the past"),
        ]
        for options, expected in cases:
            chosen = {"date": "2026-03-26", "time": "09:00"} | options
            reply = emu.reply(await emu.command(world.admin, "schedule add", **chosen))
            assert reply.ephemeral and expected in reply.content, (options, reply.content)
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Schedule)) == 0
        added = emu.reply(
            await emu.command(world.admin, "schedule add", post="kickoff", date="2026-03-26", time="09:00")
        )
        assert "Scheduled #1 kickoff post" in added.content
        clock.set(THURSDAY + timedelta(seconds=2))
        await until(lambda: any("Week 1" in m.text() for m in emu.channel_messages(world.project)))
        await until(lambda: any(m.buttons() for m in emu.channel_messages(world.project)))
        (kickoff,) = [m for m in emu.channel_messages(world.project) if "Week 1" in m.text()]
        assert [b["label"] for b in kickoff.buttons()] == ["Announce my project"]
        opened = await emu.click(world.learner, kickoff, "Announce my project")
        assert opened.modal is not None  # the persistent button works on the scheduled post


async def test_a_learner_who_asks_to_be_forgotten_leaves_the_nudge_posts(world: World, database_url):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    one, two, three = world.learners[:3]
    settings = bot_settings(emu, database_url, world.guild.id, **FAST)
    async with running_bot(settings, emu, clock=clock) as bot:
        await emu.command(one, "profile set", track="backend", timezone="Africa/Lagos")
        await emu.command(two, "profile set", track="backend", timezone="Africa/Lagos")
        await bot.services.notes.share_tip(world.guild.id, three.id, "Small commits", "Python")
        await emu.command(three, "nexus reminders off")
        await _nudge_weekly(world)
        clock.set(THURSDAY + timedelta(seconds=2))
        await until(lambda: len(nudges(emu, world)) == 1)
        (post,) = nudges(emu, world)
        assert post.pings().users == {one.id, two.id}
        prompt = emu.reply(await emu.command(one, "nexus forget-me"))
        done = emu.reply(await emu.click(one, prompt, "Forget me"))
        assert "Removed" in done.content
        await bot.delivery.settled()
        await until(lambda: one.mention not in post.content)
        assert two.mention in post.content and list(map(int, post.allowed_mentions["users"])) == [two.id]
