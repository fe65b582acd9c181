"""Logging for the process, configured by the CLI (never at import time): text or one JSON object a line."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

REDACTED = "[redacted]"


class RedactFilter(logging.Filter):
    """Replace every occurrence of the given secrets in log records."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = redact(message, self._secrets)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


@dataclass(frozen=True)
class LogContext:
    """What a log line is about: the guild, the command and the interaction being served."""

    guild: int | None = None
    command: str | None = None
    interaction: int | None = None


_context: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar("nexus_log_context", default=None)


def bind_log_context(context: LogContext) -> None:
    """Tag every log line of the current task (and tasks it starts from now on) with `context`.

    An interaction's handler runs in its own task, so the binding ends with it."""
    _context.set(context)


@contextlib.contextmanager
def log_context(context: LogContext) -> Iterator[None]:
    """Tag the log lines written inside the block with `context`."""
    token = _context.set(context)
    try:
        yield
    finally:
        _context.reset(token)


CONTEXT_FIELDS = ("guild", "command", "interaction", "error_ref")
"""Fields a record may carry through `extra=` (they win over the bound context)."""


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context fields and any exception."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self._secrets = [s for s in secrets or [] if s]

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        bound = _context.get()
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is None and bound is not None:
                value = getattr(bound, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(
            {k: redact(v, self._secrets) if isinstance(v, str) else v for k, v in entry.items()},
            ensure_ascii=False,
        )


class RedactingFormatter(logging.Formatter):
    """The text format, with secrets removed from the whole line (tracebacks included)."""

    def __init__(self, fmt: str, secrets: list[str] | None = None) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets or [] if s]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


VOICE_WARNINGS = ("PyNaCl is not installed", "davey is not installed")
"""discord.py's start-up warnings about voice libraries; Nexus never uses voice."""


class VoiceWarningFilter(logging.Filter):
    """Drop discord.py's warnings that voice libraries are missing, and only those."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING and str(record.msg).startswith(VOICE_WARNINGS))


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(
    level: str, *, secrets: list[str] | None = None, log_format: str = "text", stream: TextIO | None = None
) -> None:
    """Log to stderr (or `stream`) at `level` as text or JSON lines, with secrets redacted from every line."""
    handler = logging.StreamHandler(stream)
    json_lines = log_format == "json"
    formatter = JsonFormatter(secrets) if json_lines else RedactingFormatter(TEXT_FORMAT, secrets)
    handler.setFormatter(formatter)
    handler.addFilter(RedactFilter(secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("discord").setLevel(max(logging.getLevelName(level), logging.INFO))
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    # alembic's INFO lines (plugin set-up, the dialect) say nothing to an operator; DEBUG keeps them
    logging.getLogger("alembic").setLevel(max(logging.getLevelName(level), logging.WARNING))
    client = logging.getLogger("discord.client")
    if not any(isinstance(f, VoiceWarningFilter) for f in client.filters):
        client.addFilter(VoiceWarningFilter())
