"""A private thread per team (issue 17, first slice), end to end through the emulator: made once when
the team forms, the team's contract changes posted there, a lost answer that still yields one thread,
Discord's cap of 1,000 active threads (fallback, staff told once), missing permissions shown by
/setup show, and the team's end archiving and locking it."""

from __future__ import annotations

from sqlalchemy import select

from bot.domain.threads import thread_marker
from bot.sandbox.emulator import MAX_ACTIVE_THREADS
from bot.sandbox.state import (
    CHANNEL_PRIVATE_THREAD,
    CREATE_PRIVATE_THREADS,
    MANAGE_THREADS,
    EmuChannel,
)
from models import ApiChange, StaffNotice, TeamThread
from tests.e2e.test_api_contract import JOBS, JOBS_CHANGED, dms, endpoint_id, eventually, team_of_two
from tests.e2e.test_follow_through import join, open_proposals
from tests.e2e.test_matching import form_team, setup_learners
from tests.harness import API_FORM_LABELS, World, add_endpoint


def team_threads(world: World) -> list[EmuChannel]:
    return world.emu.threads_in(world.project)


def member_ids(thread: EmuChannel) -> set[int]:
    assert thread.thread is not None
    return set(thread.thread.member_ids)


async def settled(nexus) -> None:
    await nexus.delivery.settled()


async def test_a_team_that_forms_gets_one_private_thread_with_both_members(nexus, world: World, sessions):
    emu = world.emu
    backend, frontend = await team_of_two(world)
    assert await eventually(
        lambda: len(team_threads(world)) == 1 and len(emu.channel_messages(team_threads(world)[0])) == 1
    )
    await settled(nexus)
    (thread,) = team_threads(world)
    assert thread.type == CHANNEL_PRIVATE_THREAD and thread.thread is not None
    assert not thread.thread.invitable and thread.thread.auto_archive_duration == 10080
    assert member_ids(thread) == {emu.bot_user.id, backend.id, frontend.id}
    assert thread.name.startswith("Job Board: ") and thread.name.endswith(" · team 1") and len(thread.name) <= 100
    (opening,) = emu.channel_messages(thread)
    assert opening.pings().users == {backend.id, frontend.id} and not opening.pings().mass
    assert set(map(int, (opening.allowed_mentions or {}).get("users", []))) == {backend.id, frontend.id}
    async with sessions() as session:
        row = (await session.scalars(select(TeamThread))).one()
    assert (row.channel_id, row.message_id, row.parent_id) == (thread.id, opening.id, world.project.id)
    assert row.posted_revision == row.revision
    # a retry pass finds nothing to do: still one thread, one message
    assert await nexus.delivery.flush(world.guild.id) == (0, 0)
    assert len(team_threads(world)) == 1 and len(emu.channel_messages(thread)) == 1


async def test_an_api_change_is_posted_in_the_teams_thread_not_dmed(nexus, world: World):
    emu = world.emu
    backend, frontend = await team_of_two(world)
    await settled(nexus)
    (thread,) = team_threads(world)
    listed = await add_endpoint(emu, backend, "GET", "/jobs", "List jobs", response=JOBS)
    jobs_id = endpoint_id(emu.reply(listed))
    assert await eventually(lambda: len(emu.channel_messages(thread)) == 2)
    await emu.command(frontend, "api agree", id=jobs_id)
    opened = await emu.command(backend, "api edit", id=jobs_id)
    await emu.submit_modal(backend, opened, {API_FORM_LABELS["response"]: JOBS_CHANGED})
    assert await eventually(lambda: len(emu.channel_messages(thread)) == 3)
    await settled(nexus)
    change = emu.channel_messages(thread)[-1]
    assert "/jobs" in change.content and "remote" in change.content
    assert change.pings().users == {frontend.id} and not change.pings().mass
    assert dms(world, frontend) == []  # told in the thread instead


async def test_forget_me_deletes_the_contract_change_posts_in_her_teams_thread(nexus, world: World, sessions):
    """Each change post names who made it and pings the teammates told: forget-me deletes every one
    in the threads of her teams (the ended team's locked thread is reopened for it and closed again);
    the contract's history keeps the changes, without her name."""
    emu = world.emu
    backend, frontend = await team_of_two(world)
    await settled(nexus)
    (thread,) = team_threads(world)
    listed = await add_endpoint(emu, backend, "GET", "/jobs", "List jobs", response=JOBS)
    jobs_id = endpoint_id(emu.reply(listed))
    await emu.command(frontend, "api agree", id=jobs_id)
    opened = await emu.command(frontend, "api edit", id=jobs_id)
    await emu.submit_modal(frontend, opened, {API_FORM_LABELS["response"]: JOBS_CHANGED})
    assert await eventually(lambda: len(emu.channel_messages(thread)) == 3)
    await settled(nexus)
    opening, added, edited = emu.channel_messages(thread)
    assert added.pings().users == {frontend.id} and frontend.mention in edited.content
    async with sessions() as session:
        posts = {(c.post_channel_id, c.post_message_id) for c in await session.scalars(select(ApiChange))}
    assert posts == {(thread.id, added.id), (thread.id, edited.id)}

    confirm = emu.reply(await emu.command(frontend, "nexus forget-me"))
    await emu.click(frontend, confirm, "Forget me")
    await settled(nexus)
    gone = {m.id for m in emu.channel_messages(thread, include_deleted=True) if m.deleted}
    assert gone == {added.id, edited.id} and [m.id for m in emu.channel_messages(thread)] == [opening.id]
    assert thread.thread is not None and thread.thread.archived and thread.thread.locked
    async with sessions() as session:
        changes = list(await session.scalars(select(ApiChange).order_by(ApiChange.version)))
    assert [(c.actor_id, c.post_message_id) for c in changes] == [(backend.id, None), (None, None)]
    # the teammate forgotten next finds no post left to delete, and asks Discord for nothing
    deletions = len(emu.requests_to(rf"/channels/{thread.id}/messages/\d+$", "DELETE"))
    confirm = emu.reply(await emu.command(backend, "nexus forget-me"))
    await emu.click(backend, confirm, "Forget me")
    await settled(nexus)
    assert len(emu.requests_to(rf"/channels/{thread.id}/messages/\d+$", "DELETE")) == deletions


async def test_a_change_post_sent_while_its_reader_is_forgotten_is_deleted(nexus, world: World, monkeypatch):
    """The post is sent naming the frontend, she is forgotten before it is recorded (forget-me could
    not see it), and recording it deletes it at once."""
    emu = world.emu
    backend, frontend = await team_of_two(world)
    await settled(nexus)
    (thread,) = team_threads(world)
    api = nexus.services.api
    record = api.record_post

    async def forgotten_meanwhile(*args):
        forgotten = await nexus.services.privacy.forget(world.guild.id, frontend.id)
        await nexus.delivery.deliver(world.guild.id, forgotten.events)
        return await record(*args)

    monkeypatch.setattr(api, "record_post", forgotten_meanwhile)
    await add_endpoint(emu, backend, "GET", "/jobs", "List jobs", response=JOBS)
    assert await eventually(lambda: len(emu.channel_messages(thread, include_deleted=True)) == 2)
    await settled(nexus)
    change = emu.channel_messages(thread, include_deleted=True)[-1]
    assert frontend.mention in change.content and change.deleted
    assert thread.thread is not None and thread.thread.archived and thread.thread.locked


async def test_a_lost_answer_on_thread_creation_still_yields_one_thread(nexus, world: World, sessions):
    emu = world.emu
    emu.lose_answer(r"/channels/\d+/threads$", 503, method="POST")  # made, but the answer never arrives
    backend, frontend = await team_of_two(world)
    await settled(nexus)
    (made,) = team_threads(world)
    async with sessions() as session:
        row = (await session.scalars(select(TeamThread))).one()
    assert row.channel_id is None and row.post_error is not None  # waiting for the outbox
    assert await nexus.delivery.flush(world.guild.id) == (1, 0)
    (thread,) = team_threads(world)
    assert thread.id == made.id and member_ids(thread) == {emu.bot_user.id, backend.id, frontend.id}
    assert len(emu.channel_messages(thread)) == 1
    assert len(emu.requests_to(r"/channels/\d+/threads$", "POST")) == 1


def fill_threads(world: World, count: int) -> None:
    for index in range(count):
        world.emu.add_thread(world.general, f"chat {index}")


async def test_the_thread_cap_falls_back_and_tells_staff_once(nexus, world: World, sessions):
    emu = world.emu
    staff = emu.add_channel(world.guild, "facilitators")
    await emu.command(world.admin, "setup staff-channel", channel=staff)
    fill_threads(world, MAX_ACTIVE_THREADS)
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend", "backend", "frontend"])
    first = await form_team(world, world.learners[0], world.learners[1])
    second = await form_team(world, world.learners[2], world.learners[3])
    await settled(nexus)
    assert team_threads(world) == []
    refused = [r for r in emu.requests_to(r"/channels/\d+/threads$", "POST") if r.status == 400]
    assert len(refused) == 2
    (told,) = emu.channel_messages(staff)
    assert "1,000 active threads" in told.text()
    async with sessions() as session:
        assert {r.state for r in await session.scalars(select(TeamThread))} == {"capped"}
        assert len((await session.scalars(select(StaffNotice))).all()) == 1
    # the team's posts fall back: a contract change is DMed and shows on the team message
    backend, frontend = world.learners[0], world.learners[1]
    await add_endpoint(emu, backend, "GET", "/jobs", "List jobs", response=JOBS)
    assert await eventually(lambda: len(dms(world, frontend)) >= 1)
    assert "/jobs" in dms(world, frontend)[-1].content
    assert await eventually(lambda: "API contract" in first.text())
    assert "Team formed" in second.text()
    shown = emu.reply(await emu.command(world.admin, "setup show")).text()
    assert "1,000 active threads was reached" in shown and "2 team(s) have no thread" in shown
    assert await nexus.delivery.flush(world.guild.id) == (0, 0)
    assert len(emu.channel_messages(staff)) == 1  # told once


async def test_a_staff_channel_deleted_mid_send_is_named_as_the_staff_channel(nexus, world: World, sessions):
    """Deleted before Nexus hears of it, the staff channel answers the post with a 404: the problem
    staff see names the staff channel and its command, not the project channel."""
    emu = world.emu
    staff = emu.add_channel(world.guild, "facilitators")
    await emu.command(world.admin, "setup staff-channel", channel=staff)
    emu.delete_channel(staff, quietly=True)
    fill_threads(world, MAX_ACTIVE_THREADS)
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    await form_team(world, world.learners[0], world.learners[1])
    await settled(nexus)
    assert [r.status for r in emu.requests_to(rf"/channels/{staff.id}/messages$", "POST")] == [404]
    async with sessions() as session:
        (notice,) = (await session.scalars(select(StaffNotice))).all()
    assert notice.message_id is None and notice.post_error is not None
    assert "staff channel" in notice.post_error and "/setup staff-channel" in notice.post_error
    shown = emu.reply(await emu.command(world.admin, "setup show")).text()
    assert "Last problem: the staff channel that was set no longer exists" in shown
    assert "project channel that staff set no longer exists" not in shown


async def test_the_thread_cap_without_a_staff_channel_is_shown_in_setup_show_not_posted(nexus, world: World, sessions):
    """The same rule as every staff flag: no staff channel, nothing to post and nothing waiting; staff
    see it in /setup show. Setting a channel later posts nothing old."""
    emu = world.emu
    fill_threads(world, MAX_ACTIVE_THREADS)
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    await form_team(world, world.learners[0], world.learners[1])
    await settled(nexus)
    assert team_threads(world) == []
    async with sessions() as session:
        (notice,) = (await session.scalars(select(StaffNotice))).all()
    assert notice.posted_revision == notice.revision and notice.message_id is None and notice.post_error is None
    shown = emu.reply(await emu.command(world.admin, "setup show")).text()
    assert "1,000 active threads was reached" in shown and "Waiting posts" not in shown
    staff = emu.add_channel(world.guild, "facilitators")
    await emu.command(world.admin, "setup staff-channel", channel=staff)
    assert await nexus.delivery.flush(world.guild.id) == (0, 0)
    assert emu.channel_messages(staff) == []


async def test_setup_show_names_the_missing_thread_permissions(nexus, world: World):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    shown = emu.reply(await emu.command(world.admin, "setup show")).text()
    assert "Team threads need" not in shown
    emu.deny_bot(world.project, CREATE_PRIVATE_THREADS | MANAGE_THREADS)
    shown = emu.reply(await emu.command(world.admin, "setup show")).text()
    assert "Team threads need Create Private Threads, Manage Threads there" in shown


async def test_missing_thread_permissions_keep_the_thread_waiting(nexus, world: World, sessions):
    emu = world.emu
    emu.deny_bot(world.project, CREATE_PRIVATE_THREADS)
    await team_of_two(world)
    await settled(nexus)
    assert team_threads(world) == []
    async with sessions() as session:
        row = (await session.scalars(select(TeamThread))).one()
    assert row.post_error is not None and "Create Private Threads" in row.post_error
    emu.deny_bot(world.project, 0)
    assert await nexus.delivery.flush(world.guild.id) == (1, 0)
    assert len(team_threads(world)) == 1


async def test_a_trio_newcomer_joins_the_thread_only_once_they_accept(nexus, world: World, sessions):
    """The thread is made while a newcomer is still deciding (its permission was missing until
    then): only the pair is added and named; the newcomer is added when they accept."""
    emu = world.emu
    emu.deny_bot(world.project, CREATE_PRIVATE_THREADS)
    backend, frontend = await team_of_two(world)
    late = world.learners[2]
    await join(world, late, "backend")
    await emu.command(world.admin, "match run")
    (offer,) = open_proposals(world, backend, frontend, late)
    emu.deny_bot(world.project, 0)
    await nexus.delivery.flush(world.guild.id)
    (thread,) = team_threads(world)
    assert {backend.id, frontend.id} <= member_ids(thread) and late.id not in member_ids(thread)
    (opening,) = [m for m in emu.channel_messages(thread) if m.embeds]
    assert late.mention not in opening.text() and late.user.username not in thread.name
    await emu.click(late, offer, "Accept")
    await settled(nexus)
    assert late.id in member_ids(thread)


async def test_the_team_ending_archives_and_locks_its_thread(nexus, world: World, sessions):
    emu = world.emu
    _backend, frontend = await team_of_two(world)
    await settled(nexus)
    (thread,) = team_threads(world)
    prompt = emu.reply(await emu.command(frontend, "partner leave"))
    await emu.click(frontend, prompt, "Leave team")
    assert await eventually(lambda: thread.thread is not None and thread.thread.locked)
    await settled(nexus)
    assert thread.thread is not None and thread.thread.archived and thread.thread.locked
    (opening,) = emu.channel_messages(thread)
    assert "ended" in opening.text()
    async with sessions() as session:
        row = (await session.scalars(select(TeamThread))).one()
    assert row.state == "closed" and row.posted_revision == row.revision


async def test_an_idle_thread_is_archived_and_reopened_by_the_next_change(nexus, world: World):
    emu = world.emu
    clock = [emu.clock()]
    emu.clock = lambda: clock[0]
    backend, frontend = await team_of_two(world)
    await settled(nexus)
    (thread,) = team_threads(world)
    clock[0] += 10080 * 60
    assert emu.archive_idle_threads() == [thread]
    await add_endpoint(emu, backend, "GET", "/jobs", "List jobs", response=JOBS)
    assert await eventually(lambda: len(emu.channel_messages(thread)) == 2)
    assert thread.thread is not None and not thread.thread.archived
    assert dms(world, frontend) == []


def test_the_marker_is_what_names_end_with():
    assert thread_marker(3) == " · team 3"


async def test_a_thread_made_twice_by_a_retried_502_is_made_once(nexus, world: World, sessions):
    """discord.py retries a 502 by itself, and making a thread takes no nonce: Discord made the first
    thread but its answer was lost, so the retry makes a second. Nexus keeps the oldest."""
    emu = world.emu
    emu.lose_answer(r"/channels/\d+/threads$", 502, method="POST")
    backend, frontend = await team_of_two(world)
    await settled(nexus)
    assert len(emu.requests_to(r"/channels/\d+/threads$", "POST")) == 2  # both made on Discord's side
    (thread,) = team_threads(world)
    (deleted,) = emu.deleted_threads
    assert thread.id < deleted.id  # the oldest is kept
    assert member_ids(thread) == {emu.bot_user.id, backend.id, frontend.id}
    assert len(emu.channel_messages(thread)) == 1
    async with sessions() as session:
        assert (await session.scalars(select(TeamThread.channel_id))).one() == thread.id
