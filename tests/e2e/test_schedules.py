"""Scheduled posts through the emulator, with the clock moved instead of waited for.

The bot in-process shares one MovableClock with the emulator; bot processes follow a clock file
(NEXUS_CLOCK_FILE). Every occurrence must be posted exactly once: across a restart, and when two
processes serve the same server on one PostgreSQL database (the overlap of a rolling restart).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import FileClock, MovableClock
from bot.domain.schedules import Repeat
from bot.sandbox.emulator import CommandHidden, DiscordEmulator
from bot.sandbox.state import EmuMessage
from models import Schedule, ScheduleRun
from tests.harness import BotProcess, World, bot_settings, postgres_url, running_bot, subprocess_env

pytestmark = pytest.mark.slow

# Wednesday 25 March 2026, 10:00 UTC: Paris moves to summer time on Sunday the 29th
START = datetime(2026, 3, 25, 10, tzinfo=UTC)
FIRST_SUNDAY = datetime(2026, 3, 29, 7, tzinfo=UTC)  # 09:00 in Paris, summer time (UTC+2)
SECOND_SUNDAY = datetime(2026, 4, 5, 7, tzinfo=UTC)
TEXT = "Stand-up in the voice channel at 09:15: bring one win and one blocker. @everyone"
FAST = {"schedule_interval_seconds": 0.2, "outbox_interval_seconds": 0.3}
QUIET = 1.0
HANGING_POST = 3.0
"""Seconds the emulator holds a post while its process is killed."""
"""How long to watch for a post that must not appear."""


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


async def until_async(read: Callable[[], Awaitable[int]], expected: int, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await read() != expected:
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


async def _unposted(sessions) -> int:
    async with sessions() as session:
        stale = ScheduleRun.posted_revision != ScheduleRun.revision
        return int(await session.scalar(select(func.count()).select_from(ScheduleRun).where(stale)) or 0)


def scheduled_posts(emu: DiscordEmulator, world: World) -> list[EmuMessage]:
    return [
        m
        for m in emu.channel_messages(world.project)
        if m.embeds and "Scheduled post" in m.embeds[0].get("footer", {}).get("text", "")
    ]


async def _zone_and_weekly(emu: DiscordEmulator, world: World, *, text: str = TEXT) -> str:
    await emu.command(world.admin, "setup staff-role", role=world.staff_role)
    zone = emu.reply(await emu.command(world.admin, "setup timezone", zone="Europe/Paris"))
    assert "Europe/Paris" in zone.content and zone.ephemeral
    added = emu.reply(
        await emu.command(
            world.mentor, "schedule add", text=text, date="2026-03-29", time="09:00", repeat="weekly", days="sun"
        )
    )
    assert added.ephemeral and "Scheduled #" in added.content, added.content
    assert "Sun 2026-03-29 09:00" in added.content
    assert f"It will appear in {world.project.mention}" in added.content
    return added.content


async def test_a_weekly_schedule_posts_once_per_week_across_a_restart(world: World, database_url, sessions):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    settings = bot_settings(emu, database_url, world.guild.id, **FAST)
    async with running_bot(settings, emu, clock=clock):
        await _zone_and_weekly(emu, world)
        await asyncio.sleep(QUIET)
        assert scheduled_posts(emu, world) == []  # not due yet
        clock.set(FIRST_SUNDAY + timedelta(seconds=5))
        await until(lambda: len(scheduled_posts(emu, world)) == 1)
        post = scheduled_posts(emu, world)[0]
        assert post.embeds[0]["description"] == TEXT
        assert post.content == ""  # the text is in the embed, where mentions never ping
    # a restart between the two occurrences
    clock.set(SECOND_SUNDAY - timedelta(hours=1))
    async with running_bot(settings, emu, clock=clock) as bot:
        await asyncio.sleep(QUIET)
        assert len(scheduled_posts(emu, world)) == 1
        clock.set(SECOND_SUNDAY + timedelta(seconds=5))
        await until(lambda: len(scheduled_posts(emu, world)) == 2)
        await bot.get_cog("ScheduleCog").run_due()  # a pass more finds nothing left to do
        await asyncio.sleep(QUIET)
        listed = emu.reply(await emu.command(world.admin, "schedule list"))
        assert listed.ephemeral
        assert "posted 2" in listed.text() and "Sun 2026-04-12 09:00" in listed.text()
    assert len(scheduled_posts(emu, world)) == 2
    async with sessions() as session:
        due = sorted(await session.scalars(select(ScheduleRun.due_at)))
    assert due == [FIRST_SUNDAY, SECOND_SUNDAY]


async def test_a_run_missed_while_down_is_posted_within_the_grace_and_skipped_beyond(
    world: World, database_url, sessions
):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    settings = bot_settings(emu, database_url, world.guild.id, schedule_grace_minutes=60, **FAST)
    async with running_bot(settings, emu, clock=clock):
        await _zone_and_weekly(emu, world)
        once = emu.reply(
            await emu.command(world.admin, "schedule add", text="Kickoff call now!", date="2026-03-29", time="11:00")
        )
        assert "Scheduled #" in once.content
    # down from Wednesday until Sunday 12:30 Paris: the 09:00 run is 3.5 h late, the 11:00 one 1.5 h
    clock.set(datetime(2026, 3, 29, 10, 30, tzinfo=UTC))
    async with running_bot(settings, emu, clock=clock):
        await asyncio.sleep(QUIET)
        assert scheduled_posts(emu, world) == []
        listed = emu.reply(await emu.command(world.admin, "schedule list")).text()
        assert "Skipped" in listed and "Sun 2026-03-29 09:00" in listed and "Sun 2026-03-29 11:00" in listed
        assert "Sun 2026-04-05 09:00" in listed  # the weekly one goes on
    # down again, back 30 minutes after the next Sunday's run: within the grace, posted once
    clock.set(SECOND_SUNDAY + timedelta(minutes=30))
    async with running_bot(settings, emu, clock=clock):
        await until(lambda: len(scheduled_posts(emu, world)) == 1)
        await asyncio.sleep(QUIET)
    assert len(scheduled_posts(emu, world)) == 1
    async with sessions() as session:
        outcomes = sorted(await session.scalars(select(ScheduleRun.outcome)))
    assert outcomes == ["posted", "skipped", "skipped"]


async def _stored(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Schedule)) or 0)


async def test_bad_input_gets_a_clear_ephemeral_answer_and_changes_nothing(nexus, world: World, sessions):
    emu = world.emu
    staff = world.admin
    other = await nexus.services.schedules.add(
        world.guild.id + 1, 1, "another server's post", repeat=Repeat.ONCE, start="2030-01-01", at="09:00", days=None
    )
    cases = [
        ({"text": "hi", "date": "2020-01-01", "time": "09:00"}, "in the past"),
        ({"text": "hi", "date": "2030-01-01", "time": "25:00"}, "not a time of day"),
        ({"text": "hi", "date": "2030-02-30", "time": "09:00"}, "not a date"),
        ({"text": "   ", "date": "2030-01-01", "time": "09:00"}, "text is empty"),
        ({"text": "hi", "date": "2030-01-01", "time": "09:00", "repeat": "weekly"}, "at least one day"),
        ({"text": "hi", "date": "2030-01-01", "time": "09:00", "repeat": "weekly", "days": "funday"}, "not a day"),
    ]
    for options, expected in cases:
        reply = emu.reply(await emu.command(staff, "schedule add", **options))
        assert reply.ephemeral and expected in reply.content, (options, reply.content)
    zone = emu.reply(await emu.command(staff, "setup timezone", zone="Mars/Olympus_Mons"))
    assert zone.ephemeral and "not a time zone" in zone.content
    shown = emu.reply(await emu.command(staff, "setup show")).text()
    assert "UTC (not set" in shown
    gone = emu.reply(await emu.command(staff, "schedule remove", id=other.id))
    assert gone.ephemeral and f"no schedule #{other.id}" in gone.content
    assert await _stored(sessions) == 1  # only the other server's
    assert scheduled_posts(emu, world) == []
    with pytest.raises(CommandHidden):  # Discord shows the staff group to staff only
        await emu.command(world.learner, "schedule list")


async def test_remove_asks_first_and_staff_channel_and_zone_show_in_setup(nexus, world: World, sessions):
    emu = world.emu
    staff = world.admin
    await emu.command(staff, "setup staff-channel", channel=world.general)
    await emu.command(staff, "setup timezone", zone="lagos")
    shown = emu.reply(await emu.command(staff, "setup show")).text()
    assert world.general.mention in shown and "Africa/Lagos" in shown
    added = emu.reply(
        await emu.command(
            staff, "schedule add", text="Demo day", date="2030-05-06", time="18:30", repeat="weekly", days="mon,wed"
        )
    ).content
    assert "weekly on mon,wed at 18:30 (Africa/Lagos)" in added
    choices = await emu.autocomplete(staff, "schedule remove", "id")
    assert [c["value"] for c in choices] == [1] and "Demo day" in choices[0]["name"]
    prompt = emu.reply(await emu.command(staff, "schedule remove", id=1))
    cancelled = emu.reply(await emu.click(staff, prompt, "Cancel"))
    assert "nothing was changed" in cancelled.content
    prompt = emu.reply(await emu.command(staff, "schedule remove", id=1))
    removed = emu.reply(await emu.click(staff, prompt, "Remove"))
    assert "Removed schedule #1" in removed.content
    listed = emu.reply(await emu.command(staff, "schedule list")).text()
    assert "No schedules yet" in listed


@pytest.mark.skipif(postgres_url() is None, reason="two processes on one database need PostgreSQL")
async def test_two_processes_on_one_postgres_post_each_occurrence_once(world: World, database_url, sessions, tmp_path):
    emu = world.emu
    clock_file = tmp_path / "clock"
    FileClock.write(clock_file, START)
    emu.clock = FileClock(clock_file).time
    env = subprocess_env(emu, database_url, world.guild.id) | {
        "NEXUS_CLOCK_FILE": str(clock_file),
        "SCHEDULE_INTERVAL_SECONDS": "0.2",
        "OUTBOX_INTERVAL_SECONDS": "0.3",
    }
    first = BotProcess(env, tmp_path / "first.log")
    await first.start(emu)
    second = BotProcess({k: v for k, v in env.items() if k != "DEV_GUILD_ID"}, tmp_path / "second.log")
    try:
        await _zone_and_weekly(emu, world)
        await second.start(emu)  # both serve the server now, as during a rolling restart
        for n, sunday in enumerate((FIRST_SUNDAY, SECOND_SUNDAY), start=1):
            FileClock.write(clock_file, sunday + timedelta(seconds=2))
            await until(lambda n=n: len(scheduled_posts(emu, world)) >= n)
            await asyncio.sleep(QUIET)
            assert len(scheduled_posts(emu, world)) == n
    finally:
        assert await second.stop() == 0
        assert await first.stop() == 0
    for process in (first, second):
        log = process.log_path.read_text()
        assert "Traceback" not in log, log[-3000:]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ScheduleRun)) == 2


async def test_a_process_killed_mid_post_posts_each_occurrence_once_after_its_restart(
    world: World, database_url, sessions, tmp_path
):
    """A bot process follows NEXUS_CLOCK_FILE. Killed (-9) while its claimed run's post hangs (the
    post is made, its answer never read), the restarted process neither claims the run again nor
    posts it twice: once the lease ends, the outbox finds the post by its marker and records it;
    the next week's run is posted once."""
    emu = world.emu
    clock_file = tmp_path / "clock"
    FileClock.write(clock_file, START)
    emu.clock = FileClock(clock_file).time
    env = subprocess_env(emu, database_url, world.guild.id) | {
        "NEXUS_CLOCK_FILE": str(clock_file),
        "SCHEDULE_INTERVAL_SECONDS": "0.2",
        "OUTBOX_INTERVAL_SECONDS": "0.3",
    }
    first = BotProcess(env, tmp_path / "first.log")
    await first.start(emu)
    await _zone_and_weekly(emu, world)
    posts_made = len(emu.requests_to(r"/channels/\d+/messages$", "POST"))
    emu.delay(r"/channels/\d+/messages$", HANGING_POST, method="POST")
    FileClock.write(clock_file, FIRST_SUNDAY + timedelta(seconds=2))
    await until(lambda: len(emu.requests_to(r"/channels/\d+/messages$", "POST")) > posts_made)
    assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
    # the hanging request still reaches "Discord": the post is made, but nobody records it
    await until(lambda: len(scheduled_posts(emu, world)) == 1, HANGING_POST + 5)
    second = BotProcess(env, tmp_path / "second.log")
    await second.start(emu)
    try:
        await asyncio.sleep(QUIET)
        assert await _unposted(sessions) == 1  # leased to the killed process for two minutes
        FileClock.write(clock_file, FIRST_SUNDAY + timedelta(minutes=3))
        await until_async(lambda: _unposted(sessions), 0)  # the outbox found the post and recorded it
        assert len(scheduled_posts(emu, world)) == 1
        FileClock.write(clock_file, SECOND_SUNDAY + timedelta(seconds=2))
        await until(lambda: len(scheduled_posts(emu, world)) == 2)
        await asyncio.sleep(QUIET)
        assert len(scheduled_posts(emu, world)) == 2
    finally:
        assert await second.stop() == 0
    assert "Traceback" not in second.log_path.read_text()
    async with sessions() as session:
        runs = (await session.execute(select(ScheduleRun.due_at, ScheduleRun.posted_revision))).all()
    assert sorted(runs) == [(FIRST_SUNDAY, 1), (SECOND_SUNDAY, 1)]


async def test_without_text_a_form_takes_it_with_line_breaks(nexus, world: World, sessions):
    emu = world.emu
    refused = emu.reply(await emu.command(world.admin, "schedule add", date="2020-01-01", time="09:00"))
    assert refused.ephemeral and "in the past" in refused.content  # checked before the form opens
    opened = await emu.command(
        world.admin, "schedule add", date="2030-01-07", time="08:00", repeat="weekly", days="mon"
    )
    assert opened.modal is not None
    empty = emu.reply(await emu.submit_modal(world.admin, opened, {"nexus:schedule:text": "  "}))
    assert empty.ephemeral and "text is empty" in empty.content
    assert await _stored(sessions) == 0
    typed = "Week 2 starts today.\n\n1. Agree your API\n2. Write one note"
    done = emu.reply(await emu.submit_modal(world.admin, opened, {"nexus:schedule:text": typed}))
    assert "Scheduled #1: weekly on mon at 08:00 (UTC)" in done.content
    listing = await nexus.services.schedules.listing(world.guild.id)
    assert [info.text for info in listing.schedules] == [typed]


async def test_the_list_pages_and_the_zone_autocompletes(nexus, world: World):
    emu = world.emu
    choices = await emu.autocomplete(world.admin, "setup timezone", "zone", zone="paris")
    assert "Europe/Paris" in [c["value"] for c in choices]
    for n in range(40):
        await nexus.services.schedules.add(
            world.guild.id,
            world.admin.id,
            f"Reminder {n}: " + "x" * 120,
            repeat=Repeat.ONCE,
            start="2030-01-01",
            at=f"{n % 24:02d}:00",
            days=None,
        )
    first = emu.reply(await emu.command(world.admin, "schedule list"))
    assert first.ephemeral and "#1`" in first.text() and "page 1/" in first.text()
    second = emu.reply(await emu.click(world.admin, first, "Next ▶"))
    assert "page 2/" in second.text() and "#1`" not in second.text()
