"""Team check-ins through the emulator, with the clock moved instead of waited for.

Two members in different zones are prompted at the same wall-clock time (a DM with a button that
opens three questions, or the team thread when DMs are closed); their answers become one report in
the team's thread, edited by late answers; a blocker naming a contract endpoint links it and stays
in /cohort blockers until a member closes it; two silent check-ins flag the team once; forget-me
removes a member's answers; bad input is refused and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import MovableClock
from bot.config import Settings
from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.state import CREATE_PRIVATE_THREADS, EmuChannel, EmuMember, EmuMessage
from models import CheckinAnswer, CheckinFlag, CheckinMember, CheckinPrompt, CheckinSchedule
from tests.e2e.test_matching import form_team, setup_learners
from tests.harness import World, add_endpoint, bot_settings, running_bot

pytestmark = pytest.mark.slow

START = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday; Lagos is UTC+1, New York UTC-5 until Mar 8
QUIET = {"checkin_interval_seconds": 3600.0, "follow_up_interval_seconds": 3600.0}
"""The loops' own passes wait an hour: the tests run each pass themselves."""
LEAD = "Check-in time"
ANSWERS = ("Done since last time", "Next", "Blocked by")


def prompts_in(emu: DiscordEmulator, channel: EmuChannel | None) -> list[EmuMessage]:
    return [m for m in emu.channel_messages(channel) if LEAD in m.content] if channel else []


def dm_prompts(emu: DiscordEmulator, member: EmuMember) -> list[EmuMessage]:
    return prompts_in(emu, emu.dm_channel(member))


def reports(emu: DiscordEmulator, thread: EmuChannel) -> list[EmuMessage]:
    return [m for m in emu.channel_messages(thread) if m.embeds and m.embeds[0].get("title", "").startswith("Check-in")]


async def run_pass(bot) -> int:
    sent = await bot.get_cog("CheckinCog").run_due()
    await bot.delivery.settled()
    return int(sent)


async def answer(emu: DiscordEmulator, member: EmuMember, prompt: EmuMessage, done: str, next_: str, blocked: str = ""):
    opened = await emu.click(member.user, prompt, "Check in")
    assert opened.modal is not None, emu.reply(opened).content
    values = dict(zip(ANSWERS, (done, next_, blocked), strict=True))
    return emu.reply(await emu.submit_modal(member.user, opened, values))


def _clocked(world: World, database_url: str) -> tuple[MovableClock, Settings]:
    """The clock at START, shared with the emulator, and the bot's settings with quick passes."""
    clock = MovableClock(START)
    world.emu.clock = clock.time
    return clock, bot_settings(world.emu, database_url, world.guild.id, **QUIET)


async def _team(world: World) -> tuple[EmuMember, EmuMember, EmuChannel]:
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    await emu.command(b, "profile set", track="frontend", timezone="America/New_York")
    await form_team(world, a, b)
    (thread,) = emu.threads_in(world.project)
    return a, b, thread


async def test_two_zones_one_report_late_answers_blockers_and_the_closed_dm_fallback(
    world: World, database_url, sessions
):
    emu = world.emu
    clock, settings = _clocked(world, database_url)
    async with running_bot(settings, emu, clock=clock) as bot:
        a, b, thread = await _team(world)
        await add_endpoint(emu, a, "GET", "/api/orders", "List orders")
        set_up = emu.reply(await emu.command(a, "checkin setup", days="mon,tue", time="11:00"))
        assert set_up.ephemeral and "mon,tue" in set_up.content and "Africa/Lagos" in set_up.content
        clock.advance(timedelta(minutes=59))  # 09:59 UTC: 10:59 in Lagos
        assert await run_pass(bot) == 0
        clock.advance(timedelta(minutes=2))  # 10:01 UTC: 11:01 in Lagos, 05:01 in New York
        assert await run_pass(bot) == 1
        assert len(dm_prompts(emu, a)) == 1 and dm_prompts(emu, b) == []
        assert await run_pass(bot) == 0  # claimed once
        clock.advance(timedelta(hours=6))  # 16:01 UTC: 11:01 in New York
        assert await run_pass(bot) == 1
        assert len(dm_prompts(emu, b)) == 1 and len(dm_prompts(emu, a)) == 1
        # someone else's prompt refuses them; an empty check-in is refused and records nothing
        refused = emu.reply(await emu.click(b.user, dm_prompts(emu, a)[0], "Check in"))
        assert refused.ephemeral and "only they can answer" in refused.content
        empty = await answer(emu, a, dm_prompts(emu, a)[0], " ", "", "The staging database is down")
        assert empty.ephemeral and "empty" in empty.content
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(CheckinAnswer)) == 0
        # the refusal's Edit button reopens the form with what was typed
        reopened = await emu.click(a.user, empty, "Edit")
        assert reopened.modal is not None
        kept = [c["components"][0] for c in reopened.modal["components"]]
        assert [field.get("value") for field in kept][2] == "The staging database is down"
        assert "Next must say something" in kept[0]["placeholder"]
        done = await answer(emu, a, dm_prompts(emu, a)[0], "Built the orders table", "Seed data")
        assert "recorded" in done.content
        await bot.delivery.settled()
        assert reports(emu, thread) == []  # b has not answered yet
        await answer(emu, b, dm_prompts(emu, b)[0], "Mocked the page", "Wire the API", "waiting on /api/orders")
        await bot.delivery.settled()
        (report,) = reports(emu, thread)
        text = report.text()
        assert "Built the orders table" in text and "Mocked the page" in text and a.mention in text
        assert "`GET /api/orders` (endpoint #" in text and "⛔ open" in text
        assert not report.pings().users  # the report pings nobody
        listed = emu.reply(await emu.command(world.admin, "cohort blockers")).text()
        assert "GET /api/orders" in listed and b.mention in listed and "Job Board" in listed
        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert "Open check-in blockers" in shown and "1 open in 1 team(s)" in shown and "Job Board" in shown
        # Tuesday: b's DMs are closed, so b is prompted in the thread, mentioning only b
        emu.close_dms(b)
        clock.set(datetime(2026, 3, 3, 10, 1, tzinfo=UTC))
        assert await run_pass(bot) == 1
        clock.set(datetime(2026, 3, 3, 16, 1, tzinfo=UTC))
        assert await run_pass(bot) == 1
        (in_thread,) = prompts_in(emu, thread)
        assert in_thread.pings().users == {b.id} and b.mention in in_thread.content
        await answer(emu, a, dm_prompts(emu, a)[1], "Seeded", "Pagination")
        clock.set(datetime(2026, 3, 3, 22, 2, tzinfo=UTC))  # 12 hours after the earliest prompt
        await run_pass(bot)
        second = reports(emu, thread)[1]
        assert "Seeded" in second.text() and "No answer" in second.text() and b.mention in second.text()
        late = await answer(emu, b, in_thread, "Styled the list", "Filters")
        assert "now shows your answers" in late.content
        await bot.delivery.settled()
        assert len(reports(emu, thread)) == 2  # edited, not posted again
        edited = emu.channel_messages(thread)
        assert any("Styled the list" in m.text() for m in edited if m.id == second.id)
        # the blocker closes from the first report's button, and leaves /cohort blockers
        closed = emu.reply(await emu.click(a.user, reports(emu, thread)[0], reports(emu, thread)[0].buttons()[0]))
        assert "closed" in closed.content
        await bot.delivery.settled()
        assert "✅ closed" in reports(emu, thread)[0].text()
        assert "No open blockers" in emu.reply(await emu.command(world.admin, "cohort blockers")).text()
        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert "Open check-in blockers: none" in shown
        history = emu.reply(await emu.command(a, "checkin history"))
        assert history.ephemeral and "Seeded" in history.text() and "Built the orders table" in history.text()
        progress = emu.reply(await emu.command(b, "nexus progress")).text()
        assert "Check-in streak" in progress and "2 in a row" in progress
        exported = emu.reply(await emu.command(a, "nexus export"))
        assert exported.attachments, exported.content
        readme = exported.attachments[0].data.decode()
        assert "**Check-ins:** answered 2 of 2 (streak 2)" in readme
        theirs = emu.reply(await emu.command(world.learners[3], "nexus export", member=a)).attachments[0]
        assert "Check-ins" not in theirs.data.decode()  # the team's own, not another member's to read
        # forget-me removes b's answers, and the reports no longer show them
        confirm = emu.reply(await emu.command(b, "nexus forget-me"))
        gone = emu.reply(await emu.click(b, confirm, "Forget me"))
        assert "2 check-in answers" in gone.content
        await bot.delivery.settled()
        assert all(
            "Styled the list" not in m.text() and "Mocked the page" not in m.text() for m in reports(emu, thread)
        )
    async with sessions() as session:
        assert (
            await session.scalar(select(func.count()).select_from(CheckinAnswer).where(CheckinAnswer.user_id == b.id))
            == 0
        )
        assert await session.scalar(select(func.count()).select_from(CheckinAnswer)) == 2
        assert await session.scalar(select(func.count()).select_from(CheckinPrompt)) == 2


async def test_silence_flags_once_and_bad_input_changes_nothing(world: World, database_url, sessions):
    emu = world.emu
    clock = MovableClock(START)
    emu.clock = clock.time
    staff = emu.add_channel(world.guild, "facilitators")
    settings = bot_settings(emu, database_url, world.guild.id, **QUIET)
    async with running_bot(settings, emu, clock=clock) as bot:
        await emu.command(world.admin, "setup staff-channel", channel=staff)
        a, b, _thread = await _team(world)
        outsider = world.learners[3]
        for who, days, at, words in (
            (a, "mon", "25:00", "not a time of day"),
            (a, " ", "09:00", "at least one day"),
            (a, "someday", "09:00", "not a day"),
            (outsider, "mon", "09:00", "not in one"),
        ):
            refused = emu.reply(await emu.command(who, "checkin setup", days=days, time=at))
            assert refused.ephemeral and words in refused.content
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(CheckinSchedule)) == 0
        await emu.command(a, "checkin setup", days="mon,tue,wed,thu,fri,sat,sun", time="11:00")
        paused = emu.reply(await emu.command(b, "checkin pause"))
        assert "paused" in paused.content
        refused = emu.reply(await emu.command(a, "checkin now"))
        assert refused.ephemeral and "paused" in refused.content
        clock.advance(timedelta(days=2))
        assert await run_pass(bot) == 0  # a paused team gets no prompts
        assert dm_prompts(emu, a) == [] and dm_prompts(emu, b) == []
        await emu.command(b, "checkin resume")
        now = emu.reply(await emu.command(a, "checkin now"))
        assert "Prompted 2 member(s)" in now.content
        assert len(dm_prompts(emu, a)) == 1 and len(dm_prompts(emu, b)) == 1
        await answer(emu, a, dm_prompts(emu, a)[0], "Routes", "Tests")
        # b stays silent through two check-ins: the team is flagged once
        for _ in range(4):
            clock.advance(timedelta(hours=13))
            await run_pass(bot)
        flags = [m for m in emu.channel_messages(staff) if m.embeds and "went silent" in m.embeds[0].get("title", "")]
        assert len(flags) == 1 and b.mention in flags[0].text() and a.mention not in flags[0].text()
        assert not flags[0].pings().users
        clock.advance(timedelta(days=3))
        await run_pass(bot)
        await run_pass(bot)
        assert (
            len([m for m in emu.channel_messages(staff) if m.embeds and "went silent" in m.embeds[0].get("title", "")])
            == 1
        )
        roster = emu.reply(await emu.command(world.admin, "cohort roster")).text()
        assert "check-in streak 0" in roster
        # forget-me: the silent member leaves the staff flag (edited), then whoever set the check-ins
        for member in (b, a):
            confirm = emu.reply(await emu.command(member, "nexus forget-me"))
            await emu.click(member, confirm, "Forget me")
            await bot.delivery.settled()
        (flag,) = [m for m in emu.channel_messages(staff) if m.embeds and "went silent" in m.embeds[0].get("title", "")]
        assert b.mention not in flag.text() and "a former member" in flag.text()
        async with sessions() as session:
            assert list(await session.scalars(select(CheckinFlag.silent))) == [""]
            assert {a.id, b.id}.isdisjoint(set(await session.scalars(select(CheckinSchedule.set_by))))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CheckinFlag)) == 1


async def test_a_team_that_ends_leaves_the_staff_lists_of_blockers(world: World, database_url):
    """Nobody is left to close an ended team's blockers: /cohort blockers and /setup show drop them."""
    emu = world.emu
    clock, settings = _clocked(world, database_url)
    async with running_bot(settings, emu, clock=clock) as bot:
        a, b, _thread = await _team(world)
        await emu.command(a, "checkin setup", days="mon", time="11:00")
        await emu.command(a, "checkin now")
        await bot.delivery.settled()
        await answer(emu, a, dm_prompts(emu, a)[0], "Routes", "Tests", "the staging database is down")
        listed = emu.reply(await emu.command(world.admin, "cohort blockers")).text()
        assert "staging database" in listed
        await emu.click(b, emu.reply(await emu.command(b, "partner leave")), "Leave team")
        await bot.delivery.settled()
        assert "No open blockers" in emu.reply(await emu.command(world.admin, "cohort blockers")).text()
        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert "Open check-in blockers: none" in shown


async def test_a_new_time_zone_moves_the_next_prompt_at_once(world: World, database_url, sessions):
    """Check-ins are read on each member's own clock: a member's new zone moves their next prompt
    now, not from the one after; the server's zone moves only members without a zone of their own."""
    emu = world.emu
    clock, settings = _clocked(world, database_url)  # Monday 09:00 UTC

    async def next_prompt(member: EmuMember) -> datetime | None:
        async with sessions() as session:
            return await session.scalar(select(CheckinMember.next_prompt_at).where(CheckinMember.user_id == member.id))

    async with running_bot(settings, emu, clock=clock):
        a, _b, _thread = await _team(world)
        await emu.command(a, "checkin setup", days="mon", time="11:00")
        assert await next_prompt(a) == datetime(2026, 3, 2, 10, tzinfo=UTC)  # 11:00 in Lagos
        await emu.command(a, "profile set", track="backend", timezone="Asia/Tokyo")
        assert await next_prompt(a) == datetime(2026, 3, 9, 2, tzinfo=UTC)  # 11:00 in Tokyo, next Monday
        await emu.command(world.admin, "setup timezone", zone="Europe/Paris")
        assert await next_prompt(a) == datetime(2026, 3, 9, 2, tzinfo=UTC)  # her own zone decides


async def test_the_check_in_button_works_after_a_restart(world: World, database_url):
    emu = world.emu
    clock, settings = _clocked(world, database_url)
    async with running_bot(settings, emu, clock=clock) as bot:
        a, b, thread = await _team(world)
        await emu.command(a, "checkin setup", days="mon", time="11:00")
        await emu.command(a, "checkin now")
        await bot.delivery.settled()
    async with running_bot(settings, emu, clock=clock) as bot:
        await answer(emu, a, dm_prompts(emu, a)[0], "Before the restart", "After it")
        done = await answer(emu, b, dm_prompts(emu, b)[0], "Also", "More")
        assert "recorded" in done.content
        await bot.delivery.settled()
        (report,) = reports(emu, thread)
        assert "Before the restart" in report.text()


async def test_a_team_without_a_thread_is_prompted_in_the_channel_and_forget_me_deletes_it(
    world: World, database_url, sessions
):
    emu = world.emu
    clock, settings = _clocked(world, database_url)
    async with running_bot(settings, emu, clock=clock) as bot:
        emu.deny_bot(world.project, CREATE_PRIVATE_THREADS)  # the team gets no thread
        await emu.command(world.admin, "setup channel", channel=world.project)
        await setup_learners(world, ["backend", "frontend"])
        a, b = world.learners[:2]
        await form_team(world, a, b)
        await bot.delivery.settled()
        assert emu.threads_in(world.project) == []
        emu.close_dms(b)
        await emu.command(a, "checkin setup", days="mon", time="11:00")
        now = emu.reply(await emu.command(a, "checkin now"))
        assert "Prompted 2 member(s)" in now.content
        await bot.delivery.settled()
        assert len(dm_prompts(emu, a)) == 1
        (posted,) = prompts_in(emu, world.project)  # b's DMs are closed and there is no thread
        assert posted.pings().users == {b.id} and b.mention in posted.content and a.mention not in posted.content
        refused = emu.reply(await emu.click(a.user, posted, "Check in"))
        assert refused.ephemeral and "only they can answer" in refused.content
        done = await answer(emu, b, posted, "Styled the list", "Filters")
        assert "recorded" in done.content
        async with sessions() as session:
            prompt = (await session.scalars(select(CheckinPrompt).where(CheckinPrompt.user_id == b.id))).one()
            assert (prompt.via, prompt.channel_id, prompt.message_id) == ("channel", world.project.id, posted.id)
        confirm = emu.reply(await emu.command(b, "nexus forget-me"))
        await emu.click(b, confirm, "Forget me")
        await bot.delivery.settled()
        assert prompts_in(emu, world.project) == []  # the post that named her is deleted
        assert len(dm_prompts(emu, a)) == 1  # a's DM is a's own


async def test_a_team_that_ended_gets_no_late_prompt_nor_report_in_the_channel(world: World, database_url, sessions):
    """A prompt claimed before the team ended (its process died before sending it) is not sent when
    a pass takes it over; the team's report, ready after it ended, is shown nowhere: neither goes to
    the public project channel in place of the team's closed thread."""
    emu = world.emu
    clock, settings = _clocked(world, database_url)
    async with running_bot(settings, emu, clock=clock) as bot:
        a, b, thread = await _team(world)
        await emu.command(a, "checkin setup", days="mon", time="11:00")
        emu.close_dms(b)
        claimed = await bot.services.checkins.prompt_now(world.guild.id, a.id)  # claimed, never sent
        assert len(claimed) == 2
        await emu.click(a, emu.reply(await emu.command(a, "partner leave")), "Leave team")
        await bot.delivery.settled()
        clock.advance(timedelta(minutes=3))  # the claim's lease is over: a pass takes the prompts over
        await run_pass(bot)
        assert prompts_in(emu, world.project) == [] and prompts_in(emu, thread) == []
        assert dm_prompts(emu, a) == [] and dm_prompts(emu, b) == []
        async with sessions() as session:
            assert set(await session.scalars(select(CheckinPrompt.via))) == {"none"}
        clock.advance(timedelta(hours=13))  # the report's time: ready, with nobody's answers
        await run_pass(bot)
        titled = [m for m in emu.channel_messages(world.project) if m.embeds and "Check-in" in m.embeds[0]["title"]]
        assert titled == [] and reports(emu, thread) == []
        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert "Waiting posts" not in shown  # recorded as shown (nowhere), not waiting for ever


async def test_a_prompt_sent_again_after_its_record_was_lost_is_one_post(
    world: World, database_url, sessions, monkeypatch: pytest.MonkeyPatch
):
    """The process posts a prompt and dies before recording it; a pass takes the prompt over after
    its lease and sends it again with the same nonce, so Discord returns the first post: one post,
    recorded, which forget-me deletes."""
    emu = world.emu
    clock, settings = _clocked(world, database_url)
    async with running_bot(settings, emu, clock=clock) as bot:
        emu.deny_bot(world.project, CREATE_PRIVATE_THREADS)
        await emu.command(world.admin, "setup channel", channel=world.project)
        await setup_learners(world, ["backend", "frontend"])
        a, b = world.learners[:2]
        await form_team(world, a, b)
        await emu.command(a, "checkin setup", days="mon", time="11:00")
        emu.close_dms(b)
        service = bot.services.checkins
        record = service.mark_delivered
        lost: list[int] = []

        async def dies_before_recording(prompt_id: int, via: str, *where: int | None) -> None:
            if via == "channel" and not lost:
                lost.append(prompt_id)
                raise RuntimeError("the process stopped here")
            await record(prompt_id, via, *where)

        monkeypatch.setattr(service, "mark_delivered", dies_before_recording)
        await emu.command(a, "checkin now")
        await bot.delivery.settled()
        (first,) = prompts_in(emu, world.project)
        assert lost
        clock.advance(timedelta(minutes=3))
        await run_pass(bot)
        assert prompts_in(emu, world.project) == [first]  # the same message, not a second one
        async with sessions() as session:
            prompt = await session.get(CheckinPrompt, lost[0])
            assert prompt is not None and (prompt.via, prompt.message_id) == ("channel", first.id)
        confirm = emu.reply(await emu.command(b, "nexus forget-me"))
        await emu.click(b, confirm, "Forget me")
        await bot.delivery.settled()
        assert prompts_in(emu, world.project) == []


async def test_forget_me_deletes_her_prompt_in_the_team_thread_and_locks_it_again(world: World, database_url):
    """Her DMs were closed, so her prompt was posted in the team's thread, naming her. Forget-me ends
    her team (the thread is archived and locked); the prompt is still deleted, the thread reopened for
    it and closed again as it was."""
    emu = world.emu
    clock, settings = _clocked(world, database_url)
    async with running_bot(settings, emu, clock=clock) as bot:
        a, b, thread = await _team(world)
        await emu.command(a, "checkin setup", days="mon", time="11:00")
        emu.close_dms(b)
        await emu.command(a, "checkin now")
        await bot.delivery.settled()
        (in_thread,) = prompts_in(emu, thread)
        assert b.mention in in_thread.content
        confirm = emu.reply(await emu.command(b, "nexus forget-me"))
        await emu.click(b, confirm, "Forget me")
        await bot.delivery.settled()
        assert prompts_in(emu, thread) == []
        assert [m.id for m in emu.channel_messages(thread, include_deleted=True) if m.deleted] == [in_thread.id]
        assert thread.thread is not None and thread.thread.archived and thread.thread.locked
        assert len(dm_prompts(emu, a)) == 1  # a's own prompt stays


async def test_a_report_discord_refuses_in_the_thread_is_retried_there_not_in_the_channel(world: World, database_url):
    emu = world.emu
    clock, settings = _clocked(world, database_url)
    async with running_bot(settings, emu, clock=clock) as bot:
        a, b, thread = await _team(world)
        await emu.command(a, "checkin setup", days="fri", time="11:00")  # no round of its own today
        await emu.command(a, "checkin now")
        await bot.delivery.settled()
        await answer(emu, a, dm_prompts(emu, a)[0], "Built the orders table", "Seed data")
        clock.advance(timedelta(hours=13))
        await run_pass(bot)
        (report,) = reports(emu, thread)
        clock.advance(timedelta(days=8))  # a week without a word: Discord archives the thread
        assert emu.archive_idle_threads() == [thread]
        fault = emu.fail(rf"/channels/{thread.id}$", 403, method="PATCH")  # reopening it is refused once
        late = await answer(emu, b, dm_prompts(emu, b)[0], "Styled the list", "Filters")
        assert "now shows your answers" in late.content
        await bot.delivery.settled()
        assert fault.hits == 1
        public = [m for m in emu.channel_messages(world.project) if m.embeds and "Check-in" in m.embeds[0]["title"]]
        assert public == []  # not a second copy in the public channel
        assert "Styled the list" not in reports(emu, thread)[0].text()
        await bot.delivery.flush(world.guild.id)  # the outbox's next pass
        (edited,) = reports(emu, thread)
        assert edited.id == report.id and "Styled the list" in edited.text()
        assert thread.thread is not None and not thread.thread.archived  # an active team's thread stays open
