"""The one place that decides and carries out what follows a commit.

A use case returns events; `Delivery.deliver` turns them into a plan (`bot.domain.events.follow_ups`)
and carries it out: the posts first (the caller may wait a moment for the first, its own record),
then the notifications, then matching the waiting pool, whose new proposals are delivered in turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import discord

from bot.app import NexusApp
from bot.delivery.checkins import prompt_members
from bot.delivery.kinds import POST_KINDS
from bot.delivery.notify import ask_members, tell_members
from bot.delivery.nudges import send_nudge_dms
from bot.delivery.outcome import PostOutcome
from bot.delivery.publisher import Publisher
from bot.domain.events import Event, FollowUps, follow_ups
from bot.services.outbox import OutboxSummary

log = logging.getLogger("nexus.delivery")

DRAIN_SECONDS = 3.0
"""At shutdown, how long follow-ups still running may finish; the outbox makes the posts left."""
MATCH_DEPTH_MAX = 2
"""Matching follows a change, and the proposals it makes are delivered; nothing chains further."""


class Delivery:
    """Carries out the follow-ups of committed changes, in the background when nobody waits."""

    def __init__(self, app: NexusApp) -> None:
        self.app = app
        self.publisher = Publisher(app)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._draining = False

    async def deliver(self, guild_id: int, events: Sequence[Event], *, wait: float | None = None) -> PostOutcome | None:
        """Carry out what follows `events`; return the first post's outcome.

        With `wait` None, everything is done before returning. Otherwise the caller waits at most
        `wait` seconds for the first post (None if it is still queued) and the rest goes on in the
        background. While the bot shuts down nothing new starts: the outbox posts it after restart.
        """
        plan = follow_ups(events)
        guild = self.app.get_guild(guild_id)
        if guild is None or plan.empty or self._draining:
            return None
        first: asyncio.Future[PostOutcome | None] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._carry_out(guild, plan, first, depth=0))
        self._in_flight.add(task)
        task.add_done_callback(self._finished)
        if wait is None:
            await asyncio.shield(task)
            return first.result() if first.done() else None
        try:
            return await asyncio.wait_for(asyncio.shield(first), wait)
        except TimeoutError:
            return None

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("A follow-up failed in the background", exc_info=task.exception())

    async def _carry_out(
        self, guild: discord.Guild, plan: FollowUps, first: asyncio.Future[PostOutcome | None] | None, *, depth: int
    ) -> None:
        # each step stands alone: a post that fails is retried by the outbox, a member who can't be
        # told is logged, and neither keeps the next step from happening
        try:
            for index, (name, record_id) in enumerate(plan.posts):
                try:
                    outcome: PostOutcome | None = await self.publisher.publish(guild, name, record_id)
                except Exception:
                    log.exception("Posting %s %s failed; the outbox retries it", name, record_id)
                    outcome = None
                if index == 0 and first is not None and not first.done():
                    first.set_result(outcome)
        finally:
            if first is not None and not first.done():
                first.set_result(None)
        for telling in plan.tell:
            try:
                notice = await tell_members(self.app, guild, telling)
            except Exception:
                log.exception("Telling %s about team %s failed", telling.user_ids, telling.team_id)
                continue
            if notice is not None:
                await self._carry_out(guild, follow_ups([notice]), None, depth=depth)
        for run_id in plan.nudge_dms:
            try:
                fallback = await send_nudge_dms(self.app, guild, run_id)
            except Exception:
                log.exception("Sending the DMs of nudge run %s failed", run_id)
                continue
            await self._carry_out(guild, follow_ups(fallback), None, depth=depth)
        for asked in plan.ask:
            try:
                notice = await ask_members(self.app, guild, asked)
                await self.app.services.follow_ups.mark_asked(asked.team_id, asked.round)
            except Exception:
                log.exception("Asking team %s its follow-up failed; a pass asks again after the lease", asked.team_id)
                continue
            if notice is not None:
                await self._carry_out(guild, follow_ups([notice]), None, depth=depth)
        if plan.checkin_prompts:
            await prompt_members(self.app, guild, plan.checkin_prompts)
        if depth >= MATCH_DEPTH_MAX:
            return
        for call in plan.match:
            try:
                events = await self.app.services.matching.match_waiting(guild.id, call.project_id, call.newcomer)
            except Exception:
                log.exception("Matching the pool of project %s failed; the next sweep tries again", call.project_id)
                continue
            if events:
                await self._carry_out(guild, follow_ups(events), None, depth=depth + 1)

    async def flush(self, guild_id: int, *, due_only: bool = False) -> tuple[int, int]:
        """Post what is still waiting in a guild (only what is due for a retry, if asked):
        (posted, still waiting)."""
        guild = self.app.get_guild(guild_id)
        if guild is None:
            return 0, 0
        return await self.publisher.flush_guild(guild, due_only=due_only)

    async def sweep_pool(self, guild_id: int) -> int:
        """Match every project's waiting learners in a guild and post the proposals; how many."""
        events = await self.app.services.matching.sweep_pool(guild_id)
        if events:
            await self.deliver(guild_id, events)
        return len(events)

    async def summary(self, guild_id: int) -> OutboxSummary:
        """What is still waiting to be shown in a guild, across every kind of post."""
        return await self.app.services.outbox.summary(guild_id, [kind.model for kind in POST_KINDS.values()])

    async def settled(self) -> None:
        """Wait until every follow-up in flight is done (tests, and shutdown)."""
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def drain(self, seconds: float = DRAIN_SECONDS) -> None:
        """At shutdown: start nothing new, let follow-ups in flight finish for up to `seconds`, then
        stop the rest (their records are still waiting; the outbox has them, and the pool sweep
        matches whoever was left waiting)."""
        self._draining = True
        if self._in_flight:
            _, pending = await asyncio.wait(set(self._in_flight), timeout=seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)  # their transactions end before the engine is disposed
