"""Metrics and health end to end: the real bot answers commands through the emulator while a real
HTTP client scrapes /metrics and probes /healthz; the gateway drops and comes back."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.db import create_engine
from bot.observability.probes import database_problem
from tests.harness import BotProcess, World, bot_settings, running_bot, subprocess_env

Families = dict[str, Any]


async def scrape(port: int) -> Families:
    """GET /metrics and parse it the way Prometheus does."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {family.name: family for family in text_string_to_metric_families(text)}


async def health(port: int) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as response:
        return response.status, await response.json()


def value(families: Families, sample: str, **labels: str) -> float:
    """The value of one sample (0 when it is not there yet)."""
    family = families.get(sample.removesuffix("_total").removesuffix("_count").removesuffix("_sum"))
    if family is None:
        return 0.0
    for s in family.samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return float(s.value)
    return 0.0


async def eventually(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Await `check()` until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_metrics_count_commands_refusals_loops_and_health_follows_the_gateway(world: World, database_url):
    emu = world.emu
    settings = bot_settings(emu, database_url, world.guild.id, metrics_port=0, outbox_interval_seconds=0.2)
    async with running_bot(settings, emu) as bot:
        assert bot.metrics_server is not None
        port = bot.metrics_server.port
        assert port > 0

        for _ in range(3):
            assert "/nexus about" in emu.reply(await emu.command(world.learner, "nexus help")).text()
        await emu.command(world.learner, "nexus about")
        await emu.command(world.admin, "setup channel", channel=world.project)  # a write
        refused = await emu.command(world.mentor, "setup show")  # not staff yet
        assert "Only staff" in emu.reply(refused).content
        # Discord refuses the first answer with a 400: an unexpected error, reported with a reference
        emu.fail(r"/interactions/\d+/[^/]+/callback", 400)
        broken = await emu.command(world.learner, "nexus about")
        assert "tell staff this reference" in emu.reply(broken).content
        # a form refused, its Edit button, the form again, accepted
        opened = await emu.command(world.learner, "note add", topic="Django", kind="learning")
        typed = {"Title": "   ", "What did you learn?": "select_related joins", "Tags (comma separated)": "orm"}
        refused_form = emu.reply(await emu.submit_modal(world.learner, opened, typed))
        reopened = await emu.click(world.learner, refused_form, "Edit")
        saved = await emu.submit_modal(world.learner, reopened, {**typed, "Title": "The ORM joins for you"})
        assert "Saved as note #" in emu.reply(saved).content

        async def counted() -> Families | None:
            families = await scrape(port)
            done = value(families, "nexus_interaction_seconds_count", command="modal", outcome="ok")
            loops = value(families, "nexus_loop_runs_total", loop="Outbox pass")
            return families if done and loops else None

        families = await eventually(counted, "the refusal and an outbox pass to be counted")
        count = "nexus_interaction_seconds_count"
        assert value(families, count, command="nexus help", outcome="ok") == 3
        assert value(families, count, command="nexus about", outcome="ok") == 1
        assert value(families, count, command="nexus about", outcome="error") == 1
        assert value(families, count, command="setup channel", outcome="ok") == 1
        assert value(families, count, command="setup show", outcome="refused") == 1
        assert value(families, count, command="setup show", outcome="ok") == 0
        assert value(families, count, command="note add", outcome="ok") == 1
        assert value(families, count, command="modal", outcome="refused") == 1
        assert value(families, count, command="button", outcome="ok") == 1
        assert value(families, count, command="modal", outcome="ok") == 1
        total = sum(s.value for s in families["nexus_interaction_seconds"].samples if s.name == count)
        assert total == 11, "one observation per interaction sent"
        assert value(families, "nexus_interaction_seconds_sum", command="nexus help", outcome="ok") > 0
        assert value(families, "nexus_errors_total", kind="NotStaffError", outcome="refused") == 1
        errors = families["nexus_errors"].samples
        assert sum(s.value for s in errors if s.name == "nexus_errors_total") == 3, errors
        assert value(families, "nexus_errors_total", kind="HTTPException", outcome="error") == 1
        assert value(families, "nexus_loop_runs_total", loop="Outbox pass") >= 1
        assert value(families, "nexus_loop_failures_total", loop="Outbox pass") == 0
        assert value(families, "nexus_db_write_wait_seconds_count") >= 1
        assert value(families, "nexus_outbox_backlog") == 0
        assert "nexus_outbox_oldest_waiting_seconds" in families
        assert value(families, "nexus_shard_connected", shard="0") == 1

        status, body = await health(port)
        assert (status, body["status"]) == (200, "ok"), body
        assert body["checks"] == {"gateway": "ok", "database": "ok"}

        # the gateway drops and Discord stays unreachable: /healthz says so
        emu.hold_gateway()
        await emu.drop_gateway()

        async def unhealthy() -> dict[str, Any] | None:
            status, body = await health(port)
            return body if status == 503 else None

        body = await eventually(unhealthy, "/healthz to turn 503")
        assert body["status"] == "failing"
        assert "disconnected" in body["checks"]["gateway"] and body["checks"]["database"] == "ok"
        assert value(await scrape(port), "nexus_shard_connected", shard="0") == 0
        await eventually(lambda: asyncio.sleep(0, emu.held_connections >= 1), "the bot to try to reconnect")

        # Discord answers again: the bot resumes and /healthz is back to 200
        resumes = emu.resume_count
        emu.release_gateway()

        async def healthy() -> bool:
            return (await health(port))[0] == 200

        await eventually(healthy, "/healthz to turn 200 again")
        assert emu.resume_count > resumes
        assert value(await scrape(port), "nexus_shard_connected", shard="0") == 1
        after = await emu.command(world.learner, "nexus help")
        assert "/nexus about" in emu.reply(after).text()

    # closed: the port is free again
    with pytest.raises(aiohttp.ClientConnectionError):
        await health(port)


async def test_a_sharded_bot_is_healthy_only_with_every_shard_connected(emu, database_url):
    guilds = [emu.add_guild(f"Cohort {shard}", shard=(shard, 2)) for shard in (0, 1)]
    emu.add_channel(guilds[0], "general")
    learner = emu.add_member(guilds[0], "learner-on-shard-0")
    settings = bot_settings(emu, database_url, guilds[0].id, metrics_port=0, shard_count=2, shard_ids="0,1")
    async with running_bot(settings, emu) as bot:
        assert bot.metrics_server is not None
        port = bot.metrics_server.port

        async def healthy() -> bool:
            return (await health(port))[0] == 200

        await eventually(healthy, "/healthz to answer 200 with both shards up")
        families = await scrape(port)
        assert value(families, "nexus_shard_connected", shard="0") == 1
        assert value(families, "nexus_shard_connected", shard="1") == 1

        emu.hold_gateway()
        await emu.drop_gateway()

        async def unhealthy() -> dict[str, Any] | None:
            status, body = await health(port)
            return body if status == 503 else None

        body = await eventually(unhealthy, "/healthz to turn 503")
        assert "shard 0, 1" in body["checks"]["gateway"], body
        emu.release_gateway()
        await eventually(healthy, "/healthz to turn 200 again")
        families = await scrape(port)
        assert value(families, "nexus_shard_connected", shard="1") == 1
        assert "/nexus about" in emu.reply(await emu.command(learner, "nexus help")).text()


async def test_database_check_names_an_unreachable_database():
    engine = create_engine("postgresql+asyncpg://nexus@127.0.0.1:1/nexus")  # nothing listens on port 1
    try:
        problem = await database_problem(engine, timeout=5)
    finally:
        await engine.dispose()
    assert problem is not None and problem.startswith("SELECT 1 failed"), problem


def _listening_sockets() -> set[str]:
    """Inodes of the TCP sockets this process listens on (Linux)."""
    listening: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with Path(table).open() as rows:
            next(rows)
            listening |= {row.split()[9] for row in rows if row.split()[3] == "0A"}
    mine = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = fd.readlink()
        except OSError:
            continue
        if str(target).startswith("socket:["):
            mine.add(str(target)[8:-1])
    return listening & mine


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
async def test_without_metrics_port_nothing_listens(world: World, database_url):
    before = _listening_sockets()
    assert before, "the emulator itself should be listening"
    settings = bot_settings(world.emu, database_url, world.guild.id)
    assert settings.metrics_port is None
    async with running_bot(settings, world.emu) as bot:
        await world.emu.command(world.learner, "nexus help")
        assert bot.metrics_server is None
        assert _listening_sockets() == before


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
async def test_the_cli_serves_health_and_writes_json_logs(world: World, database_url, tmp_path):
    emu = world.emu
    port = _free_port()
    env = subprocess_env(emu, database_url, world.guild.id) | {
        "METRICS_PORT": str(port),
        "METRICS_HOST": "127.0.0.1",
        "LOG_FORMAT": "json",
    }
    bot = BotProcess(env, tmp_path / "bot.log")
    await bot.start(emu)
    try:
        it = await emu.command(world.learner, "nexus help")
        assert "/nexus about" in emu.reply(it).text()

        async def healthy() -> bool:
            try:
                return (await health(port))[0] == 200
            except aiohttp.ClientConnectionError:
                return False

        await eventually(healthy, "the subprocess's /healthz to answer 200", timeout=15)
        families = await scrape(port)
        assert value(families, "nexus_interaction_seconds_count", command="nexus help", outcome="ok") == 1
        emu.fail(r"/interactions/\d+/[^/]+/callback", 400)  # an unexpected error, logged with its reference
        broken = await emu.command(world.learner, "nexus about")
        assert "tell staff this reference" in emu.reply(broken).content
    finally:
        assert await bot.stop() == 0
    lines = [line for line in (tmp_path / "bot.log").read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    assert entries and len(entries) == len(lines), "every line is one JSON object"
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert all(emu.token not in line for line in lines)
    (error,) = [e for e in entries if e.get("error_ref")]
    assert error["level"] == "ERROR" and error["logger"] == "nexus.errors"
    assert error["guild"] == world.guild.id and error["command"] == "nexus about"
    assert error["interaction"] == broken.id
    assert f"`{error['error_ref']}`" in emu.reply(broken).content
    assert "HTTPException" in error["exception"]
