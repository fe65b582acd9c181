"""The Nexus bot: resources passed in, extensions loaded in setup_hook, commands synced on demand."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import discord
from discord.ext import commands, tasks
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import __version__
from bot.app import ListSource
from bot.checks import WriteBudget
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import backend_name, observe_write_wait
from bot.delivery.dispatcher import DRAIN_SECONDS, Delivery
from bot.delivery.kinds import POST_KINDS
from bot.observability.interactions import InteractionTimer
from bot.observability.metrics import OUTCOME_OK, NexusMetrics
from bot.observability.probes import database_problem, gateway_problem, refresh_outbox, shard_states
from bot.observability.server import ObservabilityServer
from bot.render.charts import ChartRenderer
from bot.services import Services
from bot.tree import NexusTree
from bot.ui.checkins import CheckinAnswerButton, CloseBlockerButton
from bot.ui.cohort import KickoffAnnounceButton
from bot.ui.digest import DigestNoteButton
from bot.ui.drafts import EditDraftButton
from bot.ui.follow_ups import FollowUpButton
from bot.ui.matching import ProposalButton
from bot.ui.notes import HelpfulButton
from bot.ui.search import KeptSearches, SearchPageButton
from bot.ui.views import ListPageButton

log = logging.getLogger("nexus")

LOOP_STOP_GRACE_SECONDS = 10.0

EXTENSIONS: tuple[str, ...] = (
    "cogs.meta",
    "cogs.setup",
    "cogs.catalog",
    "cogs.profile",
    "cogs.project",
    "cogs.cohort",
    "cogs.partner",
    "cogs.api",
    "cogs.notes",
    "cogs.schedule",
    "cogs.follow_up",
    "cogs.checkin",
    "cogs.outbox",
)
"""Every cog Nexus loads, in order. A test loads them all to catch name clashes."""

DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    KickoffAnnounceButton,
    ProposalButton,
    HelpfulButton,
    SearchPageButton,
    ListPageButton,
    EditDraftButton,
    DigestNoteButton,
    FollowUpButton,
    CheckinAnswerButton,
    CloseBlockerButton,
)
"""Persistent buttons rebuilt from their custom_id after a restart."""


def default_allowed_mentions() -> discord.AllowedMentions:
    """Members may be mentioned by id; @everyone, @here and roles never ping."""
    return discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=False)


def nexus_intents() -> discord.Intents:
    """Only the guilds intent: no privileged intents, no message content."""
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


class NexusBot(commands.Bot):
    """The bot process for one or many guilds; all state lives in the database."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        extensions: Sequence[str] = EXTENSIONS,
        sync_on_start: bool = True,
        guild_ready_timeout: float = 2.0,
        clock: Clock | None = None,
        **client_options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=nexus_intents(),
            allowed_mentions=default_allowed_mentions(),
            tree_cls=NexusTree,
            max_messages=None,
            chunk_guilds_at_startup=False,
            guild_ready_timeout=guild_ready_timeout,
            **client_options,
        )
        self.settings = settings
        self.engine = engine
        self.sessions = sessions
        self.clock: Clock = clock or SystemClock()
        """Where every service, loop and the outbox read the time (tests move it)."""
        self.services = Services.create(
            sessions,
            proposal_hours=settings.proposal_expiry_hours,
            clock=self.clock,
            follow_up_hours=settings.follow_up_hours,
        )
        self.delivery = Delivery(self)
        self.write_gate = WriteBudget(settings.write_cooldown_rate, settings.write_cooldown_seconds)
        self.kept_searches = KeptSearches()
        self.charts = ChartRenderer()
        self.list_sources: dict[str, ListSource] = {}
        """Page sources of the lists whose buttons rebuild them (cogs register theirs)."""
        self.version = __version__
        self.database_backend = backend_name(settings.database_url)
        self.started_monotonic = time.monotonic()
        self._extensions = tuple(extensions)
        self._sync_on_start = sync_on_start
        self._loops: list[tasks.Loop[Any]] = []
        self._passes = 0
        self._no_passes = asyncio.Event()
        self._no_passes.set()
        self._closing = False
        self.metrics = NexusMetrics()
        self.metrics.watch_gateway(lambda: shard_states(self))
        self.interaction_timer = InteractionTimer(self.metrics)
        self.metrics_server: ObservabilityServer | None = None

    async def setup_hook(self) -> None:
        if self.settings.metrics_port is not None:
            await self._serve_metrics(self.settings.metrics_host, self.settings.metrics_port)
        for extension in self._extensions:
            await self.load_extension(extension)
        if DYNAMIC_ITEMS:
            self.add_dynamic_items(*DYNAMIC_ITEMS)
        if self._sync_on_start and self.settings.dev_guild_id is not None:
            synced = await self.sync_commands(self.settings.dev_guild_id)
            log.info("Synced %d commands to the dev guild %s", len(synced), self.settings.dev_guild_id)

    async def sync_commands(self, guild_id: int | None = None) -> list[discord.app_commands.AppCommand]:
        """Push the command tree to one guild (instantly) or globally (when guild_id is None)."""
        if guild_id is None:
            return await self.tree.sync()
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        return await self.tree.sync(guild=guild)

    async def _serve_metrics(self, host: str, port: int) -> None:
        observe_write_wait(self.engine, self.metrics.db_write_wait.observe)
        server = ObservabilityServer(self.metrics, health=self.health_checks, refresh=self._refresh_metrics)
        try:
            await server.start(host, port)
        except OSError as exc:
            log.error("Cannot serve metrics on %s:%d (METRICS_HOST, METRICS_PORT): %s", host, port, exc)
            raise
        self.metrics_server = server

    async def health_checks(self) -> dict[str, str | None]:
        """What /healthz reports: each check's problem, or None when it passes."""
        return {"gateway": gateway_problem(self), "database": await database_problem(self.engine)}

    async def _refresh_metrics(self) -> None:
        sharded = self.settings.shard_count is not None
        guild_ids = [guild.id for guild in self.guilds] if sharded else None  # unsharded: every guild is ours
        kinds = [kind.model for kind in POST_KINDS.values()]
        await refresh_outbox(self.metrics, self.services.outbox, kinds, guild_ids)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        # discord.py dispatches "interaction" right after scheduling the handler, before it runs,
        # and "app_command_completion" right after the command returned: the interaction's clock
        if event_name == "interaction":
            self.interaction_timer.received(args[0])
        elif event_name == "app_command_completion":
            self.interaction_timer.finished(args[0], OUTCOME_OK)
        super().dispatch(event_name, *args, **kwargs)

    async def on_ready(self) -> None:
        log.info("Connected as %s to %d guild(s)", self.user, len(self.guilds))

    def background_loop(self, name: str, seconds: float, run: Callable[[], Awaitable[object]]) -> tasks.Loop[Any]:
        """A discord.ext.tasks loop running `run` every `seconds` once the bot is ready, each pass
        inside `background_pass(name)` (skipped while closing; a failure is logged and counted, and
        the loop goes on), cancelled by close() after its current pass. The cog that owns it starts
        it in cog_load and cancels it in cog_unload."""

        async def one_pass() -> None:
            async with self.background_pass(name) as go:
                if go:
                    await run()

        loop: tasks.Loop[Any] = tasks.loop(seconds=seconds, name=f"nexus: {name}")(one_pass)
        loop.before_loop(self.wait_until_ready)
        self._loops.append(loop)
        return loop

    @contextlib.asynccontextmanager
    async def background_pass(self, name: str) -> AsyncIterator[bool]:
        """Wrap one pass of a background loop; yields False when the bot is closing (skip the pass).

        close() waits for passes in progress, so none is cut off in the middle of a transaction. A
        pass that fails is logged and the loop goes on: discord.ext.tasks ends a loop for good when
        its body raises, and one database hiccup must not stop retries until the next restart.
        """
        if self.is_closed() or self._closing:
            yield False
            return
        self._passes += 1
        self._no_passes.clear()
        self.metrics.loop_runs.labels(name).inc()
        try:
            yield True
        except Exception:
            self.metrics.loop_failures.labels(name).inc()
            log.exception("%s failed; the next pass tries again", name)
        finally:
            self._passes -= 1
            if not self._passes:
                self._no_passes.set()

    async def close(self) -> None:
        self._closing = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._no_passes.wait(), LOOP_STOP_GRACE_SECONDS)
        await self.delivery.drain(DRAIN_SECONDS)
        for loop in self._loops:
            loop.cancel()
        try:
            await super().close()
        finally:
            self.charts.close()
            if self.metrics_server is not None:
                await self.metrics_server.stop()
                observe_write_wait(self.engine, None)

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_monotonic


class ShardedNexusBot(NexusBot, commands.AutoShardedBot):
    """Nexus over the shards SHARD_IDS of SHARD_COUNT; other processes run the other shards.

    All state is in the database and every background pass is limited to the guilds this
    process serves, so processes on one PostgreSQL database never do the same work twice.
    """
