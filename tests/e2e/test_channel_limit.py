"""Discord's limit of 5 new messages per channel every 5 s, against a Week-1 burst of announcements."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from models import Announcement
from tests.harness import World, bot_settings, running_bot

BURST = 12


def _posts(world: World) -> list[str]:
    return [m.text() for m in world.emu.channel_messages(world.project) if "📣" in m.text()]


async def _announce_all(world: World, members) -> list[str]:
    emu = world.emu
    sent = [
        await emu.command(m, "project announce", project="Job Board", track="backend", pitch="p", wait=False)
        for m in members
    ]
    for interaction in sent:
        await emu.wait_reply(interaction, timeout=10)
    return [emu.reply(interaction).content for interaction in sent]


async def _until(condition, seconds: float) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)


async def _waiting(sessions) -> int:
    async with sessions() as session:
        stale = Announcement.posted_revision != Announcement.revision
        return int(await session.scalar(select(func.count()).where(stale)) or 0)


async def test_a_burst_is_answered_at_once_and_posted_within_the_limit(nexus, world: World, sessions):
    emu = world.emu
    emu.channel_post_limit = (5, 1.0)
    await emu.command(world.admin, "setup channel", channel=world.project)
    members = [emu.add_member(world.guild, f"burst-{index}") for index in range(BURST)]
    replies = await _announce_all(world, members)
    # nobody waits for the queue: the last posts go out seconds later, their members hear at once
    assert all(reply.startswith("✅ You announced") for reply in replies)
    assert any("busy" in reply for reply in replies)
    await _until(lambda: len(_posts(world)) == BURST, 10)
    assert len(_posts(world)) == BURST  # each exactly once
    assert await _waiting(sessions) == 0


async def test_posts_still_queued_at_shutdown_are_made_after_the_restart(world: World, database_url, sessions):
    emu = world.emu
    emu.channel_post_limit = (2, 60.0)  # two posts, then the channel stays shut past the shutdown
    # no outbox pass in the first run: what is queued at shutdown is only the commands' own posts
    quiet = bot_settings(emu, database_url, world.guild.id, outbox_interval_seconds=600)
    async with running_bot(quiet, emu):
        await emu.command(world.admin, "setup channel", channel=world.project)
        members = [emu.add_member(world.guild, f"late-{index}") for index in range(6)]
        replies = await _announce_all(world, members)
        busy = sum("busy" in reply for reply in replies)
        linked = sum("See the post" in reply for reply in replies)
        assert busy >= 4 and busy + linked == 6
    # the post that used the window's last slot was made, but discord.py holds its answer until the
    # window ends, so the shutdown stopped it unrecorded: the restart's retry must not repeat it
    assert linked <= len(_posts(world)) <= 2 and await _waiting(sessions) >= 4
    emu.channel_post_limit = None
    settings = bot_settings(emu, database_url, world.guild.id, outbox_interval_seconds=0.3)
    async with running_bot(settings, emu):
        await _until(lambda: len(_posts(world)) == 6, 10)
    assert len(_posts(world)) == 6
    assert await _waiting(sessions) == 0


async def test_an_outbox_pass_skips_posts_being_made(nexus, world: World, sessions):
    """A pass must not queue behind posts that are waiting for the channel: it would stall every server."""
    emu = world.emu
    emu.channel_post_limit = (1, 60.0)  # one post; discord.py then holds it until the window ends
    await emu.command(world.admin, "setup channel", channel=world.project)
    replies = await _announce_all(world, world.learners[:2])
    assert all("busy" in reply for reply in replies)
    assert await _waiting(sessions) == 2
    posted, waiting = await asyncio.wait_for(nexus.get_cog("OutboxCog").flush_due(), 5)
    assert (posted, waiting) == (0, 0)
