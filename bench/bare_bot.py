"""A bare discord.py bot for bench/interactions.py to measure Nexus against: a plain discord.Client
and an app_commands tree answering /note search (a fixed five-hit embed with page buttons, from
memory) and /nexus help, with nothing else: no database, no checks, no services.

Run by the bench with the emulator's endpoints in DISCORD_TOKEN, DISCORD_API_BASE_URL,
DISCORD_GATEWAY_URL and DEV_GUILD_ID (the guild its commands are synced to).
"""

from __future__ import annotations

import asyncio
import os
import signal

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

Route.BASE = os.environ["DISCORD_API_BASE_URL"].rstrip("/")
DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
GUILD = discord.Object(int(os.environ["DEV_GUILD_ID"]))

SEARCH_PAGE = discord.Embed(title="Note search", description="25 notes for your words", colour=0x5865F2)
for number in range(1, 6):
    SEARCH_PAGE.add_field(
        name=f"📘 #{number} · JWT authentication: token header status",
        value="…the endpoint returned a **JWT** after the request was handled by the view and the serializer…"
        f"\nBackend · <@{number}> · 👍 0",
        inline=False,
    )
SEARCH_PAGE.set_footer(text="Open one with /note show id:<number>")
HELP_PAGE = discord.Embed(title="Bare bot commands", description="/note search, /nexus help", colour=0x5865F2)


def page_buttons() -> discord.ui.View:
    """Previous (disabled), the position, and Next: the buttons a first page of results carries."""
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="◀ Previous", custom_id="bare:search:0", disabled=True))
    view.add_item(discord.ui.Button(label="1/5", custom_id="bare:search:position", disabled=True))
    view.add_item(discord.ui.Button(label="Next ▶", custom_id="bare:search:1"))
    return view


client = discord.Client(intents=discord.Intents.default())
tree = app_commands.CommandTree(client)
note = app_commands.Group(name="note", description="Notes")
nexus = app_commands.Group(name="nexus", description="About")


@note.command(name="search", description="Search the notes")
async def search(interaction: discord.Interaction, query: str) -> None:
    await interaction.response.send_message(embed=SEARCH_PAGE, view=page_buttons(), ephemeral=True)


@nexus.command(name="help", description="Every command")
async def help_command(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(embed=HELP_PAGE, ephemeral=True)


tree.add_command(note, guild=GUILD)
tree.add_command(nexus, guild=GUILD)


@client.event
async def setup_hook() -> None:
    await tree.sync(guild=GUILD)


async def main() -> None:
    # stop cleanly on SIGTERM, as the bench stops bots (a profiler then writes its output)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(client.close()))
    async with client:
        await client.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    asyncio.run(main())
