"""The emulated Discord's world: users, guilds, roles, channels, members, messages.

Plain dataclasses with the payload builders that turn them into Discord API v10 JSON, and the
permission arithmetic Discord applies. Nothing here does I/O.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (https://discord.com/developers/docs/topics/permissions)
CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 53) - 1

DEFAULT_MEMBER_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
)
BOT_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
    | MANAGE_THREADS
)
"""What the README's invite link asks for."""

EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7

CHANNEL_TEXT = 0
CHANNEL_DM = 1
CHANNEL_CATEGORY = 4
CHANNEL_PUBLIC_THREAD = 11
CHANNEL_PRIVATE_THREAD = 12
THREAD_TYPES = (CHANNEL_PUBLIC_THREAD, CHANNEL_PRIVATE_THREAD)


class SnowflakeFactory:
    """Discord-shaped ids: milliseconds since the Discord epoch, then a counter."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> int:
        with self._lock:
            ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
            value = (ms << 22) | (next(self._counter) & 0xFFF)
            if value <= self._last:
                value = self._last + 1
            self._last = value
            return value

    def for_shard(self, shard_id: int, shard_count: int) -> int:
        """An id whose guild would be served by `shard_id` of `shard_count`."""
        while True:
            value = self.next()
            if (value >> 22) % shard_count == shard_id:
                return value
            with self._lock:
                self._last += 1 << 22


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat()


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class EmuUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    dms_closed: bool = False
    """The user closed DMs from server members: a message to their DM channel is refused with 50007."""

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name or self.username,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class EmuRole:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class EmuChannel:
    id: int
    guild_id: int | None
    name: str
    type: int = CHANNEL_TEXT
    position: int = 0
    overwrites: list[Overwrite] = field(default_factory=list)
    recipients: list[EmuUser] = field(default_factory=list)
    thread: ThreadState | None = None
    """For a thread: its parent, owner, members and archive state."""

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_thread(self) -> bool:
        return self.thread is not None

    def payload(self) -> dict[str, Any]:
        if self.thread is not None:
            return self.thread_payload(self.thread)
        if self.type == CHANNEL_DM:
            return {
                "id": str(self.id),
                "type": CHANNEL_DM,
                "last_message_id": None,
                "recipients": [user.payload() for user in self.recipients],
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [ow.payload() for ow in self.overwrites],
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }

    def thread_payload(self, thread: ThreadState) -> dict[str, Any]:
        """A thread channel as Discord sends it (GET, THREAD_CREATE/UPDATE, the active list)."""
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "parent_id": str(thread.parent_id),
            "owner_id": str(thread.owner_id),
            "name": self.name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": thread.message_count,
            "member_count": min(len(thread.member_ids), 50),
            "total_message_sent": thread.message_count,
            "flags": 0,
            "thread_metadata": {
                "archived": thread.archived,
                "auto_archive_duration": thread.auto_archive_duration,
                "archive_timestamp": iso(thread.archive_timestamp),
                "locked": thread.locked,
                "invitable": thread.invitable,
                "create_timestamp": iso(thread.created_at),
            },
        }


@dataclass
class ThreadState:
    """What makes a channel a thread: where it hangs, who is in it, whether it is archived or locked."""

    parent_id: int
    owner_id: int
    auto_archive_duration: int = 4320
    invitable: bool = True
    archived: bool = False
    locked: bool = False
    member_ids: dict[int, datetime] = field(default_factory=dict)
    """Each member's id and when they joined."""
    message_count: int = 0
    created_at: datetime = field(default_factory=now)
    archive_timestamp: datetime = field(default_factory=now)
    """When it was last archived or unarchived (its creation, until then)."""
    last_activity: datetime = field(default_factory=now)
    """Its last message (or creation, or unarchiving): Discord archives it after auto_archive_duration without."""

    def member_payload(self, thread_id: int, user_id: int) -> dict[str, Any]:
        return {
            "id": str(thread_id),
            "user_id": str(user_id),
            "join_timestamp": iso(self.member_ids[user_id]),
            "flags": 0,
        }


@dataclass
class EmuMember:
    user: EmuUser
    guild_id: int
    roles: list[int] = field(default_factory=list)
    joined_at: datetime = field(default_factory=now)
    nick: str | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return f"<@{self.user.id}>"

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(role_id) for role_id in self.roles],
            "joined_at": iso(self.joined_at),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": self.nick,
            "avatar": None,
            "premium_since": None,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass
class EmuGuild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, EmuRole] = field(default_factory=dict)
    channels: dict[int, EmuChannel] = field(default_factory=dict)
    members: dict[int, EmuMember] = field(default_factory=dict)
    threads: dict[int, EmuChannel] = field(default_factory=dict)
    """Its threads, archived ones included (Discord lists them apart from the channels)."""

    @property
    def default_role(self) -> EmuRole:
        return self.roles[self.id]

    def channel_named(self, name: str) -> EmuChannel:
        for channel in self.channels.values():
            if channel.name == name.lstrip("#"):
                return channel
        raise KeyError(f"no channel named {name!r}")

    def role_named(self, name: str) -> EmuRole:
        for role in self.roles.values():
            if role.name == name.lstrip("@&").lstrip("@"):
                return role
        raise KeyError(f"no role named {name!r}")

    def active_threads(self) -> list[EmuChannel]:
        """Its threads that are not archived (Discord counts these against its cap)."""
        return [c for c in self.threads.values() if c.thread is not None and not c.thread.archived]

    def base_permissions(self, member: EmuMember) -> int:
        if member.id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.default_role.permissions
        for role_id in member.roles:
            role = self.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def channel_permissions(self, member: EmuMember, channel: EmuChannel) -> int:
        """Discord's permission algorithm: base, then @everyone, role and member overwrites (a
        thread's are its parent channel's)."""
        if channel.thread is not None and channel.thread.parent_id in self.channels:
            channel = self.channels[channel.thread.parent_id]
        perms = self.base_permissions(member)
        if perms & ADMINISTRATOR or perms == ALL_PERMISSIONS:
            return ALL_PERMISSIONS
        by_id = {ow.id: ow for ow in channel.overwrites}
        everyone = by_id.get(self.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            ow = by_id.get(role_id)
            if ow is not None and ow.type == 0:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        own = by_id.get(member.id)
        if own is not None and own.type == 1:
            perms = (perms & ~own.deny) | own.allow
        if not perms & VIEW_CHANNEL:
            return 0
        return perms

    def payload(self, *, bot_user_id: int) -> dict[str, Any]:
        bot_member = self.members.get(bot_user_id)
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [role.payload() for role in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": iso(now()),
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [bot_member.payload()] if bot_member else [],
            "channels": [channel.payload() for channel in self.channels.values()],
            "threads": [c.payload() for c in self.active_threads()],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@dataclass
class Attachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None = None

    def payload(self, base_url: str) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": f"{base_url}/attachments/{self.id}/{self.filename}",
            "proxy_url": f"{base_url}/attachments/{self.id}/{self.filename}",
            "content_type": self.content_type,
        }


@dataclass
class EmuMessage:
    """A message as the emulator stores it, with every version it went through."""

    id: int
    channel_id: int
    guild_id: int | None
    author: EmuUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    allowed_mentions: dict[str, Any] | None = None
    interaction_id: int | None = None
    webhook_id: int | None = None
    created_at: datetime = field(default_factory=now)
    edited_at: datetime | None = None
    deleted: bool = False
    nonce: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL_FLAG)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING_FLAG)

    def text(self) -> str:
        """Everything a reader sees in the message, flattened to one string (for assertions)."""
        parts = [self.content]
        for embed in self.embeds:
            parts.append(str(embed.get("title", "")))
            parts.append(str(embed.get("description", "")))
            for fld in embed.get("fields", []):
                parts.append(f"{fld.get('name', '')}: {fld.get('value', '')}")
            footer = embed.get("footer")
            if footer:
                parts.append(str(footer.get("text", "")))
            author = embed.get("author")
            if author:
                parts.append(str(author.get("name", "")))
        return "\n".join(part for part in parts if part)

    def buttons(self) -> list[dict[str, Any]]:
        """Every button in the message, in reading order."""
        found: list[dict[str, Any]] = []

        def walk(items: list[dict[str, Any]]) -> None:
            for item in items:
                if item.get("type") == 2:
                    found.append(item)
                for key in ("components",):
                    if isinstance(item.get(key), list):
                        walk(item[key])
                if isinstance(item.get("accessory"), dict):
                    walk([item["accessory"]])

        walk(self.components)
        return found

    def button(self, label: str) -> dict[str, Any]:
        for button in self.buttons():
            if button.get("label") == label:
                return button
        raise KeyError(f"no button labelled {label!r}; have {[b.get('label') for b in self.buttons()]}")

    def pings(self) -> Pings:
        return compute_pings(self.content, self.allowed_mentions)

    def payload(self, base_url: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [att.payload(base_url) for att in self.attachments],
            "embeds": self.embeds,
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
            "components": self.components,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.interaction_id is not None:
            data["interaction_metadata"] = {
                "id": str(self.interaction_id),
                "type": 2,
                "user": self.author.payload(),
                "authorizing_integration_owners": {},
            }
        return data


@dataclass(frozen=True)
class Pings:
    """Who a message would notify, given its content and allowed_mentions."""

    everyone: bool
    roles: frozenset[int]
    users: frozenset[int]

    @property
    def mass(self) -> bool:
        """Whether the message would ping @everyone, @here or any role."""
        return self.everyone or bool(self.roles)


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def compute_pings(content: str, allowed: dict[str, Any] | None) -> Pings:
    """Apply Discord's allowed_mentions rules to the mentions in `content`."""
    users = {int(m) for m in _USER_MENTION.findall(content)}
    roles = {int(m) for m in _ROLE_MENTION.findall(content)}
    everyone = "@everyone" in content or "@here" in content
    if allowed is None:
        return Pings(everyone, frozenset(roles), frozenset(users))
    parse = set(allowed.get("parse", []))
    allowed_users = {int(u) for u in allowed.get("users", [])}
    allowed_roles = {int(r) for r in allowed.get("roles", [])}
    return Pings(
        everyone=everyone and "everyone" in parse,
        roles=frozenset(r for r in roles if "roles" in parse or r in allowed_roles),
        users=frozenset(u for u in users if "users" in parse or u in allowed_users),
    )
