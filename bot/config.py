"""Configuration read from the environment and `.env` with pydantic-settings."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DISCORD_API_BASE_URL = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/nexus.db"
DEFAULT_PROJECT_CHANNEL = "prodevprojectnexus"

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
"""Where the emulator listens: settings meant for tests only are refused anywhere else."""
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
"""Where the emulator listens: settings meant for tests only are refused anywhere else."""

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["text", "json"]
DEFAULT_METRICS_HOST = "127.0.0.1"


class Settings(BaseSettings):
    """Every setting Nexus reads. Names are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    discord_token: SecretStr | None = Field(default=None)
    database_url: str = Field(default=DEFAULT_DATABASE_URL)
    dev_guild_id: int | None = Field(default=None, gt=0)
    log_level: LogLevel = "INFO"
    discord_api_base_url: str = DISCORD_API_BASE_URL
    discord_gateway_url: str = DISCORD_GATEWAY_URL
    project_channel_name: str = Field(default=DEFAULT_PROJECT_CHANNEL, min_length=1, max_length=100)
    proposal_expiry_hours: float = Field(default=48.0, gt=0, le=24 * 14)
    expiry_check_seconds: float = Field(default=300.0, ge=1, le=86_400)
    outbox_interval_seconds: float = Field(default=15.0, ge=0.2, le=3_600)
    write_cooldown_rate: int = Field(default=10, ge=1, le=10_000)
    write_cooldown_seconds: float = Field(default=30.0, gt=0, le=3_600)
    shard_count: int | None = Field(default=None, ge=1, le=1024)
    shard_ids: str | None = Field(default=None)
    metrics_port: int | None = Field(default=None, ge=0, le=65_535)
    """Port for /metrics and /healthz; None (the default) serves nothing, 0 takes any free port."""
    metrics_host: str = Field(default=DEFAULT_METRICS_HOST, min_length=1)
    log_format: LogFormat = "text"

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _blank_metrics_port(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    schedule_grace_minutes: float = Field(default=60.0, ge=0, le=7 * 24 * 60)
    schedule_interval_seconds: float = Field(default=20.0, ge=0.2, le=3_600)
    team_thread_archive_minutes: float = Field(default=10_080.0, ge=1, le=100_000)
    """How long a team thread stays open without messages before Discord archives it (rounded to
    the nearest of the durations Discord accepts: 60, 1440, 4320 or 10080 minutes)."""
    follow_up_hours: float = Field(default=48.0, gt=0, le=24 * 30)
    follow_up_interval_seconds: float = Field(default=300.0, ge=0.2, le=3_600)
    checkin_interval_seconds: float = Field(default=60.0, ge=0.2, le=3_600)
    nexus_clock_file: Path | None = Field(default=None)

    @field_validator("nexus_clock_file", mode="before")
    @classmethod
    def _blank_clock_file(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_count", mode="before")
    @classmethod
    def _blank_shard_count(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_ids")
    @classmethod
    def _shard_list(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = [p.strip() for p in value.split(",")]
        if not all(p.isdigit() for p in parts):
            raise ValueError("must be a comma-separated list of shard numbers, e.g. 0,1")
        return ",".join(parts)

    @property
    def shard_id_list(self) -> list[int] | None:
        """The shards this process runs, or None for all of SHARD_COUNT."""
        return [int(p) for p in self.shard_ids.split(",")] if self.shard_ids else None

    @field_validator("discord_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("dev_guild_id", mode="before")
    @classmethod
    def _blank_guild_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("discord_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("discord_gateway_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("must be a ws:// or wss:// URL")
        return value

    @classmethod
    def model_fields_upper(cls) -> list[str]:
        """The environment variable names of every setting."""
        return [name.upper() for name in cls.model_fields]

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        ids = self.shard_id_list
        if ids is not None:
            if self.shard_count is None:
                raise ValueError("SHARD_IDS needs SHARD_COUNT: set SHARD_COUNT to the total number of shards")
            if any(i >= self.shard_count for i in ids):
                raise ValueError("SHARD_IDS must be below SHARD_COUNT (shards are numbered from 0)")
        return self

    @model_validator(mode="after")
    def _clock_file_only_in_the_sandbox(self) -> Settings:
        host = self.discord_api_base_url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if self.nexus_clock_file is not None and host not in LOOPBACK_HOSTS:
            raise ValueError(
                "NEXUS_CLOCK_FILE moves the bot's clock for tests and the sandbox only: "
                "it needs DISCORD_API_BASE_URL on 127.0.0.1"
            )
        return self

    @property
    def has_token(self) -> bool:
        """Whether a Discord token is configured (otherwise the sandbox runs)."""
        return self.discord_token is not None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing the env."""
    return Settings()


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it in one line."""


def describe_validation_error(error: ValidationError) -> str:
    """One line naming the first bad setting and why, without echoing its value."""
    first = error.errors()[0]
    reason = first["msg"].removeprefix("Value error, ")
    if not first["loc"]:  # a rule across settings; its message names them
        return f"Invalid settings: {reason}"
    return f"Invalid setting {str(first['loc'][0]).upper()}: {reason}"


def load_settings() -> Settings:
    """Read the settings or raise SettingsError with one clear line."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def load_settings_or_exit() -> Settings:
    """Read the settings; on error print one line to stderr and exit with status 2."""
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"nexus: {exc}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a SQLite URL, or None for PostgreSQL or in-memory SQLite."""
    prefix = "sqlite+aiosqlite:///"
    if not database_url.startswith(prefix):
        return None
    raw = database_url[len(prefix) :].split("?", 1)[0]
    if not raw or raw == ":memory:":
        return None
    return Path(raw)
