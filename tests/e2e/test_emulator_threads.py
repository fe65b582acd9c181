"""The emulator's threads as Discord has them, driven by the real discord.py client: a private thread
made, members added (the cache follows THREAD_CREATE, THREAD_MEMBERS_UPDATE and THREAD_UPDATE), posts,
archive and unarchive, lock, the permissions each needs and the cap of 1,000 active threads (160006)."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest

from bot.sandbox.emulator import MAX_ACTIVE_THREADS, DiscordEmulator
from bot.sandbox.state import CREATE_PRIVATE_THREADS, MANAGE_THREADS, SEND_MESSAGES_IN_THREADS
from tests.harness import World


async def _call(emu: DiscordEmulator, method: str, path: str, body: object = None) -> tuple[int, object]:
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bot {emu.token}"}) as session,
        session.request(method, f"{emu.api_base_url}{path}", json=body) as response,
    ):
        return response.status, await response.json() if response.content_type == "application/json" else None


async def _until(check, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def _private_thread(nexus, world: World) -> discord.Thread:
    channel = nexus.get_channel(world.project.id)
    assert isinstance(channel, discord.TextChannel)
    return await channel.create_thread(
        name="Job Board: Ada, Bola · team 1",
        type=discord.ChannelType.private_thread,
        invitable=False,
        auto_archive_duration=1440,
    )


async def test_a_private_thread_is_made_joined_posted_in_archived_and_locked(nexus, world: World) -> None:
    emu = world.emu
    thread = await _private_thread(nexus, world)
    assert thread.type is discord.ChannelType.private_thread and not thread.invitable
    assert thread.auto_archive_duration == 1440 and thread.owner_id == emu.bot_user.id
    await _until(lambda: world.guild and nexus.get_guild(world.guild.id).get_thread(thread.id) is not None)
    learner = world.learner
    await thread.add_user(discord.Object(learner.id))
    await thread.add_user(discord.Object(learner.id))  # already in: nothing changes
    state = emu.channels[thread.id].thread
    assert state is not None and set(state.member_ids) == {emu.bot_user.id, learner.id}
    sent = await thread.send("hello team")
    assert [m.content for m in emu.channel_messages(emu.channels[thread.id])] == ["hello team"]
    assert sent.channel.id == thread.id

    archived = await thread.edit(archived=True)
    assert archived.archived
    await _until(lambda: nexus.get_guild(world.guild.id).get_thread(thread.id) is None)  # the cache drops it
    status, body = await _call(emu, "PUT", f"/channels/{thread.id}/thread-members/{world.learners[1].id}")
    assert (status, body) == (400, {"message": "Thread is archived", "code": 50083})
    await archived.send("back again")  # a post reopens an archived thread that is not locked
    assert not state.archived
    await _until(lambda: nexus.get_guild(world.guild.id).get_thread(thread.id) is not None)

    locked = await archived.edit(archived=True, locked=True)
    assert locked.locked and state.locked and state.archived
    emu.deny_bot(world.project, MANAGE_THREADS)
    with pytest.raises(discord.HTTPException) as refused:
        await locked.send("too late")
    assert refused.value.code == 50083


async def test_the_active_threads_list_has_the_bots_memberships(nexus, world: World) -> None:
    thread = await _private_thread(nexus, world)
    other = world.emu.add_thread(world.general, "someone else's")
    world.emu.add_thread(world.general, "old", archived=True)
    active = await nexus.get_guild(world.guild.id).active_threads()
    assert {t.id for t in active} == {thread.id, other.id}
    mine = next(t for t in active if t.id == thread.id)
    assert [m.id for m in mine.members] == [world.emu.bot_user.id] and mine.name.endswith("team 1")


async def test_threads_need_their_permissions(nexus, world: World) -> None:
    emu = world.emu
    thread = await _private_thread(nexus, world)
    emu.deny_bot(world.project, SEND_MESSAGES_IN_THREADS)
    with pytest.raises(discord.Forbidden):
        await thread.send("no")
    emu.deny_bot(world.project, MANAGE_THREADS)
    with pytest.raises(discord.Forbidden):
        await thread.edit(locked=True)
    emu.deny_bot(world.project, CREATE_PRIVATE_THREADS)
    with pytest.raises(discord.Forbidden):
        await _private_thread(nexus, world)


async def test_the_thousand_and_first_active_thread_is_refused_with_160006(nexus, world: World) -> None:
    emu = world.emu
    for index in range(MAX_ACTIVE_THREADS - 1):
        emu.add_thread(world.general, f"t{index}")
    last = await _private_thread(nexus, world)  # the 1,000th
    status, body = await _call(
        emu, "POST", f"/channels/{world.project.id}/threads", {"name": "one more", "type": 12, "invitable": False}
    )
    assert (status, body) == (400, {"message": "Maximum number of active threads reached", "code": 160006})
    await last.edit(archived=True)  # room again
    status, _ = await _call(emu, "POST", f"/channels/{world.project.id}/threads", {"name": "one more", "type": 12})
    assert status == 201
    with pytest.raises(discord.HTTPException) as refused:  # unarchiving counts against the cap too
        await last.edit(archived=False)
    assert refused.value.code == 160006


async def test_only_the_archive_durations_discord_accepts(emu: DiscordEmulator, world: World) -> None:
    status, body = await _call(
        emu, "POST", f"/channels/{world.project.id}/threads", {"name": "x", "type": 12, "auto_archive_duration": 30}
    )
    assert status == 400 and isinstance(body, dict) and body["code"] == 50035
    emu.contract_violations.clear()  # the spec may refuse it first: either way Discord answers 50035


async def test_idle_threads_archive_after_their_duration(emu: DiscordEmulator, world: World) -> None:
    now = [emu.clock()]
    emu.clock = lambda: now[0]
    status, made = await _call(
        emu, "POST", f"/channels/{world.project.id}/threads", {"name": "x", "type": 12, "auto_archive_duration": 60}
    )
    assert status == 201 and isinstance(made, dict)
    now[0] += 59 * 60
    assert emu.archive_idle_threads() == []
    now[0] += 60
    (archived,) = emu.archive_idle_threads()
    assert archived.id == int(made["id"]) and archived.thread is not None and archived.thread.archived


async def test_a_message_in_an_archived_thread_is_edited_or_deleted_only_after_reopening(nexus, world: World) -> None:
    """Discord refuses editing or deleting a message in an archived thread (50083); reopen it first."""
    thread = await _private_thread(nexus, world)
    first = await thread.send("first")
    second = await thread.send("second")
    await thread.edit(archived=True)
    for action in (first.edit(content="edited"), second.delete()):
        with pytest.raises(discord.HTTPException) as refused:
            await action
        assert refused.value.code == 50083
    assert [m.content for m in world.emu.channel_messages(world.emu.channels[thread.id])] == ["first", "second"]
    await thread.edit(archived=False)
    await first.edit(content="edited")
    await second.delete()
    assert [m.content for m in world.emu.channel_messages(world.emu.channels[thread.id])] == ["edited"]
