"""/schedule: text posts at a date and time in the server's zone, once or weekly (staff), and the
loop that posts each occurrence exactly once."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import staff_group, staff_only, writes
from bot.client import NexusBot
from bot.delivery.channel import project_channel
from bot.domain.events import Event, NudgeDmsStored, NudgePostStored, ScheduledRunClaimed
from bot.domain.schedules import (
    POST_LABELS,
    SCHEDULE_ID_MAX,
    SCHEDULE_TEXT_MAX,
    NudgeDelivery,
    Repeat,
    RunOutcome,
    ScheduledPost,
    check_post_options,
    local_text,
    new_timing,
)
from bot.domain.text import truncate
from bot.services.schedules import ClaimedRun
from bot.ui.schedules import ScheduleTextModal, schedule_pages, when_text
from bot.ui.views import confirm_then, send_list

log = logging.getLogger("nexus.schedule")

SCHEDULE_LIST = "schedule_list"
ID_CHOICES = 25
REPEAT_CHOICES = [
    app_commands.Choice(name="Once", value=Repeat.ONCE.value),
    app_commands.Choice(name="Weekly on the chosen days", value=Repeat.WEEKLY.value),
]
POST_CHOICES = [app_commands.Choice(name=label, value=post.value) for post, label in POST_LABELS.items()]
DELIVERY_CHOICES = [
    app_commands.Choice(name="A channel post naming the learners", value=NudgeDelivery.CHANNEL.value),
    app_commands.Choice(name="A DM to each learner", value=NudgeDelivery.DM.value),
]


async def schedule_id_autocomplete(
    interaction: discord.Interaction[NexusBot], current: str
) -> list[app_commands.Choice[int]]:
    """This server's schedules, by id and text."""
    if interaction.guild_id is None:
        return []
    listing = await interaction.client.services.schedules.listing(interaction.guild_id)
    text = current.lower().strip().removeprefix("#")
    choices = []
    for info in listing.schedules:
        what = " ".join(info.text.split()) if info.post is ScheduledPost.TEXT else info.post.label
        label = f"#{info.id} {when_text(info)} — {what}"
        if not text or text in label.lower():
            choices.append(app_commands.Choice(name=truncate(label, 100), value=info.id))
    return choices[:ID_CHOICES]


@app_commands.guild_only()
@staff_group()
class ScheduleCog(commands.GroupCog, group_name="schedule", group_description="Posts at set times (staff)"):
    """Scheduled posts, and the pass that makes them when they are due."""

    def __init__(self, bot: NexusBot) -> None:
        self.bot = bot
        bot.list_sources[SCHEDULE_LIST] = self._pages
        self.due_pass = bot.background_loop("Schedule pass", bot.settings.schedule_interval_seconds, self.run_due)

    async def cog_load(self) -> None:
        self.due_pass.start()

    async def cog_unload(self) -> None:
        self.due_pass.cancel()
        self.bot.list_sources.pop(SCHEDULE_LIST, None)

    @app_commands.command(name="add", description="Post a text or a Nexus post at a date and time, once or weekly")
    @writes()
    @app_commands.describe(
        date="The first day, as YYYY-MM-DD, in the server's time zone (/setup timezone)",
        time="The time of day, as HH:MM on the 24-hour clock",
        text="What Nexus posts (up to 2,000 characters, never pings); leave it out for a form with line breaks",
        repeat="Once, or every week on the chosen days",
        days="For weekly: the days, e.g. mon,wed,fri",
        post="What to post: your text (default), the kickoff, a roster nudge or the weekly digest",
        delivery="Roster nudge only: one channel post naming the learners (default), or a DM to each",
    )
    @app_commands.choices(repeat=REPEAT_CHOICES, post=POST_CHOICES, delivery=DELIVERY_CHOICES)
    @staff_only()
    async def add(
        self,
        interaction: discord.Interaction[NexusBot],
        date: app_commands.Range[str, 1, 20],
        time: app_commands.Range[str, 1, 10],
        text: app_commands.Range[str, 1, SCHEDULE_TEXT_MAX] | None = None,
        repeat: str = Repeat.ONCE.value,
        days: app_commands.Range[str, 1, 100] | None = None,
        post: str = ScheduledPost.TEXT.value,
        delivery: str = NudgeDelivery.CHANNEL.value,
    ) -> None:
        guild_id, guild = interaction.guild_id, interaction.guild
        assert guild_id is not None
        how, what, where = Repeat(repeat), ScheduledPost(post), NudgeDelivery(delivery)
        check_post_options(what, where, text)

        async def store(answer: discord.Interaction[Any], typed: str | None) -> None:
            info = await self.bot.services.schedules.add(
                guild_id, answer.user.id, typed, repeat=how, start=date, at=time, days=days, post=what, delivery=where
            )
            upcoming = local_text(info.next_run_at, info.zone) if info.next_run_at else "never"
            label = "" if what is ScheduledPost.TEXT else f" {what.label.lower()}"
            if where is NudgeDelivery.DM:
                label += " by DM"
            text = f"Scheduled #{info.id}{label}: {when_text(info)} ({info.zone}). First post: {upcoming}."
            channel, problem = await project_channel(self.bot, guild) if guild else (None, None)
            if channel is not None:
                text += f" It will appear in {channel.mention}."
            elif problem:
                text += f"\n⚠️ For now {problem}: the post waits until that is fixed."
            await answer.response.send_message(text, ephemeral=True)

        if text is not None or what is not ScheduledPost.TEXT:
            await store(interaction, text)
            return
        # the rest is checked before the form opens, so nobody types a long text for a date in the past
        config = await self.bot.services.settings.get(guild_id)
        new_timing(how, date, time, days, config.zone, self.bot.clock.now())
        await interaction.response.send_modal(ScheduleTextModal(store))

    @app_commands.command(name="list", description="This server's scheduled posts and skipped runs")
    @staff_only()
    async def list_(self, interaction: discord.Interaction[NexusBot]) -> None:
        await send_list(interaction, await self._pages(interaction, ""), name=SCHEDULE_LIST)

    async def _pages(self, interaction: discord.Interaction[NexusBot], _arg: str) -> list[discord.Embed]:
        assert interaction.guild_id is not None
        return schedule_pages(await self.bot.services.schedules.listing(interaction.guild_id))

    @app_commands.command(name="remove", description="Stop a scheduled post")
    @writes()
    @app_commands.describe(id="The schedule's number, from /schedule list")
    @app_commands.autocomplete(id=schedule_id_autocomplete)
    @staff_only()
    async def remove(
        self, interaction: discord.Interaction[NexusBot], id: app_commands.Range[int, 1, SCHEDULE_ID_MAX]
    ) -> None:
        guild_id = interaction.guild_id
        assert guild_id is not None
        info = await self.bot.services.schedules.get(guild_id, id)

        async def stop() -> str:
            await self.bot.services.schedules.remove(guild_id, id)
            return f"Removed schedule #{id}: nothing more will be posted for it."

        await confirm_then(
            interaction, f"Remove schedule #{info.id} ({when_text(info)})?", stop, confirm_label="Remove"
        )

    async def run_due(self) -> int:
        """Claim every occurrence due in the guilds this process serves and post the claimed ones;
        how many were posted (skipped ones are recorded for /schedule list)."""
        grace = timedelta(minutes=self.bot.settings.schedule_grace_minutes)
        claimed = await self.bot.services.schedules.run_pass([guild.id for guild in self.bot.guilds], grace)
        posted = 0
        for run in claimed:
            if run.outcome is RunOutcome.SKIPPED:
                log.info(
                    "Schedule %s: the run due %s was missed beyond the grace; skipped", run.schedule_id, run.due_at
                )
                continue
            await self.bot.delivery.deliver(run.guild_id, run_events(run))
            posted += 1
        served = [guild.id for guild in self.bot.guilds]
        for guild_id, run_id in await self.bot.services.nudges.stalled_dm_runs(served):
            log.info("Nudge run %s: DMs left unsent by a process that stopped; sending them", run_id)
            await self.bot.delivery.deliver(guild_id, [NudgeDmsStored(guild_id, run_id)])
        return posted


def run_events(run: ClaimedRun) -> list[Event]:
    """What a claimed run asks of delivery: its own post, or a nudge's messages or DMs."""
    if run.nudge is None:
        return [ScheduledRunClaimed(run.run_id)]
    events: list[Event] = [NudgePostStored(post_id) for post_id in run.nudge.post_ids]
    if run.nudge.dms:
        events.append(NudgeDmsStored(run.guild_id, run.run_id))
    return events


async def setup(bot: NexusBot) -> None:
    await bot.add_cog(ScheduleCog(bot))
