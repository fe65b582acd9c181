"""Logging for the process, configured by the CLI (never at import time)."""

from __future__ import annotations

import logging


class RedactFilter(logging.Filter):
    """Replace every occurrence of the given secrets in log records."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "[redacted]")
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


VOICE_WARNINGS = ("PyNaCl is not installed", "davey is not installed")
"""discord.py's start-up warnings about voice libraries; Nexus never uses voice."""


class VoiceWarningFilter(logging.Filter):
    """Drop discord.py's warnings that voice libraries are missing, and only those."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING and str(record.msg).startswith(VOICE_WARNINGS))


def configure_logging(level: str, *, secrets: list[str] | None = None) -> None:
    """Log to stderr at `level`, with secrets redacted from every record."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
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
