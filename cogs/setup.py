"""/setup: the project channel, the staff role and channel, the server's time zone and follow-up
interval (staff only)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import STAFF_GROUP_PERMISSIONS, STAFF_GROUPS, staff_group, staff_only, writes
from bot.client import NexusBot
from bot.delivery.channel import missing_post_permissions, missing_thread_permissions, resolve_project_channel
from bot.domain.errors import ValidationError
from bot.domain.schedules import local_text
from bot.domain.team_follow_ups import FOLLOW_UP_HOURS_MAX, FOLLOW_UP_HOURS_MIN
from bot.domain.text import truncate
from bot.domain.threads import MAX_ACTIVE_THREADS, StaffNoticeKind
from bot.domain.timezones import timezone_choices
from bot.ui.checkins import blockers_summary
from bot.ui.embeds import EMBED_FIELD_LIMIT, NEXUS_COLOUR
from bot.ui.follow_ups import flags_summary, interval_text
from bot.ui.views import confirm_then

TIMEZONE_CHOICES = 25
COMMON_ZONES = ("Africa/Lagos", "Africa/Nairobi", "Africa/Cairo", "Africa/Johannesburg", "Europe/London", "UTC")


async def zone_autocomplete(interaction: discord.Interaction[NexusBot], current: str) -> list[app_commands.Choice[str]]:
    """IANA zones matching the text: a zone name, a city, a country, an abbreviation or an offset."""
    text = current.strip()
    try:
        picks = timezone_choices(text, TIMEZONE_CHOICES) if text else list(COMMON_ZONES)
    except ValidationError:  # an offset out of range: the reply to the command says so
        picks = []
    return [app_commands.Choice(name=zone, value=zone) for zone in picks[:TIMEZONE_CHOICES]]


def staff_groups(bot: NexusBot) -> list[str]:
    """The top-level commands Discord hides from members without Manage Server (marked staff_group)."""
    names = [command.name for command in bot.tree.get_commands() if command.default_permissions is not None]
    order = {name: index for index, name in enumerate(STAFF_GROUPS)}
    return sorted(names, key=lambda name: order.get(name, len(order)))


def listed(names: list[str]) -> str:
    """`/a`, `/a and /b`, `/a, /b and /c`."""
    slashed = [f"/{name}" for name in names]
    return ", ".join(slashed[:-1]) + f" and {slashed[-1]}" if len(slashed) > 1 else "".join(slashed)


def needs_override(role: discord.Role) -> bool:
    """Whether Discord hides the staff groups from this role's members until an admin allows the role."""
    return not (role.permissions.administrator or role.permissions >= STAFF_GROUP_PERMISSIONS)


async def groups_hidden_from(bot: NexusBot, guild: discord.Guild, role: discord.Role) -> list[str] | None:
    """The staff groups on which no override allows `role`, read from Discord with the bot token
    (the commands' ids, then every command permission of the guild in one call); None when Discord
    could not be asked."""
    wanted = staff_groups(bot)
    if not wanted or not needs_override(role):
        return []
    if bot.application_id is None:
        return None
    try:
        commands = await bot.tree.fetch_commands(guild=guild)
        ids = {command.name: command.id for command in commands}
        if not set(wanted) <= set(ids):  # synced globally, as in production
            ids = {command.name: command.id for command in await bot.tree.fetch_commands()} | ids
        overrides = await bot.http.get_guild_application_command_permissions(bot.application_id, guild.id)
    except discord.HTTPException:
        return None
    allowed = {
        int(entry["id"])
        for entry in overrides
        if any(
            int(p["id"]) == role.id and p["type"] == discord.AppCommandPermissionType.role.value and p["permission"]
            for p in entry["permissions"]
        )
    }
    return [name for name in wanted if ids.get(name) not in allowed]


@app_commands.guild_only()
@staff_group()
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
        guild_id = interaction.guild.id
        if role is None:
            current = (await self.bot.services.settings.get(guild_id)).staff_role_id
            if current is None:
                await interaction.response.send_message(
                    "No staff role is set: only members with Manage Server run staff commands. "
                    "Choose one with `/setup staff-role role:`.",
                    ephemeral=True,
                )
                return

            async def clear() -> str:
                await self.bot.services.settings.set_staff_role(guild_id, None)
                return "Staff role cleared: only members with Manage Server can run staff commands."

            await confirm_then(
                interaction,
                f"Clear the staff role <@&{current}>? Its members without Manage Server lose the staff "
                "commands at once (you too, if that is how you have them).",
                clear,
                confirm_label="Clear staff role",
            )
            return
        await self.bot.services.settings.set_staff_role(guild_id, role.id)
        text = f"Members with {role.mention} can now run staff commands."
        groups = staff_groups(self.bot)
        if groups and needs_override(role):
            text += (
                f"\nDiscord shows {listed(groups)} only to members with Manage Server: in Server Settings → "
                f"Integrations → Nexus, allow {role.mention} on each of them (`/setup show` checks)."
            )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="timezone", description="Choose the server's time zone, used by /schedule")
    @writes()
    @app_commands.describe(zone="An IANA zone such as Africa/Lagos or Europe/Paris (start typing a city)")
    @app_commands.autocomplete(zone=zone_autocomplete)
    @staff_only()
    async def timezone(self, interaction: discord.Interaction[NexusBot], zone: app_commands.Range[str, 1, 64]) -> None:
        assert interaction.guild_id is not None
        config, moved = await self.bot.services.settings.set_timezone(interaction.guild_id, zone)
        now = local_text(self.bot.clock.now(), config.zone)
        text = f"The server's time zone is now {config.zone} (it is {now} there)."
        if moved:
            text += f"\n{moved} schedule(s) keep their times of day, now in {config.zone}."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="staff-channel", description="Choose the channel where Nexus flags things to staff")
    @writes()
    @app_commands.describe(channel="A channel only staff can read, e.g. #facilitators")
    @staff_only()
    async def staff_channel(self, interaction: discord.Interaction[NexusBot], channel: discord.TextChannel) -> None:
        guild = interaction.guild
        assert guild is not None
        await self.bot.services.settings.set_staff_channel(guild.id, channel.id)
        text = f"Nexus will flag things to staff in {channel.mention}."
        missing = missing_post_permissions(channel, guild.me)
        if missing:
            text += f"\n⚠️ I can't post there yet: I need {', '.join(missing)} in that channel."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="follow-up", description="Choose how long after a team forms Nexus asks how it goes")
    @writes()
    @app_commands.describe(hours='Hours after a team forms (and after a "not yet"); leave empty for the default')
    @staff_only()
    async def follow_up(
        self,
        interaction: discord.Interaction[NexusBot],
        hours: app_commands.Range[int, FOLLOW_UP_HOURS_MIN, FOLLOW_UP_HOURS_MAX] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        config = await self.bot.services.settings.set_follow_up_hours(interaction.guild_id, hours)
        text = "Team follow-ups: " + interval_text(config.follow_up_hours, self.bot.settings.follow_up_hours) + "."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="show", description="Show this server's Nexus settings")
    @staff_only()
    async def show(self, interaction: discord.Interaction[NexusBot]) -> None:
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
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
            missing = missing_thread_permissions(channel, guild.me)
            if missing:
                value += f"\n⚠️ Team threads need {', '.join(missing)} there (see Upgrading in the README)."
            embed.add_field(name="Project channel", value=value, inline=False)
        outbox = await self.bot.delivery.summary(guild.id)
        if outbox.waiting:
            value = f"{outbox.waiting} post(s) not in the channel yet; Nexus retries them automatically."
            if outbox.last_error:
                value += f"\nLast problem: {outbox.last_error}"
            if outbox.failing:
                value = "⚠️ " + value
            embed.add_field(name="Waiting posts", value=truncate(value, EMBED_FIELD_LIMIT), inline=False)
        threads = await self._threads_state(guild.id)
        if threads is not None:
            embed.add_field(name="Team threads", value=threads, inline=False)
        role = guild.get_role(config.staff_role_id) if config.staff_role_id else None
        embed.add_field(name="Staff role", value=await self._staff_role_state(guild, role), inline=False)
        embed.add_field(
            name="Staff channel", value=self._staff_channel_state(guild, config.staff_channel_id), inline=False
        )
        zone = config.zone if config.timezone else f"{config.zone} (not set: `/setup timezone`)"
        embed.add_field(name="Time zone", value=zone, inline=False)
        embed.add_field(
            name="Team follow-ups",
            value=interval_text(config.follow_up_hours, self.bot.settings.follow_up_hours),
            inline=False,
        )
        flagged = await self.bot.services.follow_ups.teams(guild.id, flagged_only=True)
        embed.add_field(
            name="Teams flagged by a follow-up",
            value=truncate(flags_summary(flagged), EMBED_FIELD_LIMIT),
            inline=False,
        )
        blockers = await self.bot.services.checkins.blockers(guild.id)
        embed.add_field(name="Open check-in blockers", value=blockers_summary(blockers), inline=False)
        await interaction.followup.send(embed=embed, ephemeral=True)

    @staticmethod
    def _staff_channel_state(guild: discord.Guild, channel_id: int | None) -> str:
        if channel_id is None:
            return (
                "not set: staff flags show in `/setup show`, `/cohort roster` and `/cohort blockers` only "
                "(`/setup staff-channel`)"
            )
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            return "⚠️ the channel that was set no longer exists. Use `/setup staff-channel`."
        missing = missing_post_permissions(channel, guild.me)
        return channel.mention + (f"\n⚠️ I need {', '.join(missing)} there." if missing else "")

    async def _threads_state(self, guild_id: int) -> str | None:
        """Whether Discord's thread cap was reached, and how many teams have no thread because of it."""
        told = [
            n
            for n in await self.bot.services.team_threads.staff_notices(guild_id)
            if n.kind is StaffNoticeKind.THREAD_CAP
        ]
        if not told:
            return None
        capped = await self.bot.services.team_threads.capped_teams(guild_id)
        return (
            f"⚠️ Discord's limit of {MAX_ACTIVE_THREADS:,} active threads was reached "
            f"(<t:{int(told[0].created_at.timestamp())}:R>): {capped} team(s) have no thread; their posts go "
            "to their team message and DMs."
        )

    async def _staff_role_state(self, guild: discord.Guild, role: discord.Role | None) -> str:
        if role is None:
            return "not set: Manage Server only"
        hidden = await groups_hidden_from(self.bot, guild, role)
        if hidden is None:
            return (
                f"{role.mention}\n⚠️ I could not check whether Discord shows {listed(staff_groups(self.bot))} "
                f"to {role.mention}: see Server Settings → Integrations → Nexus."
            )
        if hidden:
            return (
                f"{role.mention}\n⚠️ Discord hides {listed(hidden)} from {role.mention}: in Server Settings → "
                f"Integrations → Nexus, allow {role.mention} on {'it' if len(hidden) == 1 else 'each of them'}."
            )
        return role.mention


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(SetupCog(bot))
