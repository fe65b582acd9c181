"""`python -m bot run` as a real process: settings survive a restart; SIGTERM shuts down cleanly."""

from __future__ import annotations

import signal

import pytest

from tests.harness import BotProcess, World, subprocess_env

pytestmark = pytest.mark.slow


async def test_settings_survive_a_restart_and_sigterm_is_clean(world: World, database_url: str, tmp_path):
    emu = world.emu
    log_path = tmp_path / "bot.log"
    bot = BotProcess(subprocess_env(emu, database_url, world.guild.id), log_path)
    await bot.start(emu)
    it = await emu.command(world.admin, "setup channel", channel=world.project)
    assert world.project.mention in emu.reply(it).content
    assert await bot.stop(signal.SIGTERM) == 0

    restarted = BotProcess(subprocess_env(emu, database_url, world.guild.id), log_path)
    await restarted.start(emu)
    try:
        shown = await emu.command(world.admin, "setup show")
        text = emu.reply(shown).text()
        assert world.project.mention in text
        assert "found by name" not in text  # it is the stored setting, not the name fallback
    finally:
        assert await restarted.stop(signal.SIGINT) == 0
    log = log_path.read_text()
    assert "Traceback" not in log
    assert log.count("Stopped") == 2
    assert emu.token not in log
