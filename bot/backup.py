"""Consistent copies of the SQLite database while the bot runs (SQLite's online backup API)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.config import sqlite_path

BACKUP_PAGES_PER_STEP = 1024
"""Pages copied per step; between steps writers may proceed, and the copy restarts if they do."""


class BackupError(Exception):
    """The backup could not be made; the message says why."""


def backup_sqlite(database_url: str, target: Path, *, overwrite: bool = False) -> int:
    """Copy the database at `database_url` into `target`; returns the copy's size in bytes.

    Uses sqlite3's online backup, so the bot can keep reading and writing meanwhile; the copy is a
    consistent snapshot, checked with PRAGMA integrity_check before this returns. An existing
    `target` is replaced only with `overwrite`.
    """
    source_path = sqlite_path(database_url)
    if source_path is None:
        raise BackupError("backup works for SQLite files; for PostgreSQL use pg_dump (see README, 'Backups').")
    if not source_path.exists():
        raise BackupError(f"there is no database at {source_path}")
    target = target.resolve()
    if target == source_path.resolve():
        raise BackupError("the backup file must not be the database itself")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; pass --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        destination = sqlite3.connect(partial)
        try:
            source.backup(destination, pages=BACKUP_PAGES_PER_STEP)
            result = destination.execute("PRAGMA integrity_check").fetchone()
            if not result or result[0] != "ok":
                raise BackupError(f"the copy failed its integrity check: {result}")
            destination.execute("PRAGMA journal_mode=DELETE")
        finally:
            destination.close()
    finally:
        source.close()
    partial.replace(target)
    return target.stat().st_size
