"""LOG_FORMAT=json: one JSON object per line, naming the guild, command, interaction and error
reference, with the token redacted everywhere (tracebacks included)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.errors import error_text
from bot.logging_setup import LogContext, configure_logging, log_context

TOKEN = "MTIzNDU2Nzg5.secret-token.abcdefXYZ"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", secrets=[TOKEN], log_format="json", stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_line_is_one_json_object_with_the_interaction_fields(json_log):
    log = logging.getLogger("nexus.test")
    log.info("outside any interaction")
    with log_context(LogContext(guild=42, command="tip share", interaction=1234)):
        log.warning("token %s in a message", TOKEN)
        log.info("explicit fields win", extra={"guild": 7})
    entries = _lines(json_log)
    assert len(entries) == 3
    first, second, third = entries
    assert {"time", "level", "logger", "message"} <= set(first)
    assert first["logger"] == "nexus.test" and first["level"] == "INFO"
    assert "guild" not in first and "command" not in first
    assert second["guild"] == 42 and second["command"] == "tip share" and second["interaction"] == 1234
    assert second["message"] == "token [redacted] in a message"
    assert third["guild"] == 7 and third["command"] == "tip share"
    assert TOKEN not in json_log.getvalue()


def test_an_unexpected_error_carries_its_reference_and_a_redacted_traceback(json_log):
    def fail() -> None:
        raise RuntimeError(f"could not log in with {TOKEN}")

    try:
        fail()
    except RuntimeError as exc:
        with log_context(LogContext(guild=42, command="nexus about", interaction=99)):
            reply = error_text(exc, "nexus about")
    (entry,) = _lines(json_log)
    assert entry["level"] == "ERROR" and entry["logger"] == "nexus.errors"
    assert entry["guild"] == 42 and entry["command"] == "nexus about" and entry["interaction"] == 99
    reference = entry["error_ref"]
    assert isinstance(reference, str) and f"`{reference}`" in reply
    exception = entry["exception"]
    assert isinstance(exception, str)
    assert "Traceback" in exception and "RuntimeError: could not log in with [redacted]" in exception
    assert TOKEN not in json_log.getvalue()


def test_text_format_redacts_tracebacks_too():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", secrets=[TOKEN], stream=stream)
    try:
        try:
            raise ValueError(TOKEN)
        except ValueError:
            logging.getLogger("nexus.test").exception("failed")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    text = stream.getvalue()
    assert "ValueError: [redacted]" in text and TOKEN not in text
