"""Telling members what happened to their team (it ended, its API contract changed), and asking
their team's follow-up: in the team's thread when it has one (contract changes), else a DM, else a
notice in the project channel."""

from __future__ import annotations

import logging

import discord

from bot.app import NexusApp
from bot.delivery.threads import post_in_team_thread
from bot.domain.events import ContractTelling, FollowUpAsked, NoticeStored, Telling
from bot.ui.api import api_change_text
from bot.ui.follow_ups import follow_up_view, question_text
from bot.ui.notices import team_ended_text

log = logging.getLogger("nexus.delivery")


async def tell_members(app: NexusApp, guild: discord.Guild, telling: Telling | ContractTelling) -> NoticeStored | None:
    """DM each member; those whose DMs are closed get a channel notice, stored first (returned)."""
    if isinstance(telling, ContractTelling):
        change = await app.services.api.change(telling.change_id)
        text = api_change_text(change)
        team = await app.services.matching.team(telling.team_id)
        posted = await post_in_team_thread(guild, team, text, telling.user_ids)
        if posted is not None:  # the team's thread is where its members read it
            retired = await app.services.api.record_post(
                telling.change_id, posted.channel.id, posted.id, telling.user_ids
            )
            if retired:  # someone it names was forgotten meanwhile: it is deleted at once
                await app.delivery.deliver(guild.id, retired)
            return None
    else:
        team = await app.services.matching.team(telling.team_id)
        text = team_ended_text(team.project_name, telling.reason, telling.actor_id)
    unreachable: list[int] = []
    for user_id in telling.user_ids:
        try:
            user = app.get_user(user_id) or await app.fetch_user(user_id)
            await user.send(text)
        except discord.HTTPException:
            unreachable.append(user_id)
    if not unreachable:
        return None
    log.info("DMs closed for %d member(s); telling them in the project channel", len(unreachable))
    if isinstance(telling, ContractTelling):
        notice_id = await app.services.notices.api_changed(guild.id, telling.team_id, telling.change_id, unreachable)
    else:
        notice_id = await app.services.notices.team_ended(
            guild.id, telling.team_id, telling.reason, telling.actor_id, unreachable
        )
    return NoticeStored(notice_id)


async def ask_members(app: NexusApp, guild: discord.Guild, asked: FollowUpAsked) -> NoticeStored | None:
    """DM each member of the team its follow-up question with the answer buttons; those whose DMs
    are closed are asked in a channel notice with the same buttons, stored first (returned)."""
    prompt = await app.services.follow_ups.prompt(asked.team_id)
    unreachable: list[int] = []
    for user_id in prompt.user_ids:
        try:
            user = app.get_user(user_id) or await app.fetch_user(user_id)
            await user.send(question_text(prompt, user_id), view=follow_up_view(prompt.team_id))
        except discord.HTTPException:
            unreachable.append(user_id)
    if not unreachable:
        return None
    log.info("DMs closed for %d member(s); asking their follow-up in the project channel", len(unreachable))
    notice_id = await app.services.notices.follow_up(guild.id, prompt.team_id, unreachable)
    return NoticeStored(notice_id)
