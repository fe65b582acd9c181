"""The token never shows up in logs, error replies or the sandbox transcript."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.harness import ROOT, BotProcess, World, subprocess_env

pytestmark = pytest.mark.slow


async def test_token_never_logged_even_at_debug(world: World, database_url, tmp_path):
    emu = world.emu
    env = subprocess_env(emu, database_url, world.guild.id) | {"LOG_LEVEL": "DEBUG"}
    log = tmp_path / "bot.log"
    bot = BotProcess(env, log)
    await bot.start(emu)
    await emu.command(world.admin, "setup channel", channel=world.project)
    await emu.command(world.learner, "project announce", project="Nope", track="backend", pitch="x")  # an error
    await emu.drop_gateway()  # a reconnect logs the session
    await emu.command(world.learner, "nexus about")
    assert await bot.stop(signal.SIGTERM) == 0
    written = log.read_text()
    assert "IDENTIFY" in written or "Shard ID" in written  # debug logging really ran
    assert emu.token not in written
    replies = "\n".join(m.text() for m in emu.messages.values())
    assert emu.token not in replies


def test_sandbox_transcript_has_no_token(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--db", str(tmp_path / "s.db"), "--script", "examples/week1.txt"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LOG_LEVEL": "DEBUG"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "emulator." not in result.stdout + result.stderr
