"""Fault tests: a killed process, a dropped gateway, rate limits and 5xx, hostile input everywhere."""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.sandbox.emulator import OPT_GROUP, OPT_STRING, OPT_SUBCOMMAND, EmulatorError
from bot.sandbox.state import EMBED_LINKS, SEND_MESSAGES
from models import Announcement, Note, Team
from tests.e2e.test_permissions import sample_options
from tests.harness import BotProcess, World, bot_settings, running_bot, subprocess_env

BURST = 200
BURST_MEMBERS = 20


@pytest.mark.slow
async def test_kill_9_during_a_burst_loses_no_acknowledged_write(world: World, database_url, sessions, tmp_path):
    emu = world.emu
    members = [emu.add_member(world.guild, f"burst{i:02d}") for i in range(BURST_MEMBERS)]
    env = subprocess_env(emu, database_url, world.guild.id) | {"WRITE_COOLDOWN_RATE": "1000"}
    bot = BotProcess(env, tmp_path / "bot.log")
    await bot.start(emu)
    sent = []
    for i in range(BURST):
        member = members[i % BURST_MEMBERS]
        text = f"burst tip {i:03d} from {member.user.username}"
        sent.append((text, await emu.command(member, "tip share", text=text, topic="Docker", wait=False)))
        await asyncio.sleep(0.005)
        if i == BURST * 3 // 4:
            assert bot.proc is not None
            bot.proc.send_signal(signal.SIGKILL)  # in the middle of the burst
    await asyncio.sleep(0.5)
    assert bot.proc is not None and await bot.proc.wait() == -signal.SIGKILL
    acknowledged = [text for text, it in sent if it.replied.is_set() and "shared" in emu.reply(it).content]
    assert acknowledged, "the bot acknowledged nothing before the kill"

    restarted = BotProcess(env, tmp_path / "bot2.log")
    await restarted.start(emu)
    after = await emu.command(members[0], "tip share", text="after the restart", topic="Docker")
    assert "shared" in emu.reply(after).content
    await restarted.stop()

    async with sessions() as session:
        bodies = list((await session.scalars(select(Note.body).where(Note.body.like("burst tip %")))).all())
    assert set(acknowledged) <= set(bodies), "an acknowledged write was lost"
    assert len(bodies) == len(set(bodies)), "a write was stored twice"
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[1]
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    print(f"\nkill -9 burst: sent {BURST}, acknowledged {len(acknowledged)}, stored {len(bodies)}")


async def test_gateway_dropped_during_a_burst(nexus, world: World, sessions):
    emu = world.emu
    pending = []
    for i, member in enumerate(world.learners * 5):
        pending.append(await emu.command(member, "tip share", text=f"drop {i}", topic="Docker", wait=False))
        if i == 10:
            await emu.drop_gateway()
    for it in pending:
        await emu.wait_reply(it)
    assert all("shared" in emu.reply(it).content for it in pending)
    assert emu.resume_count >= 1
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(Note.body.like("drop %"))) == len(pending)


async def test_429_and_500_on_channel_routes_then_the_outbox_posts(world: World, database_url, sessions):
    emu = world.emu
    settings_ = bot_settings(emu, database_url, world.guild.id, outbox_interval_seconds=0.3)
    async with running_bot(settings_, emu):
        await emu.command(world.admin, "setup channel", channel=world.project)
        emu.fail(r"/interactions/\d+/[^/]+/callback", 429, retry_after=0.1)
        emu.fail(r"/channels/\d+/messages$", 429, method="POST", retry_after=0.1)
        emu.fail(r"/channels/\d+/messages$", 500, method="POST")
        first = await emu.command(world.learner, "project announce", project="Job Board", track="backend", pitch="a")
        # discord.py waits out the 429 and retries the 500 after a second: the member may hear first
        assert emu.reply(first).content.startswith("✅ You announced")
        for _ in range(100):
            statuses = [r.status for r in emu.requests_to(r"/channels/\d+/messages$", "POST")]
            if 200 in statuses:
                break
            await asyncio.sleep(0.05)
        assert statuses[:3] == [429, 500, 200]
        # now the channel refuses outright: the record is kept and the outbox posts it later
        emu.deny_bot(world.project, SEND_MESSAGES | EMBED_LINKS)
        second = await emu.command(
            world.learners[1], "project announce", project="Job Board", track="frontend", pitch="b"
        )
        assert "It will be posted automatically" in emu.reply(second).content
        world.project.overwrites.clear()
        emu._dispatch_guild(world.guild.id, "CHANNEL_UPDATE", world.project.payload())
        for _ in range(150):  # backoff starts at 5 s
            if len([m for m in emu.channel_messages(world.project) if "📣" in m.text()]) == 2:
                break
            await asyncio.sleep(0.1)
    posts = [m for m in emu.channel_messages(world.project) if "📣" in m.text()]
    assert len(posts) == 2
    async with sessions() as session:
        waiting = await session.scalar(
            select(func.count()).where(Announcement.posted_revision != Announcement.revision)
        )
    assert waiting == 0


async def test_a_refused_proposal_post_is_posted_by_the_outbox(world: World, database_url, sessions):
    emu = world.emu
    settings_ = bot_settings(emu, database_url, world.guild.id, outbox_interval_seconds=0.3)
    async with running_bot(settings_, emu):
        await emu.command(world.admin, "setup channel", channel=world.project)
        emu.deny_bot(world.project, SEND_MESSAGES | EMBED_LINKS)
        for member, track in ((world.learner, "backend"), (world.learners[1], "frontend")):
            await emu.command(member, "project announce", project="Job Board", track=track, pitch="p")
        found = emu.reply(await emu.command(world.learner, "partner find"))
        assert "<@" in found.text()
        world.project.overwrites.clear()
        emu._dispatch_guild(world.guild.id, "CHANNEL_UPDATE", world.project.payload())
        for _ in range(150):  # backoff starts at 5 s
            if any(b.get("label") == "Accept" for m in emu.channel_messages(world.project) for b in m.buttons()):
                break
            await asyncio.sleep(0.1)
    proposals = [m for m in emu.channel_messages(world.project) if any(b.get("label") == "Accept" for b in m.buttons())]
    assert len(proposals) == 1
    async with sessions() as session:
        teams = (await session.scalars(select(Team))).all()
    assert [team.posted_revision == team.revision for team in teams] == [True]


async def test_a_failed_outbox_pass_does_not_stop_the_retries(world: World, database_url, monkeypatch, caplog):
    """discord.ext.tasks ends a loop whose body raises: one failed pass must not end the retries."""
    emu = world.emu
    settings_ = bot_settings(emu, database_url, world.guild.id, outbox_interval_seconds=0.3)
    async with running_bot(settings_, emu) as bot:
        await emu.command(world.admin, "setup channel", channel=world.project)
        emu.deny_bot(world.project, SEND_MESSAGES | EMBED_LINKS)
        await emu.command(world.learner, "project announce", project="Job Board", track="backend", pitch="p")
        outbox = bot.services.outbox
        due, failed = outbox.due, asyncio.Event()

        async def due_failing_once(*args, **kwargs):
            if not failed.is_set():
                failed.set()
                raise OperationalError("SELECT", {}, Exception("disk I/O error"))
            return await due(*args, **kwargs)

        monkeypatch.setattr(outbox, "due", due_failing_once)
        await asyncio.wait_for(failed.wait(), 5)
        world.project.overwrites.clear()
        emu._dispatch_guild(world.guild.id, "CHANNEL_UPDATE", world.project.payload())
        for _ in range(150):  # backoff starts at 5 s
            if any("📣" in m.text() for m in emu.channel_messages(world.project)):
                break
            await asyncio.sleep(0.1)
    assert len([m for m in emu.channel_messages(world.project) if "📣" in m.text()]) == 1
    assert "Outbox pass failed; the next pass tries again" in caplog.text


def _string_options(schemas):
    """(command path, option name, max length, option schemas) for every free-text string option."""
    found = []

    def walk(prefix, options):
        leaves = [o for o in options if o["type"] not in (OPT_SUBCOMMAND, OPT_GROUP)]
        for option in options:
            if option["type"] in (OPT_SUBCOMMAND, OPT_GROUP):
                walk(f"{prefix} {option['name']}", option.get("options", []))
            elif option["type"] == OPT_STRING and not option.get("choices"):
                found.append((prefix, option["name"], option.get("max_length", 6000), leaves))

    for schema in schemas:
        walk(schema["name"], schema.get("options", []))
    return found


HOSTILE = st.one_of(
    st.text(max_size=400),
    st.sampled_from(
        [
            "@everyone",
            "@here",
            "<@&1>",
            "<@1>",
            "\u0000\u0007\u202e",
            "Job Board\u0000",
            "",
            "   ",
            "x" * 5000,
            '"unbalanced',
            "NEAR(a b) OR *",
            "```",
            "\n\n\n",
            "🎉" * 50,
        ]
    ),
)


async def test_hostile_text_in_every_string_option(nexus, world: World, caplog):
    """Property test through the emulator: every reply is normal or a clear error, nobody is mass-pinged."""
    emu = world.emu
    targets = _string_options(emu.guild_commands[world.guild.id])
    assert len(targets) >= 15
    tried = 0

    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def cases(data):
        cases.drawn.append([data.draw(HOSTILE) for _ in targets])

    cases.drawn = []
    cases()
    caplog.set_level(logging.ERROR, logger="nexus.errors")
    for values in cases.drawn:
        for (path, name, max_length, leaves), value in zip(targets, values, strict=True):
            options = sample_options(world, leaves)
            options[name] = value[:max_length] or "x"
            try:
                it = await emu.command(world.learners[0], path, validate=False, **options)
            except EmulatorError:
                continue
            tried += 1
            if it.modal is not None:
                continue
            for message in emu.messages_of(it) or [emu.reply(it)]:
                assert not message.pings().mass
            assert "tell staff this reference" not in emu.reply(it).content, (path, name, value[:80])
    assert tried >= len(targets)
    assert not [r for r in caplog.records if "Unhandled error" in r.getMessage()]
    for message in emu.channel_messages(world.project) + emu.channel_messages(world.general):
        assert not message.pings().mass
    print(f"\nhostile inputs tried through the emulator: {tried}")
