"""The sandbox console: its line parser, its rendering against the running bot, and `python -m bot sandbox`."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.checks import STAFF_GROUPS
from bot.sandbox import console as console_module
from bot.sandbox.console import (
    SAMPLE_WORLD_CREATED,
    Console,
    ConsoleError,
    Directory,
    FormField,
    build_sample_world,
    convert_value,
    form_field_value,
    option_values,
    parse_invocation,
    split_options,
)
from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.state import DISCORD_EPOCH_MS, MANAGE_GUILD, EmuMember, EmuRole
from tests.harness import World

ROOT = Path(__file__).resolve().parents[2]
SCRIPT_TIMEOUT = 60

SCHEMA = [
    {
        "name": "project",
        "type": 1,
        "description": "Projects",
        "options": [
            {
                "name": "announce",
                "type": 1,
                "description": "Announce",
                "options": [
                    {"name": "name", "type": 3, "required": True},
                    {"name": "pitch", "type": 3, "required": True},
                    {"name": "repo-url", "type": 3},
                    {"name": "size", "type": 4},
                    {"name": "public", "type": 5},
                    {
                        "name": "track",
                        "type": 3,
                        "choices": [{"name": "Backend", "value": "backend"}, {"name": "Frontend", "value": "frontend"}],
                    },
                ],
            },
            {
                "name": "admin",
                "type": 2,
                "description": "Staff tools",
                "options": [
                    {
                        "name": "grant",
                        "type": 1,
                        "description": "Grant",
                        "options": [
                            {"name": "member", "type": 6, "required": True},
                            {"name": "role", "type": 8},
                            {"name": "where", "type": 7},
                        ],
                    }
                ],
            },
        ],
    },
    {"name": "ping", "type": 1, "description": "Ping", "options": []},
]


def _sandbox_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_", "DEV_GUILD"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _play(script: Path, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--db", str(db), "--script", str(script)],
        cwd=ROOT,
        env=_sandbox_env(),
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )


# ---------------------------------------------------------------------- the parser, without the bot


def test_option_values_may_hold_spaces_colons_and_urls():
    invocation = parse_invocation(
        SCHEMA,
        "/project announce name:Nexus Board pitch:Built with Django: REST + GraphQL"
        " repo-url:https://github.com/a/b size:3",
    )
    assert invocation.path == ("project", "announce")
    assert invocation.options == {
        "name": "Nexus Board",
        "pitch": "Built with Django: REST + GraphQL",
        "repo-url": "https://github.com/a/b",
        "size": "3",
    }


def test_a_quoted_value_keeps_words_that_look_like_options():
    invocation = parse_invocation(SCHEMA, '/project announce pitch:"say name: twice, size: 3" name:X')
    assert invocation.options == {"pitch": "say name: twice, size: 3", "name": "X"}


def test_subcommand_groups_are_walked_with_the_schema():
    invocation = parse_invocation(SCHEMA, "/project admin grant member:@learner1 role:@&Staff where:#general")
    assert invocation.path == ("project", "admin", "grant")
    assert invocation.options == {"member": "@learner1", "role": "@&Staff", "where": "#general"}
    assert parse_invocation(SCHEMA, "/ping").options == {}


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("/project", "needs one of: announce, admin"),
        ("/project announce stray words name:x", "unexpected 'stray words'"),
        ("/nope", "unknown command /nope"),
        ("/project announce name:a name:b", "given twice"),
        ('/project announce name:"never closed', "never closed"),
        ("/ping loud:yes", "takes no options"),
        ("ping", "starts with /"),
    ],
)
def test_malformed_lines_are_explained(line, complaint):
    with pytest.raises(ConsoleError, match=complaint):
        parse_invocation(SCHEMA, line)


def test_split_options_ignores_colons_after_words_that_are_not_options():
    assert split_options("note:time: 10:30 is fine", ["note"]) == {"note": "time: 10:30 is fine"}


def test_values_are_converted_per_option_type():
    emu = DiscordEmulator()
    world = build_sample_world(emu)
    names = Directory(emu, world.guild)
    announce = parse_invocation(SCHEMA, "/project announce name:N pitch:P size:3 public:yes track:Frontend")
    assert option_values(announce, names) == {
        "name": "N",
        "pitch": "P",
        "size": 3,
        "public": True,
        "track": "frontend",
    }
    grant = parse_invocation(SCHEMA, "/project admin grant member:@learner1 role:Staff where:#general")
    values = option_values(grant, names)
    assert isinstance(values["member"], EmuMember) and values["member"].user.username == "learner1"
    assert isinstance(values["role"], EmuRole) and values["role"].name == "Staff"
    assert values["where"] is world.channels["general"]
    for spelling in ("@&Staff", "@Staff", "staff", world.roles["Staff"].mention):
        assert convert_value({"name": "role", "type": 8}, spelling, names) is world.roles["Staff"]
    with pytest.raises(ConsoleError, match="whole number"):
        convert_value({"name": "size", "type": 4}, "three", names)
    with pytest.raises(ConsoleError, match="unknown member '@nobody'"):
        convert_value({"name": "member", "type": 6}, "@nobody", names)
    with pytest.raises(ConsoleError, match="unknown channel"):
        convert_value({"name": "where", "type": 7}, "#nowhere", names)


def test_mentions_and_message_links_are_rendered_as_names():
    emu = DiscordEmulator()
    world = build_sample_world(emu)
    names = Directory(emu, world.guild)
    learner = world.members["learner1"]
    project = world.channels["prodevprojectnexus"]
    text = (
        f"{learner.mention} joined {world.roles['Staff'].mention} in {project.mention}: "
        f"https://discord.com/channels/{world.guild.id}/{project.id}/123 at <t:0:R>"
    )
    assert names.mentions(text) == (
        "@learner1 joined @Staff in #prodevprojectnexus: <message in #prodevprojectnexus> at 1970-01-01 00:00 UTC"
    )


def test_the_sample_server_has_the_same_plausible_ids_on_every_run():
    first, second = build_sample_world(DiscordEmulator()), build_sample_world(DiscordEmulator())
    assert first.guild.id == second.guild.id
    assert [c.id for c in first.channels.values()] == [c.id for c in second.channels.values()]
    assert [m.id for m in first.members.values()] == [m.id for m in second.members.values()]
    assert (first.guild.id >> 22) + DISCORD_EPOCH_MS == int(SAMPLE_WORLD_CREATED.timestamp() * 1000)
    assert first.roles["Facilitators"].permissions and not first.roles["Staff"].permissions
    assert list(first.members) == ["staff1", "mentor1", *(f"learner{n}" for n in range(1, 7))]


def test_the_sample_server_shows_the_staff_groups_to_its_staff_role():
    emu = DiscordEmulator()
    world = build_sample_world(emu)
    for group in STAFF_GROUPS:
        command = {"name": group, "default_member_permissions": str(MANAGE_GUILD)}
        assert emu.can_use(world.members["mentor1"], command) and emu.can_use(world.members["staff1"], command)
        assert not emu.can_use(world.members["learner1"], command)


def test_form_lines_name_a_field_by_label_its_first_words_or_custom_id():
    pitch = FormField("nexus:pitch", "Pitch: what are you building?", {"type": 4, "style": 2})
    track = FormField(
        "nexus:track",
        "Track",
        {"type": 3, "options": [{"label": "Backend", "value": "backend"}, {"label": "Frontend", "value": "frontend"}]},
    )
    fields = [pitch, track]
    assert form_field_value(fields, "Pitch: what are you building?: A board") == (pitch, "A board")
    assert form_field_value(fields, "pitch: one\\ntwo: three") == (pitch, "one\ntwo: three")
    assert form_field_value(fields, "nexus:track: 2") == (track, ["frontend"])
    assert form_field_value(fields, "Track: backend") == (track, ["backend"])
    with pytest.raises(ConsoleError, match="not one of its choices"):
        form_field_value(fields, "Track: Mobile")
    with pytest.raises(ConsoleError, match="no field matching"):
        form_field_value(fields, "Colour: red")


# ---------------------------------------------------------------------- the console against the running bot

FRUITS = ("apple", "apricot", "banana")


class ProbeView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Accept", style=discord.ButtonStyle.success)
    async def accept(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content=f"Accepted by {interaction.user.mention}", view=None)

    @discord.ui.button(label="Decline", style=discord.ButtonStyle.secondary)
    async def decline(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message("Declined", ephemeral=True)


class ConfirmView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Confirm")
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="Confirmed", view=None)


class ProbeModal(discord.ui.Modal, title="Probe form"):
    title_input: discord.ui.TextInput = discord.ui.TextInput(label="Title", custom_id="probe:title", max_length=80)
    pitch: discord.ui.TextInput = discord.ui.TextInput(
        label="Pitch", custom_id="probe:pitch", style=discord.TextStyle.paragraph, required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        notes = discord.File(io.BytesIO(b"first line\nsecond line\n"), filename="notes.txt")
        await interaction.response.send_message(
            f"Got {self.title_input.value}\n{self.pitch.value}", file=notes, ephemeral=True
        )


class ProbeCog(commands.GroupCog, group_name="probe", group_description="Console test commands"):
    @app_commands.command(name="post", description="Post a message with buttons")
    async def post(self, interaction: discord.Interaction, channel: discord.TextChannel, text: str) -> None:
        await channel.send(text, view=ProbeView())
        await interaction.response.send_message(f"Posted in {channel.mention}", ephemeral=True)

    @app_commands.command(name="ask", description="An ephemeral question with a button")
    async def ask(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Sure?", view=ConfirmView(), ephemeral=True)

    @app_commands.command(name="form", description="Open a form")
    async def form(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(ProbeModal())

    @app_commands.command(name="boom", description="Fail unexpectedly")
    async def boom(self, interaction: discord.Interaction) -> None:
        raise RuntimeError("probe failure")

    @app_commands.command(name="dm", description="Answer in a direct message")
    async def dm(self, interaction: discord.Interaction) -> None:
        await interaction.user.send("Psst, a private hello")
        await interaction.response.send_message("Check your DMs", ephemeral=True)

    @app_commands.command(name="think", description="Defer, then say nothing for a while")
    async def think(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await asyncio.sleep(2)

    @app_commands.command(name="toolong", description="Send more than Discord accepts")
    async def toolong(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("x" * 2001)

    @app_commands.command(name="pick", description="Autocomplete a fruit")
    async def pick(self, interaction: discord.Interaction, fruit: str) -> None:
        await interaction.response.send_message(fruit, ephemeral=True)

    @pick.autocomplete("fruit")
    async def _fruits(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f.title(), value=f) for f in FRUITS if f.startswith(current)]


@pytest.fixture
async def console(nexus, world: World):
    await nexus.add_cog(ProbeCog())
    await nexus.sync_commands(world.guild.id)
    return Console(world.emu, world.guild, out=io.StringIO())


async def _lines(console: Console, *lines: str) -> str:
    out = console.out
    assert isinstance(out, io.StringIO)
    start = len(out.getvalue())
    for line in lines:
        await console.run_line(line, echo=True)
    await console.finish()
    return out.getvalue()[start:]


async def test_side_effect_posts_buttons_and_edits_are_rendered(console: Console, world: World):
    text = await _lines(
        console,
        f"as admin1: /probe post channel:#prodevprojectnexus text:Pair up, {world.learner.mention}?",
    )
    assert "Nexus (only you can see this):\n    Posted in #prodevprojectnexus" in text
    assert "Nexus in #prodevprojectnexus: (new)\n    Pair up, @learner1?\n    [1.1] Accept  [1.2] Decline" in text

    text = await _lines(console, "as learner1: click 1")
    assert "Nexus in #prodevprojectnexus: (edited)\n    Accepted by @learner1" in text
    text = await _lines(console, "as learner2: click Decline")
    assert "error: no button labelled 'Decline' is on a message shown so far" in text
    text = await _lines(console, "channel prodevprojectnexus")
    assert "(edited):\n    Accepted by @learner1" in text
    assert console.errors == 1


async def test_buttons_on_an_ephemeral_reply_belong_to_its_reader(console: Console):
    text = await _lines(console, "as learner1: /probe ask")
    assert "Sure?\n    [1.1] Confirm" in text
    text = await _lines(console, "as learner2: click 1", "as learner1: click 1")
    assert "error: only learner1 can see that message" in text
    assert "Nexus (only you can see this): (edited)\n    Confirmed" in text


async def test_a_form_is_filled_with_field_lines_and_sent_by_a_blank_line(console: Console):
    text = await _lines(
        console,
        "as learner3: /probe form",
        "> Title: Nexus: the board",
        "> Pitch: line one\\nline two",
        "",
    )
    assert "Nexus opens a form: 'Probe form'" in text
    assert "- Title (short text, required, up to 80 characters)" in text
    assert "Got Nexus: the board\n    line one\n    line two" in text
    assert "[file] notes.txt (23 B)\n      : first line\n      : second line" in text
    assert console.errors == 0


async def test_a_command_discord_hides_is_an_error_without_usage(console: Console):
    text = await _lines(console, "as learner1: /cohort roster")
    assert "error: Discord does not show /cohort to learner1" in text and "usage:" not in text
    text = await _lines(console, "as mentor1: /cohort roster")
    assert "error" not in text and "Only staff can do that" in text  # shown; the staff role is not set yet
    assert console.errors == 1


async def test_autocomplete_internal_errors_and_bad_options(console: Console):
    text = await _lines(console, "as learner1: complete /probe pick fruit:ap")
    assert "Nexus suggests for fruit:\n    1. Apple  (value: apple)\n    2. Apricot  (value: apricot)" in text
    text = await _lines(console, "as learner1: /probe boom")
    assert "If it happens again, tell staff this reference" in text
    assert "error: Nexus hit an internal error" in text
    text = await _lines(console, "as learner1: /probe pick fruit:apple colour:red")
    assert "error: unknown option colour (options: fruit:)" in text
    text = await _lines(console, "as learner1: /probe pick")
    assert "missing required option(s) ['fruit']" in text and "usage: /probe pick fruit:text" in text
    assert console.errors == 3


# ---------------------------------------------------------------------- python -m bot sandbox


@pytest.mark.slow
def test_week1_script_plays_cleanly_and_a_rerun_remembers_the_settings(tmp_path):
    db = tmp_path / "sandbox" / "s.db"
    played = _play(ROOT / "examples" / "week1.txt", db)
    out = played.stdout
    assert played.returncode == 0, out + played.stderr
    assert "Members with @Staff can now run staff commands." in out
    assert "(only you can see this)" in out
    assert "Only staff can do that" in out
    assert "| Staff role: @Staff" in out
    assert "| Project channel: #prodevprojectnexus" in out
    assert "# Step 1." in out  # comment lines are echoed as headings
    assert "<@" not in out and "<#" not in out
    assert out.rstrip().endswith("lines, 0 errors")
    assert "Traceback" not in played.stderr

    again = tmp_path / "again.txt"
    again.write_text("as mentor1: /setup show\n")
    rerun = _play(again, db)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "| Project channel: #prodevprojectnexus" in rerun.stdout
    assert "found by name" not in rerun.stdout  # the stored setting, matched by the same ids as before
    assert "| Staff role: @Staff" in rerun.stdout


@pytest.mark.slow
def test_a_script_with_errors_keeps_going_and_exits_non_zero(tmp_path):
    script = tmp_path / "bad.txt"
    script.write_text(
        "# mistakes a newcomer makes\n"
        "as nobody: /nexus help\n"
        "as learner1: /setup channel chanel:#general\n"
        "as learner1: /nexus about\n"
    )
    played = _play(script, tmp_path / "s.db")
    out = played.stdout
    assert played.returncode == 1, out + played.stderr
    assert "error: unknown member 'nobody'" in out
    assert "error: unknown option chanel (options: channel:)" in out
    assert "About Nexus" in out  # the line after the errors still ran
    assert out.rstrip().endswith("3 lines, 2 errors")


@pytest.mark.slow
def test_a_missing_script_is_reported(tmp_path):
    played = _play(tmp_path / "missing.txt", tmp_path / "s.db")
    assert played.returncode == 2
    assert "cannot read the script" in played.stderr


async def test_direct_messages_timeouts_and_rejected_payloads(console: Console, monkeypatch):
    text = await _lines(console, "as learner2: /probe dm")
    assert "Nexus in a DM to @learner2: (new)\n    Psst, a private hello" in text

    monkeypatch.setattr(console_module, "LINE_TIMEOUT_SECONDS", 0.5)
    text = await _lines(console, "as learner2: /probe think")
    assert "error: Nexus acknowledged (thinking…) but sent nothing within 0.5 s" in text

    monkeypatch.setattr(console_module, "LINE_TIMEOUT_SECONDS", 5.0)
    text = await _lines(console, "as learner2: /probe toolong")
    assert "error: Discord (emulated) answered 400 to POST /interactions/" in text
    assert "/:token/callback: real Discord would reject what Nexus sent" in text
    assert console.errors >= 2
    # the emulator refused it as Discord would; the probe meant to, so clear what it recorded
    assert [(v.violation.path, v.violation.code) for v in console.emu.contract_violations] == [
        (("data", "content"), "BASE_TYPE_MAX_LENGTH")
    ]
    console.emu.contract_violations.clear()


@pytest.mark.slow
def test_lines_piped_to_the_console_are_echoed_and_answered(tmp_path):
    played = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--db", str(tmp_path / "s.db")],
        cwd=ROOT,
        env=_sandbox_env(),
        input="as learner1: /nexus about\nas nobody: /nexus about\nquit\nas learner1: /nexus help\n",
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )
    out = played.stdout
    assert played.returncode == 0, out + played.stderr
    assert "nexus> as learner1: /nexus about\n  Nexus (only you can see this):\n    | About Nexus" in out
    assert "error: unknown member 'nobody'" in out
    assert "Nexus commands" not in out  # nothing after quit runs
    assert out.rstrip().endswith("Bye.")
