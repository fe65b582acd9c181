"""The one clock the bot reads: the system's in production, one that tests move.

Services, background loops and the outbox ask the bot's `Clock` for the time instead of calling
`datetime.now`, so a test can jump a week ahead (schedules, proposal expiry, outbox backoff)
without waiting. A bot in another process follows a `FileClock`: the test writes the time into a
file (NEXUS_CLOCK_FILE, honoured only against a loopback Discord: the sandbox and the tests).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    """Where the time comes from."""

    def now(self) -> datetime:
        """The current time, timezone-aware in UTC."""
        ...

    def time(self) -> float:
        """The current time as seconds since the epoch (what `time.time()` returns)."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()


class MovableClock:
    """The real time shifted by an offset that tests move; it keeps ticking between moves."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0)
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def time(self) -> float:
        return self.now().timestamp()

    def set(self, when: datetime) -> None:
        """Make it `when` now (aware); the clock goes on ticking from there."""
        if when.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._offset = when - datetime.now(UTC)

    def advance(self, by: timedelta) -> None:
        """Move the clock forward (or back, with a negative `by`)."""
        self._offset += by


class FileClock:
    """The real time shifted by the offset written in a file, re-read when the file changes.

    The file holds one ISO 8601 moment (`2026-03-30T09:00:00+00:00`): the time it was at the moment
    the file was written. A missing or empty file means the real time.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._offset = timedelta(0)

    def _current_offset(self) -> timedelta:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return timedelta(0)
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            text = self.path.read_text().strip()
            self._offset = timedelta(0)
            if text:
                written = datetime.fromisoformat(text)
                if written.tzinfo is None:
                    written = written.replace(tzinfo=UTC)
                self._offset = written - datetime.fromtimestamp(stat.st_mtime, UTC)
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._current_offset()

    def time(self) -> float:
        return self.now().timestamp()

    @staticmethod
    def write(path: Path, when: datetime) -> None:
        """Set the time every FileClock on `path` reads (used by tests driving a bot process)."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(when.isoformat())
        tmp.replace(path)
