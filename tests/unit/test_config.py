"""Configuration: defaults, validation, and the CLI's one-line errors with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config import DEFAULT_DATABASE_URL, Settings, SettingsError, load_settings, sqlite_path


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in Settings.model_fields_upper()}
    env.update(values)
    return env


def _cli(tmp_path, *args: str, **values: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env here
        env=_env(**values),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_defaults(monkeypatch):
    for name in Settings.model_fields_upper():
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.discord_token is None and not settings.has_token
    assert settings.discord_api_base_url == "https://discord.com/api/v10"
    assert settings.discord_gateway_url == "wss://gateway.discord.gg/"
    assert sqlite_path(settings.database_url) is not None


def test_metrics_are_off_and_logs_are_text_by_default(monkeypatch):
    for name in Settings.model_fields_upper():
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.metrics_port is None and settings.metrics_host == "127.0.0.1"
    assert settings.log_format == "text"
    monkeypatch.setenv("METRICS_PORT", " ")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    settings = Settings(_env_file=None)
    assert settings.metrics_port is None and settings.log_format == "json"


def test_token_is_secret(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "super-secret-token")
    settings = Settings(_env_file=None)
    assert "super-secret-token" not in repr(settings)
    assert "super-secret-token" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@127.0.0.1/x"),
        ("DEV_GUILD_ID", "not-a-number"),
        ("LOG_LEVEL", "LOUD"),
        ("DISCORD_API_BASE_URL", "ftp://example"),
        ("DISCORD_GATEWAY_URL", "http://127.0.0.1:1/"),
        ("METRICS_PORT", "70000"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_invalid_setting_is_named(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_cli_invalid_setting_prints_one_line_and_exits_2(tmp_path):
    result = _cli(tmp_path, "migrate", DATABASE_URL="mysql://root@127.0.0.1/x")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL" in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_run_without_token_exits_2(tmp_path):
    result = _cli(tmp_path, "run", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_cli_migrate_creates_database(tmp_path):
    result = _cli(tmp_path, "migrate", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/data/new.db")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "new.db").exists()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, "below"),
        ({"SHARD_IDS": "a"}, "comma"),
    ],
)
def test_shard_settings(monkeypatch, values, expected):
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=expected):
        load_settings()


def test_shard_ids_parse(monkeypatch):
    monkeypatch.setenv("SHARD_COUNT", "4")
    monkeypatch.setenv("SHARD_IDS", "1, 3")
    assert Settings(_env_file=None).shard_id_list == [1, 3]


def test_the_sqlite_adapter_names_the_sqlalchemy_it_needs():
    import sqlalchemy

    from bot.versions import unsupported_sqlalchemy

    assert unsupported_sqlalchemy(sqlalchemy.__version__) is None  # what is installed is supported
    assert unsupported_sqlalchemy("2.1.0") is None
    for old_or_new in ("2.0.30", "2.0.58", "2.2.0", "3.0.0"):
        problem = unsupported_sqlalchemy(old_or_new)
        assert problem is not None and old_or_new in problem and "2.1" in problem
