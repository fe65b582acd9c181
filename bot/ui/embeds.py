"""Embeds shared by several cogs."""

from __future__ import annotations

import discord

NEXUS_COLOUR = discord.Colour.from_rgb(88, 101, 242)
EMBED_FIELD_LIMIT = 1024


def chunk_lines(lines: list[str], limit: int = EMBED_FIELD_LIMIT) -> list[str]:
    """Pack lines into blocks no longer than `limit` characters (for embed field values)."""
    blocks: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            blocks.append(current)
            current = line[:limit]
        else:
            current = candidate[:limit]
    if current:
        blocks.append(current)
    return blocks


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
