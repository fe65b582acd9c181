"""/setup: the project channel and the staff role (staff only)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import staff_only, writes
from bot.client import NexusBot
from bot.delivery.channel import missing_post_permissions, resolve_project_channel
from bot.domain.errors import ValidationError
from bot.domain.text import truncate
from bot.ui.embeds import EMBED_FIELD_LIMIT, NEXUS_COLOUR


@app_commands.guild_only()
class SetupCog(commands.GroupCog, group_name="setup", group_description="Configure Nexus for this server (staff)"):
    """Per-guild settings."""

    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot

    @app_commands.command(name="channel", description="Choose the channel where Nexus posts announcements")
    @writes()
    @app_commands.describe(channel="The cohort's project channel, e.g. #prodevprojectnexus")
    @staff_only()
    async def channel(self, interaction: discord.Interaction[NexusBot], channel: discord.TextChannel) -> None:
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.bot.services.settings.set_project_channel(guild.id, channel.id)
        message = f"Nexus will post in {channel.mention}."
        missing = missing_post_permissions(channel, guild.me)
        if missing:
            message += f"\n⚠️ I can't post there yet: I need {', '.join(missing)} in that channel."
        posted, waiting = await self.bot.delivery.flush(guild.id)
        if posted:
            message += f"\nPosted {posted} announcement(s) that were waiting for a channel."
        if waiting:
            message += f"\n{waiting} announcement(s) are still waiting to be posted."
        await interaction.followup.send(message, ephemeral=True)

    @app_commands.command(name="staff-role", description="Choose the role whose members can run staff commands")
    @writes()
    @app_commands.describe(role="Members with this role count as staff; leave empty to rely on Manage Server only")
    @staff_only()
    async def staff_role(self, interaction: discord.Interaction[NexusBot], role: discord.Role | None = None) -> None:
        assert interaction.guild is not None
        if role is not None and (role.is_default() or role.managed):
            raise ValidationError(f"{role.name} can't be the staff role: pick a role that staff are given by hand.")
        await self.bot.services.settings.set_staff_role(interaction.guild.id, role.id if role else None)
        text = (
            f"Members with {role.mention} can now run staff commands."
            if role
            else "Staff role cleared: only members with Manage Server can run staff commands."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="show", description="Show this server's Nexus settings")
    @staff_only()
    async def show(self, interaction: discord.Interaction[NexusBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        config = await self.bot.services.settings.get(guild.id)
        channel = resolve_project_channel(guild, config, self.bot.settings.project_channel_name)
        embed = discord.Embed(title="Nexus settings", colour=NEXUS_COLOUR)
        if channel is None:
            state = (
                "the channel that was set no longer exists"
                if config.project_channel_id
                else f"not set (no #{self.bot.settings.project_channel_name} channel found)"
            )
            embed.add_field(name="Project channel", value=f"⚠️ {state}. Use `/setup channel`.", inline=False)
        else:
            origin = "" if config.project_channel_id else " (found by name; set it with `/setup channel`)"
            value = f"{channel.mention}{origin}"
            missing = missing_post_permissions(channel, guild.me)
            if missing:
                value += f"\n⚠️ I need {', '.join(missing)} there."
            embed.add_field(name="Project channel", value=value, inline=False)
        outbox = await self.bot.delivery.summary(guild.id)
        if outbox.waiting:
            value = f"{outbox.waiting} post(s) not in the channel yet; Nexus retries them automatically."
            if outbox.last_error:
                value += f"\nLast problem: {outbox.last_error}"
            if outbox.failing:
                value = "⚠️ " + value
            embed.add_field(name="Waiting posts", value=truncate(value, EMBED_FIELD_LIMIT), inline=False)
        role = guild.get_role(config.staff_role_id) if config.staff_role_id else None
        embed.add_field(
            name="Staff role",
            value=role.mention if role else "not set: Manage Server only",
            inline=False,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(SetupCog(bot))
