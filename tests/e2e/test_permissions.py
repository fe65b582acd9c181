"""Every synced command is classified; Discord hides the all-staff groups from members and the bot
still refuses staff commands to non-staff; writes have a cooldown."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.checks import STAFF_GROUPS, is_staff_command, is_write_command
from bot.sandbox.emulator import (
    ALL_CHANNELS,
    OPT_BOOLEAN,
    OPT_CHANNEL,
    OPT_GROUP,
    OPT_INTEGER,
    OPT_NUMBER,
    OPT_ROLE,
    OPT_STRING,
    OPT_SUBCOMMAND,
    OPT_USER,
    CommandHidden,
    DiscordEmulator,
)
from bot.sandbox.state import ADMINISTRATOR, MANAGE_GUILD
from tests.harness import World, bot_settings, build_world, running_bot

# Commands any member may run. A new command must be added here or be a staff command:
# the test below fails for a command nobody classified.
MEMBER_COMMANDS = {
    "nexus help",
    "nexus about",
    "nexus progress",
    "nexus export",
    "nexus forget-me",
    "nexus reminders off",
    "nexus reminders on",
    "catalog list",
    "profile set",
    "profile show",
    "project announce",
    "project withdraw",
    "project who",
    "project board",
    "partner find",
    "partner status",
    "partner leave",
    "api add",
    "api edit",
    "api show",
    "api history",
    "api list",
    "api agree",
    "api remove",
    "api export",
    "note add",
    "note search",
    "note show",
    "note edit",
    "note delete",
    "note mine",
    "tip share",
    "tip random",
    "tip top",
    "topic list",
    "checkin setup",
    "checkin now",
    "checkin pause",
    "checkin resume",
    "checkin history",
}
# Commands that change nothing: they need no write cooldown.
READ_ONLY = {
    "nexus help",
    "nexus about",
    "nexus progress",
    "nexus export",
    "catalog list",
    "profile show",
    "project who",
    "project board",
    "partner status",
    "api list",
    "api show",
    "api history",
    "api export",
    "note search",
    "note show",
    "note mine",
    "tip random",
    "tip top",
    "topic list",
    "setup show",
    "cohort roster",
    "schedule list",
    "cohort chart",
    "cohort blockers",
    "checkin history",
}


def leaf_commands(schemas: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(qualified name, option schema) of every leaf command in the synced schemas."""
    found = []

    def walk(prefix: str, options: list[dict[str, Any]]) -> None:
        subs = [o for o in options if o["type"] in (OPT_SUBCOMMAND, OPT_GROUP)]
        if not subs:
            found.append((prefix, options))
        for sub in subs:
            walk(f"{prefix} {sub['name']}", sub.get("options", []))

    for schema in schemas:
        walk(schema["name"], schema.get("options", []))
    return sorted(found)


def sample_options(world: World, options: list[dict[str, Any]]) -> dict[str, Any]:
    """A valid value for every required option, from its type and limits."""
    values: dict[str, Any] = {}
    for option in options:
        if not option.get("required"):
            continue
        kind = option["type"]
        if option.get("choices"):
            values[option["name"]] = option["choices"][0]["value"]
        elif kind == OPT_STRING:
            values[option["name"]] = (
                "Job Board" if option["name"] == "project" else "x" * max(3, option.get("min_length", 1))
            )
        elif kind in (OPT_INTEGER, OPT_NUMBER):
            values[option["name"]] = option.get("min_value", 1)
        elif kind == OPT_BOOLEAN:
            values[option["name"]] = False
        elif kind == OPT_CHANNEL:
            values[option["name"]] = world.project
        elif kind == OPT_ROLE:
            values[option["name"]] = world.staff_role
        elif kind == OPT_USER:
            values[option["name"]] = world.learners[1]
    return values


async def run(world: World, member, name: str, options: list[dict[str, Any]]) -> str:
    interaction = await world.emu.command(member, name, **sample_options(world, options))
    if interaction.modal is not None:
        return f"(modal {interaction.modal['title']})"
    return world.emu.reply(interaction).text()


async def test_every_command_is_classified(nexus):
    tree_commands = {c.qualified_name: c for c in nexus.tree.walk_commands() if not hasattr(c, "commands")}
    staff = {name for name, command in tree_commands.items() if is_staff_command(command)}
    unclassified = set(tree_commands) - staff - MEMBER_COMMANDS
    assert not unclassified, f"classify these commands as member or staff commands: {unclassified}"
    assert not staff & MEMBER_COMMANDS
    missing_cooldown = {
        name for name, command in tree_commands.items() if name not in READ_ONLY and not is_write_command(command)
    }
    assert not missing_cooldown, f"commands that write without a cooldown: {missing_cooldown}"


def all_staff_groups(nexus) -> set[str]:
    """Top-level groups whose every subcommand carries the staff_only check, from the bot's tree."""
    groups = {}
    for command in nexus.tree.walk_commands():
        if not hasattr(command, "commands"):
            top = command.qualified_name.split()[0]
            groups[top] = groups.get(top, True) and is_staff_command(command)
    return {name for name, all_staff in groups.items() if all_staff}


async def test_exactly_the_all_staff_groups_are_hidden_from_members(nexus, world: World):
    schemas = world.emu.guild_commands[world.guild.id]
    gated = {c["name"] for c in schemas if c.get("default_member_permissions") is not None}
    manage_server = {c["name"] for c in schemas if c.get("default_member_permissions") == str(MANAGE_GUILD)}
    assert manage_server == gated == all_staff_groups(nexus) == set(STAFF_GROUPS)
    assert set(STAFF_GROUPS) == {"setup", "match", "cohort", "schedule"}
    # the mixed groups keep their names and their run-time check only
    assert {"catalog", "topic", "note"} <= {c["name"] for c in schemas} - gated


async def test_permission_table_over_every_synced_command(nexus, world: World):
    schemas = world.emu.guild_commands[world.guild.id]
    gated = {c["name"] for c in schemas if c.get("default_member_permissions") is not None}
    commands = leaf_commands(schemas)
    staff = {c.qualified_name for c in nexus.tree.walk_commands() if not hasattr(c, "commands") and is_staff_command(c)}
    assert len(commands) >= 30 and staff and gated
    table = []
    for name, options in commands:
        if name.split()[0] in gated:
            with pytest.raises(CommandHidden):
                await run(world, world.learners[0], name, options)
            # the mentor's role is allowed on the group in Discord, but /setup staff-role names no
            # role yet: the bot's own check still refuses (defence in depth)
            as_mentor = await run(world, world.mentor, name, options)
            assert "Only staff" in as_mentor, f"/{name} as the mentor: {as_mentor[:200]}"
            table.append((name, True))
        else:
            as_member = await run(world, world.learners[0], name, options)
            refused = "Only staff" in as_member
            table.append((name, refused))
            assert refused == (name in staff), f"/{name} as a member: {as_member[:200]}"
        if name in staff:
            as_staff = await run(world, world.admin, name, options)
            assert "Only staff" not in as_staff, f"/{name} refused for staff"
    assert sum(refused for _, refused in table) == len(staff)


async def test_staff_role_without_the_override_cannot_run_hidden_groups(emu: DiscordEmulator, database_url):
    world = build_world(emu, staff_overrides=False)
    async with running_bot(bot_settings(emu, database_url, world.guild.id), emu):
        told = emu.reply(await emu.command(world.admin, "setup staff-role", role=world.staff_role)).content
        assert f"Members with {world.staff_role.mention} can now run staff commands." in told
        assert "Server Settings → Integrations → Nexus" in told
        assert f"allow {world.staff_role.mention} on each of them" in told
        for group in ("/setup", "/match", "/cohort", "/schedule"):
            assert group in told
        with pytest.raises(CommandHidden):
            await emu.command(world.mentor, "cohort roster")
        assert {"setup", "match", "cohort", "schedule"}.isdisjoint(
            c["name"] for c in emu.visible_commands(world.mentor)
        )
        # a staff command in a mixed group is shown, and the bot lets the staff role run it
        added = emu.reply(await emu.command(world.mentor, "catalog add", name="Mentor's pick")).text()
        assert "Only staff" not in added

        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert f"Discord hides /setup, /match, /cohort and /schedule from {world.staff_role.mention}" in shown

        emu.allow_role(world.guild, "cohort", world.staff_role)
        roster = emu.reply(await emu.command(world.mentor, "cohort roster")).text()
        assert "Only staff" not in roster
        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert "Discord hides /setup, /match and /schedule from" in shown

        emu.allow_role(world.guild, "setup", world.staff_role)
        emu.allow_role(world.guild, "match", world.staff_role)
        emu.allow_role(world.guild, "schedule", world.staff_role)
        shown = emu.reply(await emu.command(world.mentor, "setup show")).text()
        assert "⚠️" not in shown and world.staff_role.mention in shown

        emu.fail(r"/commands/permissions$", 403)
        shown = emu.reply(await emu.command(world.admin, "setup show")).text()
        assert "I could not check whether Discord shows /setup, /match, /cohort and /schedule" in shown


async def test_setup_show_reads_the_overrides_of_global_commands(nexus, world: World):
    emu = world.emu
    await nexus.sync_commands(None)  # production: global commands only
    del emu.guild_commands[world.guild.id]
    await emu.command(world.admin, "setup staff-role", role=world.staff_role)
    shown = emu.reply(await emu.command(world.mentor, "setup show")).text()
    assert "⚠️" not in shown and world.staff_role.mention in shown
    emu.clear_command_permissions(world.guild, "match")
    shown = emu.reply(await emu.command(world.admin, "setup show")).text()
    assert f"Discord hides /match from {world.staff_role.mention}" in shown and "allow" in shown
    assert len(emu.requests_to(r"/commands/permissions$", "GET")) == 2  # one permissions call per /setup show


async def test_an_allowed_role_that_is_not_the_staff_role_is_still_refused(nexus, world: World):
    helpers = world.emu.add_role(world.guild, "Helpers")
    helper = world.emu.add_member(world.guild, "helper1", roles=[helpers])
    world.emu.allow_role(world.guild, "cohort", helpers)
    await world.emu.command(world.admin, "setup staff-role", role=world.staff_role)
    refused = world.emu.reply(await world.emu.command(helper, "cohort roster"))
    assert refused.ephemeral and "Only staff" in refused.content
    with pytest.raises(CommandHidden):
        await world.emu.command(helper, "match run")


async def test_the_bot_reads_command_permissions_but_cannot_write_them(nexus, world: World):
    guild = discord.Object(id=world.guild.id)
    commands = {c.name: c for c in await nexus.tree.fetch_commands(guild=guild)}
    cohort = await commands["cohort"].fetch_permissions(guild)
    assert [(p.id, p.type, p.permission) for p in cohort.permissions] == [
        (world.staff_role.id, discord.AppCommandPermissionType.role, True)
    ]
    with pytest.raises(discord.NotFound):  # no override: synced with the defaults
        await commands["catalog"].fetch_permissions(guild)
    every = await nexus.http.get_guild_application_command_permissions(nexus.application_id, world.guild.id)
    assert {int(entry["id"]) for entry in every} == {commands[name].id for name in STAFF_GROUPS}
    with pytest.raises(discord.Forbidden):  # only a user's Bearer token may change them
        await nexus.http.edit_application_command_permissions(
            nexus.application_id, world.guild.id, commands["cohort"].id, {"permissions": []}
        )


def test_emulator_combines_overrides_as_discord_does():
    emu = DiscordEmulator()
    guild = emu.add_guild("Rules")
    general, other = emu.add_channel(guild, "general"), emu.add_channel(guild, "other")
    staff, muted = emu.add_role(guild, "Staff"), emu.add_role(guild, "Muted")
    admin = emu.add_member(guild, "admin", roles=[emu.add_role(guild, "Admins", ADMINISTRATOR)])
    manager = emu.add_member(guild, "manager", roles=[emu.add_role(guild, "Managers", MANAGE_GUILD)])
    mentor = emu.add_member(guild, "mentor", roles=[staff])
    both = emu.add_member(guild, "both", roles=[staff, muted])
    learner = emu.add_member(guild, "learner")
    gated = {"name": "cohort", "default_member_permissions": str(MANAGE_GUILD)}
    admins_only = {"name": "debug", "default_member_permissions": "0"}
    open_ = {"name": "note", "default_member_permissions": None}

    assert emu.can_use(manager, gated) and not emu.can_use(mentor, gated) and not emu.can_use(learner, gated)
    assert emu.can_use(admin, admins_only) and not emu.can_use(manager, admins_only)
    assert emu.can_use(admin, gated, general) and emu.can_use(learner, open_)

    emu.allow_role(guild, "cohort", staff)
    assert emu.can_use(mentor, gated) and not emu.can_use(learner, gated)
    emu.set_command_permission(guild, "cohort", muted, False)
    assert emu.can_use(both, gated)  # one allowed role is enough
    emu.set_command_permission(guild, "cohort", both, False)
    assert not emu.can_use(both, gated)  # a user override beats the roles
    emu.set_command_permission(guild, "cohort", guild.default_role, True)
    assert not emu.can_use(learner, gated)  # an @everyone allow does not lift default_member_permissions
    emu.set_command_permission(guild, "cohort", general, False)
    assert not emu.can_use(mentor, gated, general) and emu.can_use(mentor, gated, other)
    emu.set_command_permission(guild, "cohort", ALL_CHANNELS, False)
    assert not emu.can_use(mentor, gated, other) and emu.can_use(admin, gated, general)

    # app-level overrides (every command): they don't lift default_member_permissions
    emu.set_command_permission(guild, None, muted, True)
    assert not emu.can_use(emu.add_member(guild, "quiet", roles=[muted]), admins_only)
    emu.set_command_permission(guild, None, guild.default_role, False)
    assert not emu.can_use(learner, open_) and emu.can_use(manager, gated)
    emu.clear_command_permissions(guild, None)
    assert emu.can_use(learner, open_)


async def test_write_cooldown_says_when_to_try_again(world: World, database_url, sessions):
    emu = world.emu
    settings = bot_settings(emu, database_url, world.guild.id, write_cooldown_rate=2, write_cooldown_seconds=60)
    async with running_bot(settings, emu):
        for zone in ("Africa/Lagos", "Africa/Cairo"):
            reply = emu.reply(await emu.command(world.learner, "profile set", track="backend", timezone=zone))
            assert "Profile saved" in reply.content
        third = emu.reply(await emu.command(world.learner, "profile set", track="backend", timezone="UTC"))
        assert third.ephemeral and "Slow down" in third.content and " s." in third.content
        shown = emu.reply(await emu.command(world.learner, "profile show")).text()
        assert "Africa/Cairo" in shown  # the refused write changed nothing
        other = emu.reply(await emu.command(world.learners[1], "profile set", track="frontend", timezone="UTC"))
        assert "Profile saved" in other.content  # per member


def _descriptions(node: object) -> list[str]:
    """Every description in a registered command's JSON, options and subcommands included."""
    if isinstance(node, dict):
        own = [node["description"]] if isinstance(node.get("description"), str) else []
        return own + [d for value in node.values() for d in _descriptions(value)]
    if isinstance(node, list):
        return [d for value in node for d in _descriptions(value)]
    return []


async def test_no_help_text_is_cut_short(nexus, world: World):
    """discord.py cuts a description over Discord's 100 characters with an ellipsis, so Discord
    accepts it but members read half a sentence: every one must fit whole."""
    cut = [d for d in _descriptions(world.emu.guild_commands[world.guild.id]) if d.endswith("…")]
    assert cut == []
