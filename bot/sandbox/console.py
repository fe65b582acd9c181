"""The sandbox console: the real bot on a local emulated Discord, driven by typed or scripted lines.

`python -m bot sandbox` starts the emulator on 127.0.0.1, builds the sample cohort server, runs Nexus
in this process and reads lines such as `as learner1: /nexus help`, printing what that member would
see. With `--script FILE` it plays the file instead and exits non-zero if any line failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from pydantic import SecretStr

from bot.checks import STAFF_GROUPS
from bot.config import Settings
from bot.sandbox.emulator import (
    OPT_ATTACHMENT,
    OPT_BOOLEAN,
    OPT_CHANNEL,
    OPT_GROUP,
    OPT_INTEGER,
    OPT_MENTIONABLE,
    OPT_NUMBER,
    OPT_ROLE,
    OPT_STRING,
    OPT_SUBCOMMAND,
    OPT_USER,
    CommandHidden,
    DiscordEmulator,
    EmulatorError,
    Interaction,
)
from bot.sandbox.state import (
    ADMINISTRATOR,
    CHANNEL_DM,
    DISCORD_EPOCH_MS,
    MANAGE_CHANNELS,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    Attachment,
    EmuChannel,
    EmuGuild,
    EmuMember,
    EmuMessage,
    EmuRole,
    EmuUser,
    SnowflakeFactory,
)
from bot.sandbox.terminal import LineReader, StdinLines, TerminalLines

if TYPE_CHECKING:
    from bot.client import NexusBot

T = TypeVar("T")

SANDBOX_GUILD_NAME = "ALX ProDev Cohort"
SAMPLE_CHANNELS = ("general", "prodevprojectnexus")
LEARNER_COUNT = 6
SAMPLE_WORLD_CREATED = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
"""The instant stamped into the sample server's ids, so every run (and a reused --db) sees the same ids."""

SANDBOX_DB = Path("data/sandbox.db")
"""The console's database when no --db is given (a --script without --db plays on a temporary one)."""
FILES_DIR_NAME = "sandbox-files"
"""Files Nexus sends are written to this folder next to the database (data/ for a temporary one)."""
PROMPT = "nexus> "
LINE_TIMEOUT_SECONDS = 10.0
"""How long a line waits for Nexus to answer before it is reported as an error."""
STARTUP_TIMEOUT_SECONDS = 30.0
GUILD_READY_TIMEOUT_SECONDS = 0.1
SETTLE_QUIET_SECONDS = 0.2
"""After a reply, side effects (posts, edits) are collected until the bot is quiet this long..."""
SETTLE_MAX_SECONDS = 3.0
"""...or at most this long."""
CHANNEL_HISTORY_LIMIT = 15
ATTACHMENT_PREVIEW_LINES = 6
ATTACHMENT_PREVIEW_MAX_BYTES = 64 * 1024
MODAL_CANCEL_WORD = "!cancel"

INTERNAL_ERROR_MARKER = "If it happens again, tell staff this reference"
"""Part of the reply bot/errors.py gives for an unexpected failure; a script that meets it fails."""

TEXT_SUFFIXES = (".txt", ".md", ".csv", ".json", ".yaml", ".yml", ".py", ".log")
TRUE_WORDS = frozenset({"true", "yes", "y", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "off", "0"})
SUBCOMMAND_TYPES = (OPT_SUBCOMMAND, OPT_GROUP)
STRING_SELECT_TYPE = 3
SELECT_TYPES = (STRING_SELECT_TYPE, 5, 6, 7, 8)
BUTTON_TYPE = 2
TEXT_DISPLAY_TYPE = 10
LABEL_TYPE = 18
TEXT_INPUT_PARAGRAPH = 2

OPTION_PLACEHOLDERS = {
    OPT_STRING: "text",
    OPT_INTEGER: "whole-number",
    OPT_BOOLEAN: "yes|no",
    OPT_USER: "@member",
    OPT_CHANNEL: "#channel",
    OPT_ROLE: "@Role",
    OPT_MENTIONABLE: "@member|@&Role",
    OPT_NUMBER: "number",
    OPT_ATTACHMENT: "file",
}
NAMED_PERMISSIONS = (
    (ADMINISTRATOR, "Administrator"),
    (MANAGE_GUILD, "Manage Server"),
    (MANAGE_CHANNELS, "Manage Channels"),
    (MANAGE_MESSAGES, "Manage Messages"),
)

GRAMMAR = f"""\
Lines (one per line; blank lines and lines starting with # are skipped):
  as <member>: /<command> [option:value ...]     run a slash command as that member
  as <member> in #<channel>: /<command> ...      ...from that channel (default #general)
  as <member>: click <M.B>                       press button B of message M, as shown: [M.B] Label
                                                 (a message keeps its number M when it is edited)
  as <member>: click <label>                     ...or the latest shown button with that label (or
                                                 its first letters); `click B`: button B of the
                                                 latest message with buttons
  as <member>: complete /<command> <option>:<partial>
                                                 the autocomplete choices for what is typed so far
  > <field label>: <value>                       fill a field of the form (modal) just opened; a
                                                 blank line or the next other line sends the form
                                                 (also while a form asks field by field)
  channel <name>                                 what everyone sees in #name (edits applied)
  who                                            the sample members, roles and channels
  help                                           this text and the commands Nexus synced
  reset                                          start over: a new database and a fresh sample server
  quit                                           leave (also exit or Ctrl-D)
Option values: #channel, @member, @Role or @&Role (or just the role's name), yes/no/true/false,
numbers; anything else is text and may contain spaces and colons. Quote a value ("...") to keep a
word like `name:` in it (an unknown `name:` is refused as a misspelt option). In form fields, \\n starts
a new line. At a terminal, a form asks for its fields one by one and re-asks one it refuses
({MODAL_CANCEL_WORD} closes it unsent); Tab completes, Up recalls earlier lines.
Examples:
  as staff1: /setup channel channel:#prodevprojectnexus
  as learner1: click 2.1
  > Pitch: Built with Django: REST + GraphQL\\nand a React client
"""

_AS_LINE = re.compile(r"^as\s+(?P<member>[^\s:]+)(?:\s+in\s+(?P<channel>\S+))?\s*:\s*(?P<action>.*)$", re.I)
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_CHANNEL_MENTION = re.compile(r"<#(\d+)>")
_SLASH_MENTION = re.compile(r"</([-_\w ]+):\d+>")
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::[tTdDfFR])?>")
_JUMP_URL = re.compile(r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/channels/(?:\d+|@me)/(\d+)(?:/\d+)?")


class ConsoleError(Exception):
    """A line the console cannot act on; the message says why, for the person typing."""


class SandboxStartError(Exception):
    """The emulator, the database or the bot could not be brought up."""


# ---------------------------------------------------------------------- the sample server


class FixedClockSnowflakes(SnowflakeFactory):
    """Discord-shaped ids stamped with one fixed instant: the same sequence on every run."""

    def __init__(self, instant: datetime) -> None:
        super().__init__()
        self._stamp = (int(instant.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22
        self._sequence = itertools.count(1)

    def next(self) -> int:
        return self._stamp | next(self._sequence)


@dataclass
class SampleWorld:
    """The emulated cohort server the sandbox starts with."""

    guild: EmuGuild
    channels: dict[str, EmuChannel]
    roles: dict[str, EmuRole]
    members: dict[str, EmuMember]


def build_sample_world(emu: DiscordEmulator) -> SampleWorld:
    """The cohort server, with the same ids on every run so that a reused --db still matches it."""
    live_ids = emu.ids
    emu.ids = FixedClockSnowflakes(SAMPLE_WORLD_CREATED)
    try:
        guild = emu.add_guild(SANDBOX_GUILD_NAME)
        channels = {name: emu.add_channel(guild, name) for name in SAMPLE_CHANNELS}
        facilitators = emu.add_role(guild, "Facilitators", MANAGE_GUILD)
        staff = emu.add_role(guild, "Staff")
        for group in STAFF_GROUPS:  # as a well set-up server does, in Server Settings → Integrations
            emu.allow_role(guild, group, staff)
        members = {
            "staff1": emu.add_member(guild, "staff1", roles=[facilitators]),
            "mentor1": emu.add_member(guild, "mentor1", roles=[staff]),
        }
        for number in range(1, LEARNER_COUNT + 1):
            members[f"learner{number}"] = emu.add_member(guild, f"learner{number}")
    finally:
        emu.ids = live_ids
    return SampleWorld(guild, channels, {"Facilitators": facilitators, "Staff": staff}, members)


# ---------------------------------------------------------------------- names both ways


class Directory:
    """Names in one emulated server: console words to emulator objects, and ids back to names."""

    def __init__(self, emu: DiscordEmulator, guild: EmuGuild) -> None:
        self.emu = emu
        self.guild = guild

    def member(self, name: str) -> EmuMember:
        """The member called `name` (`learner1`, `@learner1` or `<@id>`)."""
        wanted = name.strip()
        mention = _USER_MENTION.fullmatch(wanted)
        if mention and int(mention[1]) in self.guild.members:
            return self.guild.members[int(mention[1])]
        wanted = wanted.removeprefix("@").lower()
        for member in self.guild.members.values():
            names = {member.user.username, member.user.global_name, member.nick}
            if wanted in {n.lower() for n in names if n}:
                return member
        raise ConsoleError(f"unknown member {name!r} (try: who)")

    def channel(self, name: str) -> EmuChannel:
        """The channel called `name` (`general`, `#general` or `<#id>`)."""
        wanted = name.strip()
        mention = _CHANNEL_MENTION.fullmatch(wanted)
        if mention and int(mention[1]) in self.guild.channels:
            return self.guild.channels[int(mention[1])]
        wanted = wanted.removeprefix("#").lower()
        for channel in self.guild.channels.values():
            if channel.name.lower() == wanted:
                return channel
        known = ", ".join(f"#{c.name}" for c in self.guild.channels.values())
        raise ConsoleError(f"unknown channel {name!r} (have: {known})")

    def role(self, name: str) -> EmuRole:
        """The role called `name` (`Staff`, `@Staff`, `@&Staff` or `<@&id>`)."""
        wanted = name.strip()
        mention = _ROLE_MENTION.fullmatch(wanted)
        if mention and int(mention[1]) in self.guild.roles:
            return self.guild.roles[int(mention[1])]
        if wanted.lower() not in ("@everyone", "everyone"):
            wanted = wanted.removeprefix("@&").removeprefix("@")
        elif not wanted.startswith("@"):
            wanted = f"@{wanted}"
        for role in self.guild.roles.values():
            if role.name.lower() == wanted.lower():
                return role
        known = ", ".join(f"@{r.name}" for r in self.guild.roles.values() if r.id != self.guild.id)
        raise ConsoleError(f"unknown role {name!r} (have: {known})")

    def mentionable(self, name: str) -> EmuMember | EmuRole:
        """A member or, failing that (or for `@&Name`), a role."""
        if name.strip().startswith(("@&", "<@&")):
            return self.role(name)
        try:
            return self.member(name)
        except ConsoleError:
            pass
        try:
            return self.role(name)
        except ConsoleError:
            raise ConsoleError(f"no member or role called {name!r} (try: who)") from None

    def mentions(self, text: str) -> str:
        """`text` with mentions, timestamps and message links written as a reader sees them."""

        def user(match: re.Match[str]) -> str:
            found = self.emu.users.get(int(match[1]))
            return f"@{found.username}" if found else match[0]

        def role(match: re.Match[str]) -> str:
            for guild in self.emu.guilds.values():
                found = guild.roles.get(int(match[1]))
                if found is not None:
                    return found.name if found.name.startswith("@") else f"@{found.name}"
            return match[0]

        def channel(match: re.Match[str]) -> str:
            found = self.emu.channels.get(int(match[1]))
            return f"#{found.name}" if found else match[0]

        def jump(match: re.Match[str]) -> str:
            found = self.emu.channels.get(int(match[1]))
            return f"<message in #{found.name}>" if found else match[0]

        def timestamp(match: re.Match[str]) -> str:
            return datetime.fromtimestamp(int(match[1]), UTC).strftime("%Y-%m-%d %H:%M UTC")

        text = _JUMP_URL.sub(jump, text)
        text = _ROLE_MENTION.sub(role, text)
        text = _USER_MENTION.sub(user, text)
        text = _CHANNEL_MENTION.sub(channel, text)
        text = _SLASH_MENTION.sub(lambda m: f"/{m[1]}", text)
        return _TIMESTAMP.sub(timestamp, text)


# ---------------------------------------------------------------------- parsing command lines


@dataclass(frozen=True)
class Invocation:
    """A slash command as typed: its path, its leaf option schemas and the raw option texts."""

    path: tuple[str, ...]
    specs: tuple[dict[str, Any], ...]
    options: dict[str, str]

    @property
    def name(self) -> str:
        return " ".join(self.path)

    def spec(self, option: str) -> dict[str, Any]:
        """The schema of one of the leaf's options."""
        for spec in self.specs:
            if spec["name"] == option:
                return spec
        raise ConsoleError(f"/{self.name} has no option {option!r}")


def split_options(text: str, names: list[str]) -> dict[str, str]:
    """Split `opt:value opt2:value with: colons` into {option: raw value}, knowing the option names.

    A word is an option only if it is one of `names` followed by a colon at the start of the text or
    after a space; everything up to the next such word is its value. A value in double quotes ends at
    the closing quote, so it may contain `name:` words.
    """
    if not names:
        if text.strip():
            raise ConsoleError(f"this command takes no options, but got {text.strip()!r}")
        return {}
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    option_word = re.compile(rf"(?<!\S)({alternatives}):")
    found = option_word.search(text)
    leading = text[: found.start()] if found else text
    _refuse_unknown_options(leading, names)
    if leading.strip():
        expected = " ".join(f"{name}:" for name in names)
        raise ConsoleError(f"unexpected {leading.strip()!r}: write options as name:value (this command has {expected})")
    values: dict[str, str] = {}
    while found is not None:
        name = found[1]
        start = found.end()
        rest = text[start:]
        stripped = rest.lstrip()
        if stripped.startswith('"'):
            opening = start + len(rest) - len(stripped)
            closing = re.compile(r'"(?=\s|$)').search(text, opening + 1)
            if closing is None:
                raise ConsoleError(f"option {name}: the quote is never closed")
            value = text[opening + 1 : closing.start()]
            found = option_word.search(text, closing.end())
            between = text[closing.end() : found.start() if found else len(text)]
            if between.strip():
                raise ConsoleError(f"option {name}: unexpected {between.strip()!r} after the closing quote")
        else:
            found = option_word.search(text, start)
            value = text[start : found.start() if found else len(text)].strip()
            _refuse_unknown_options(value, names)
        if name in values:
            raise ConsoleError(f"option {name} is given twice")
        values[name] = value
    return values


_UNKNOWN_OPTION_WORD = re.compile(r"(?<!\S)([a-z][a-z0-9_-]*):(?=[^\s/])")
"""`name:value` with no space after the colon: an option name, unless the command has none by that name."""


def _refuse_unknown_options(text: str, names: list[str]) -> None:
    """Refuse a `name:value` word in `text` (a URL's `https://` is not one): it was meant as an option."""
    found = _UNKNOWN_OPTION_WORD.search(text)
    if found is not None and found[1] not in names:
        known = ", ".join(f"{name}:" for name in names)
        raise ConsoleError(f'unknown option {found[1]} (options: {known}); quote a value ("...") to keep it as text')


def parse_invocation(commands: list[dict[str, Any]], text: str) -> Invocation:
    """Read `/group sub opt:value ...` against the synced command schemas."""
    text = text.strip()
    if not text.startswith("/"):
        raise ConsoleError("a command starts with /, e.g. /nexus help")
    body = text[1:]
    words = re.finditer(r"\S+", body)
    first = next(words, None)
    if first is None:
        raise ConsoleError("which command? (type help for the list)")
    command = next((c for c in commands if c["name"] == first[0] and c.get("type", 1) == 1), None)
    if command is None:
        known = ", ".join(f"/{c['name']}" for c in commands if c.get("type", 1) == 1)
        raise ConsoleError(f"unknown command /{first[0]} (have: {known})")
    path = [command["name"]]
    specs: list[dict[str, Any]] = command.get("options") or []
    end = first.end()
    while any(spec["type"] in SUBCOMMAND_TYPES for spec in specs):
        subs = [spec for spec in specs if spec["type"] in SUBCOMMAND_TYPES]
        word = next(words, None)
        sub = next((s for s in subs if word is not None and s["name"] == word[0]), None)
        if word is None or sub is None:
            choices = ", ".join(s["name"] for s in subs)
            raise ConsoleError(f"/{' '.join(path)} needs one of: {choices}")
        path.append(sub["name"])
        specs = sub.get("options") or []
        end = word.end()
    options = split_options(body[end:], [spec["name"] for spec in specs])
    return Invocation(tuple(path), tuple(specs), options)


def convert_value(spec: dict[str, Any], raw: str, names: Directory) -> Any:
    """The value the emulator sends for `raw` typed into option `spec`."""
    name = spec["name"]
    type_ = spec["type"]
    if raw == "":
        raise ConsoleError(f"option {name} has no value")
    for choice in spec.get("choices") or []:
        if str(choice.get("name", "")).lower() == raw.lower():
            return choice["value"]
    if type_ == OPT_STRING:
        return raw
    if type_ == OPT_INTEGER:
        try:
            return int(raw.removeprefix("#"))  # ids are shown as #2
        except ValueError:
            raise ConsoleError(f"option {name} wants a whole number, not {raw!r}") from None
    if type_ == OPT_NUMBER:
        try:
            return float(raw)
        except ValueError:
            raise ConsoleError(f"option {name} wants a number, not {raw!r}") from None
    if type_ == OPT_BOOLEAN:
        if raw.lower() in TRUE_WORDS:
            return True
        if raw.lower() in FALSE_WORDS:
            return False
        raise ConsoleError(f"option {name} wants yes or no, not {raw!r}")
    if type_ == OPT_USER:
        return names.member(raw)
    if type_ == OPT_CHANNEL:
        return names.channel(raw)
    if type_ == OPT_ROLE:
        return names.role(raw)
    if type_ == OPT_MENTIONABLE:
        return names.mentionable(raw)
    if type_ == OPT_ATTACHMENT:
        raise ConsoleError(f"option {name}: the console cannot upload files yet")
    raise ConsoleError(f"option {name}: unknown option type {type_}")


def option_values(invocation: Invocation, names: Directory, *, skip: str | None = None) -> dict[str, Any]:
    """Every typed option converted for the emulator, except `skip`."""
    return {
        name: convert_value(invocation.spec(name), raw, names)
        for name, raw in invocation.options.items()
        if name != skip
    }


def option_usage(spec: dict[str, Any]) -> str:
    """`name:placeholder`, in brackets when optional."""
    choices = [str(c.get("name")) for c in spec.get("choices") or []]
    if choices:
        placeholder = "|".join(choices[:5]) + ("|…" if len(choices) > 5 else "")
    else:
        placeholder = OPTION_PLACEHOLDERS.get(spec["type"], "value")
    text = f"{spec['name']}:{placeholder}"
    return text if spec.get("required") else f"[{text}]"


def command_usages(commands: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(usage line, description) for every leaf slash command, sorted by name."""
    found: list[tuple[str, str]] = []

    def walk(prefix: str, options: list[dict[str, Any]], description: str) -> None:
        subs = [o for o in options if o["type"] in SUBCOMMAND_TYPES]
        if subs:
            for sub in subs:
                walk(f"{prefix} {sub['name']}", sub.get("options") or [], sub.get("description", ""))
            return
        usage = " ".join([f"/{prefix}", *(option_usage(o) for o in options)])
        found.append((usage, description))

    for command in sorted(commands, key=lambda c: str(c["name"])):
        if command.get("type", 1) == 1:
            walk(command["name"], command.get("options") or [], command.get("description", ""))
    return found


def invocation_usage(invocation: Invocation) -> str:
    """`/command sub option:placeholder [optional:placeholder]` for one invocation."""
    return " ".join([f"/{invocation.name}", *(option_usage(spec) for spec in invocation.specs)])


# ---------------------------------------------------------------------- forms (modals)


@dataclass(frozen=True)
class FormField:
    """One input of a modal: a text input, or a select menu inside a label."""

    custom_id: str
    label: str
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return self.label or self.custom_id

    @property
    def is_select(self) -> bool:
        return self.spec.get("type") == STRING_SELECT_TYPE

    @property
    def keys(self) -> list[str]:
        """What a `> key: value` line may call it: the label, its first words, or the custom_id."""
        short = re.split(r":| \(", self.label, maxsplit=1)[0].strip()
        return [key for key in dict.fromkeys((self.label, short, self.custom_id)) if key]

    def describe(self) -> str:
        parts: list[str] = []
        if self.is_select:
            options = " / ".join(f"{n}) {o.get('label', '')}" for n, o in enumerate(self.spec.get("options") or [], 1))
            most = int(self.spec.get("max_values", 1))
            parts.append(f"choose {'one' if most == 1 else f'up to {most}, comma-separated'}: {options}")
        else:
            parts.append("paragraph" if self.spec.get("style") == TEXT_INPUT_PARAGRAPH else "short text")
        parts.append("required" if self.spec.get("required", True) else "optional")
        if self.spec.get("min_length"):
            parts.append(f"at least {self.spec['min_length']} characters")
        if self.spec.get("max_length"):
            parts.append(f"up to {self.spec['max_length']} characters")
        if self.spec.get("value"):
            parts.append(f"now: {self.spec['value']!r}")
        return f"{self.name} ({', '.join(parts)})"

    def answer(self, text: str) -> str | list[str]:
        """What the member typed, as the emulator sends it: text (`\\n` is a line break) or chosen values."""
        text = text.strip()
        if not self.is_select:
            return text.replace("\\n", "\n")
        options = self.spec.get("options") or []
        picks = [p.strip() for p in text.split(",")] if int(self.spec.get("max_values", 1)) > 1 else [text]
        chosen: list[str] = []
        for pick in filter(None, picks):
            if pick.isdigit() and 1 <= int(pick) <= len(options):
                chosen.append(str(options[int(pick) - 1]["value"]))
                continue
            match = next(
                (o for o in options if pick.lower() in (str(o["label"]).lower(), str(o["value"]).lower())), None
            )
            if match is None:
                labels = ", ".join(str(o["label"]) for o in options)
                raise ConsoleError(f"{self.name}: {pick!r} is not one of its choices ({labels})")
            chosen.append(str(match["value"]))
        return chosen

    def default(self) -> str | list[str]:
        """What Discord sends for the field when the member leaves it as shown."""
        if self.is_select:
            return [str(o["value"]) for o in self.spec.get("options") or [] if o.get("default")]
        return str(self.spec.get("value") or "")

    def check(self, value: str | list[str]) -> None:
        """Refuse `value` as Discord would (required, lengths, how many choices), naming the field."""
        required = bool(self.spec.get("required", True))
        if isinstance(value, list):
            fewest = int(self.spec.get("min_values", 1)) if required else 0
            most = int(self.spec.get("max_values", 1))
            if len(value) < fewest:
                raise ConsoleError(f"{self.name} is required: choose {'one' if fewest == 1 else f'at least {fewest}'}")
            if len(value) > most:
                raise ConsoleError(f"{self.name}: choose at most {most}")
            return
        if required and not value:
            raise ConsoleError(f"{self.name} is required")
        most_chars = self.spec.get("max_length")
        if most_chars is not None and len(value) > int(most_chars):
            raise ConsoleError(f"{self.name}: {len(value)} characters, at most {most_chars} fit")
        fewest_chars = self.spec.get("min_length")
        if value and fewest_chars is not None and len(value) < int(fewest_chars):
            raise ConsoleError(f"{self.name}: {len(value)} characters, at least {fewest_chars} needed")


def form_fields(modal: dict[str, Any]) -> list[FormField]:
    """The inputs of a modal, in order, from action rows or label components."""
    fields: list[FormField] = []
    for row in modal.get("components") or []:
        if row.get("type") == LABEL_TYPE:
            inner = row.get("component") or {}
            fields.append(FormField(str(inner.get("custom_id", "")), str(row.get("label", "")), inner))
            continue
        for inner in row.get("components") or []:
            if "custom_id" in inner:
                fields.append(FormField(str(inner["custom_id"]), str(inner.get("label", "")), inner))
    return fields


def form_field_value(fields: list[FormField], text: str) -> tuple[FormField, str | list[str]]:
    """Read `Field label: value` (or the label's first words, or the custom_id, before the colon), checked."""
    keys = [(key, found) for found in fields for key in found.keys]
    for key, found in sorted(keys, key=lambda pair: len(pair[0]), reverse=True):
        if text.lower().startswith(f"{key.lower()}:"):
            value = found.answer(text[len(key) + 1 :])
            found.check(value)
            return found, value
    names = ", ".join(found.name for found in fields)
    raise ConsoleError(f"the form has no field matching {text!r}; write `> Field: value` (fields: {names})")


@dataclass
class OpenForm:
    """A modal the bot opened and the console has not sent yet."""

    member: EmuMember
    opened_by: Interaction
    fields: list[FormField]
    values: dict[str, str | list[str]] = field(default_factory=dict)


# ---------------------------------------------------------------------- rendering helpers


def walk_components(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component in reading order, including those nested in rows, sections and labels."""
    for item in items:
        yield item
        if isinstance(item.get("components"), list):
            yield from walk_components(item["components"])
        for key in ("accessory", "component"):
            if isinstance(item.get(key), dict):
                yield from walk_components([item[key]])


def button_label(button: dict[str, Any]) -> str:
    """A button's label, or its emoji's name when it has no label."""
    emoji = button.get("emoji") or {}
    return str(button.get("label") or emoji.get("name") or "button")


def clickable_buttons(message: EmuMessage) -> list[dict[str, Any]]:
    """The message's buttons that send an interaction (not links), in reading order, as it is now."""
    return [
        item for item in walk_components(message.components) if item.get("type") == BUTTON_TYPE and "custom_id" in item
    ]


def human_size(size: int) -> str:
    """`512 B`, `1.2 KB`, `3.4 MB`."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def attachment_preview(attachment: Attachment) -> list[str]:
    """The first lines of a small text attachment, else nothing."""
    textual = (attachment.content_type or "").startswith("text/") or attachment.filename.lower().endswith(TEXT_SUFFIXES)
    if not textual or len(attachment.data) > ATTACHMENT_PREVIEW_MAX_BYTES:
        return []
    lines = attachment.data.decode("utf-8", errors="replace").splitlines()
    shown = lines[:ATTACHMENT_PREVIEW_LINES]
    if len(lines) > len(shown):
        shown.append(f"… ({len(lines) - len(shown)} more lines)")
    return shown


def permission_names(permissions: int) -> str:
    """The notable permissions in a bit set, by their Discord names."""
    named = [name for bit, name in NAMED_PERMISSIONS if permissions & bit]
    return ", ".join(named)


# ---------------------------------------------------------------------- the console


Snapshot = dict[int, tuple[int, bool]]
Ask = Callable[[str], Awaitable[str | None]]


class Console:
    """Reads console lines, acts as members through the emulator and prints what they would see."""

    def __init__(
        self, emu: DiscordEmulator, guild: EmuGuild, *, out: TextIO | None = None, files_dir: Path | None = None
    ) -> None:
        self.emu = emu
        self.files_dir = files_dir
        """Where files the bot sends are written (None: only previewed)."""
        self._saved: dict[int, Path] = {}
        self.reset_requested = False
        self.guild = guild
        self.names = Directory(emu, guild)
        self.out = out or sys.stdout
        self.ask: Ask | None = None  # set when a person is at a terminal: forms are asked field by field
        self.lines = 0
        self.errors = 0
        self._shown: list[int] = []  # message ids, in the order they were first numbered
        self._message_numbers: dict[int, int] = {}
        self._form: OpenForm | None = None
        self._heading_open = False

    # -- output

    def say(self, text: str = "") -> None:
        """Print one line now (output may be a pipe: flush so prompts and answers interleave)."""
        self.out.write(f"{text}\n")
        self.out.flush()

    def prompt(self, text: str) -> None:
        """Print `text` without a newline, for input to follow on the same line."""
        self.out.write(text)
        self.out.flush()

    def error(self, text: str) -> None:
        """Print an `error:` line and count it (a script with errors exits non-zero)."""
        self.errors += 1
        self.say(f"error: {text}")

    # -- lines

    async def run_line(self, line: str, *, echo: bool = False) -> bool:
        """Act on one line; False when it asks to quit. Errors are printed and counted, not raised."""
        stripped = line.strip()
        if stripped.startswith(">"):
            self.lines += 1
            if echo:
                self.say(f"  {stripped}")
            try:
                self._fill_form(stripped[1:].strip())
            except ConsoleError as exc:
                self.error(str(exc))
            return True
        if self._form is not None:
            await self._send_form()
        if not stripped:
            self._heading_open = False
            return True
        if stripped.startswith("#"):
            if echo:
                if not self._heading_open:
                    self.say()
                self.say(stripped)
                self._heading_open = True
            return True
        self._heading_open = False
        self.lines += 1
        if echo:
            self.say(f"{PROMPT}{stripped}")
        try:
            return await self._dispatch(stripped)
        except (ConsoleError, EmulatorError) as exc:
            self.error(str(exc))
        return True

    async def finish(self) -> None:
        """Send a form still waiting for its fields (the script ended right after them)."""
        if self._form is not None:
            await self._send_form()

    async def _dispatch(self, line: str) -> bool:
        word, _, rest = line.partition(" ")
        keyword = word.lower()
        if keyword in ("quit", "exit") and not rest:
            return False
        if keyword == "help" and not rest:
            self._help()
            return True
        if keyword == "reset" and not rest:
            self.reset_requested = True
            return False
        if keyword == "who" and not rest:
            self._who()
            return True
        if keyword == "channel":
            self._show_channel(rest.strip() or "general")
            return True
        match = _AS_LINE.match(line)
        if match is None:
            raise ConsoleError(f"don't know what {line!r} means (type help)")
        member = self.names.member(match["member"])
        channel = self.names.channel(match["channel"]) if match["channel"] else None
        action = match["action"].strip()
        verb, _, argument = action.partition(" ")
        if action.startswith("/"):
            await self._run_command(member, channel, action)
        elif verb.lower() == "click":
            await self._click(member, argument.strip())
        elif verb.lower() == "complete":
            await self._complete(member, channel, argument.strip())
        else:
            raise ConsoleError(f"after `as {match['member']}:` write /command, click N or complete /command")
        return True

    # -- acting as a member

    def commands(self) -> list[dict[str, Any]]:
        """The slash command schemas Nexus synced to the sample server."""
        return self.emu.commands_for(self.guild.id)

    def button_labels(self) -> list[str]:
        """The labels of the buttons on the messages shown so far, for `click Label`."""
        return sorted({button_label(b) for m in self._shown_messages() for b in clickable_buttons(m)})

    async def _run_command(self, member: EmuMember, channel: EmuChannel | None, text: str) -> None:
        invocation = parse_invocation(self.commands(), text)
        values = option_values(invocation, self.names)
        sending = self.emu.command(member, invocation.name, in_channel=channel, wait=False, **values)
        try:
            await self._follow(member, sending)
        except CommandHidden as exc:
            raise ConsoleError(str(exc)) from None
        except EmulatorError as exc:
            raise ConsoleError(f"{exc}\n  usage: {invocation_usage(invocation)}") from None

    async def _click(self, member: EmuMember, target: str) -> None:
        message, button = self._button(member, target)
        label = button_label(button)
        if message.ephemeral and message.interaction_id is not None:
            owner = self.emu.interactions[message.interaction_id].user
            if owner.id != member.id:
                raise ConsoleError(f"only {owner.username} can see that message")
        channel = self.emu.channels.get(message.channel_id)
        actor: EmuMember | EmuUser = member
        if channel is not None and channel.type == CHANNEL_DM:
            if all(user.id != member.id for user in channel.recipients):
                raise ConsoleError(f"that message is in someone else's direct messages ({self._place(message)})")
            actor = member.user
        if button.get("disabled"):
            raise ConsoleError(f"button {label!r} is disabled")
        await self._follow(member, self.emu.click(actor, message, button, wait=False))

    def _button(self, member: EmuMember, target: str) -> tuple[EmuMessage, dict[str, Any]]:
        """The message and button `target` names: `M.B`, `B` (of the latest message with buttons) or a label."""
        target = target.strip().strip("[]").strip()
        if not target:
            raise ConsoleError("click which button? (click 3.1, or click Label)")
        numbered = re.fullmatch(r"(?:(\d+)\.)?(\d+)", target)
        if numbered is not None:
            if numbered[1] is None:
                with_buttons = [m for m in self._shown_messages() if clickable_buttons(m)]
                if not with_buttons:
                    raise ConsoleError("no message with buttons has been shown")
                message = with_buttons[-1]
            else:
                message = self._shown_message(int(numbered[1]))
            buttons = clickable_buttons(message)
            index = int(numbered[2])
            if not 1 <= index <= len(buttons):
                number = self._message_numbers[message.id]
                raise ConsoleError(f"message {number} has no button {index} (it has {len(buttons)})")
            return message, buttons[index - 1]
        wanted = target.lower()
        shown = [(m, b) for m in reversed(self._shown_messages()) for b in clickable_buttons(m)]
        for matches in (
            lambda label: label == wanted,
            lambda label: label.startswith(wanted),
            lambda label: wanted in label,
        ):
            candidates = [(m, b) for m, b in shown if matches(button_label(b).lower())]
            if candidates:
                visible = [(m, b) for m, b in candidates if self._can_see(member, m)]
                return (visible or candidates)[0]
        labels = ", ".join(self.button_labels()) or "none yet"
        raise ConsoleError(f"no button labelled {target!r} is on a message shown so far (buttons: {labels})")

    def _shown_message(self, number: int) -> EmuMessage:
        if not 1 <= number <= len(self._shown):
            raise ConsoleError(f"no message {number} has been shown (messages shown: {len(self._shown)})")
        message = self.emu.messages.get(self._shown[number - 1])
        if message is None or message.deleted:
            raise ConsoleError(f"message {number} was deleted")
        return message

    def _shown_messages(self) -> list[EmuMessage]:
        """The messages numbered so far that still exist, oldest first."""
        found = (self.emu.messages.get(message_id) for message_id in self._shown)
        return [message for message in found if message is not None and not message.deleted]

    def _can_see(self, member: EmuMember, message: EmuMessage) -> bool:
        if message.ephemeral and message.interaction_id is not None:
            return self.emu.interactions[message.interaction_id].user.id == member.id
        channel = self.emu.channels.get(message.channel_id)
        if channel is not None and channel.type == CHANNEL_DM:
            return any(user.id == member.id for user in channel.recipients)
        return True

    def _number(self, message: EmuMessage) -> int:
        """The message's short number for `click M.B`: given when first shown, kept through edits."""
        if message.id not in self._message_numbers:
            self._shown.append(message.id)
            self._message_numbers[message.id] = len(self._shown)
        return self._message_numbers[message.id]

    async def _complete(self, member: EmuMember, channel: EmuChannel | None, text: str) -> None:
        invocation = parse_invocation(self.commands(), text)
        if not invocation.options:
            raise ConsoleError("say which option is being typed: complete /command option:partial")
        focused = list(invocation.options)[-1]
        if not invocation.spec(focused).get("autocomplete"):
            raise ConsoleError(f"option {focused} of /{invocation.name} has no autocomplete")
        values = option_values(invocation, self.names, skip=focused)
        # the emulator adds the focused option under its underscored name; give it that key
        values[focused.replace("-", "_")] = invocation.options[focused]
        choices = await self.emu.autocomplete(member, invocation.name, focused, in_channel=channel, **values)
        if not choices:
            self.say(f"  Nexus suggests nothing for {focused}:{invocation.options[focused]}")
            return
        self.say(f"  Nexus suggests for {focused}:")
        for number, choice in enumerate(choices, 1):
            name = str(choice.get("name", ""))
            value = choice.get("value")
            extra = "" if str(value) == name else f"  (value: {value})"
            self.say(f"    {number}. {name}{extra}")

    async def _follow(self, member: EmuMember, sending: Awaitable[Interaction]) -> None:
        """Send an interaction, wait for the answer, then print it and whatever else the bot changed."""
        before = self._snapshot()
        first_request = len(self.emu.requests)
        interaction = await sending
        try:
            await asyncio.wait_for(interaction.replied.wait(), LINE_TIMEOUT_SECONDS)
        except TimeoutError:
            what = "acknowledged (thinking…) but sent nothing" if interaction.deferred else "did not answer"
            self._report_rejections(first_request)
            raise ConsoleError(f"Nexus {what} within {LINE_TIMEOUT_SECONDS:g} s") from None
        await self._settle(first_request)
        self._show_outcome(member, interaction, before)
        self._report_rejections(first_request)

    def _snapshot(self) -> Snapshot:
        return {mid: (len(m.history), m.deleted) for mid, m in self.emu.messages.items()}

    async def _settle(self, first_request: int) -> None:
        """Wait until the bot has stopped calling Discord for a moment: posts often follow the reply."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_MAX_SECONDS
        seen = -1
        while loop.time() < deadline:
            requests = self.emu.requests[first_request:]
            busy = any(r.status == 0 for r in requests)
            if len(requests) == seen and not busy:
                return
            seen = len(requests)
            await asyncio.sleep(SETTLE_QUIET_SECONDS)

    def _report_rejections(self, first_request: int) -> None:
        for request in self.emu.requests[first_request:]:
            if request.status < 400:
                continue
            route = "/".join(
                ":token" if part.startswith("itok.") else part
                for part in request.path.removeprefix("/api/v10").split("/")
            )
            text = f"Discord (emulated) answered {request.status} to {request.method} {route}"
            if request.status == 400:
                self.error(f"{text}: real Discord would reject what Nexus sent")
            else:
                self.say(f"  note: {text}")

    def _show_outcome(self, member: EmuMember, interaction: Interaction, before: Snapshot) -> None:
        own = self.emu.messages_of(interaction)
        own_ids = {m.id for m in own}
        for message in own:
            self._print_message(self._label(message) + ":", message, check=True)
        for message_id, message in list(self.emu.messages.items()):
            if message_id in own_ids:
                continue
            if message_id not in before:
                if not message.deleted:
                    self._print_message(f"{self._label(message)}: (new)", message, check=True)
            elif message.deleted and not before[message_id][1]:
                self.say(f"  {self._label(message)}: (deleted) a message by {message.author.username}")
            elif len(message.history) > before[message_id][0] and not message.deleted:
                self._print_message(f"{self._label(message)}: (edited)", message, check=True)
        if interaction.modal is not None:
            self._open_form(member, interaction)

    def _label(self, message: EmuMessage) -> str:
        if message.ephemeral:
            return f"{message.author.username} (only you can see this)"
        return f"{message.author.username} in {self._place(message)}"

    def _place(self, message: EmuMessage) -> str:
        channel = self.emu.channels.get(message.channel_id)
        if channel is None:
            return "a deleted channel"
        if channel.type == CHANNEL_DM:
            recipient = channel.recipients[0].username if channel.recipients else "someone"
            return f"a DM to @{recipient}"
        return f"#{channel.name}"

    # -- forms

    def _open_form(self, member: EmuMember, interaction: Interaction) -> None:
        modal = interaction.modal or {}
        fields = form_fields(modal)
        self.say(f"  Nexus opens a form: {modal.get('title', '')!r}")
        for item in walk_components(modal.get("components") or []):
            if item.get("type") == TEXT_DISPLAY_TYPE:
                for line in self.names.mentions(str(item.get("content", ""))).splitlines():
                    self.say(f"    {line}")
        for form_field in fields:
            self.say(f"    - {form_field.describe()}")
        self._form = OpenForm(member, interaction, fields)
        if self.ask is None:
            example = fields[0].label or fields[0].custom_id if fields else "Field"
            self.say(f"  (fill it with lines like `> {example}: ...`; a blank line sends it)")

    def _fill_form(self, text: str) -> None:
        if self._form is None:
            raise ConsoleError("no form is open: `>` lines fill the form the previous line opened")
        found, value = form_field_value(self._form.fields, text)
        self._form.values[found.custom_id] = value

    async def ask_form(self) -> None:
        """At a terminal: ask for each field of the open form by its label, re-asking one that is refused."""
        while self._form is not None and self.ask is not None:
            form = self._form
            self.say(
                f"  (answer each field; Enter keeps what is shown, `> Label: value` fills one by name,"
                f" {MODAL_CANCEL_WORD} closes the form unsent)"
            )
            index = 0
            while index < len(form.fields):
                form_field = form.fields[index]
                if form_field.custom_id in form.values:
                    index += 1
                    continue
                answer = await self.ask(f"    {form_field.describe()}: ")
                if answer is None or answer.strip() == MODAL_CANCEL_WORD:
                    self._form = None
                    self.say("  (form closed without sending)")
                    return
                try:
                    if answer.strip().startswith(">"):
                        named, value = form_field_value(form.fields, answer.strip()[1:].strip())
                        form.values[named.custom_id] = value
                        continue
                    value = form_field.answer(answer) if answer.strip() else form_field.default()
                    form_field.check(value)
                except ConsoleError as exc:
                    self.say(f"    {exc}; try again")
                    continue
                form.values[form_field.custom_id] = value
                index += 1
            await self._send_form()

    async def _send_form(self) -> None:
        form, self._form = self._form, None
        if form is None:
            return
        if not form.values:
            self.say("  (form closed without sending: no `> Field: value` lines followed it)")
            return
        refused = []
        for form_field in form.fields:
            try:
                form_field.check(form.values.get(form_field.custom_id, form_field.default()))
            except ConsoleError as exc:
                refused.append(str(exc))
        if refused:
            example = next((f.name for f in form.fields if f.custom_id not in form.values), form.fields[0].name)
            self.error(f"the form was not sent: {'; '.join(refused)} (add a line like `> {example}: ...`)")
            return
        try:
            sending = self.emu.submit_modal(form.member, form.opened_by, form.values, wait=False)
            await self._follow(form.member, sending)
        except (ConsoleError, EmulatorError) as exc:
            self.error(str(exc))

    # -- printing messages

    def _print_message(self, header: str, message: EmuMessage, *, check: bool = False) -> None:
        self.say(f"  {header}")
        for line in self._message_lines(message):
            self.say(f"    {line}")
        if check and INTERNAL_ERROR_MARKER in message.text():
            self.error("Nexus hit an internal error (its traceback is in the log on stderr)")

    def _message_lines(self, message: EmuMessage) -> list[str]:
        lines: list[str] = []
        if message.loading:
            lines.append(f"{message.author.username} is thinking…")
        if message.content:
            lines.extend(self.names.mentions(message.content).splitlines())
        for embed in message.embeds:
            lines.extend(f"| {line}".rstrip() for line in self._embed_lines(embed))
        for item in walk_components(message.components):
            if item.get("type") == TEXT_DISPLAY_TYPE:
                lines.extend(self.names.mentions(str(item.get("content", ""))).splitlines())
        for attachment in message.attachments:
            saved = self._save(attachment)
            where = f", saved as {saved}" if saved else ""
            lines.append(f"[file] {attachment.filename} ({human_size(len(attachment.data))}{where})")
            lines.extend(f"  : {line}" for line in attachment_preview(attachment))
        controls = self._controls(message)
        if controls:
            lines.append(controls)
        return lines or ["(empty message)"]

    def _save(self, attachment: Attachment) -> Path | None:
        """Write a file the bot sent under files_dir (once per file) and say where; None if not kept."""
        if self.files_dir is None:
            return None
        if attachment.id not in self._saved:
            name = re.sub(r"[^\w.-]", "_", Path(attachment.filename).name).lstrip(".") or "file"
            path = self.files_dir / name
            taken = set(self._saved.values())
            for copy in itertools.count(2):  # a second file of the same name this session keeps the first
                if path not in taken:
                    break
                path = self.files_dir / f"{Path(name).stem}-{copy}{Path(name).suffix}"
            try:
                self.files_dir.mkdir(parents=True, exist_ok=True)
                path.write_bytes(attachment.data)
            except OSError as exc:
                self.error(f"could not save {attachment.filename} to {path}: {exc.strerror or exc}")
                return None
            self._saved[attachment.id] = path
        return self._saved[attachment.id]

    def _embed_lines(self, embed: dict[str, Any]) -> list[str]:
        mention = self.names.mentions
        lines: list[str] = []
        author = (embed.get("author") or {}).get("name")
        if author:
            lines.append(mention(str(author)))
        if embed.get("title"):
            lines.append(mention(str(embed["title"])))
        if embed.get("description"):
            lines.extend(mention(str(embed["description"])).splitlines())
        for embed_field in embed.get("fields") or []:
            value = mention(str(embed_field.get("value", ""))).splitlines() or [""]
            lines.append(f"{mention(str(embed_field.get('name', '')))}: {value[0]}")
            lines.extend(f"  {line}" for line in value[1:])
        for key in ("image", "thumbnail"):
            url = (embed.get(key) or {}).get("url")
            if url:
                lines.append(f"[{key}] {url}")
        footer = (embed.get("footer") or {}).get("text")
        if footer:
            lines.append(f"-- {mention(str(footer))}")
        return lines

    def _controls(self, message: EmuMessage) -> str:
        """Buttons numbered `[M.B]` for `click M.B` (M stays the message's number through edits) and menus."""
        parts: list[str] = []
        clickable = 0
        for item in walk_components(message.components):
            type_ = item.get("type")
            if type_ == BUTTON_TYPE:
                label = button_label(item)
                emoji = item.get("emoji") or {}
                shown_emoji = str(emoji.get("name") or "") if not emoji.get("id") else f":{emoji.get('name')}:"
                if "custom_id" in item:
                    clickable += 1
                    disabled = " (disabled)" if item.get("disabled") else ""
                    icon = f"{shown_emoji} " if shown_emoji and item.get("label") else ""
                    parts.append(f"[{self._number(message)}.{clickable}] {icon}{label}{disabled}")
                elif item.get("url"):
                    parts.append(f"[{label} -> {item['url']}]")
                else:
                    parts.append(f"[{label}]")
            elif type_ in SELECT_TYPES:
                options = " / ".join(str(o.get("label", "")) for o in item.get("options") or [])
                placeholder = item.get("placeholder") or "menu"
                parts.append(f"({placeholder}{': ' + options if options else ''}; menus can't be used here yet)")
        return "  ".join(parts)

    # -- information

    def _show_channel(self, name: str) -> None:
        channel = self.names.channel(name)
        messages = self.emu.channel_messages(channel)
        shown = messages[-CHANNEL_HISTORY_LIMIT:]
        if not shown:
            self.say(f"  #{channel.name} has no messages yet")
            return
        older = len(messages) - len(shown)
        self.say(f"  #{channel.name}" + (f" (last {len(shown)} of {len(messages)})" if older else ""))
        for message in shown:
            stamp = message.created_at.strftime("%H:%M:%S")
            edited = " (edited)" if message.history else ""
            self._print_message(f"{message.author.username} at {stamp}{edited}:", message)

    def _who(self) -> None:
        guild = self.guild
        self.say(f"Server {guild.name!r} (id {guild.id})")
        self.say("  channels: " + ", ".join(f"#{c.name}" for c in guild.channels.values()))
        roles = []
        for role in guild.roles.values():
            if role.id == guild.id:
                continue
            note = permission_names(role.permissions)
            if role.name == self.emu.bot_user.username:
                note = "the bot's own role"
            roles.append(f"@{role.name}" + (f" ({note})" if note else ""))
        self.say("  roles:    " + ", ".join(roles))
        self.say("  members:")
        width = max(len(m.user.username) for m in guild.members.values())
        for member in guild.members.values():
            if member.user.bot:
                continue
            role_names = [f"@{guild.roles[r].name}" for r in member.roles if r in guild.roles]
            notes = ["server owner"] if member.id == guild.owner_id else role_names
            self.say(f"    {member.user.username:<{width}}  {', '.join(notes)}".rstrip())

    def _help(self) -> None:
        self.say(GRAMMAR.rstrip())
        usages = command_usages(self.commands())
        if not usages:
            self.say("\nNo commands are synced yet.")
            return
        self.say("\nCommands Nexus synced to this server:")
        for usage, description in usages:
            self.say(f"  {usage}")
            if description:
                self.say(f"      {description}")


# ---------------------------------------------------------------------- stdin, signals, startup


async def unless_stopped(awaitable: Awaitable[T], stop: asyncio.Event) -> T | None:
    """The result of `awaitable`, or None (after cancelling it) if `stop` is set first."""
    work: asyncio.Future[T] = asyncio.ensure_future(awaitable)
    stopper = asyncio.ensure_future(stop.wait())
    racing: set[asyncio.Future[Any]] = {work, stopper}
    try:
        await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if work.done():
        return work.result()
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await work
    return None


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM set `stop` (the console then shuts the bot down) instead of interrupting."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


class _WithoutVoiceWarnings(logging.Filter):
    """Drops discord.py's notes that voice libraries are missing: Nexus never uses voice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


def quiet_logging(level: str) -> None:
    """Only warnings and errors from discord.py and the bot reach stderr, unless LOG_LEVEL=DEBUG."""
    if level == "DEBUG":
        return
    for name in ("", "discord", "nexus", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("discord.client").addFilter(_WithoutVoiceWarnings())
    # on loopback under load the heartbeat's own timing reads as "websocket is N s behind"
    # (discord.py records the send time after sending); it says nothing about the sandbox
    logging.getLogger("discord.gateway").setLevel(logging.ERROR)


def sqlite_url(db: Path) -> str:
    """The SQLAlchemy URL of the SQLite file `db`."""
    return f"sqlite+aiosqlite:///{db}"


@contextlib.asynccontextmanager
async def running_bot(bot: NexusBot, emu: DiscordEmulator, token: str) -> AsyncIterator[None]:
    """Nexus connected to the emulator, commands synced and ready, until the block ends."""
    try:
        async with bot:
            runner = asyncio.create_task(bot.start(token))
            try:
                ready = asyncio.create_task(emu.wait_until_ready(timeout=STARTUP_TIMEOUT_SECONDS))
                done, _ = await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
                if runner in done:
                    ready.cancel()
                    error = runner.exception()
                    raise SandboxStartError(f"Nexus stopped while starting: {error!r}")
                try:
                    ready.result()
                    await asyncio.wait_for(bot.wait_until_ready(), STARTUP_TIMEOUT_SECONDS)
                except TimeoutError:
                    raise SandboxStartError(
                        f"Nexus did not connect and sync within {STARTUP_TIMEOUT_SECONDS:.0f} s"
                    ) from None
                yield
            finally:
                await bot.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(runner, 10)
    finally:
        await bot.engine.dispose()


async def play_script(console: Console, script: Iterator[str], stop: asyncio.Event) -> int | None:
    """Play the lines of `script`, then print a summary; 1 if any line failed, None to start over."""
    for line in script:
        keep_going = await unless_stopped(console.run_line(line, echo=True), stop)
        if stop.is_set():
            console.say("\n(interrupted)")
            return 130
        if console.reset_requested:
            return None
        if not keep_going:
            break
    await unless_stopped(console.finish(), stop)
    console.say(f"\n{console.lines} lines, {console.errors} errors")
    return 1 if console.errors else 0


async def read_lines(console: Console, reader: LineReader, stop: asyncio.Event) -> int | None:
    """Read lines until quit, end of input or Ctrl-C (0), or until `reset` (None: start over)."""

    async def ask(prompt: str) -> str | None:
        return await unless_stopped(reader.read(prompt, form=True), stop)

    if reader.at_terminal:
        console.ask = ask
    while not stop.is_set():
        line = await unless_stopped(reader.read(PROMPT), stop)
        if line is None:
            break
        if not reader.at_terminal:
            console.say(line)  # piped input is not echoed by a terminal: keep the transcript readable
        keep_going = await unless_stopped(console.run_line(line), stop)
        if console.reset_requested:
            return None
        if not keep_going:
            break
        await unless_stopped(console.ask_form(), stop)
    if not stop.is_set():
        await unless_stopped(console.finish(), stop)
    console.say("\nBye.")
    return 0


def remove_database(db: Path) -> None:
    """Delete the SQLite file `db` and its journal files, so the next start migrates a new one."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


@dataclass
class SandboxRun:
    """What stays the same across `reset`: the input, the files and the counts so far."""

    settings: Settings
    db: Path
    files_dir: Path
    stop: asyncio.Event
    script: Iterator[str] | None = None
    reader: LineReader | None = None
    console: Console | None = None


async def run_session(run: SandboxRun, *, first: bool) -> int | None:
    """One emulator, sample server and bot: play or read lines on them. The exit code, or None to start over."""
    from bot.db import upgrade_database_async
    from bot.runtime import build_bot

    emu = DiscordEmulator()
    await emu.start()
    try:
        world = build_sample_world(emu)
        database_url = sqlite_url(run.db)
        try:
            run.db.parent.mkdir(parents=True, exist_ok=True)
            await upgrade_database_async(database_url)
        except Exception as exc:
            raise SandboxStartError(f"could not prepare the database {run.db}: {exc}") from exc
        bot = build_bot(
            run.settings.model_copy(
                update={
                    "discord_token": SecretStr(emu.token),
                    "database_url": database_url,
                    "dev_guild_id": world.guild.id,
                    "discord_api_base_url": emu.api_base_url,
                    "discord_gateway_url": emu.gateway_url,
                }
            ),
            guild_ready_timeout=GUILD_READY_TIMEOUT_SECONDS,
        )
        async with running_bot(bot, emu, emu.token):
            console = Console(emu, world.guild, files_dir=run.files_dir)
            if run.console is not None:  # started over: the counts go on
                console.lines, console.errors = run.console.lines, run.console.errors
            run.console = console
            if first:
                learners = f"learner1..learner{LEARNER_COUNT}"
                console.say(f"Nexus sandbox: the real bot on a local Discord at {emu.base_url}")
                console.say(f"Server {world.guild.name!r}: staff1 (Facilitators), mentor1 (Staff), {learners}")
                console.say(f"Database: {run.db} (type reset to start over)")
                console.say(f"Files Nexus sends are saved in {run.files_dir}/")
            else:
                console.say(f"  Started over: a new database ({run.db}) and a fresh sample server.")
            if run.script is not None:
                return await play_script(console, run.script, run.stop)
            if first:
                console.say("Type help for what you can do, quit to leave.")
            if run.reader is None:
                run.reader = open_reader(lambda: run.console)
            return await read_lines(console, run.reader, run.stop)
    finally:
        await emu.stop()


def open_reader(console: Callable[[], Console | None]) -> LineReader:
    """prompt_toolkit at a terminal; plain stdin otherwise (pipes, scripts, tests, CI)."""
    if sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty():
        return TerminalLines(console)
    return StdinLines(asyncio.get_running_loop())


async def run_sandbox(settings: Settings, *, db: Path | None, script: Path | None) -> int:
    """Run Nexus on a local emulated Discord; play `script`, or read lines from stdin. The exit code.

    With no `db`, a script plays on a new temporary database and the console uses SANDBOX_DB.
    """
    lines: list[str] | None = None
    if script is not None:
        try:
            lines = (await asyncio.to_thread(script.read_text, encoding="utf-8")).splitlines()
        except OSError as exc:
            print(f"nexus: cannot read the script {script}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    quiet_logging(settings.log_level)
    stop = asyncio.Event()
    with tempfile.TemporaryDirectory(prefix="nexus-sandbox-") as scratch:
        if db is None:
            db = Path(scratch) / "sandbox.db" if script is not None else SANDBOX_DB
            files_dir = SANDBOX_DB.parent / FILES_DIR_NAME
        else:
            files_dir = db.parent / FILES_DIR_NAME
        run = SandboxRun(settings, db, files_dir, stop, script=iter(lines) if lines is not None else None)
        if script is not None:
            print(f"Playing {script}", flush=True)
        first = True
        try:
            with stop_on_signals(stop):
                while True:
                    code = await run_session(run, first=first)
                    if code is not None:
                        return code
                    first = False
                    remove_database(db)
        except SandboxStartError as exc:
            print(f"nexus: {exc}", file=sys.stderr)
            return 1
