"""A loopback Discord: the REST v10 routes and gateway operations discord.py 2.7 uses.

The emulator is an aiohttp server bound to 127.0.0.1. The real, unmodified discord.py client logs
in to it, opens its gateway, syncs its commands and answers interactions that the emulator (driven by
a test or by the sandbox console) sends as a member would. Everything the bot sends is recorded; faults
(dropped gateway, 429, 5xx, delays) can be injected per route.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox.contract import MAX_CHOICES, Violation, check_request, error_tree
from bot.sandbox.state import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    BOT_PERMISSIONS,
    CHANNEL_DM,
    CHANNEL_PRIVATE_THREAD,
    CHANNEL_PUBLIC_THREAD,
    CHANNEL_TEXT,
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    DEFAULT_MEMBER_PERMISSIONS,
    EMBED_LINKS,
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    MANAGE_THREADS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    Attachment,
    EmuChannel,
    EmuGuild,
    EmuMember,
    EmuMessage,
    EmuRole,
    EmuUser,
    Overwrite,
    SnowflakeFactory,
    ThreadState,
    now,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
HEARTBEAT_INTERVAL_MS = 41_250
DEFAULT_REPLY_TIMEOUT = 10.0

# Interaction types and callback types
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CB_MESSAGE, CB_DEFER, CB_DEFER_UPDATE, CB_UPDATE, CB_AUTOCOMPLETE, CB_MODAL = 4, 5, 6, 7, 8, 9

# Option types
OPT_SUBCOMMAND, OPT_GROUP, OPT_STRING, OPT_INTEGER, OPT_BOOLEAN = 1, 2, 3, 4, 5
OPT_USER, OPT_CHANNEL, OPT_ROLE, OPT_MENTIONABLE, OPT_NUMBER, OPT_ATTACHMENT = 6, 7, 8, 9, 10, 11

# Application command permission (override) types
PERMISSION_ROLE, PERMISSION_USER, PERMISSION_CHANNEL = 1, 2, 3
MAX_COMMAND_PERMISSIONS = 100
ALL_CHANNELS = "all channels"
"""Target of a channel override that covers every channel (Discord's id for it is guild_id - 1)."""

# What the bot sends is held to Discord's contract in bot/sandbox/contract.py; these are the limits
# on how often it may send.
MAX_HISTORY_LIMIT = 100
"""Most messages one GET /channels/{id}/messages returns."""
NONCE_WINDOW_SECONDS = 300.0
"""How long a message create with `enforce_nonce` is de-duplicated against an earlier one with the
same nonce in the channel. Discord: "if another message was created by the same author with the same
nonce, that message will be returned ... nonce uniqueness is only checked within a few minutes"
(https://discord.com/developers/docs/resources/message#create-message-jsonform-params)."""
CHANNEL_POST_LIMIT = (5, 5.0)
"""(messages, seconds): new messages per channel, as Discord reports the bucket in its headers."""
CHANNEL_EDIT_LIMIT = (5, 5.0)
"""(edits, seconds): message edits per channel. Discord publishes no figure (its limits are returned
in headers and may change, https://discord.com/developers/docs/topics/rate-limits); we assume the same
5 per 5 s as new messages, which is what bots observe for PATCH /channels/{id}/messages/{id}."""
MAX_ACTIVE_THREADS = 1000
"""Active (unarchived) threads per guild: creating or unarchiving one more is refused with 160006
("Maximum number of active threads reached"), https://discord.com/developers/docs/topics/opcodes-and-status-codes."""
THREAD_ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
"""The auto_archive_duration values (minutes) Discord accepts."""
THREAD_NAME_MAX = 100
GLOBAL_RATE_LIMIT = (50, 1.0)
"""(requests, seconds): "All bots can make up to 50 requests per second to our API"; interaction
endpoints (callbacks, follow-ups and their edits) are not bound by it
(https://discord.com/developers/docs/topics/rate-limits#global-rate-limit)."""


def _request_key(name: str) -> Any:
    """A typed request-storage key where aiohttp has them (newer releases warn about plain strings),
    else the plain string (the oldest aiohttp Nexus supports has no RequestKey)."""
    request_key = getattr(web, "RequestKey", None)
    return request_key(name, object) if request_key is not None else name


_BODY = _request_key("body")
"""The request's JSON body, read once by the middleware."""
_FILES = _request_key("files")
"""The request's uploaded files, read once by the middleware."""


class EmulatorError(Exception):
    """The driver asked for something a real Discord client could not send."""


class CommandHidden(EmulatorError):
    """Discord does not show this command to this member, so they cannot run it: the bot never hears of it."""


class DiscordAPIError(Exception):
    """A REST error the emulator answers with (status, Discord error code, message)."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0
    files: list[str] = field(default_factory=list)
    at: float = field(default_factory=time.time)
    """time.time() when the request arrived."""


@dataclass
class Fault:
    """Answer matching requests with `status` (or delay them) for the next `times` requests."""

    method: str | None
    path: re.Pattern[str]
    status: int | None = None
    times: int = 1
    retry_after: float = 0.05
    delay: float = 0.0
    hits: int = 0
    lose_answer: bool = False
    """Carry the request out, then answer with `status` anyway (the answer was lost on the way)."""

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.path.search(path))


@dataclass
class Interaction:
    """One interaction the emulator sent, and everything the bot answered to it."""

    id: int
    token: str
    type: int
    user: EmuUser
    guild_id: int | None
    channel_id: int
    payload: dict[str, Any]
    source_message_id: int | None = None
    callback_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None
    events: list[str] = field(default_factory=list)
    replied: asyncio.Event = field(default_factory=asyncio.Event)
    dispatched_at: float | None = None
    """time.perf_counter() when INTERACTION_CREATE was sent, and when the first callback arrived."""
    answered_at: float | None = None
    followed_up_at: float | None = None
    """time.perf_counter() when the first followup arrived (a deferred interaction's real answer)."""

    @property
    def deferred(self) -> bool:
        return self.callback_type in (CB_DEFER, CB_DEFER_UPDATE)


_CHANNEL_POST = re.compile(rf"{API_PREFIX}/channels/([0-9]+)/messages")
_CHANNEL_EDIT = re.compile(rf"{API_PREFIX}/channels/([0-9]+)/messages/[0-9]+")
_INTERACTION_ROUTES = (f"{API_PREFIX}/webhooks/", f"{API_PREFIX}/interactions/")


@dataclass(frozen=True)
class ContractViolation:
    """A request the emulator refused because its body breaks Discord's contract."""

    method: str
    path: str
    violation: Violation

    def __str__(self) -> str:
        where = ".".join(self.violation.path) or "(body)"
        return f"{self.method} {self.path}: {where}: {self.violation.code}: {self.violation.message}"


@dataclass
class _Bucket:
    """One channel's fixed window of the new-message limit, as Discord reports it in headers."""

    limit: int
    remaining: int
    reset_at: float
    """time.time() when the window ends."""
    name: str = "emulated-channel-messages"

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": f"{self.reset_at:.3f}",
            "X-RateLimit-Reset-After": f"{max(0.0, self.reset_at - time.time()):.3f}",
            "X-RateLimit-Bucket": self.name,
        }


@dataclass
class GatewaySession:
    session_id: str
    shard: tuple[int, int]
    seq: int = 0
    buffer: list[dict[str, Any]] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    identified: asyncio.Event = field(default_factory=asyncio.Event)

    def serves(self, guild_id: int | None) -> bool:
        shard_id, shard_count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (guild_id >> 22) % shard_count == shard_id


class DiscordEmulator:
    """An in-process Discord for one bot application, on 127.0.0.1."""

    def __init__(
        self, *, token: str | None = None, bot_name: str = "Nexus", clock: Callable[[], float] = time.time
    ) -> None:
        self.ids = SnowflakeFactory()
        self.token = token or f"emulator.{secrets.token_urlsafe(24)}"
        self.application_id = self.ids.next()
        self.bot_user = EmuUser(self.application_id, bot_name, bot=True)
        self.users: dict[int, EmuUser] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, EmuGuild] = {}
        self.channels: dict[int, EmuChannel] = {}
        self.messages: dict[int, EmuMessage] = {}
        self.interactions: dict[int, Interaction] = {}
        self._by_token: dict[str, Interaction] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.command_permissions: dict[int, dict[str | None, list[dict[str, Any]]]] = {}
        """Per guild, the overrides an admin set in Server Settings → Integrations: by command name
        (None: the app-level ones, for every command). Keyed by name so that a world can be set up
        before the bot syncs; the REST routes answer with the synced command ids."""
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.deleted_threads: list[EmuChannel] = []
        """Threads deleted through DELETE /channels/{id}, oldest first."""
        self.clock = clock
        """time.time() or a test's stand-in: what the nonce window is measured with."""
        self.channel_post_limit: tuple[int, float] | None = None
        """(posts, seconds): Discord's limit on new messages per channel (CHANNEL_POST_LIMIT), when set.
        Off by default so that tests run at full speed; the benchmark turns it on."""
        self.channel_edit_limit: tuple[int, float] | None = None
        """(edits, seconds): the limit on message edits per channel (CHANNEL_EDIT_LIMIT), when set; off by default."""
        self.global_rate_limit: tuple[int, float] | None = None
        """(requests, seconds): the bot's global limit (GLOBAL_RATE_LIMIT), when set; off by default."""
        self._post_buckets: dict[str, _Bucket] = {}
        self._edit_buckets: dict[str, _Bucket] = {}
        self._global_bucket: _Bucket | None = None
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self.contract_violations: list[ContractViolation] = []
        """Every request refused with 400/50035 because its body broke Discord's contract."""
        self.sessions: dict[str, GatewaySession] = {}
        self.identify_count = 0
        self.nonce_hits = 0
        self.resume_count = 0
        self.command_syncs = 0
        self.gateway_log: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._port = 0
        self._sockets: set[web.WebSocketResponse] = set()
        self._gateway_open = asyncio.Event()
        self._gateway_open.set()
        self.held_connections = 0
        """Gateway connections that waited for `release_gateway()`."""
        self._ready_waiters: list[asyncio.Future[None]] = []
        self._changed = asyncio.Condition()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    async def start(self, port: int = 0) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=32 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{att_id}/{filename}", self._get_attachment)
        r = app.router
        p = API_PREFIX
        r.add_get(f"{p}/users/@me", self._get_me)
        r.add_get(f"{p}/oauth2/applications/@me", self._get_application)
        r.add_get(f"{p}/applications/@me", self._get_application)
        r.add_get(f"{p}/gateway", self._get_gateway)
        r.add_get(f"{p}/gateway/bot", self._get_gateway_bot)
        r.add_get(f"{p}/applications/{{app}}/commands", self._get_commands)
        r.add_put(f"{p}/applications/{{app}}/commands", self._put_commands)
        r.add_get(f"{p}/applications/{{app}}/guilds/{{guild}}/commands", self._get_commands)
        r.add_put(f"{p}/applications/{{app}}/guilds/{{guild}}/commands", self._put_commands)
        r.add_get(f"{p}/applications/{{app}}/guilds/{{guild}}/commands/permissions", self._get_guild_permissions)
        r.add_get(f"{p}/applications/{{app}}/guilds/{{guild}}/commands/{{command}}/permissions", self._get_permissions)
        r.add_put(f"{p}/applications/{{app}}/guilds/{{guild}}/commands/{{command}}/permissions", self._put_permissions)
        r.add_post(f"{p}/interactions/{{iid}}/{{token}}/callback", self._callback)
        r.add_get(f"{p}/webhooks/{{app}}/{{token}}/messages/{{mid}}", self._webhook_get)
        r.add_patch(f"{p}/webhooks/{{app}}/{{token}}/messages/{{mid}}", self._webhook_edit)
        r.add_delete(f"{p}/webhooks/{{app}}/{{token}}/messages/{{mid}}", self._webhook_delete)
        r.add_post(f"{p}/webhooks/{{app}}/{{token}}", self._webhook_followup)
        r.add_get(f"{p}/channels/{{cid}}", self._get_channel)
        r.add_patch(f"{p}/channels/{{cid}}", self._patch_channel)
        r.add_delete(f"{p}/channels/{{cid}}", self._delete_thread)
        r.add_post(f"{p}/channels/{{cid}}/threads", self._create_thread)
        r.add_put(f"{p}/channels/{{cid}}/thread-members/{{uid}}", self._add_thread_member)
        r.add_get(f"{p}/channels/{{cid}}/thread-members", self._thread_members)
        r.add_get(f"{p}/guilds/{{guild}}/threads/active", self._active_threads)
        r.add_post(f"{p}/channels/{{cid}}/messages", self._channel_post)
        r.add_get(f"{p}/channels/{{cid}}/messages", self._channel_history)
        r.add_get(f"{p}/channels/{{cid}}/messages/{{mid}}", self._channel_get_message)
        r.add_patch(f"{p}/channels/{{cid}}/messages/{{mid}}", self._channel_edit)
        r.add_delete(f"{p}/channels/{{cid}}/messages/{{mid}}", self._channel_delete)
        r.add_post(f"{p}/users/@me/channels", self._create_dm)
        r.add_get(f"{p}/users/{{uid}}", self._get_user)
        r.add_get(f"{p}/guilds/{{guild}}/members/{{uid}}", self._get_member)
        r.add_get(f"{p}/guilds/{{guild}}/channels", self._get_guild_channels)
        r.add_get(f"{p}/guilds/{{guild}}/roles", self._get_guild_roles)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", port)
        await self._site.start()
        server = self._site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._port = sockets[0].getsockname()[1]
        log.info("Discord emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        self._gateway_open.set()  # held connections end with the rest
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ world building

    def add_guild(self, name: str, *, owner: EmuUser | None = None, shard: tuple[int, int] | None = None) -> EmuGuild:
        """A guild with @everyone, a Nexus bot role, and the bot as a member."""
        guild_id = self.ids.for_shard(*shard) if shard else self.ids.next()
        owner = owner or self.add_user(f"{name.lower().replace(' ', '-')}-owner")
        guild = EmuGuild(guild_id, name, owner.id)
        guild.roles[guild_id] = EmuRole(guild_id, guild_id, "@everyone", DEFAULT_MEMBER_PERMISSIONS, 0)
        bot_role = EmuRole(self.ids.next(), guild_id, self.bot_user.username, BOT_PERMISSIONS, 1)
        guild.roles[bot_role.id] = bot_role
        guild.members[owner.id] = EmuMember(owner, guild_id)
        guild.members[self.bot_user.id] = EmuMember(self.bot_user, guild_id, [bot_role.id])
        self.guilds[guild_id] = guild
        return guild

    def add_user(self, username: str) -> EmuUser:
        user = EmuUser(self.ids.next(), username)
        self.users[user.id] = user
        return user

    def add_member(self, guild: EmuGuild, username: str, *, roles: list[EmuRole] | None = None) -> EmuMember:
        user = self.add_user(username)
        member = EmuMember(user, guild.id, [role.id for role in roles or []])
        guild.members[user.id] = member
        return member

    def close_dms(self, user: EmuUser | EmuMember, closed: bool = True) -> None:
        """Close (or reopen) a user's DMs: Discord then answers a message to their DM channel with
        403 / 50007 "Cannot send messages to this user" (opening the DM channel still works)."""
        (user.user if isinstance(user, EmuMember) else user).dms_closed = closed

    def add_role(self, guild: EmuGuild, name: str, permissions: int = 0) -> EmuRole:
        role = EmuRole(self.ids.next(), guild.id, name, permissions, len(guild.roles))
        guild.roles[role.id] = role
        self._dispatch_guild(guild.id, "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()})
        return role

    def add_channel(self, guild: EmuGuild, name: str, *, overwrites: list[Overwrite] | None = None) -> EmuChannel:
        channel = EmuChannel(self.ids.next(), guild.id, name, CHANNEL_TEXT, len(guild.channels), overwrites or [])
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self._dispatch_guild(guild.id, "CHANNEL_CREATE", channel.payload())
        return channel

    def delete_channel(self, channel: EmuChannel, *, quietly: bool = False) -> None:
        """Delete `channel`; `quietly`, the bot is not told (as when the deletion races a post, before
        CHANNEL_DELETE arrives): its cache still has the channel and requests to it get 404s."""
        assert channel.guild_id is not None
        self.guilds[channel.guild_id].channels.pop(channel.id, None)
        self.channels.pop(channel.id, None)
        if not quietly:
            self._dispatch_guild(channel.guild_id, "CHANNEL_DELETE", channel.payload())

    def deny_bot(self, channel: EmuChannel, permissions: int) -> None:
        """Add a member overwrite denying the bot `permissions` in `channel`."""
        channel.overwrites = [ow for ow in channel.overwrites if ow.id != self.bot_user.id]
        channel.overwrites.append(Overwrite(self.bot_user.id, 1, 0, permissions))
        assert channel.guild_id is not None
        self._dispatch_guild(channel.guild_id, "CHANNEL_UPDATE", channel.payload())

    def set_command_permission(
        self,
        guild: EmuGuild,
        command: str | None,
        target: EmuRole | EmuMember | EmuUser | EmuChannel | str,
        allow: bool = True,
    ) -> None:
        """An admin's override in Server Settings → Integrations: allow or deny `target` (a role, the
        guild's default role for @everyone, a member, a channel or ALL_CHANNELS) on the command
        named `command`, or on every command when `command` is None. Only a user's Bearer token can
        write these in Discord, never the bot, so the emulator offers this to tests and the sandbox."""
        entry = _permission_entry(guild, target, allow)
        entries = self.command_permissions.setdefault(guild.id, {}).setdefault(command, [])
        entries[:] = [e for e in entries if (e["id"], e["type"]) != (entry["id"], entry["type"])]
        if len(entries) >= MAX_COMMAND_PERMISSIONS:
            raise EmulatorError(f"at most {MAX_COMMAND_PERMISSIONS} permission overrides per command")
        entries.append(entry)
        self._dispatch_permissions_update(guild.id, command)

    def allow_role(self, guild: EmuGuild, command: str, role: EmuRole) -> None:
        """Let members with `role` see and run `/command` whatever its default_member_permissions."""
        self.set_command_permission(guild, command, role, True)

    def clear_command_permissions(self, guild: EmuGuild, command: str | None) -> None:
        """Remove every override on `/command` (None: the app-level ones), back to the defaults."""
        self.command_permissions.get(guild.id, {}).pop(command, None)
        self._dispatch_permissions_update(guild.id, command)

    def _dispatch_permissions_update(self, guild_id: int, command: str | None) -> None:
        payload = self._permissions_payload(guild_id, command)
        if payload is not None:
            self._dispatch_guild(guild_id, "APPLICATION_COMMAND_PERMISSIONS_UPDATE", payload)

    # ------------------------------------------------------------------ faults and inspection

    def fail(
        self,
        path: str,
        status: int,
        *,
        method: str | None = None,
        times: int = 1,
        retry_after: float = 0.05,
    ) -> Fault:
        """Answer the next `times` requests whose path matches the regex `path` with `status`."""
        fault = Fault(method, re.compile(path), status, times, retry_after)
        self.faults.append(fault)
        return fault

    def lose_answer(self, path: str, status: int = 502, *, method: str | None = None, times: int = 1) -> Fault:
        """Carry out the next `times` matching requests but answer them with `status`, as when a
        gateway in between fails after Discord acted (a post made whose answer never arrives)."""
        fault = Fault(method, re.compile(path), status, times, lose_answer=True)
        self.faults.append(fault)
        return fault

    def delay(self, path: str, seconds: float, *, method: str | None = None, times: int = 1) -> Fault:
        fault = Fault(method, re.compile(path), None, times, delay=seconds)
        self.faults.append(fault)
        return fault

    async def drop_gateway(self, code: int | None = None) -> None:
        """Cut every gateway connection: abruptly (network loss) or with a close code."""
        for ws in list(self._sockets):
            if code is None:
                transport = getattr(ws, "_req", None)
                if transport is not None and transport.transport is not None:
                    transport.transport.abort()
                else:
                    await ws.close(code=4000)
            else:
                await ws.close(code=code)
        for session in self.sessions.values():
            session.ws = None

    def hold_gateway(self) -> None:
        """Accept new gateway connections but say nothing (no HELLO) until `release_gateway()`, as when
        Discord is unreachable: with `drop_gateway()`, the bot stays disconnected for as long as a test needs."""
        self._gateway_open.clear()

    def release_gateway(self) -> None:
        """Let held and new gateway connections go on (HELLO, then the bot's RESUME or IDENTIFY)."""
        self._gateway_open.set()

    def requests_to(self, pattern: str, method: str | None = None) -> list[RecordedRequest]:
        rx = re.compile(pattern)
        return [r for r in self.requests if rx.search(r.path) and (method is None or r.method == method)]

    def channel_messages(self, channel: EmuChannel | int, *, include_deleted: bool = False) -> list[EmuMessage]:
        channel_id = channel if isinstance(channel, int) else channel.id
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and not m.ephemeral and (include_deleted or not m.deleted)
        ]

    def commands_for(self, guild_id: int | None) -> list[dict[str, Any]]:
        """The commands a member sees in `guild_id`: the guild's, then the global ones."""
        commands = list(self.guild_commands.get(guild_id, [])) if guild_id else []
        names = {c["name"] for c in commands}
        commands += [c for c in self.global_commands if c["name"] not in names]
        return commands

    def can_use(self, member: EmuMember, command: dict[str, Any], channel: EmuChannel | None = None) -> bool:
        """Whether Discord shows `command` to `member` in `channel` (and so lets them run it).

        Discord's rules for application command permissions: the owner and Administrator see every
        command. A channel override (this channel, else All Channels; the command's own, else the
        app-level ones) that denies hides it. Then the command's own overrides for the member decide:
        their user override, else their roles' (one allow is enough), else @everyone's deny. Without
        one, default_member_permissions decides: the member needs every permission in it ("0": only
        admins); an @everyone allow does not lift it, and app-level member overrides are not consulted
        (discord/discord-api-docs#5356). A command without default_member_permissions falls back to
        the app-level member overrides, and is shown when none applies.
        """
        guild = self.guilds[member.guild_id]
        perms = guild.base_permissions(member)
        if perms & ADMINISTRATOR or perms == ALL_PERMISSIONS:
            return True
        overrides = self.command_permissions.get(guild.id, {})
        own = overrides.get(command["name"], [])
        app = overrides.get(None, [])
        if channel is not None:
            for entries in (own, app):
                verdict = _channel_verdict(entries, guild, channel)
                if verdict is False:
                    return False
                if verdict is True:
                    break
        verdict = _member_verdict(own, guild, member)
        if verdict is not None:
            return verdict
        required = command.get("default_member_permissions")
        if required is not None:
            needed = int(required)
            return needed != 0 and perms & needed == needed
        verdict = _member_verdict(app, guild, member)
        return verdict is not False

    def visible_commands(self, member: EmuMember, channel: EmuChannel | None = None) -> list[dict[str, Any]]:
        """The commands `member` finds in Discord's command picker."""
        return [c for c in self.commands_for(member.guild_id) if self.can_use(member, c, channel)]

    async def wait_until_ready(self, *, timeout: float = 15.0, commands: bool = True) -> None:
        """Wait until a bot session identified and (optionally) synced some commands."""

        def ready() -> bool:
            identified = any(s.identified.is_set() and s.ws is not None for s in self.sessions.values())
            synced = bool(self.global_commands or any(self.guild_commands.values()))
            return identified and (synced or not commands)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(ready), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        session: GatewaySession | None = None
        try:
            if not self._gateway_open.is_set():
                self.held_connections += 1
                await self._gateway_open.wait()
                if ws.closed:
                    return ws
            await ws.send_json({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}, "s": None, "t": None})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                op = data.get("op")
                self.gateway_log.append({"op": op, "t": data.get("t")})
                if op == 1:
                    await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
                elif op == 2:
                    session = await self._identify(ws, data["d"])
                    if session is None:
                        break
                elif op == 6:
                    session = await self._resume(ws, data["d"])
                    if session is None:
                        continue
                # presence updates (3) and others are accepted and ignored
        finally:
            self._sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> GatewaySession | None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        shard = tuple(data.get("shard") or (0, 1))
        shard_id, shard_count = int(shard[0]), int(shard[1])
        session = GatewaySession(secrets.token_hex(16), (shard_id, shard_count), ws=ws)
        self.sessions[session.session_id] = session
        self.identify_count += 1
        guilds = [g for g in self.guilds.values() if session.serves(g.id)]
        ready = {
            "v": 10,
            "user": {**self.bot_user.payload(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "session_type": "normal",
            "geo_ordered_rtc_regions": [],
        }
        if data.get("shard"):
            ready["shard"] = [shard_id, shard_count]
        await self._send(session, "READY", ready)
        for guild in guilds:
            await self._send(session, "GUILD_CREATE", guild.payload(bot_user_id=self.bot_user.id))
        session.identified.set()
        await self._notify()
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> GatewaySession | None:
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        if session is None:
            await ws.send_json({"op": 9, "d": False, "s": None, "t": None})
            return None
        self.resume_count += 1
        session.ws = ws
        last = int(data.get("seq") or 0)
        for event in [e for e in session.buffer if e["s"] > last]:
            await ws.send_str(json.dumps(event))
        session.seq += 1
        await ws.send_json({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})
        await self._notify()
        return session

    async def _send(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.buffer.append(frame)
        if len(session.buffer) > 1000:
            del session.buffer[:500]
        if session.ws is not None and not session.ws.closed:
            try:
                await session.ws.send_str(json.dumps(frame))
            except (ConnectionError, RuntimeError):
                session.ws = None

    def _dispatch_guild(self, guild_id: int | None, event: str, data: dict[str, Any]) -> None:
        for session in self.sessions.values():
            if session.identified.is_set() and session.serves(guild_id):
                task = asyncio.get_running_loop().create_task(self._send(session, event, data))
                task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _dispatch_interaction(self, interaction: Interaction) -> None:
        sessions = [s for s in self.sessions.values() if s.identified.is_set() and s.serves(interaction.guild_id)]
        if not sessions:
            raise EmulatorError("no bot session serves this guild; is the bot connected?")
        # the newest session for the shard gets it (older ones were replaced by a restart)
        interaction.dispatched_at = time.perf_counter()
        await self._send(sessions[-1], "INTERACTION_CREATE", interaction.payload)

    # ------------------------------------------------------------------ HTTP plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        path = request.path
        if path == "/gateway" or path.startswith("/attachments/"):
            result: web.StreamResponse = await handler(request)
            return result
        body, files = await self._read_body(request)
        record = RecordedRequest(request.method, path, dict(request.query), body, files=[f.filename for f in files])
        self.requests.append(record)
        request[_BODY] = body
        request[_FILES] = files
        lost: Fault | None = None
        for fault in list(self.faults):
            if fault.matches(request.method, path):
                fault.hits += 1
                if fault.hits >= fault.times:
                    self.faults.remove(fault)
                if fault.lose_answer:
                    lost = fault
                    break
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.status == 429:
                    record.status = 429
                    return self._json(
                        {
                            "message": "You are being rate limited.",
                            "retry_after": fault.retry_after,
                            "global": False,
                        },
                        status=429,
                        headers={
                            "Via": "1.1 google",
                            "Retry-After": str(fault.retry_after),
                            "X-RateLimit-Scope": "user",
                        },
                    )
                if fault.status is not None:
                    record.status = fault.status
                    return self._json({"message": "Emulated failure", "code": 0}, status=fault.status)
                break
        is_webhook = path.startswith(f"{API_PREFIX}/webhooks/") or path.startswith(f"{API_PREFIX}/interactions/")
        if not is_webhook and request.headers.get("Authorization") != f"Bot {self.token}":
            record.status = 401
            return self._json({"message": "401: Unauthorized", "code": 0}, status=401)
        shut = self._global_limit(path)
        if shut is not None:
            record.status = 429
            return shut
        limited = self._channel_limit(request.method, path)
        if limited is not None and limited.remaining > 0:
            limited.remaining -= 1
        elif limited is not None:
            record.status = 429
            retry_after = f"{max(0.001, math.ceil((limited.reset_at - time.time()) * 1000) / 1000):.3f}"
            return self._json(
                {"message": "You are being rate limited.", "retry_after": float(retry_after), "global": False},
                status=429,
                headers={
                    "Via": "1.1 google",
                    "Retry-After": retry_after,
                    "X-RateLimit-Scope": "user",
                    **limited.headers(),
                },
            )
        violations = check_request(request.method, path.removeprefix(API_PREFIX), body)
        if violations:
            self.contract_violations.extend(ContractViolation(request.method, path, v) for v in violations)
            for violation in violations:
                log.warning("contract violation: %s", ContractViolation(request.method, path, violation))
            record.status = 400
            return self._json(
                {"code": 50035, "message": "Invalid Form Body", "errors": error_tree(violations)}, status=400
            )
        try:
            response: web.StreamResponse = await handler(request)
        except DiscordAPIError as exc:
            payload: dict[str, Any] = {"message": exc.message, "code": exc.code}
            if exc.errors:
                payload["errors"] = exc.errors
            response = self._json(payload, status=exc.status)
        if lost is not None and lost.status is not None:
            response = self._json(
                {"message": "Emulated failure after the request was carried out", "code": 0}, status=lost.status
            )
        record.status = response.status
        if limited is not None:
            response.headers.update(limited.headers())
        return response

    def _channel_limit(self, method: str, path: str) -> _Bucket | None:
        """The channel's bucket when `path` posts (or edits) a message there and that limit is on."""
        if method == "POST" and self.channel_post_limit is not None:
            found, setting, buckets, name = (
                _CHANNEL_POST.fullmatch(path),
                self.channel_post_limit,
                self._post_buckets,
                "emulated-channel-messages",
            )
        elif method == "PATCH" and self.channel_edit_limit is not None:
            found, setting, buckets, name = (
                _CHANNEL_EDIT.fullmatch(path),
                self.channel_edit_limit,
                self._edit_buckets,
                "emulated-channel-edits",
            )
        else:
            return None
        if found is None:
            return None
        limit, per = setting
        bucket = buckets.get(found[1])
        now = time.time()
        if bucket is None or now >= bucket.reset_at:
            bucket = buckets[found[1]] = _Bucket(limit, limit, now + per, name)
        return bucket

    def _global_limit(self, path: str) -> web.Response | None:
        """A global 429 when the bot is over its requests per second (interaction routes are exempt)."""
        if self.global_rate_limit is None or path.startswith(_INTERACTION_ROUTES):
            return None
        limit, per = self.global_rate_limit
        now = time.time()
        bucket = self._global_bucket
        if bucket is None or now >= bucket.reset_at:
            bucket = self._global_bucket = _Bucket(limit, limit, now + per, "global")
        if bucket.remaining > 0:
            bucket.remaining -= 1
            return None
        retry_after = max(0.001, math.ceil((bucket.reset_at - now) * 1000) / 1000)
        return self._json(
            {"message": "You are being rate limited.", "retry_after": retry_after, "global": True},
            status=429,
            headers={
                "Via": "1.1 google",
                "Retry-After": f"{retry_after:.3f}",
                "X-RateLimit-Global": "true",
                "X-RateLimit-Scope": "global",
            },
        )

    async def _read_body(self, request: web.Request) -> tuple[Any, list[Attachment]]:
        if request.method in ("GET", "DELETE") or not request.can_read_body:
            return None, []
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body = json.loads(str(form.get("payload_json", "{}")))
            files: list[Attachment] = []
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    files.append(Attachment(self.ids.next(), value.filename, data, value.content_type))
                    log.debug("file field %s", key)
            return body, files
        text = await request.text()
        return (json.loads(text) if text else None), []

    @staticmethod
    def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        # discord.py parses JSON only when the content type is exactly application/json (no charset)
        return web.Response(
            body=json.dumps(data).encode(), status=status, content_type="application/json", headers=headers
        )

    # ------------------------------------------------------------------ REST: identity and commands

    async def _get_me(self, request: web.Request) -> web.Response:
        return self._json({**self.bot_user.payload(), "verified": True, "mfa_enabled": False, "flags": 0})

    async def _get_application(self, request: web.Request) -> web.Response:
        return self._json(
            {
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "Emulated application",
                "rpc_origins": [],
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": self._owner_payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "summary": "",
                "bot": self.bot_user.payload(),
                "interactions_endpoint_url": None,
                "redirect_uris": [],
            }
        )

    def _owner_payload(self) -> dict[str, Any]:
        return EmuUser(self.application_id + 1, "nexus-owner").payload()

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return self._json({"url": f"ws://127.0.0.1:{self._port}/gateway"})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return self._json(
            {
                "url": f"ws://127.0.0.1:{self._port}/gateway",
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_commands(self, request: web.Request) -> web.Response:
        guild = request.match_info.get("guild")
        commands = self.guild_commands.get(int(guild), []) if guild else self.global_commands
        return self._json(commands)

    async def _put_commands(self, request: web.Request) -> web.Response:
        guild = request.match_info.get("guild")
        body = request[_BODY] or []
        if len(body) > 100:
            raise DiscordAPIError(400, 30032, "Maximum number of application commands reached (100)")
        previous = {c["name"]: c for c in (self.guild_commands.get(int(guild), []) if guild else self.global_commands)}
        stored: list[dict[str, Any]] = []
        for command in body:
            old = previous.get(command["name"])
            stored.append(
                {
                    **command,
                    "id": old["id"] if old else str(self.ids.next()),
                    "application_id": str(self.application_id),
                    "version": str(self.ids.next()),
                    "type": command.get("type", 1),
                    "options": command.get("options", []),
                    "default_member_permissions": _permission_string(command.get("default_member_permissions")),
                    **({"guild_id": guild} if guild else {}),
                }
            )
        if guild:
            self.guild_commands[int(guild)] = stored
        else:
            self.global_commands = stored
        self.command_syncs += 1
        await self._notify()
        return self._json(stored)

    def _permissions_payload(self, guild_id: int, command: str | None) -> dict[str, Any] | None:
        """The guild application command permissions object of `/command` (None: app-level), or None
        when it has no overrides or is not synced."""
        entries = self.command_permissions.get(guild_id, {}).get(command)
        if not entries:
            return None
        target_id = str(self.application_id)
        if command is not None:
            synced = next((c for c in self.commands_for(guild_id) if c["name"] == command), None)
            if synced is None:
                return None
            target_id = synced["id"]
        return {
            "id": target_id,
            "application_id": str(self.application_id),
            "guild_id": str(guild_id),
            "permissions": [dict(entry) for entry in entries],
        }

    async def _get_guild_permissions(self, request: web.Request) -> web.Response:
        guild_id = int(request.match_info["guild"])
        if guild_id not in self.guilds:
            raise DiscordAPIError(404, 10004, "Unknown Guild")
        names = self.command_permissions.get(guild_id, {})
        payloads = [self._permissions_payload(guild_id, name) for name in names]
        return self._json([payload for payload in payloads if payload is not None])

    async def _get_permissions(self, request: web.Request) -> web.Response:
        guild_id = int(request.match_info["guild"])
        command_id = request.match_info["command"]
        if command_id == str(self.application_id):
            payload = self._permissions_payload(guild_id, None)
        else:
            command = next((c for c in self.commands_for(guild_id) if c["id"] == command_id), None)
            if command is None:
                raise DiscordAPIError(404, 10063, "Unknown application command")
            payload = self._permissions_payload(guild_id, command["name"])
        if payload is None:
            raise DiscordAPIError(404, 10066, "Unknown application command permissions")
        return self._json(payload)

    async def _put_permissions(self, request: web.Request) -> web.Response:
        # Discord takes these only from a user's Bearer token; the bot token is refused
        raise DiscordAPIError(403, 20001, "Bots cannot use this endpoint")

    # ------------------------------------------------------------------ REST: interactions

    def _interaction_for(self, request: web.Request) -> Interaction:
        token = request.match_info["token"]
        interaction = self._by_token.get(token)
        if interaction is None:
            raise DiscordAPIError(404, 10015, "Unknown Webhook")
        return interaction

    async def _callback(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for(request)
        if str(interaction.id) != request.match_info["iid"]:
            raise DiscordAPIError(404, 10062, "Unknown interaction")
        if interaction.callback_type is not None:
            raise DiscordAPIError(400, 40060, "Interaction has already been acknowledged.")
        interaction.answered_at = time.perf_counter()
        body = request[_BODY] or {}
        cb_type = int(body.get("type", 0))
        data = body.get("data") or {}
        message: EmuMessage | None = None
        if cb_type == CB_MESSAGE:
            message = self._new_message(interaction.channel_id, data, request[_FILES], interaction=interaction)
            interaction.original_message_id = message.id
        elif cb_type == CB_DEFER:
            flags = (int(data.get("flags", 0)) & EPHEMERAL_FLAG) | LOADING_FLAG
            message = self._new_message(interaction.channel_id, {"flags": flags}, [], interaction=interaction)
            interaction.original_message_id = message.id
        elif cb_type == CB_DEFER_UPDATE:
            if interaction.type not in (MESSAGE_COMPONENT, MODAL_SUBMIT):
                raise DiscordAPIError(400, 50035, "Invalid Form Body: DEFERRED_UPDATE_MESSAGE needs a component")
        elif cb_type == CB_UPDATE:
            if interaction.source_message_id is None:
                raise DiscordAPIError(400, 50035, "Invalid Form Body: UPDATE_MESSAGE needs a message")
            message = self._edit_message(self.messages[interaction.source_message_id], data, request[_FILES])
        elif cb_type == CB_AUTOCOMPLETE:
            interaction.choices = list(data.get("choices") or [])[:MAX_CHOICES]
        elif cb_type == CB_MODAL:
            interaction.modal = data
        else:
            raise DiscordAPIError(400, 50035, f"Invalid Form Body: unknown callback type {cb_type}")
        interaction.callback_type = cb_type
        interaction.events.append(f"callback:{cb_type}")
        if cb_type in (CB_MESSAGE, CB_UPDATE, CB_AUTOCOMPLETE, CB_MODAL):
            interaction.replied.set()
        if "with_response" not in request.query:
            return web.Response(status=204)
        response: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": cb_type == CB_DEFER,
                "response_message_ephemeral": bool(message and message.ephemeral),
            }
        }
        if message is not None:
            response["interaction"]["response_message_id"] = str(message.id)
            response["resource"] = {"type": cb_type, "message": message.payload(self.base_url)}
        else:
            response["resource"] = {"type": cb_type}
        return self._json(response)

    def _webhook_message(self, interaction: Interaction, mid: str) -> EmuMessage:
        if mid == "@original":
            if interaction.original_message_id is None:
                if interaction.callback_type == CB_DEFER_UPDATE and interaction.source_message_id is not None:
                    return self.messages[interaction.source_message_id]
                raise DiscordAPIError(404, 10008, "Unknown Message")
            return self.messages[interaction.original_message_id]
        message = self.messages.get(int(mid))
        if message is None or message.interaction_id != interaction.id or message.deleted:
            raise DiscordAPIError(404, 10008, "Unknown Message")
        return message

    async def _webhook_get(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for(request)
        message = self._webhook_message(interaction, request.match_info["mid"])
        return self._json(message.payload(self.base_url))

    async def _webhook_edit(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for(request)
        message = self._webhook_message(interaction, request.match_info["mid"])
        data = request[_BODY] or {}
        if message.loading:
            message.flags &= ~LOADING_FLAG
        self._edit_message(message, data, request[_FILES])
        interaction.events.append("edit")
        interaction.replied.set()
        await self._notify()
        return self._json(message.payload(self.base_url))

    async def _webhook_delete(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for(request)
        message = self._webhook_message(interaction, request.match_info["mid"])
        message.deleted = True
        interaction.events.append("delete")
        return web.Response(status=204)

    async def _webhook_followup(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for(request)
        if interaction.callback_type is None:
            raise DiscordAPIError(400, 10015, "Unknown Webhook: interaction not acknowledged")
        data = request[_BODY] or {}
        original = interaction.original_message_id
        if (
            original is not None
            and self.messages[original].loading
            and interaction.callback_type == CB_DEFER
            and not interaction.followup_ids
        ):
            # Discord turns the first followup after a thinking defer into the original response
            message = self.messages[original]
            message.flags = int(data.get("flags", message.flags)) | (message.flags & EPHEMERAL_FLAG)
            message.flags &= ~LOADING_FLAG
            self._edit_message(message, data, request[_FILES])
        else:
            message = self._new_message(interaction.channel_id, data, request[_FILES], interaction=interaction)
        if not interaction.followup_ids:
            interaction.followed_up_at = time.perf_counter()
        interaction.followup_ids.append(message.id)
        interaction.events.append("followup")
        interaction.replied.set()
        await self._notify()
        return self._json(message.payload(self.base_url))

    # ------------------------------------------------------------------ REST: channels and messages

    def _channel(self, request: web.Request) -> EmuChannel:
        channel = self.channels.get(int(request.match_info["cid"]))
        if channel is None:
            raise DiscordAPIError(404, 10003, "Unknown Channel")
        return channel

    def _check_bot_can(self, channel: EmuChannel, needed: int) -> None:
        if channel.guild_id is None:
            return
        guild = self.guilds[channel.guild_id]
        perms = guild.channel_permissions(guild.members[self.bot_user.id], channel)
        if not perms & VIEW_CHANNEL:
            raise DiscordAPIError(403, 50001, "Missing Access")
        if perms & needed != needed:
            raise DiscordAPIError(403, 50013, "Missing Permissions")

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        return self._json(channel.payload())

    async def _channel_post(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        data = request[_BODY] or {}
        send = SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
        needed = send | (EMBED_LINKS if data.get("embeds") else 0)
        self._check_bot_can(channel, needed)
        if channel.thread is not None:
            self._check_thread_writable(channel, channel.thread)
        if channel.type == CHANNEL_DM and any(user.dms_closed for user in channel.recipients or []):
            raise DiscordAPIError(403, 50007, "Cannot send messages to this user")
        nonce = data.get("nonce")
        if nonce is not None and data.get("enforce_nonce"):
            # Discord returns the message already created with this nonce (within a few minutes)
            seen = self._nonces.get((channel.id, str(nonce)))
            if seen is not None and self.clock() - seen[1] < NONCE_WINDOW_SECONDS:
                existing = self.messages[seen[0]]
                if not existing.deleted:
                    self.nonce_hits += 1
                    return self._json(existing.payload(self.base_url))
        message = self._new_message(channel.id, data, request[_FILES])
        message.nonce = str(nonce) if nonce is not None else None
        if nonce is not None:
            self._nonces[(channel.id, str(nonce))] = (message.id, self.clock())
        if channel.thread is not None:
            channel.thread.message_count += 1
            channel.thread.last_activity = self._now()
        await self._notify()
        return self._json(message.payload(self.base_url))

    def _channel_message(self, request: web.Request) -> EmuMessage:
        channel = self._channel(request)
        message = self.messages.get(int(request.match_info["mid"]))
        if message is None or message.channel_id != channel.id or message.deleted or message.ephemeral:
            raise DiscordAPIError(404, 10008, "Unknown Message")
        return message

    async def _channel_history(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages: the newest messages first (`limit` 1 to 100, default 50,
        `before` a message id), as Discord answers with Read Message History."""
        channel = self._channel(request)
        self._check_bot_can(channel, VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        try:
            limit = int(request.query.get("limit", "50"))
            before = int(request.query["before"]) if "before" in request.query else None
        except ValueError:
            raise DiscordAPIError(400, 50035, "Invalid Form Body") from None
        if not 1 <= limit <= MAX_HISTORY_LIMIT:
            raise DiscordAPIError(400, 50035, "Invalid Form Body")
        found = [m for m in reversed(self.channel_messages(channel)) if before is None or m.id < before][:limit]
        return self._json([m.payload(self.base_url) for m in found])

    async def _channel_get_message(self, request: web.Request) -> web.Response:
        self._check_bot_can(self._channel(request), VIEW_CHANNEL)
        return self._json(self._channel_message(request).payload(self.base_url))

    async def _channel_edit(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message.author.id != self.bot_user.id:
            raise DiscordAPIError(403, 50005, "Cannot edit a message authored by another user")
        channel = self._channel(request)
        self._check_bot_can(channel, VIEW_CHANNEL)
        if channel.thread is not None and channel.thread.archived:
            raise DiscordAPIError(400, 50083, "Thread is archived")  # reopen it first, as Discord asks
        self._edit_message(message, request[_BODY] or {}, request[_FILES])
        await self._notify()
        return self._json(message.payload(self.base_url))

    async def _channel_delete(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        channel = self._channel(request)
        if channel.thread is not None and channel.thread.archived:
            raise DiscordAPIError(400, 50083, "Thread is archived")  # reopen it first, as Discord asks
        message.deleted = True
        return web.Response(status=204)

    # ------------------------------------------------------------------ REST: threads

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _check_thread_cap(self, guild: EmuGuild) -> None:
        if len(guild.active_threads()) >= MAX_ACTIVE_THREADS:
            raise DiscordAPIError(400, 160006, "Maximum number of active threads reached")

    def _check_thread_writable(self, channel: EmuChannel, thread: ThreadState) -> None:
        """Posting in (or adding to) a thread: the bot must be in a private one or manage threads; an
        archived thread is unarchived by the post unless it is locked (Discord: 50083)."""
        assert channel.guild_id is not None
        guild = self.guilds[channel.guild_id]
        perms = guild.channel_permissions(guild.members[self.bot_user.id], channel)
        manages = bool(perms & MANAGE_THREADS)
        if channel.type == CHANNEL_PRIVATE_THREAD and self.bot_user.id not in thread.member_ids and not manages:
            raise DiscordAPIError(403, 50001, "Missing Access")
        if thread.archived and (thread.locked and not manages):
            raise DiscordAPIError(400, 50083, "Thread is archived")
        if thread.archived:
            self._check_thread_cap(guild)
            self._set_archived(channel, thread, False)

    def _set_archived(self, channel: EmuChannel, thread: ThreadState, archived: bool) -> None:
        thread.archived = archived
        thread.archive_timestamp = self._now()
        if not archived:
            thread.last_activity = thread.archive_timestamp
        self._dispatch_guild(channel.guild_id, "THREAD_UPDATE", channel.payload())

    def add_thread(self, parent: EmuChannel, name: str, *, private: bool = True, archived: bool = False) -> EmuChannel:
        """A thread made by someone else (a member, another bot): tests fill a guild up to the cap with these."""
        assert parent.guild_id is not None
        guild = self.guilds[parent.guild_id]
        kind = CHANNEL_PRIVATE_THREAD if private else CHANNEL_PUBLIC_THREAD
        state = ThreadState(parent.id, guild.owner_id, archived=archived, created_at=self._now())
        thread = EmuChannel(self.ids.next(), guild.id, name, kind, thread=state)
        guild.threads[thread.id] = thread
        self.channels[thread.id] = thread
        return thread

    def threads_in(self, parent: EmuChannel, *, include_archived: bool = True) -> list[EmuChannel]:
        """The threads under `parent`, oldest first."""
        return [
            c
            for c in self.channels.values()
            if c.thread is not None and c.thread.parent_id == parent.id and (include_archived or not c.thread.archived)
        ]

    def archive_idle_threads(self) -> list[EmuChannel]:
        """What Discord does on its own: archive every thread with no activity for its auto_archive_duration."""
        archived: list[EmuChannel] = []
        now_ = self._now()
        for channel in list(self.channels.values()):
            thread = channel.thread
            if thread is None or thread.archived:
                continue
            if (now_ - thread.last_activity).total_seconds() >= thread.auto_archive_duration * 60:
                self._set_archived(channel, thread, True)
                archived.append(channel)
        return archived

    async def _create_thread(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/threads: a thread without a starter message (private: type 12)."""
        parent = self._channel(request)
        if parent.type != CHANNEL_TEXT or parent.guild_id is None:
            raise DiscordAPIError(400, 50024, "Cannot execute action on this channel type")
        data = request[_BODY] or {}
        kind = int(data.get("type", CHANNEL_PRIVATE_THREAD))
        if kind not in (CHANNEL_PRIVATE_THREAD, CHANNEL_PUBLIC_THREAD):
            raise DiscordAPIError(400, 50035, "Invalid Form Body", {"type": {"_errors": [_error("must be 11 or 12")]}})
        self._check_bot_can(parent, CREATE_PRIVATE_THREADS if kind == CHANNEL_PRIVATE_THREAD else CREATE_PUBLIC_THREADS)
        name = str(data.get("name") or "")
        duration = int(data.get("auto_archive_duration", 4320))
        if not 1 <= len(name) <= THREAD_NAME_MAX:
            raise DiscordAPIError(400, 50035, "Invalid Form Body", {"name": {"_errors": [_error("1 to 100")]}})
        if duration not in THREAD_ARCHIVE_DURATIONS:
            raise DiscordAPIError(
                400, 50035, "Invalid Form Body", {"auto_archive_duration": {"_errors": [_error("not accepted")]}}
            )
        guild = self.guilds[parent.guild_id]
        self._check_thread_cap(guild)
        now_ = self._now()
        state = ThreadState(
            parent.id,
            self.bot_user.id,
            auto_archive_duration=duration,
            invitable=bool(data.get("invitable", True)) if kind == CHANNEL_PRIVATE_THREAD else True,
            member_ids={self.bot_user.id: now_},
            created_at=now_,
            archive_timestamp=now_,
            last_activity=now_,
        )
        thread = EmuChannel(self.ids.next(), guild.id, name, kind, thread=state)
        guild.threads[thread.id] = thread
        self.channels[thread.id] = thread
        payload = {**thread.payload(), "member": state.member_payload(thread.id, self.bot_user.id)}
        self._dispatch_guild(guild.id, "THREAD_CREATE", {**payload, "newly_created": True})
        await self._notify()
        return self._json(payload, status=201)

    def _thread(self, request: web.Request) -> tuple[EmuChannel, ThreadState]:
        channel = self._channel(request)
        if channel.thread is None:
            raise DiscordAPIError(400, 50024, "Cannot execute action on this channel type")
        return channel, channel.thread

    async def _add_thread_member(self, request: web.Request) -> web.Response:
        """PUT /channels/{thread}/thread-members/{user}: add a member (the thread must not be archived)."""
        channel, thread = self._thread(request)
        self._check_bot_can(channel, SEND_MESSAGES_IN_THREADS)
        if thread.archived:
            raise DiscordAPIError(400, 50083, "Thread is archived")
        self._check_thread_writable(channel, thread)
        assert channel.guild_id is not None
        guild = self.guilds[channel.guild_id]
        raw = request.match_info["uid"]
        user_id = self.bot_user.id if raw == "@me" else int(raw) if raw.isdigit() else 0
        member = guild.members.get(user_id)
        if member is None:
            raise DiscordAPIError(404, 10007, "Unknown Member")
        if user_id not in thread.member_ids:
            thread.member_ids[user_id] = self._now()
            added = {**thread.member_payload(channel.id, user_id), "member": member.payload(), "presence": None}
            self._dispatch_guild(
                guild.id,
                "THREAD_MEMBERS_UPDATE",
                {
                    "id": str(channel.id),
                    "guild_id": str(guild.id),
                    "member_count": min(len(thread.member_ids), 50),
                    "added_members": [added],
                },
            )
            await self._notify()
        return web.Response(status=204)

    async def _thread_members(self, request: web.Request) -> web.Response:
        channel, thread = self._thread(request)
        self._check_bot_can(channel, VIEW_CHANNEL)
        return self._json([thread.member_payload(channel.id, uid) for uid in thread.member_ids])

    async def _active_threads(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/threads/active: every unarchived thread, and the bot's memberships in them."""
        guild = self.guilds.get(int(request.match_info["guild"]))
        if guild is None:
            raise DiscordAPIError(404, 10004, "Unknown Guild")
        threads = guild.active_threads()
        members = [
            t.thread.member_payload(t.id, self.bot_user.id)
            for t in threads
            if t.thread is not None and self.bot_user.id in t.thread.member_ids
        ]
        return self._json({"threads": [t.payload() for t in threads], "members": members})

    async def _patch_channel(self, request: web.Request) -> web.Response:
        """PATCH /channels/{id}: the emulator edits threads only (archived, locked, name, invitable)."""
        channel, thread = self._thread(request)
        data = request[_BODY] or {}
        assert channel.guild_id is not None
        guild = self.guilds[channel.guild_id]
        perms = guild.channel_permissions(guild.members[self.bot_user.id], channel)
        if not perms & VIEW_CHANNEL:
            raise DiscordAPIError(403, 50001, "Missing Access")
        manages = bool(perms & MANAGE_THREADS)
        owner = thread.owner_id == self.bot_user.id
        if not manages and ("locked" in data or "invitable" in data or thread.locked):
            raise DiscordAPIError(403, 50013, "Missing Permissions")
        if not (owner or manages):
            raise DiscordAPIError(403, 50013, "Missing Permissions")
        if thread.archived and data.get("archived") is not False and set(data) - {"archived", "locked"}:
            raise DiscordAPIError(400, 50083, "Thread is archived")
        if "auto_archive_duration" in data:
            if int(data["auto_archive_duration"]) not in THREAD_ARCHIVE_DURATIONS:
                raise DiscordAPIError(
                    400, 50035, "Invalid Form Body", {"auto_archive_duration": {"_errors": [_error("not accepted")]}}
                )
            thread.auto_archive_duration = int(data["auto_archive_duration"])
        if "name" in data:
            channel.name = str(data["name"])
        if "invitable" in data:
            thread.invitable = bool(data["invitable"])
        if "locked" in data:
            thread.locked = bool(data["locked"])
        if "archived" in data and bool(data["archived"]) != thread.archived:
            if not data["archived"]:
                self._check_thread_cap(guild)
            thread.archived = bool(data["archived"])
            thread.archive_timestamp = self._now()
            if not thread.archived:
                thread.last_activity = thread.archive_timestamp
        self._dispatch_guild(guild.id, "THREAD_UPDATE", channel.payload())
        await self._notify()
        return self._json(channel.payload())

    async def _delete_thread(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}: the emulator deletes threads only, which takes Manage Threads."""
        channel, thread = self._thread(request)
        assert channel.guild_id is not None
        guild = self.guilds[channel.guild_id]
        if not guild.channel_permissions(guild.members[self.bot_user.id], channel) & MANAGE_THREADS:
            raise DiscordAPIError(403, 50013, "Missing Permissions")
        guild.threads.pop(channel.id, None)
        self.channels.pop(channel.id, None)
        self.deleted_threads.append(channel)
        event = {
            "id": str(channel.id),
            "guild_id": str(guild.id),
            "parent_id": str(thread.parent_id),
            "type": channel.type,
        }
        self._dispatch_guild(guild.id, "THREAD_DELETE", event)
        await self._notify()
        return self._json(channel.payload())

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = request[_BODY] or {}
        user = self.users.get(int(body.get("recipient_id", 0)))
        if user is None:
            raise DiscordAPIError(400, 50035, "Invalid Form Body: recipient_id")
        for channel in self.channels.values():
            if channel.type == CHANNEL_DM and channel.recipients and channel.recipients[0].id == user.id:
                return self._json(channel.payload())
        channel = EmuChannel(self.ids.next(), None, f"dm-{user.username}", CHANNEL_DM, recipients=[user])
        self.channels[channel.id] = channel
        return self._json(channel.payload())

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self.users.get(int(request.match_info["uid"])) if request.match_info["uid"].isdigit() else None
        if user is None:
            raise DiscordAPIError(404, 10013, "Unknown User")
        return self._json(user.payload())

    def dm_channel(self, user: EmuUser | EmuMember) -> EmuChannel | None:
        user_id = user.id
        for channel in self.channels.values():
            if channel.type == CHANNEL_DM and channel.recipients and channel.recipients[0].id == user_id:
                return channel
        return None

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self.guilds.get(int(request.match_info["guild"]))
        if guild is None:
            raise DiscordAPIError(404, 10004, "Unknown Guild")
        member = guild.members.get(int(request.match_info["uid"]))
        if member is None:
            raise DiscordAPIError(404, 10007, "Unknown Member")
        return self._json(member.payload())

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self.guilds.get(int(request.match_info["guild"]))
        if guild is None:
            raise DiscordAPIError(404, 10004, "Unknown Guild")
        return self._json([c.payload() for c in guild.channels.values()])

    async def _get_guild_roles(self, request: web.Request) -> web.Response:
        guild = self.guilds.get(int(request.match_info["guild"]))
        if guild is None:
            raise DiscordAPIError(404, 10004, "Unknown Guild")
        return self._json([r.payload() for r in guild.roles.values()])

    async def _get_attachment(self, request: web.Request) -> web.Response:
        att_id = int(request.match_info["att_id"])
        for message in self.messages.values():
            for att in message.attachments:
                if att.id == att_id:
                    return web.Response(body=att.data, content_type=att.content_type or "application/octet-stream")
        raise web.HTTPNotFound()

    def _new_message(
        self,
        channel_id: int,
        data: dict[str, Any],
        files: list[Attachment],
        *,
        interaction: Interaction | None = None,
    ) -> EmuMessage:
        channel = self.channels.get(channel_id)
        message = EmuMessage(
            id=self.ids.next(),
            channel_id=channel_id,
            guild_id=channel.guild_id if channel else None,
            author=self.bot_user,
            content=str(data.get("content") or ""),
            embeds=list(data.get("embeds") or []),
            components=list(data.get("components") or []),
            attachments=list(files),
            flags=int(data.get("flags") or 0),
            type=20 if interaction is not None and interaction.type == APPLICATION_COMMAND else 0,
            allowed_mentions=data.get("allowed_mentions"),
            interaction_id=interaction.id if interaction else None,
            webhook_id=self.application_id if interaction else None,
        )
        self.messages[message.id] = message
        return message

    def _edit_message(self, message: EmuMessage, data: dict[str, Any], files: list[Attachment]) -> EmuMessage:
        message.history.append({"content": message.content, "embeds": message.embeds, "components": message.components})
        if "content" in data:
            message.content = str(data["content"] or "")
        if "embeds" in data:
            message.embeds = list(data["embeds"] or [])
        if "components" in data:
            message.components = list(data["components"] or [])
        if "allowed_mentions" in data:
            message.allowed_mentions = data["allowed_mentions"]
        if "attachments" in data or files:
            keep = {int(a["id"]) for a in data.get("attachments") or [] if str(a.get("id", "")).isdigit()}
            message.attachments = [a for a in message.attachments if a.id in keep] + list(files)
        message.edited_at = now()
        return message

    # ------------------------------------------------------------------ the driver: acting as members

    def _find_command(self, guild_id: int | None, name: str, type_: int = 1) -> dict[str, Any]:
        for command in self.commands_for(guild_id):
            if command["name"] == name and command.get("type", 1) == type_:
                return command
        raise EmulatorError(
            f"command /{name} is not synced here (have: {[c['name'] for c in self.commands_for(guild_id)]})"
        )

    def _base_interaction(
        self,
        type_: int,
        actor: EmuMember | EmuUser,
        channel: EmuChannel | None,
        data: dict[str, Any],
    ) -> Interaction:
        interaction_id = self.ids.next()
        token = f"itok.{secrets.token_urlsafe(32)}"
        if isinstance(actor, EmuMember):
            guild = self.guilds[actor.guild_id]
            if channel is None:
                channel = next(iter(guild.channels.values()))
            if type_ in (APPLICATION_COMMAND, AUTOCOMPLETE):
                self._check_shown(actor, channel, data)
            perms = guild.channel_permissions(actor, channel)
            app_perms = guild.channel_permissions(guild.members[self.bot_user.id], channel)
            user = actor.user
            payload: dict[str, Any] = {
                "guild_id": str(guild.id),
                "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                "member": {**actor.payload(), "permissions": str(perms)},
                "app_permissions": str(app_perms),
                "guild_locale": "en-US",
                "context": 0,
                "authorizing_integration_owners": {"0": str(guild.id)},
            }
            guild_id: int | None = guild.id
        else:
            user = actor
            if channel is None:
                channel = self._dm_for(user)
            payload = {
                "user": user.payload(),
                "app_permissions": str(BOT_PERMISSIONS),
                "context": 1,
                "authorizing_integration_owners": {"0": str(user.id)},
            }
            guild_id = None
        payload.update(
            {
                "id": str(interaction_id),
                "application_id": str(self.application_id),
                "type": type_,
                "data": data,
                "channel_id": str(channel.id),
                "channel": channel.payload(),
                "token": token,
                "version": 1,
                "locale": "en-US",
                "entitlements": [],
                "attachment_size_limit": 10 * 1024 * 1024,
            }
        )
        interaction = Interaction(interaction_id, token, type_, user, guild_id, channel.id, payload)
        self.interactions[interaction_id] = interaction
        self._by_token[token] = interaction
        return interaction

    def _check_shown(self, member: EmuMember, channel: EmuChannel, data: dict[str, Any]) -> None:
        """Discord neither shows nor dispatches a command the member may not use."""
        command = next((c for c in self.commands_for(member.guild_id) if c["id"] == data["id"]), None)
        if command is None or self.can_use(member, command, channel):
            return
        required = command.get("default_member_permissions")
        why = (
            f"it needs permissions {required} (default_member_permissions)"
            if required is not None
            else "a permission override hides it"
        )
        raise CommandHidden(
            f"Discord does not show /{command['name']} to {member.user.username} in #{channel.name}: {why}, "
            "and no override in Server Settings → Integrations lets them use it"
        )

    def _dm_for(self, user: EmuUser) -> EmuChannel:
        existing = self.dm_channel(user)
        if existing is not None:
            return existing
        channel = EmuChannel(self.ids.next(), None, f"dm-{user.username}", CHANNEL_DM, recipients=[user])
        self.channels[channel.id] = channel
        return channel

    def _command_data(
        self,
        actor: EmuMember | EmuUser,
        path: str,
        options: dict[str, Any],
        *,
        focused: str | None = None,
        validate: bool = True,
    ) -> dict[str, Any]:
        guild_id = actor.guild_id if isinstance(actor, EmuMember) else None
        names = path.strip().lstrip("/").split()
        if not names:
            raise EmulatorError("empty command")
        command = self._find_command(guild_id, names[0])
        contexts = command.get("contexts")
        if validate and guild_id is None and contexts is not None and 1 not in contexts:
            raise EmulatorError(f"/{names[0]} is not available in direct messages")
        resolved: dict[str, dict[str, Any]] = {}
        leaf_defs: list[dict[str, Any]] = command.get("options", [])
        chain: list[tuple[str, int]] = []
        for name in names[1:]:
            match = next((o for o in leaf_defs if o["name"] == name and o["type"] in (OPT_SUBCOMMAND, OPT_GROUP)), None)
            if match is None:
                raise EmulatorError(f"/{' '.join(names)}: no subcommand {name!r}")
            chain.append((name, match["type"]))
            leaf_defs = match.get("options", [])
        if any(o["type"] in (OPT_SUBCOMMAND, OPT_GROUP) for o in leaf_defs):
            raise EmulatorError(f"/{' '.join(names)} needs a subcommand")
        built: list[dict[str, Any]] = []
        for key, value in options.items():
            name = key.replace("_", "-") if not any(o["name"] == key for o in leaf_defs) else key
            spec = next((o for o in leaf_defs if o["name"] == name), None)
            if spec is None:
                raise EmulatorError(f"/{' '.join(names)} has no option {key!r}")
            if name == focused:
                # Discord sends what the member has typed so far, as a string, whatever the type
                item = {"name": name, "type": spec["type"], "value": str(value), "focused": True}
            else:
                item = self._option_value(spec, value, resolved, actor, validate=validate)
            built.append(item)
        if validate and focused is None:
            given = {o["name"] for o in built}
            missing = [o["name"] for o in leaf_defs if o.get("required") and o["name"] not in given]
            if missing:
                raise EmulatorError(f"/{' '.join(names)} is missing required option(s) {missing}")
        tree: list[dict[str, Any]] = built
        for name, type_ in reversed(chain):
            tree = [{"name": name, "type": type_, "options": tree}]
        data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": 1, "options": tree}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def _option_value(
        self,
        spec: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
        actor: EmuMember | EmuUser,
        *,
        validate: bool,
    ) -> dict[str, Any]:
        type_ = spec["type"]
        name = spec["name"]
        out: dict[str, Any] = {"name": name, "type": type_}
        if type_ == OPT_STRING:
            text = str(value)
            if validate:
                if len(text) > int(spec.get("max_length", 6000)) or len(text) < int(spec.get("min_length", 0)):
                    raise EmulatorError(f"option {name}: length {len(text)} outside Discord's limits")
                _check_choice(spec, text)
            out["value"] = text
        elif type_ in (OPT_INTEGER, OPT_NUMBER):
            number = int(value) if type_ == OPT_INTEGER else float(value)
            if validate:
                if "min_value" in spec and number < spec["min_value"]:
                    raise EmulatorError(f"option {name}: below {spec['min_value']}")
                if "max_value" in spec and number > spec["max_value"]:
                    raise EmulatorError(f"option {name}: above {spec['max_value']}")
                _check_choice(spec, number)
            out["value"] = number
        elif type_ == OPT_BOOLEAN:
            out["value"] = bool(value)
        elif type_ in (OPT_USER, OPT_MENTIONABLE) and isinstance(value, EmuMember | EmuUser):
            user = value.user if isinstance(value, EmuMember) else value
            out["value"] = str(user.id)
            resolved.setdefault("users", {})[str(user.id)] = user.payload()
            member = value if isinstance(value, EmuMember) else None
            if member is None and isinstance(actor, EmuMember):
                member = self.guilds[actor.guild_id].members.get(user.id)
            if member is not None:
                guild = self.guilds[member.guild_id]
                perms = guild.base_permissions(member)
                resolved.setdefault("members", {})[str(user.id)] = {
                    **member.payload(with_user=False),
                    "permissions": str(perms),
                }
        elif type_ == OPT_CHANNEL and isinstance(value, EmuChannel):
            out["value"] = str(value.id)
            perms = 0
            if value.guild_id is not None:
                guild = self.guilds[value.guild_id]
                perms = guild.channel_permissions(guild.members[self.bot_user.id], value)
            resolved.setdefault("channels", {})[str(value.id)] = {
                "id": str(value.id),
                "name": value.name,
                "type": value.type,
                "permissions": str(perms),
                "guild_id": str(value.guild_id),
                "parent_id": None,
                "nsfw": False,
                "flags": 0,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "topic": None,
                "position": value.position,
            }
            allowed = spec.get("channel_types")
            if validate and allowed and value.type not in allowed:
                raise EmulatorError(f"option {name}: channel type {value.type} not allowed")
        elif type_ in (OPT_ROLE, OPT_MENTIONABLE) and isinstance(value, EmuRole):
            out["value"] = str(value.id)
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
        else:
            raise EmulatorError(f"option {name}: cannot send {value!r} as option type {type_}")
        return out

    async def command(
        self,
        actor: EmuMember | EmuUser,
        path: str,
        /,
        *,
        in_channel: EmuChannel | None = None,
        wait: bool = True,
        validate: bool = True,
        **options: Any,
    ) -> Interaction:
        """A member runs `/path` with options (in `in_channel`); by default waits for the reply."""
        data = self._command_data(actor, path, options, validate=validate)
        interaction = self._base_interaction(APPLICATION_COMMAND, actor, in_channel, data)
        await self._dispatch_interaction(interaction)
        if wait:
            await self.wait_reply(interaction)
        return interaction

    async def autocomplete(
        self,
        actor: EmuMember | EmuUser,
        path: str,
        focused: str,
        /,
        *,
        in_channel: EmuChannel | None = None,
        **options: Any,
    ) -> list[dict[str, Any]]:
        """The choices the bot offers while `focused` is being typed."""
        options.setdefault(focused.replace("-", "_"), "")
        data = self._command_data(actor, path, options, focused=focused)
        interaction = self._base_interaction(AUTOCOMPLETE, actor, in_channel, data)
        await self._dispatch_interaction(interaction)
        await self.wait_reply(interaction)
        return interaction.choices or []

    async def click(
        self,
        actor: EmuMember | EmuUser,
        message: EmuMessage,
        button: str | dict[str, Any],
        *,
        wait: bool = True,
    ) -> Interaction:
        """Press a button (by label, or a button dict) on `message`."""
        spec = message.button(button) if isinstance(button, str) else button
        if spec.get("disabled"):
            raise EmulatorError(f"button {spec.get('label')!r} is disabled")
        if "custom_id" not in spec:
            raise EmulatorError("link buttons do not send interactions")
        channel = self.channels[message.channel_id]
        data = {"custom_id": spec["custom_id"], "component_type": 2}
        interaction = self._base_interaction(MESSAGE_COMPONENT, actor, channel, data)
        interaction.source_message_id = message.id
        interaction.payload["message"] = message.payload(self.base_url)
        await self._dispatch_interaction(interaction)
        if wait:
            await self.wait_reply(interaction)
        return interaction

    async def submit_modal(
        self,
        actor: EmuMember | EmuUser,
        opened_by: Interaction,
        values: Mapping[str, str | list[str]],
        *,
        wait: bool = True,
    ) -> Interaction:
        """Fill the modal that `opened_by` answered with; `values` maps custom_id or label to text."""
        modal = opened_by.modal
        if modal is None:
            raise EmulatorError("that interaction did not open a modal")
        components = []
        used: set[str] = set()

        def answer(inner: dict[str, Any], label: str) -> dict[str, Any]:
            used.update({inner["custom_id"], label})
            given = values.get(inner["custom_id"], values.get(label))
            if inner.get("type") == 3:  # a string select inside a label
                chosen = [] if given is None else [given] if isinstance(given, str) else list(given)
                options = {o["value"]: o for o in inner.get("options", [])}
                labels = {o["label"]: o["value"] for o in inner.get("options", [])}
                chosen = [labels.get(v, v) for v in chosen]
                if not chosen:
                    chosen = [o["value"] for o in inner.get("options", []) if o.get("default")]
                if any(v not in options for v in chosen):
                    raise EmulatorError(f"modal select {inner['custom_id']}: {chosen} not among its options")
                if inner.get("required", True) and len(chosen) < int(inner.get("min_values", 1)):
                    raise EmulatorError(f"modal select {inner['custom_id']} is required")
                return {"type": 3, "custom_id": inner["custom_id"], "values": chosen}
            value = str(given) if given is not None else inner.get("value", "")
            _check_text_input(inner, value)
            return {"type": 4, "custom_id": inner["custom_id"], "value": value}

        for row in modal.get("components", []):
            if row.get("type") == 18:
                components.append({"type": 18, "component": answer(row["component"], row.get("label", ""))})
            elif row.get("type") == 1:
                sub = [answer(inner, inner.get("label", "")) for inner in row.get("components", [])]
                components.append({"type": 1, "components": sub})
        unknown = set(values) - used
        if unknown:
            raise EmulatorError(f"the modal has no field(s) {sorted(unknown)}")
        channel = self.channels[opened_by.channel_id]
        data = {"custom_id": modal["custom_id"], "components": components}
        interaction = self._base_interaction(MODAL_SUBMIT, actor, channel, data)
        if opened_by.source_message_id is not None:
            interaction.source_message_id = opened_by.source_message_id
            interaction.payload["message"] = self.messages[opened_by.source_message_id].payload(self.base_url)
        await self._dispatch_interaction(interaction)
        if wait:
            await self.wait_reply(interaction)
        return interaction

    async def wait_reply(self, interaction: Interaction, timeout: float = DEFAULT_REPLY_TIMEOUT) -> Interaction:
        try:
            await asyncio.wait_for(interaction.replied.wait(), timeout)
        except TimeoutError:
            raise EmulatorError(
                f"no reply to interaction {interaction.id} within {timeout}s (events: {interaction.events})"
            ) from None
        return interaction

    # ------------------------------------------------------------------ reading replies

    def reply(self, interaction: Interaction) -> EmuMessage:
        """The message a member sees as the answer: the last followup, else the original response."""
        if interaction.followup_ids:
            return self.messages[interaction.followup_ids[-1]]
        if interaction.original_message_id is not None:
            return self.messages[interaction.original_message_id]
        if interaction.source_message_id is not None:
            return self.messages[interaction.source_message_id]
        raise EmulatorError(f"interaction {interaction.id} has no message reply (events: {interaction.events})")

    def messages_of(self, interaction: Interaction) -> list[EmuMessage]:
        ids = ([interaction.original_message_id] if interaction.original_message_id else []) + interaction.followup_ids
        return [self.messages[i] for i in dict.fromkeys(ids)]


def _error(message: str) -> dict[str, str]:
    return {"code": "BASE_TYPE_BAD_INPUT", "message": message}


def _check_choice(spec: dict[str, Any], value: Any) -> None:
    choices = spec.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise EmulatorError(f"option {spec['name']}: {value!r} is not one of its choices")


def _check_text_input(spec: dict[str, Any], value: str) -> None:
    if spec.get("required", True) and not value:
        raise EmulatorError(f"modal field {spec.get('custom_id')} is required")
    max_length = spec.get("max_length")
    if max_length is not None and len(value) > int(max_length):
        raise EmulatorError(f"modal field {spec.get('custom_id')}: longer than {max_length}")
    min_length = spec.get("min_length")
    if value and min_length is not None and len(value) < int(min_length):
        raise EmulatorError(f"modal field {spec.get('custom_id')}: shorter than {min_length}")


def _permission_string(value: Any) -> str | None:
    """Discord takes default_member_permissions as a number or a string and answers with a string."""
    return None if value is None else str(int(value))


def _permission_entry(
    guild: EmuGuild, target: EmuRole | EmuMember | EmuUser | EmuChannel | str, allow: bool
) -> dict[str, Any]:
    if isinstance(target, EmuRole):
        return {"id": str(target.id), "type": PERMISSION_ROLE, "permission": allow}
    if isinstance(target, EmuMember | EmuUser):
        return {"id": str(target.id), "type": PERMISSION_USER, "permission": allow}
    if isinstance(target, EmuChannel):
        return {"id": str(target.id), "type": PERMISSION_CHANNEL, "permission": allow}
    if target == ALL_CHANNELS:
        return {"id": str(guild.id - 1), "type": PERMISSION_CHANNEL, "permission": allow}
    raise EmulatorError(f"cannot set a command permission on {target!r}")


def _channel_verdict(entries: list[dict[str, Any]], guild: EmuGuild, channel: EmuChannel) -> bool | None:
    """This channel's override, else the All Channels one, else None."""
    by_id = {int(e["id"]): bool(e["permission"]) for e in entries if e["type"] == PERMISSION_CHANNEL}
    return by_id.get(channel.id, by_id.get(guild.id - 1))


def _member_verdict(entries: list[dict[str, Any]], guild: EmuGuild, member: EmuMember) -> bool | None:
    """The member's user override, else their roles' (an allow wins), else an @everyone deny, else None."""
    users = {int(e["id"]): bool(e["permission"]) for e in entries if e["type"] == PERMISSION_USER}
    if member.id in users:
        return users[member.id]
    roles = {int(e["id"]): bool(e["permission"]) for e in entries if e["type"] == PERMISSION_ROLE}
    mine = [roles[role_id] for role_id in member.roles if role_id in roles and role_id != guild.id]
    if mine:
        return any(mine)
    return False if roles.get(guild.id) is False else None


_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
