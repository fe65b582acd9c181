"""Nexus's Prometheus metrics, in one registry per bot (never the process-global one).

Several bots in one process (tests, the sandbox) each keep their own figures; a scrape of one
shows only that bot's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

PREFIX = "nexus"

INTERACTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds; Discord wants a first answer within 3 s, so most of the resolution is below that."""
WRITE_WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

OUTCOME_OK = "ok"
OUTCOME_REFUSED = "refused"
OUTCOME_ERROR = "error"


@dataclass(frozen=True)
class ShardState:
    """One gateway shard as this process sees it."""

    shard_id: int
    connected: bool
    latency_seconds: float


class GatewayCollector(Collector):
    """Gateway latency and shard state, read from the client at scrape time."""

    def __init__(self, shards: Callable[[], Sequence[ShardState]]) -> None:
        self._shards = shards

    def collect(self) -> Iterable[GaugeMetricFamily]:
        latency = GaugeMetricFamily(
            f"{PREFIX}_gateway_latency_seconds",
            "Time between a gateway HEARTBEAT and its ACK, per shard (absent until the first ACK).",
            labels=["shard"],
        )
        connected = GaugeMetricFamily(
            f"{PREFIX}_shard_connected",
            "1 when the shard's gateway websocket is open and the bot is ready, else 0.",
            labels=["shard"],
        )
        for shard in self._shards():
            connected.add_metric([str(shard.shard_id)], 1.0 if shard.connected else 0.0)
            if math.isfinite(shard.latency_seconds):
                latency.add_metric([str(shard.shard_id)], shard.latency_seconds)
        yield latency
        yield connected


class NexusMetrics:
    """Every metric Nexus exports; the README's table lists them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.interaction_seconds = Histogram(
            f"{PREFIX}_interaction_seconds",
            "From an interaction's arrival to its completion, by command (or component kind) and outcome.",
            ["command", "outcome"],
            buckets=INTERACTION_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            f"{PREFIX}_errors",
            "Failures answered to a member, by kind (the exception's class) and outcome (refused or error).",
            ["kind", "outcome"],
            registry=r,
        )
        self.loop_runs = Counter(
            f"{PREFIX}_loop_runs", "Passes of each background loop that ran.", ["loop"], registry=r
        )
        self.loop_failures = Counter(
            f"{PREFIX}_loop_failures", "Passes of each background loop that raised.", ["loop"], registry=r
        )
        self.db_write_wait = Histogram(
            f"{PREFIX}_db_write_wait_seconds",
            "How long a write transaction waited before it could write (SQLite's writer queue; PostgreSQL's pool).",
            buckets=WRITE_WAIT_BUCKETS,
            registry=r,
        )
        self.outbox_backlog = Gauge(
            f"{PREFIX}_outbox_backlog",
            "Channel posts missing or stale in the guilds this process serves (read at scrape time).",
            registry=r,
        )
        self.outbox_oldest_seconds = Gauge(
            f"{PREFIX}_outbox_oldest_waiting_seconds",
            "Age of the oldest waiting channel post; 0 when none waits (read at scrape time).",
            registry=r,
        )
        self.scrape_failures = Counter(
            f"{PREFIX}_scrape_failures",
            "Scrapes whose database figures (the outbox) could not be read in time.",
            registry=r,
        )

    def watch_gateway(self, shards: Callable[[], Sequence[ShardState]]) -> None:
        """Report gateway latency and shard state from `shards()` at every scrape."""
        self.registry.register(GatewayCollector(shards))

    def exposition(self) -> bytes:
        """The registry in Prometheus's text format."""
        return generate_latest(self.registry)
