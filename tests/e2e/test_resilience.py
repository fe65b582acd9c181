"""The bot keeps answering through a dropped gateway, rate limits and server errors."""

from __future__ import annotations

from tests.harness import World

CALLBACK = r"/interactions/\d+/[^/]+/callback"


async def test_gateway_dropped_mid_session_bot_resumes_and_answers(nexus, world: World):
    emu = world.emu
    first = await emu.command(world.learner, "nexus about")
    assert "About Nexus" in emu.reply(first).text()
    await emu.drop_gateway()
    # sent while the connection is down: delivered when the bot resumes
    it = await emu.command(world.learner, "nexus help")
    assert "/setup channel" in emu.reply(it).text()
    assert emu.resume_count == 1
    assert emu.identify_count == 1  # resumed, not re-identified


async def test_gateway_closed_with_reconnectable_code(nexus, world: World):
    emu = world.emu
    await emu.drop_gateway(code=4000)
    it = await emu.command(world.learner, "nexus about")
    assert "About Nexus" in emu.reply(it).text()


async def test_429_on_callback_is_retried_and_answered(nexus, world: World):
    emu = world.emu
    emu.fail(CALLBACK, 429, retry_after=0.2)
    it = await emu.command(world.learner, "nexus help")
    assert "/nexus about" in emu.reply(it).text()
    statuses = [r.status for r in emu.requests_to(CALLBACK)]
    assert statuses == [429, 204] or statuses == [429, 200]


async def test_500_on_callback_is_retried_and_answered(nexus, world: World):
    emu = world.emu
    emu.fail(CALLBACK, 500)
    it = await emu.command(world.admin, "setup channel", channel=world.project)
    assert world.project.mention in emu.reply(it).content
    assert next(r.status for r in emu.requests_to(CALLBACK)) == 500
