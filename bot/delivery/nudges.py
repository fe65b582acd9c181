"""Sending a DM nudge run's DMs; the learners whose DMs are closed are named in one channel post."""

from __future__ import annotations

import logging

import discord

from bot.app import NexusApp
from bot.domain.events import Event, NudgePostStored
from bot.domain.nudges import DmState, nudge_dm_text

log = logging.getLogger("nexus.delivery")

DMS_CLOSED = 50007
"""Discord's code for "Cannot send messages to this user": the member closed their DMs."""


async def send_nudge_dms(app: NexusApp, guild: discord.Guild, run_id: int) -> list[Event]:
    """DM each learner of the run what they are missing; return the fallback post's events (those
    whose DMs Discord refused with 50007, named in the channel once per run)."""
    nudges = app.services.nudges
    for dm in await nudges.pending_dms(run_id):
        if not await nudges.claim_dm(dm.id):
            continue  # another process took over this run and sends it
        try:
            user = app.get_user(dm.user_id) or await app.fetch_user(dm.user_id)
            await user.send(nudge_dm_text(guild.name, dm.steps))
        except discord.Forbidden as exc:
            refused = exc.code == DMS_CLOSED
            if not refused:
                log.warning("Nudge DM to %s refused: %s", dm.user_id, exc)
            await nudges.mark_dm(dm.id, DmState.REFUSED if refused else DmState.FAILED)
            continue
        except discord.HTTPException as exc:
            log.warning("Nudge DM to %s failed: %s", dm.user_id, exc)
            await nudges.mark_dm(dm.id, DmState.FAILED)
            continue
        await nudges.mark_dm(dm.id, DmState.SENT)
    return [NudgePostStored(post_id) for post_id in await nudges.fallback(guild.id, run_id)]
