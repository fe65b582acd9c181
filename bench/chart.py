"""The cohort chart for a 2,000-learner cohort: reading its numbers, the first render (matplotlib's
import included), warm renders, and how long the event loop waits meanwhile.

The cohort is built in a temporary SQLite file: every learner known, most with a profile and an
announcement over 10 projects, about 60% of those announced in a formed team, half of the teams
with an agreed API, half of the learners with a note. Renders go through `ChartRenderer` as the
bot's commands do; a ticker coroutine (every 5 ms) measures how late the loop runs while they draw,
and, for contrast, while the same chart is drawn on the loop itself. Wall-clock figures depend on
what else the machine runs; the CPU time per render does not much.

Run from the repository root:  python bench/chart.py [--learners 2000] [--projects 10] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bot.db import create_engine, create_sessionmaker, transaction, upgrade_database
from bot.domain.cohort import Track, project_key
from bot.domain.progress import sides_from_board
from bot.domain.teams import TeamStatus
from bot.render.charts import ChartRenderer, draw_cohort_chart
from bot.services import Services
from bot.services.catalog import ensure_catalog
from models import Announcement, ApiAgreement, ApiEndpoint, Learner, Note, NoteTopic, Project, Team, TeamMember

GUILD = 1
TICK_SECONDS = 0.005
FIRST_TARGET = 1.5
WARM_TARGET = 0.3


async def build(url: str, learners: int, projects: int, rng: random.Random) -> None:
    """The cohort described above, inserted through the models."""
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        await ensure_catalog(session, GUILD)
        have = len((await session.scalars(select(Project.id).where(Project.guild_id == GUILD))).all())
        session.add_all(
            Project(guild_id=GUILD, name=f"Capstone {i}", name_key=project_key(f"Capstone {i}"), description="")
            for i in range(max(0, projects - have))
        )
        await session.flush()
        project_ids = list(await session.scalars(select(Project.id).where(Project.guild_id == GUILD)))
        topic = NoteTopic(guild_id=GUILD, name="Django", name_key="django")
        session.add(topic)
        await session.flush()
        waiting: dict[tuple[int, Track], list[int]] = {}
        for user_id in range(1, learners + 1):
            track = rng.choice(list(Track))
            session.add(
                Learner(
                    guild_id=GUILD,
                    user_id=user_id,
                    display_name=f"learner{user_id}",
                    track=track.value,
                    profile_set_at=now if rng.random() < 0.9 else None,
                )
            )
            if rng.random() < 0.85:
                project_id = rng.choice(project_ids)
                session.add(
                    Announcement(
                        guild_id=GUILD, user_id=user_id, project_id=project_id, track=track.value, pitch="Building it"
                    )
                )
                waiting.setdefault((project_id, track), []).append(user_id)
            if rng.random() < 0.5:
                session.add(
                    Note(
                        guild_id=GUILD,
                        author_id=user_id,
                        kind="learning",
                        topic_id=topic.id,
                        title="What I learned",
                        body="Select related saves queries.",
                    )
                )
        for project_id in project_ids:
            backends = waiting.get((project_id, Track.BACKEND), [])
            frontends = waiting.get((project_id, Track.FRONTEND), [])
            for backend, frontend in zip(backends, frontends, strict=False):
                if rng.random() >= 0.7:
                    continue
                team = Team(
                    guild_id=GUILD,
                    project_id=project_id,
                    status=TeamStatus.ACTIVE.value,
                    expires_at=now + timedelta(days=2),
                    formed_at=now,
                )
                session.add(team)
                await session.flush()
                for user_id, track in ((backend, Track.BACKEND), (frontend, Track.FRONTEND)):
                    session.add(
                        TeamMember(guild_id=GUILD, team_id=team.id, user_id=user_id, track=track.value, accepted_at=now)
                    )
                if rng.random() < 0.5:
                    endpoint = ApiEndpoint(
                        guild_id=GUILD, team_id=team.id, method="GET", path="/jobs", summary="List", created_by=backend
                    )
                    session.add(endpoint)
                    await session.flush()
                    session.add_all(
                        ApiAgreement(guild_id=GUILD, endpoint_id=endpoint.id, user_id=user_id)
                        for user_id in (backend, frontend)
                    )
    await engine.dispose()


class LoopLag:
    """How late a coroutine that sleeps TICK_SECONDS at a time wakes up: the loop's responsiveness."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(TICK_SECONDS)
            self.lags.append(max(0.0, loop.time() - before - TICK_SECONDS))

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()

    def __str__(self) -> str:
        if not self.lags:
            return "loop lag: no tick"
        return f"loop lag: median {ms(statistics.median(self.lags))}, p99 {ms(pct(self.lags, 0.99))}, max {ms(max(self.lags))}"


async def timed(make: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await make()
    return time.perf_counter() - started, result


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 0.01 else f"{seconds * 1000:.0f} ms"


async def measure(url: str, repeat: int) -> None:
    engine = create_engine(url)
    services = Services.create(create_sessionmaker(engine))
    renderer = ChartRenderer()
    try:
        reads = []
        for _ in range(5):
            seconds, picture = await timed(lambda: services.cohort.chart(GUILD))
            reads.append(seconds)
        print(
            f"cohort numbers read: median {ms(statistics.median(reads))} "
            f"({picture.known:,} learners, {len(picture.projects)} projects; "
            + ", ".join(f"{s.label} {s.learners}" for s in picture.funnel)
            + ")"
        )
        assert "matplotlib" not in sys.modules
        async with LoopLag() as lag:
            first, chart = await timed(lambda: renderer.cohort(picture))
        verdict = "ok" if first < FIRST_TARGET else "OVER TARGET"
        print(f"first render (imports matplotlib): {ms(first)} (target < {ms(FIRST_TARGET)}: {verdict}); {lag}")
        warm = []
        cpu = time.process_time()
        async with LoopLag() as lag:
            for _ in range(repeat):
                seconds, chart = await timed(lambda: renderer.cohort(picture))
                warm.append(seconds)
        cpu = (time.process_time() - cpu) / repeat
        verdict = "ok" if pct(warm, 0.95) < WARM_TARGET else "OVER TARGET"
        print(
            f"warm renders x{repeat}: median {ms(statistics.median(warm))}, p95 {ms(pct(warm, 0.95))} "
            f"(target < {ms(WARM_TARGET)}: {verdict}); CPU {ms(cpu)} per render; {lag}"
        )
        print(f"image: {chart.width}x{chart.height} px, {len(chart.png) / 1024:.0f} KiB")
        rows = await services.cohort.board(GUILD)
        board = []
        for _ in range(repeat):
            seconds, _ = await timed(
                lambda: renderer.board(
                    [sides_from_board(r.project_name, r.backend, r.frontend, r.without_partner) for r in rows]
                )
            )
            board.append(seconds)
        print(f"board chart x{repeat}: median {ms(statistics.median(board))}, p95 {ms(pct(board, 0.95))}")
        async with LoopLag() as lag:
            await asyncio.sleep(TICK_SECONDS * 2)
            draw_cohort_chart(picture)  # what the bot avoids: drawing on the loop's own thread
            await asyncio.sleep(TICK_SECONDS * 2)
        print(f"for contrast, one render on the event loop itself: {lag}")
    finally:
        renderer.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        started = time.perf_counter()
        upgrade_database(url)
        asyncio.run(build(url, args.learners, args.projects, random.Random(7)))
        print(f"built a {args.learners:,}-learner cohort in {time.perf_counter() - started:.1f} s")
        asyncio.run(measure(url, args.repeat))


if __name__ == "__main__":
    main()
