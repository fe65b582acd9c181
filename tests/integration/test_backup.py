"""`python -m bot backup FILE`: a consistent copy of SQLite while writes go on."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys

import pytest

from bot.backup import BackupError, backup_sqlite
from bot.services.profiles import ProfileService

pytestmark = pytest.mark.slow


async def test_backup_while_writing(database_url, sessions, tmp_path):
    if not database_url.startswith("sqlite"):
        with pytest.raises(BackupError, match="pg_dump"):
            backup_sqlite(database_url, tmp_path / "copy.db")
        return
    service = ProfileService(sessions)
    stop = asyncio.Event()

    async def writer() -> int:
        written = 0
        while not stop.is_set():
            await service.set(
                1, 1000 + written, f"m{written}", track="backend", timezone="UTC", github=None, skills="x"
            )
            written += 1
        return written

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.2)
    target = tmp_path / "backup" / "copy.db"
    await asyncio.to_thread(backup_sqlite, database_url, target)
    stop.set()
    written = await task
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = copy.execute("SELECT count(*) FROM learners").fetchone()[0]
    copy.close()
    assert 0 < rows <= written


def test_backup_cli(database_url, tmp_path):
    target = tmp_path / "cli-copy.db"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(target)],
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if database_url.startswith("sqlite"):
        assert result.returncode == 0, result.stderr
        assert "integrity ok" in result.stdout and target.exists()
    else:
        assert result.returncode == 1 and "pg_dump" in result.stderr
