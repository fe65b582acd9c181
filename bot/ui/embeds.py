"""Embeds shared by several cogs."""

from __future__ import annotations

import discord

from bot.domain.text import truncate

NEXUS_COLOUR = discord.Colour.from_rgb(88, 101, 242)
EMBED_FIELD_LIMIT = 1024
"""Discord's limit for an embed field's value."""
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_TITLE_LIMIT = 256
EMBED_FIELDS_MAX = 25
MESSAGE_EMBEDS_TOTAL = 6000
"""Discord's limit for all embeds of one message together: titles, descriptions, field names and
values, footers and author names (discord.Embed's len() counts the same)."""
CONTINUED = "… (continued)"


def chunk_lines(lines: list[str], limit: int = EMBED_FIELD_LIMIT) -> list[str]:
    """Pack lines into blocks no longer than `limit` characters (for embed field values); a single
    line longer than that is cut, the cut marked with "…"."""
    blocks: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            blocks.append(current)
            current = truncate(line, limit)
        else:
            current = truncate(candidate, limit)
    if current:
        blocks.append(current)
    return blocks


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at line ends where possible; nothing lost."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line) > limit:
            pieces.append(line[:limit])
            line = line[limit:]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


def fit_fields(embed: discord.Embed, name: str, text: str, *, budget: int) -> bool:
    """Add `text` as fields named `name` (then "`name` (continued)"), using at most `budget`
    characters of the message's 6,000; True when all of it fit, else the last field ends in "…"."""
    used = 0
    for index, piece in enumerate(split_text(text, EMBED_FIELD_LIMIT)):
        label = name if index == 0 else f"{name} (continued)"
        room = min(EMBED_FIELD_LIMIT, budget - used - len(label))
        if len(embed.fields) >= EMBED_FIELDS_MAX - 1 or room < len(piece):
            if room > len(CONTINUED) and len(embed.fields) < EMBED_FIELDS_MAX:
                embed.add_field(name=label, value=piece[: room - 1].rstrip() + "…", inline=False)
            return False
        embed.add_field(name=label, value=piece, inline=False)
        used += len(label) + len(piece)
    return True


def format_duration(seconds: float) -> str:
    """A short human duration: 3d 4h, 5h 6m, 7m 8s."""
    total = int(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"
