"""Every synced command is classified, staff commands refuse members, writes have a cooldown."""

from __future__ import annotations

from typing import Any

from bot.checks import is_staff_command, is_write_command
from bot.sandbox.emulator import (
    OPT_BOOLEAN,
    OPT_CHANNEL,
    OPT_GROUP,
    OPT_INTEGER,
    OPT_NUMBER,
    OPT_ROLE,
    OPT_STRING,
    OPT_SUBCOMMAND,
    OPT_USER,
)
from tests.harness import World, bot_settings, running_bot

# Commands any member may run. A new command must be added here or be a staff command:
# the test below fails for a command nobody classified.
MEMBER_COMMANDS = {
    "nexus help",
    "nexus about",
    "nexus progress",
    "nexus export",
    "nexus forget-me",
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
    "api export",
    "note search",
    "note show",
    "note mine",
    "tip random",
    "tip top",
    "topic list",
    "setup show",
    "cohort roster",
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
                "Job Board Backend" if option["name"] == "project" else "x" * max(3, option.get("min_length", 1))
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


async def test_permission_table_over_every_synced_command(nexus, world: World):
    schemas = world.emu.guild_commands[world.guild.id]
    commands = leaf_commands(schemas)
    staff = {c.qualified_name for c in nexus.tree.walk_commands() if not hasattr(c, "commands") and is_staff_command(c)}
    assert len(commands) >= 30 and staff
    table = []
    for name, options in commands:
        as_member = await run(world, world.learners[0], name, options)
        refused = "Only staff" in as_member
        table.append((name, refused))
        assert refused == (name in staff), f"/{name} as a member: {as_member[:200]}"
        if name in staff:
            as_staff = await run(world, world.admin, name, options)
            assert "Only staff" not in as_staff, f"/{name} refused for staff"
    assert sum(refused for _, refused in table) == len(staff)


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
