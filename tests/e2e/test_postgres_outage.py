"""PostgreSQL stopped and started under the running bot: a clear "try again", then service resumes.

The outage is played on a throwaway PostgreSQL cluster on 127.0.0.1:5499 that this test creates and
drops, so the shared server on 5432 is never disturbed. It runs in the PostgreSQL pass of the suite,
on machines that have Debian's postgresql-common tools (as CI does).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid

import pytest

from bot.db import upgrade_database
from tests.harness import World, bot_settings, postgres_url, running_bot

PORT = 5499
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres_url() is None or shutil.which("pg_createcluster") is None,
        reason="runs in the PostgreSQL pass, where Debian's cluster tools are installed",
    ),
]


def _pg(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=120)


@pytest.fixture
def outage_cluster():
    version = sorted(p.name for p in __import__("pathlib").Path("/etc/postgresql").iterdir())[-1]
    name = f"nexus{uuid.uuid4().hex[:6]}"
    _pg("pg_createcluster", version, name, "-p", str(PORT), "--", "--auth=trust")
    _pg("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start")
    try:
        yield version, name
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True, timeout=120)


async def test_bot_survives_a_postgres_restart(world: World, outage_cluster):
    version, name = outage_cluster
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{PORT}/postgres"
    upgrade_database(url)
    emu = world.emu
    async with running_bot(bot_settings(emu, url, world.guild.id), emu):
        ok = await emu.command(world.learner, "profile set", track="backend", timezone="UTC")
        assert "Profile saved" in emu.reply(ok).content
        await asyncio.to_thread(_pg, "pg_ctlcluster", "--skip-systemctl-redirect", version, name, "stop", "-m", "fast")
        down = emu.reply(await emu.command(world.learner, "profile set", track="frontend", timezone="UTC"))
        assert down.ephemeral and "try again" in down.content.lower()
        await asyncio.to_thread(_pg, "pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start")
        for _ in range(20):
            up = emu.reply(await emu.command(world.learner, "profile set", track="frontend", timezone="UTC"))
            if "Profile saved" in up.content:
                break
            await asyncio.sleep(0.5)
        assert "Profile saved" in up.content  # served again without restarting the bot
        shown = emu.reply(await emu.command(world.learner, "profile show")).text()
        assert "Frontend" in shown
