"""Follow-ups on teams through the emulator, with the clock moved instead of waited for.

A team formed 48 hours ago is asked, each member by DM with buttons (a channel notice for closed
DMs); the answers show in /cohort roster; "not yet" asks again an interval later, and a second "not
yet" flags the team once in the staff channel. The buttons outlive a restart and refuse outsiders.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FileClock, MovableClock
from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.state import EmuChannel, EmuMember, EmuMessage
from models import FollowUpAsk, FollowUpFlag
from tests.e2e.test_matching import form_team, setup_learners
from tests.harness import BotProcess, World, bot_settings, postgres_url, running_bot, subprocess_env

pytestmark = pytest.mark.slow

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
INTERVAL = timedelta(hours=48)
QUIET = {"follow_up_interval_seconds": 3600.0}
"""The loop's own passes wait an hour: the tests run each pass themselves."""
QUESTION = "Have you met your partner(s)? Have you agreed the API?"


def follow_up_dms(emu: DiscordEmulator, member: EmuMember) -> list[EmuMessage]:
    channel = emu.dm_channel(member)
    return [m for m in emu.channel_messages(channel) if QUESTION in m.content] if channel else []


def flags(emu: DiscordEmulator, channel: EmuChannel) -> list[EmuMessage]:
    return [m for m in emu.channel_messages(channel) if m.embeds and "🚩" in m.embeds[0].get("title", "")]


async def run_pass(bot) -> int:
    asked = await bot.get_cog("FollowUpCog").run_due()
    await bot.delivery.settled()
    return int(asked)


async def _team(world: World, clock: MovableClock) -> tuple[EmuMember, EmuMember]:
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    await form_team(world, a, b)
    return a, b


async def test_a_team_is_asked_after_48_hours_and_flagged_once_after_two_not_yets(world: World, database_url, sessions):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    staff = emu.add_channel(world.guild, "facilitators")
    settings = bot_settings(emu, database_url, world.guild.id, **QUIET)
    async with running_bot(settings, emu, clock=clock) as bot:
        await emu.command(world.admin, "setup staff-channel", channel=staff)
        a, b = await _team(world, clock)
        clock.advance(INTERVAL - timedelta(minutes=5))
        assert await run_pass(bot) == 0  # not due yet
        assert follow_up_dms(emu, a) == [] and follow_up_dms(emu, b) == []
        clock.advance(timedelta(minutes=10))
        assert await run_pass(bot) == 1
        assert await run_pass(bot) == 0  # a pass more finds nothing left to ask
        for member, other in ((a, b), (b, a)):
            (dm,) = follow_up_dms(emu, member)
            assert "Job Board" in dm.content and other.mention in dm.content
            assert [btn["label"] for btn in dm.buttons()] == ["Yes, both", "Met, API not yet", "Not yet"]
        met = emu.reply(await emu.click(a.user, follow_up_dms(emu, a)[0], "Met, API not yet"))
        assert met.ephemeral and "met ✅ · API ⏳" in met.content and "asks your team again" in met.content
        both = emu.reply(await emu.click(b.user, follow_up_dms(emu, b)[0], "Yes, both"))
        assert both.ephemeral and "met ✅ · API ✅" in both.content
        answers = emu.reply(await emu.command(world.admin, "cohort roster", step="follow-ups")).text()
        assert "said not yet: asked again" in answers
        assert f"{a.mention} met ✅ · API ⏳" in answers and f"{b.mention} met ✅ · API ✅" in answers
        missing = emu.reply(await emu.command(world.admin, "cohort roster", step="no-api")).text()
        assert "follow-up: met ✅ · API ⏳" in missing
        exported = emu.reply(await emu.command(world.admin, "cohort roster", step="follow-ups", csv=True))
        rows = {int(r["user_id"]): r for r in csv.DictReader(io.StringIO(exported.attachments[0].data.decode()))}
        assert (rows[a.id]["met"], rows[a.id]["api_agreed"], rows[a.id]["state"]) == ("yes", "not yet", "waiting")
        assert (rows[b.id]["met"], rows[b.id]["api_agreed"], rows[b.id]["flagged"]) == ("yes", "yes", "")
        exported = emu.reply(await emu.command(world.admin, "cohort roster", step="no-api", csv=True))
        rows = {int(r["user_id"]): r for r in csv.DictReader(io.StringIO(exported.attachments[0].data.decode()))}
        assert rows[a.id]["api_agreed"] == "not yet" and rows[b.id]["api_agreed"] == "yes"
        # one interval after the "not yet", the team is asked again
        clock.advance(INTERVAL)
        assert await run_pass(bot) == 1
        assert len(follow_up_dms(emu, a)) == 2 and len(follow_up_dms(emu, b)) == 2
        assert "asked again" in follow_up_dms(emu, a)[1].content
        assert flags(emu, staff) == []
        again = emu.reply(await emu.click(a.user, follow_up_dms(emu, a)[1], "Not yet"))
        assert "facilitator" in again.content
        await bot.delivery.settled()
        (flag,) = flags(emu, staff)
        assert "Job Board" in flag.embeds[0]["title"] and a.mention in flag.text()
        assert not flag.pings().users  # staff read it; the members are not pinged
        # more answers and passes raise no second flag
        await emu.click(b.user, follow_up_dms(emu, b)[1], "Not yet")
        await emu.click(a.user, follow_up_dms(emu, a)[0], "Not yet")  # an old message answers the current round
        clock.advance(INTERVAL * 3)
        assert await run_pass(bot) == 0
        await bot.delivery.settled()
        assert len(flags(emu, staff)) == 1
        flagged = emu.reply(await emu.command(world.admin, "cohort roster", step="flagged")).text()
        assert "🚩" in flagged and a.mention in flagged and b.mention in flagged
        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert "Teams flagged by a follow-up" in shown and "Job Board" in shown
        # forget-me: the staff flag is edited without her
        assert b.mention in flags(emu, staff)[0].text()
        confirm = emu.reply(await emu.command(b, "nexus forget-me"))
        await emu.click(b, confirm, "Forget me")
        await bot.delivery.settled()
        (flag,) = flags(emu, staff)
        assert b.mention not in flag.text() and "ended" in flag.text()  # she left: the team ended
        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert "Job Board (team #" not in shown  # an ended team has nobody left to chase
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FollowUpAsk)) == 2
        assert await session.scalar(select(func.count()).select_from(FollowUpFlag)) == 1


async def test_buttons_work_after_a_restart_and_refuse_outsiders(world: World, database_url):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    settings = bot_settings(emu, database_url, world.guild.id, **QUIET)
    async with running_bot(settings, emu, clock=clock) as bot:
        a, b = await _team(world, clock)
        clock.advance(INTERVAL + timedelta(minutes=1))
        assert await run_pass(bot) == 1
    outsider = world.learners[3]
    async with running_bot(settings, emu, clock=clock):
        refused = emu.reply(await emu.click(outsider.user, follow_up_dms(emu, a)[0], "Yes, both"))
        assert refused.ephemeral and "only they can answer" in refused.content
        done = emu.reply(await emu.click(a.user, follow_up_dms(emu, a)[0], "Yes, both"))
        assert done.ephemeral and "met ✅ · API ✅" in done.content
        done = emu.reply(await emu.click(b.user, follow_up_dms(emu, b)[0], "Yes, both"))
        assert "Your whole team is on its way" in done.content
        answers = emu.reply(await emu.command(world.admin, "cohort roster", step="follow-ups")).text()
        assert "met and agreed the API" in answers and outsider.mention not in answers


async def test_a_closed_dm_member_is_asked_in_the_channel_and_no_staff_channel_keeps_the_flag_in_the_roster(
    world: World, database_url, sessions
):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    settings = bot_settings(emu, database_url, world.guild.id, **QUIET)
    async with running_bot(settings, emu, clock=clock) as bot:
        a, b = await _team(world, clock)
        emu.close_dms(b)
        clock.advance(INTERVAL + timedelta(minutes=1))
        assert await run_pass(bot) == 1
        assert len(follow_up_dms(emu, a)) == 1 and follow_up_dms(emu, b) == []
        (notice,) = [m for m in emu.channel_messages(world.project) if QUESTION in m.text()]
        assert notice.pings().users == {b.id}  # only the member who could not be asked by DM
        outsider = world.learners[3]
        refused = emu.reply(await emu.click(outsider, notice, "Yes, both"))
        assert refused.ephemeral and "only they can answer" in refused.content
        answered = emu.reply(await emu.click(b, notice, "Not yet"))
        assert answered.ephemeral and "met ⏳ · API ⏳" in answered.content
        clock.advance(INTERVAL + timedelta(minutes=1))
        assert await run_pass(bot) == 1
        notices = [m for m in emu.channel_messages(world.project) if QUESTION in m.text()]
        assert len(notices) == 2
        await emu.click(b, notices[1], "Met, API not yet")
        await bot.delivery.settled()
        flagged = emu.reply(await emu.command(world.admin, "cohort roster", step="flagged")).text()
        assert "🚩" in flagged and b.mention in flagged
        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert "Job Board (team #" in shown
        # forget-me changes what the flag would say, but a flag never posted is not posted for it:
        # not as a waiting post, nor once a staff channel is set
        confirm = emu.reply(await emu.command(b, "nexus forget-me"))
        await emu.click(b, confirm, "Forget me")
        await bot.delivery.settled()
        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert "Waiting posts" not in shown
        staff = emu.add_channel(world.guild, "facilitators")
        await emu.command(world.admin, "setup staff-channel", channel=staff)
        assert await bot.delivery.flush(world.guild.id) == (0, 0)
        assert emu.channel_messages(staff) == []
    async with sessions() as session:
        flag = await session.scalar(select(FollowUpFlag))
        assert flag is not None and flag.message_id is None and flag.posted_revision == flag.revision


async def test_a_team_that_ended_is_not_followed_up(world: World, database_url):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    settings = bot_settings(emu, database_url, world.guild.id, **QUIET)
    async with running_bot(settings, emu, clock=clock) as bot:
        a, b = await _team(world, clock)
        prompt = emu.reply(await emu.command(a, "partner leave"))
        await emu.click(a, prompt, "Leave team")
        clock.advance(INTERVAL * 2)
        assert await run_pass(bot) == 0
        assert follow_up_dms(emu, a) == [] and follow_up_dms(emu, b) == []


async def test_a_server_sets_its_own_interval(world: World, database_url):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    settings = bot_settings(emu, database_url, world.guild.id, **QUIET)
    async with running_bot(settings, emu, clock=clock) as bot:
        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert "asked 48 h after a team forms" in shown and "the default" in shown
        set_ = emu.reply(await emu.command(world.admin, "setup follow-up", hours=24))
        assert set_.ephemeral and "asked 24 h after a team forms" in set_.content
        a, b = await _team(world, clock)
        clock.advance(timedelta(hours=23))
        assert await run_pass(bot) == 0
        clock.advance(timedelta(hours=2))
        assert await run_pass(bot) == 1
        await emu.click(a.user, follow_up_dms(emu, a)[0], "Not yet")
        clock.advance(timedelta(hours=24, minutes=1))
        assert await run_pass(bot) == 1  # asked again 24 h after the "not yet"
        assert len(follow_up_dms(emu, b)) == 2
        back = emu.reply(await emu.command(world.admin, "setup follow-up"))
        assert "the default" in back.content
        assert "the default" in emu.reply(await emu.command(world.admin, "setup show")).text()


async def until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


@pytest.mark.skipif(postgres_url() is None, reason="two processes on one PostgreSQL database (NEXUS_TEST_DATABASE_URL)")
async def test_two_processes_on_one_postgres_ask_each_round_once_and_flag_once(world: World, database_url, tmp_path):
    emu = world.emu
    clock_file = tmp_path / "clock"
    FileClock.write(clock_file, START)
    emu.clock = FileClock(clock_file).time
    staff = emu.add_channel(world.guild, "facilitators")
    env = subprocess_env(emu, database_url, world.guild.id) | {
        "NEXUS_CLOCK_FILE": str(clock_file),
        "FOLLOW_UP_INTERVAL_SECONDS": "0.2",
        "OUTBOX_INTERVAL_SECONDS": "0.3",
    }
    first = BotProcess(env, tmp_path / "first.log")
    await first.start(emu)
    second = BotProcess({k: v for k, v in env.items() if k != "DEV_GUILD_ID"}, tmp_path / "second.log")
    try:
        await emu.command(world.admin, "setup staff-channel", channel=staff)
        await emu.command(world.admin, "setup channel", channel=world.project)
        await setup_learners(world, ["backend", "frontend"])
        a, b = world.learners[:2]
        await form_team(world, a, b)
        await second.start(emu)  # both serve the server now, as during a rolling restart
        FileClock.write(clock_file, START + INTERVAL + timedelta(minutes=1))
        await until(lambda: len(follow_up_dms(emu, a)) == 1 and len(follow_up_dms(emu, b)) == 1)
        await asyncio.sleep(1.0)
        assert len(follow_up_dms(emu, a)) == 1 and len(follow_up_dms(emu, b)) == 1
        await emu.click(a.user, follow_up_dms(emu, a)[0], "Not yet")
        FileClock.write(clock_file, START + 2 * INTERVAL + timedelta(minutes=2))
        await until(lambda: len(follow_up_dms(emu, a)) == 2 and len(follow_up_dms(emu, b)) == 2)
        await emu.click(b.user, follow_up_dms(emu, b)[1], "Met, API not yet")
        await until(lambda: len(flags(emu, staff)) == 1)
        await asyncio.sleep(1.0)
        assert len(follow_up_dms(emu, a)) == 2 and len(follow_up_dms(emu, b)) == 2
        assert len(flags(emu, staff)) == 1
    finally:
        assert await second.stop() == 0
        assert await first.stop() == 0
    for process in (first, second):
        log = process.log_path.read_text()
        assert "Traceback" not in log, log[-3000:]
