"""The schedule pass's cost for the servers a process serves, as the servers it does not serve grow.

Every server gets SCHEDULES weekly schedules, all due; the pass looks for due occurrences in one
served server only. Its time should stay flat from 1 to 10,000 other servers (the
(guild_id, next_run_at) index), not grow with them.

Run: python bench/schedules.py [--others 0,100,1000,10000] [--repeat R] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from bot.clock import MovableClock
from bot.db import create_engine, create_sessionmaker, upgrade_database
from bot.services.schedules import ScheduleService
from models import Schedule

SCHEDULES = 5
SERVED = 1
START = datetime(2026, 3, 25, 10, tzinfo=UTC)


async def measure(url: str, others: int, repeat: int) -> tuple[float, float]:
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    rows = [
        {
            "guild_id": guild,
            "author_id": 1,
            "text": f"post {guild}-{n}",
            "repeat": "weekly",
            "days": "mon,tue,wed,thu,fri,sat,sun",
            "start_date": date(2026, 3, 25),
            "local_time": "09:00",
            "zone": "UTC",
            "state": "active",
            "next_run_at": START - timedelta(minutes=1),
            "created_at": START,
        }
        for guild in range(SERVED, SERVED + others + 1)
        for n in range(SCHEDULES)
    ]
    async with sessions() as session, session.begin():
        for chunk in range(0, len(rows), 5000):
            await session.execute(insert(Schedule), rows[chunk : chunk + 5000])
    service = ScheduleService(sessions, MovableClock(START))
    due_times = []
    for _ in range(repeat):
        started = time.perf_counter()
        found = await service.due([SERVED])
        due_times.append(time.perf_counter() - started)
        assert len(found) == SCHEDULES
    started = time.perf_counter()
    claimed = await service.run_pass([SERVED], timedelta(hours=1))
    pass_time = time.perf_counter() - started
    assert len(claimed) == SCHEDULES
    await engine.dispose()
    return statistics.median(due_times), pass_time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--others", default="0,100,1000,10000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()
    print(f"{SCHEDULES} due weekly schedules per server; the pass serves 1 server")
    for others in (int(n) for n in args.others.split(",")):
        with tempfile.TemporaryDirectory() as directory:
            url = args.database_url or f"sqlite+aiosqlite:///{directory}/bench.db"
            upgrade_database(url)
            due, whole = asyncio.run(measure(url, others, args.repeat))
        print(
            f"other servers={others:>6}: finding due runs {due * 1000:6.2f} ms (median), claiming them {whole * 1000:7.1f} ms"
        )


if __name__ == "__main__":
    main()
