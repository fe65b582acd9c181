"""Keeping each record's channel post in step with the database: one post per record, edited."""

from __future__ import annotations

import asyncio
import logging
import weakref

import discord

from bot.app import NexusApp
from bot.delivery.channel import delete_message, post_or_edit
from bot.delivery.kinds import POST_KINDS, PostKind, Rendered
from bot.delivery.outcome import PostOutcome
from bot.domain.events import PostKindName

log = logging.getLogger("nexus.delivery")

MAX_CATCH_UP = 3
"""Edits in a row while the record keeps changing under us, before giving up for now."""


class Publisher:
    """Posts, edits or deletes a record's message until it shows the latest revision.

    Called right after a change is committed, and by the outbox task for whatever is still waiting
    (a failed post, a process killed between the commit and the post).
    """

    def __init__(self, app: NexusApp) -> None:
        self.app = app
        # one lock per record while someone uses it; a weak map, so records posted long ago cost nothing
        self._locks: weakref.WeakValueDictionary[tuple[PostKindName, int], asyncio.Lock] = weakref.WeakValueDictionary()

    def busy(self, kind: PostKindName, record_id: int) -> bool:
        """Whether this record's post is being made right now (queued behind the channel limit, say)."""
        lock = self._locks.get((kind, record_id))
        return lock is not None and lock.locked()

    async def publish(
        self,
        guild: discord.Guild,
        name: PostKindName,
        record_id: int,
        *,
        latest: Rendered | None = None,
        retry: bool = False,
    ) -> PostOutcome:
        """Post, edit or delete the record's message until it shows the latest revision.

        `latest` is the record as the caller just rendered it, which saves reading it again; if
        something newer was committed meanwhile, `mark_posted` says so and the loop renders again.
        A `retry` (the outbox's) first looks for a post an earlier attempt made but never recorded.
        """
        kind = POST_KINDS[name]
        lock = self._locks.get((name, record_id))
        if lock is None:
            lock = self._locks[(name, record_id)] = asyncio.Lock()
        async with lock:
            outcome = PostOutcome(problem="not attempted", guild_id=guild.id)
            for _ in range(MAX_CATCH_UP):
                rendered = latest if latest is not None else await kind.render(self.app, record_id)
                latest = None
                if rendered.current:
                    return PostOutcome(rendered.channel_id, rendered.message_id, guild_id=guild.id)
                outcome = await self._show(guild, kind, record_id, rendered, retry=retry)
                if outcome.problem is not None:
                    await self.app.services.outbox.mark_failed(kind.model, record_id, outcome.problem)
                    return outcome
                if rendered.delete and kind.remove_when_deleted:
                    await self.app.services.outbox.remove(kind.model, record_id)
                    return outcome
                if await self.app.services.outbox.mark_posted(
                    kind.model, record_id, rendered.revision, outcome.channel_id, outcome.message_id
                ):
                    return outcome
            return outcome

    async def _show(
        self, guild: discord.Guild, kind: PostKind, record_id: int, rendered: Rendered, *, retry: bool
    ) -> PostOutcome:
        if kind.show is not None:  # not one message in the project channel (a team thread, a staff notice)
            return await kind.show(self.app, guild, kind, record_id, rendered, retry=retry)
        if rendered.embed is None:
            return await delete_message(guild, rendered.channel_id, rendered.message_id)
        marker = kind.marker(record_id)
        footer = rendered.embed.footer.text
        rendered.embed.set_footer(text=f"{footer} · {marker}" if footer else marker)
        return await post_or_edit(
            self.app,
            guild,
            embed=rendered.embed,
            view=rendered.view,
            content=rendered.content,
            allowed_mentions=rendered.allowed_mentions,
            file=rendered.file,
            channel_id=rendered.channel_id,
            message_id=rendered.message_id,
            nonce=kind.nonce(record_id, rendered.revision),
            marker=marker if retry and rendered.message_id is None else None,
            find_channel=kind.channel,
        )

    async def flush_guild(self, guild: discord.Guild, *, due_only: bool = False) -> tuple[int, int]:
        """Post what is still waiting in this guild (only what is due for a retry, if asked).

        Returns (posted, still waiting).
        """
        outbox = self.app.services.outbox
        now = self.app.clock.now() if due_only else None
        posted = waiting = 0
        for name, kind in POST_KINDS.items():
            for record_id in await outbox.due(kind.model, guild.id, now=now):
                if due_only and self.busy(name, record_id):
                    continue
                # a retry pass claims each post just before making it, so two passes (in two
                # processes, say during a rolling restart) never both make it
                if due_only and not await outbox.claim(kind.model, record_id, self.app.clock.now()):
                    continue
                try:
                    outcome = await self.publish(guild, name, record_id, retry=True)
                except Exception:
                    # one record that cannot be posted must not hold up the others
                    log.exception("Posting %s %s failed", name, record_id)
                    waiting += 1
                    continue
                if outcome.problem is None:
                    posted += 1
                else:
                    waiting += 1
        return posted, waiting
