"""/profile: a learner's track, time zone, GitHub handle and skills."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import writes
from bot.client import NexusBot
from bot.domain.cohort import next_line
from bot.domain.errors import ValidationError
from bot.domain.timezones import timezone_choices
from bot.ui.cohort import profile_embed

TIMEZONE_CHOICES = 25
TRACK_CHOICES = [
    app_commands.Choice(name="Backend", value="backend"),
    app_commands.Choice(name="Frontend", value="frontend"),
]


async def timezone_autocomplete(
    interaction: discord.Interaction[NexusBot], current: str
) -> list[app_commands.Choice[str]]:
    """IANA zones matching the text: 'lagos', 'kenya', 'EAT' and 'UTC+3' all find a zone."""
    text = current.strip()
    if not text:
        picks = [
            "Africa/Lagos",
            "Africa/Nairobi",
            "Africa/Cairo",
            "Africa/Johannesburg",
            "Africa/Accra",
            "UTC",
        ]
    else:
        try:
            picks = timezone_choices(text, TIMEZONE_CHOICES)
        except ValidationError:  # an offset out of range: the reply to the command says so
            picks = []
    return [app_commands.Choice(name=z, value=z) for z in picks[:TIMEZONE_CHOICES]]


@app_commands.guild_only()
class ProfileCog(commands.GroupCog, group_name="profile", group_description="Your learner profile"):
    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot

    @app_commands.command(name="set", description="Set your track, time zone, GitHub handle and skills")
    @writes()
    @app_commands.describe(
        track="Which side you build",
        timezone="Your time zone: a city, a country, EAT or UTC+3 (start typing)",
        github="Your GitHub handle; left out keeps the one you gave, none removes it",
        skills="A short comma list, e.g. Django, PostgreSQL, Docker; left out keeps yours, none removes them",
    )
    @app_commands.choices(track=TRACK_CHOICES)
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def set_profile(
        self,
        interaction: discord.Interaction[NexusBot],
        track: app_commands.Choice[str],
        timezone: app_commands.Range[str, 1, 64],
        github: app_commands.Range[str, 1, 60] | None = None,
        skills: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        profile = await self.bot.services.profiles.set(
            interaction.guild_id,
            interaction.user.id,
            interaction.user.display_name,
            track=track.value,
            timezone=timezone,
            github=github,
            skills=skills,
        )
        checklist = await self.bot.services.cohort.checklist(interaction.guild_id, interaction.user.id)
        following = checklist.next_step
        text = "✅ Profile saved." + (f" {next_line(following)}" if following else "")
        await interaction.response.send_message(
            text, embed=profile_embed(profile, interaction.user.mention), ephemeral=True
        )

    @app_commands.command(name="show", description="Show your profile or another member's")
    @app_commands.describe(member="Whose profile (default: yours)")
    async def show(self, interaction: discord.Interaction[NexusBot], member: discord.Member | None = None) -> None:
        assert interaction.guild_id is not None
        target = member or interaction.user
        profile = await self.bot.services.profiles.get(interaction.guild_id, target.id)
        if profile is None or not profile.is_set:
            whose = "You have" if target.id == interaction.user.id else f"{target.mention} has"
            await interaction.response.send_message(f"{whose} not set a profile yet (`/profile set`).", ephemeral=True)
            return
        await interaction.response.send_message(embed=profile_embed(profile, target.mention), ephemeral=True)


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(ProfileCog(bot))
