"""The command line is quiet and clear: no library chatter, one line per failure, no silent overwrite."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from bot.config import Settings
from bot.logging_setup import configure_logging
from bot.runtime import describe_connect_failure
from tests.unit.test_config import _cli


def _closed_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/nexus.db"


def test_migrate_prints_no_alembic_info(tmp_path):
    result = _cli(tmp_path, "migrate", DATABASE_URL=_db(tmp_path), LOG_LEVEL="INFO")
    assert result.returncode == 0, result.stderr
    assert "alembic" not in result.stderr and "INFO" not in result.stderr
    assert result.stdout.strip() == "Database at head (sqlite+aiosqlite)."


@pytest.mark.parametrize("command", ["run", "sync"])
def test_unreachable_discord_is_one_line_and_non_zero(tmp_path, command):
    port = _closed_loopback_port()
    result = _cli(
        tmp_path,
        command,
        DATABASE_URL=_db(tmp_path),
        DISCORD_TOKEN="not-a-real-token",
        DISCORD_API_BASE_URL=f"http://127.0.0.1:{port}/api/v10",
        DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{port}/",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "alembic" not in result.stderr
    assert "not installed, voice" not in result.stderr  # PyNaCl and davey: Nexus never uses voice
    (problem,) = [line for line in result.stderr.splitlines() if line.startswith("nexus:")]
    assert f"could not reach Discord's API at http://127.0.0.1:{port}/api/v10" in problem
    assert "check DISCORD_API_BASE_URL" in problem
    assert len(result.stderr.splitlines()) <= 3  # at most "logging in" and "Stopped" besides


def test_traceback_of_a_connection_failure_is_at_debug(tmp_path):
    port = _closed_loopback_port()
    result = _cli(
        tmp_path,
        "sync",
        DATABASE_URL=_db(tmp_path),
        DISCORD_TOKEN="not-a-real-token",
        DISCORD_API_BASE_URL=f"http://127.0.0.1:{port}/api/v10",
        LOG_LEVEL="DEBUG",
    )
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_a_refused_token_names_discord_token():
    settings = Settings(_env_file=None)
    problem = describe_connect_failure(discord.LoginFailure("Improper token has been passed."), settings)
    assert problem is not None and "DISCORD_TOKEN" in problem
    assert describe_connect_failure(RuntimeError("a bug"), settings) is None


def test_shard_ids_alone_names_both_settings(tmp_path):
    result = _cli(tmp_path, "migrate", DATABASE_URL=_db(tmp_path), SHARD_IDS="0")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "SHARD_IDS" in line and "SHARD_COUNT" in line and "settings settings" not in line


def test_backup_refuses_to_overwrite_without_force(tmp_path):
    assert _cli(tmp_path, "migrate", DATABASE_URL=_db(tmp_path)).returncode == 0
    target = tmp_path / "copy.db"
    first = _cli(tmp_path, "backup", str(target), DATABASE_URL=_db(tmp_path))
    assert first.returncode == 0, first.stderr
    target.write_bytes(b"keep me")
    second = _cli(tmp_path, "backup", str(target), DATABASE_URL=_db(tmp_path))
    assert second.returncode == 1 and "--force" in second.stderr
    assert target.read_bytes() == b"keep me"
    forced = _cli(tmp_path, "backup", str(target), "--force", DATABASE_URL=_db(tmp_path))
    assert forced.returncode == 0 and "integrity ok" in forced.stdout


def test_sandbox_says_it_does_not_use_database_url(tmp_path):
    script = tmp_path / "empty.txt"
    script.write_text("")
    result = _cli(
        tmp_path, "sandbox", "--db", str(tmp_path / "s.db"), "--script", str(script), DATABASE_URL=_db(tmp_path)
    )
    assert "DATABASE_URL is not used" in result.stdout + result.stderr


def test_only_voice_warnings_are_silenced(caplog):
    configure_logging("INFO")
    client = logging.getLogger("discord.client")
    records = [
        client.makeRecord("discord.client", logging.WARNING, __file__, 1, msg, None, None)
        for msg in ("PyNaCl is not installed, voice will NOT be supported", "Shard ID 0 heartbeat blocked")
    ]
    assert [all(f.filter(r) for f in client.filters) for r in records] == [False, True]


def _too_old_sqlalchemy(root: Path, version: str = "2.0.30") -> Path:
    """A directory that, first on sys.path, makes `sqlalchemy` an older release: its module and
    its package metadata both say `version` (what an install of that release would show)."""
    package = root / "sqlalchemy"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(f'__version__ = "{version}"\n')
    info = root / f"SQLAlchemy-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: SQLAlchemy\nVersion: {version}\n")
    return root


def test_a_too_old_sqlalchemy_is_one_clear_line(tmp_path):
    old = _too_old_sqlalchemy(tmp_path / "old")
    result = _cli(tmp_path, "migrate", DATABASE_URL=_db(tmp_path), PYTHONPATH=str(old))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "nexus: Nexus needs SQLAlchemy 2.1.x (found 2.0.30): run ./scripts/bootstrap, "
        "or pip install -r requirements/dev.lock"
    )
    assert not (tmp_path / "nexus.db").exists()  # refused before touching the database


def test_the_adapter_refuses_a_too_old_sqlalchemy_at_import(tmp_path):
    old = _too_old_sqlalchemy(tmp_path / "old", "2.0.58")
    result = subprocess.run(
        [sys.executable, "-c", "import bot.sqlite_adapter"],
        env={**os.environ, "PYTHONPATH": str(old)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "ImportError: Nexus needs SQLAlchemy 2.1.x (found 2.0.58): run ./scripts/bootstrap, "
        "or pip install -r requirements/dev.lock"
    )
