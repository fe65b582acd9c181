"""The bot logs in to the emulator, syncs, and answers the first commands."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.sandbox.emulator import OPT_CHANNEL, OPT_SUBCOMMAND, CommandHidden, EmulatorError
from models import GuildSettings
from tests.harness import World


async def test_bot_syncs_commands_with_option_schemas(nexus, world: World):
    commands = {c["name"]: c for c in world.emu.guild_commands[world.guild.id]}
    assert {"nexus", "setup"} <= set(commands)
    setup = {o["name"]: o for o in commands["setup"]["options"]}
    assert setup["channel"]["type"] == OPT_SUBCOMMAND
    channel_opt = setup["channel"]["options"][0]
    assert channel_opt["name"] == "channel" and channel_opt["type"] == OPT_CHANNEL
    assert channel_opt["required"] is True
    assert 0 in channel_opt["channel_types"]  # text channels only (and announcement channels)
    assert 2 not in channel_opt["channel_types"]
    role_opt = setup["staff-role"]["options"][0]
    assert role_opt["name"] == "role" and not role_opt.get("required", False)


async def test_help_lists_every_command_ephemerally(nexus, world: World):
    it = await world.emu.command(world.learner, "nexus help")
    reply = world.emu.reply(it)
    assert reply.ephemeral
    text = reply.text()
    for name in ("/nexus help", "/nexus about", "/setup channel", "/setup staff-role", "/setup show"):
        assert name in text
    assert "(staff)" in text


async def test_about_reports_backend_and_latency(nexus, world: World, database_url: str):
    it = await world.emu.command(world.learner, "nexus about")
    text = world.emu.reply(it).text()
    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    assert backend in text
    assert "0.1.0" in text
    assert " ms" in text or "measuring" in text


async def test_setup_channel_is_stored_for_staff(nexus, world: World, sessions):
    it = await world.emu.command(world.admin, "setup channel", channel=world.project)
    reply = world.emu.reply(it)
    assert reply.ephemeral
    assert world.project.mention in reply.content
    async with sessions() as session:
        row = await session.get(GuildSettings, world.guild.id)
    assert row is not None and row.project_channel_id == world.project.id


async def test_setup_is_hidden_from_a_member_without_permission(nexus, world: World, sessions):
    sent = len(world.emu.interactions)
    with pytest.raises(CommandHidden, match="needs permissions 32"):
        await world.emu.command(world.learner, "setup channel", channel=world.project)
    assert len(world.emu.interactions) == sent  # Discord never sent it to the bot
    async with sessions() as session:
        rows = (await session.execute(select(GuildSettings))).scalars().all()
    assert rows == []


async def test_staff_role_grants_staff_commands(nexus, world: World, sessions):
    refused = await world.emu.command(world.mentor, "setup show")
    assert "Only staff" in world.emu.reply(refused).content
    await world.emu.command(world.admin, "setup staff-role", role=world.staff_role)
    allowed = await world.emu.command(world.mentor, "setup channel", channel=world.general)
    assert world.general.mention in world.emu.reply(allowed).content
    shown = await world.emu.command(world.mentor, "setup show")
    text = world.emu.reply(shown).text()
    assert world.staff_role.mention in text and world.general.mention in text


async def test_clearing_the_staff_role_asks_first(nexus, world: World, sessions):
    """The role is optional: running the bare command (to check it, say) must not lock staff out."""
    emu = world.emu
    unset = emu.reply(await emu.command(world.admin, "setup staff-role"))
    assert unset.ephemeral and "No staff role is set" in unset.content and not unset.buttons()
    await emu.command(world.admin, "setup staff-role", role=world.staff_role)
    prompt = emu.reply(await emu.command(world.mentor, "setup staff-role"))
    assert prompt.ephemeral and world.staff_role.mention in prompt.content and not prompt.pings().roles
    kept = emu.reply(await emu.click(world.mentor, prompt, "Cancel"))
    assert "Clear" not in " ".join(b["label"] for b in kept.buttons())
    async with sessions() as session:
        assert (await session.get(GuildSettings, world.guild.id)).staff_role_id == world.staff_role.id
    prompt = emu.reply(await emu.command(world.mentor, "setup staff-role"))
    cleared = emu.reply(await emu.click(world.mentor, prompt, "Clear staff role"))
    assert "Staff role cleared" in cleared.content
    async with sessions() as session:
        assert (await session.get(GuildSettings, world.guild.id)).staff_role_id is None
    refused = emu.reply(await emu.command(world.mentor, "setup show"))
    assert "Only staff" in refused.content


async def test_everyone_role_cannot_be_staff_role(nexus, world: World, sessions):
    it = await world.emu.command(world.admin, "setup staff-role", role=world.guild.default_role)
    assert "can't be the staff role" in world.emu.reply(it).content
    async with sessions() as session:
        assert await session.get(GuildSettings, world.guild.id) is None


async def test_commands_are_server_only(nexus, world: World):
    await nexus.sync_commands(None)  # global commands, as in production
    command = next(c for c in world.emu.global_commands if c["name"] == "nexus")
    assert command["contexts"] == [0]
    with pytest.raises(EmulatorError, match="direct messages"):
        await world.emu.command(world.learner.user, "nexus help")


async def test_command_in_dm_gets_a_clear_refusal(nexus, world: World):
    await nexus.sync_commands(None)
    # a stale client can still send it: the bot must refuse politely
    it = await world.emu.command(world.learner.user, "nexus help", validate=False)
    reply = world.emu.reply(it)
    assert reply.ephemeral
    assert "inside the cohort's server" in reply.content
