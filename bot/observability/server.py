"""The operator's HTTP endpoint: GET /metrics (Prometheus text format) and GET /healthz."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.observability.metrics import NexusMetrics

log = logging.getLogger("nexus.metrics")

HealthChecks = Callable[[], Awaitable[Mapping[str, str | None]]]
"""Each check's name and its problem (None: passing)."""
Refresh = Callable[[], Awaitable[None]]
"""Reads what a scrape shows from outside the process (the database) before it is written."""


class ObservabilityServer:
    """An aiohttp server on `host:port` for one bot; `port` 0 takes any free port."""

    def __init__(self, metrics: NexusMetrics, *, health: HealthChecks, refresh: Refresh) -> None:
        self._metrics = metrics
        self._health = health
        self._refresh = refresh
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        """Listen on `host:port` until `stop()`."""
        app = web.Application()
        app.router.add_get("/metrics", self._serve_metrics)
        app.router.add_get("/healthz", self._serve_health)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        log.info("Metrics and health on http://%s:%d/metrics and /healthz", host, self.port)

    async def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _serve_metrics(self, _request: web.Request) -> web.Response:
        await self._refresh()
        return web.Response(body=self._metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _serve_health(self, _request: web.Request) -> web.Response:
        problems = await self._health()
        failing = {name: problem for name, problem in problems.items() if problem is not None}
        body = {
            "status": "failing" if failing else "ok",
            "checks": {name: problem or "ok" for name, problem in problems.items()},
        }
        return web.json_response(body, status=503 if failing else 200)
