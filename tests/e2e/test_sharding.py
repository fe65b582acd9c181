"""Two bot processes, shards 0 and 1 of 2, on one database, each serving its own guild."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.sandbox.state import MANAGE_GUILD
from models import Announcement, GuildSettings
from tests.harness import BotProcess, subprocess_env

pytestmark = pytest.mark.slow


async def test_two_shards_serve_two_guilds(emu, database_url, sessions, tmp_path):
    guilds = [emu.add_guild(f"Cohort {shard}", shard=(shard, 2)) for shard in (0, 1)]
    people = []
    for guild in guilds:
        channel = emu.add_channel(guild, "prodevprojectnexus")
        staff = emu.add_member(guild, f"staff-{guild.id}", roles=[emu.add_role(guild, "Facilitators", MANAGE_GUILD)])
        learner = emu.add_member(guild, f"learner-{guild.id}")
        people.append((guild, channel, staff, learner))
    processes = []
    for shard, guild in enumerate(guilds):
        env = subprocess_env(emu, database_url, guild.id) | {"SHARD_COUNT": "2", "SHARD_IDS": str(shard)}
        process = BotProcess(env, tmp_path / f"shard{shard}.log")
        await process.start(emu)
        processes.append(process)
    try:
        sessions_by_shard = {s.shard: s for s in emu.sessions.values()}
        assert set(sessions_by_shard) == {(0, 2), (1, 2)}
        for _guild, channel, staff, learner in people:
            done = await emu.command(staff, "setup channel", channel=channel)
            assert channel.mention in emu.reply(done).content
            it = await emu.command(learner, "project announce", project="Job Board", track="backend", pitch="p")
            assert "See the post" in emu.reply(it).content
            posts = [m for m in emu.channel_messages(channel) if "📣" in m.text()]
            assert len(posts) == 1
    finally:
        for process in processes:
            assert await process.stop() == 0
    for process in processes:
        log = process.log_path.read_text()
        assert "Traceback" not in log, log[-2000:]
    async with sessions() as session:
        configured = {
            row.guild_id: row.project_channel_id for row in (await session.scalars(select(GuildSettings))).all()
        }
        announced = {row.guild_id for row in (await session.scalars(select(Announcement))).all()}
    assert configured == {guild.id: channel.id for guild, channel, _, _ in people}
    assert announced == {guild.id for guild in guilds}
