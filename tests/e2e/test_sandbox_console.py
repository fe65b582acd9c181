# ruff: noqa: F811
"""The newcomer's first hour in the sandbox console: forms, buttons, files, options, reset and the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from bot.sandbox.console import Console, ConsoleError, option_values, parse_invocation
from bot.sandbox.terminal import ConsoleCompleter, TerminalLines

# the console fixture (ProbeCog on the test bot) is shared with test_sandbox.py
from tests.e2e.test_sandbox import ROOT, SCHEMA, SCRIPT_TIMEOUT, _lines, _sandbox_env, console  # noqa: F401

# ---------------------------------------------------------------------- options


def test_an_unknown_option_name_is_named_instead_of_joining_the_previous_value():
    with pytest.raises(ConsoleError, match=r"unknown option tz \(options: name:, pitch:, repo-url:, size:"):
        parse_invocation(SCHEMA, "/project announce track:Frontend tz:Europe/London")
    with pytest.raises(ConsoleError, match="unknown option nmae"):
        parse_invocation(SCHEMA, "/project announce nmae:Board")
    allowed = parse_invocation(
        SCHEMA, '/project announce name:N pitch:"ratio:3 is fine" repo-url:https://x.io/a note: 10:30'
    )
    assert allowed.options == {"name": "N", "pitch": "ratio:3 is fine", "repo-url": "https://x.io/a note: 10:30"}


async def test_a_typed_hash_before_a_whole_number_is_dropped(console: Console):
    invocation = parse_invocation(SCHEMA, "/project announce name:N pitch:P size:#3")
    assert option_values(invocation, console.names)["size"] == 3


# ---------------------------------------------------------------------- forms


async def test_a_script_form_field_is_checked_when_given_and_the_form_is_kept(console: Console):
    text = await _lines(
        console,
        "as learner3: /probe form",
        "> Title:",
        "> Title: " + "x" * 81,
        "> Title: Board",
        "",
    )
    assert "error: Title is required" in text
    assert "error: Title: 81 characters, at most 80 fit" in text
    assert "Got Board" in text
    assert "modal field" not in text
    assert console.errors == 2


async def test_a_form_missing_a_required_field_is_not_sent_and_says_which(console: Console):
    text = await _lines(console, "as learner3: /probe form", "> Pitch: only the pitch", "")
    assert "error: the form was not sent: Title is required (add a line like `> Title: ...`)" in text
    assert "Got" not in text


async def test_at_a_terminal_a_form_asks_by_label_and_re_asks_only_the_refused_field(console: Console):
    answers = iter(["", "x" * 81, "> Pitch: by its label", "Board"])
    asked: list[str] = []

    async def ask(prompt: str) -> str | None:
        asked.append(prompt.strip())
        return next(answers)

    console.ask = ask
    await console.run_line("as learner3: /probe form")
    await console.ask_form()
    out = console.out.getvalue()
    assert "Title is required; try again" in out
    assert "Title: 81 characters, at most 80 fit; try again" in out
    assert "Got Board\n    by its label" in out
    assert [prompt.split(" (")[0] for prompt in asked] == ["Title"] * 4  # Pitch was filled by its label
    assert "modal field" not in out


# ---------------------------------------------------------------------- buttons


async def test_buttons_keep_their_message_number_through_edits(console: Console, world):
    await _lines(console, "as admin1: /probe post channel:#prodevprojectnexus text:First")
    text = await _lines(console, "as admin1: /probe post channel:#general text:Second")
    assert "Second\n    [2.1] Accept  [2.2] Decline" in text
    text = await _lines(console, "as learner1: click 1.1")
    assert "(edited)\n    Accepted by @learner1" in text
    text = await _lines(console, "as learner1: click 1.1", "as learner2: click 2.2", "as learner2: click 7.1")
    assert "error: message 1 has no button 1 (it has 0)" in text
    assert "Declined" in text
    assert "error: no message 7 has been shown (messages shown: 2)" in text
    text = await _lines(console, "as learner2: click acc")  # a label's start is enough
    assert "Accepted by @learner2" in text


# ---------------------------------------------------------------------- files


async def test_files_the_bot_sends_are_saved_and_their_path_printed(console: Console, tmp_path):
    console.files_dir = tmp_path / "files"
    text = await _lines(console, "as learner3: /probe form", "> Title: T", "")
    saved = tmp_path / "files" / "notes.txt"
    assert f"[file] notes.txt (23 B, saved as {saved})" in text
    assert saved.read_text() == "first line\nsecond line\n"


# ---------------------------------------------------------------------- completion and the terminal


async def test_tab_completes_members_commands_options_choices_and_autocompleted_values(console: Console):
    completer = ConsoleCompleter(lambda: console)

    async def complete(text: str) -> list[str]:
        found = completer.get_completions_async(Document(text), CompleteEvent(completion_requested=True))
        return [c.text async for c in found]

    assert "reset" in await complete("re")
    members = await complete("as learner")
    assert members[0] == "learner1: " and all(m.startswith("learner") and m.endswith(": ") for m in members)
    assert {"probe ", "profile ", "project "} <= set(await complete("as learner1: /pro"))
    assert await complete("as learner1: /probe pi") == ["pick "]
    assert await complete("as learner1: /probe pick fr") == ["fruit:"]
    assert await complete("as learner1: /probe pick fruit:ap") == ["apple", "apricot"]
    assert await complete("as learner1: /probe post channel:#gen") == ["#general"]
    assert "Backend" in await complete("as learner1: /profile set track:")


async def test_the_terminal_edits_lines_and_recalls_them_from_a_kept_history(tmp_path):
    history = tmp_path / "history"
    with create_pipe_input() as keys:
        reader = TerminalLines(lambda: None, history=history, input=keys, output=DummyOutput())
        keys.send_text("as learner1: /nexus hlp\x1b[D\x1b[De\r")  # Left, Left, then insert the missing e
        assert await asyncio.wait_for(reader.read("nexus> "), 5) == "as learner1: /nexus help"
        keys.send_text("\x1b[A\r")  # Up recalls it
        assert await asyncio.wait_for(reader.read("nexus> "), 5) == "as learner1: /nexus help"
        keys.send_text("\x04")  # Ctrl-D on an empty line ends the input
        assert await asyncio.wait_for(reader.read("nexus> "), 5) is None
    assert "as learner1: /nexus help" in history.read_text()
    with create_pipe_input() as keys:  # a new run starts with the old lines
        again = TerminalLines(lambda: None, history=history, input=keys, output=DummyOutput())
        keys.send_text("\x1b[A\r")
        assert await asyncio.wait_for(again.read("nexus> "), 5) == "as learner1: /nexus help"


# ---------------------------------------------------------------------- python -m bot sandbox


@pytest.mark.slow
def test_a_script_without_db_plays_on_a_temporary_database_and_reset_starts_over(tmp_path):
    script = tmp_path / "reset.txt"
    script.write_text(
        "as staff1: /setup channel channel:#prodevprojectnexus\nas staff1: /setup show\nreset\nas staff1: /setup show\n"
    )
    played = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--script", str(script)],
        cwd=ROOT,
        env=_sandbox_env(),
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )
    out = played.stdout
    assert played.returncode == 0, out + played.stderr
    assert "Database: data/sandbox.db" not in out and "nexus-sandbox-" in out
    before, after = out.split("Started over: a new database")
    assert "| Project channel: #prodevprojectnexus" in before
    assert "| Project channel: #prodevprojectnexus (found by name" in after  # not set in the new database
    assert out.rstrip().endswith("4 lines, 0 errors")


PROMPT_STARTS = b"\x1b[?2004h"
"""prompt_toolkit turns bracketed paste on each time it starts reading a line."""


def _read_until(fd: int, seen: bytearray, marker: bytes, count: int = 1, timeout: float = 30) -> bool:
    """Read the terminal into `seen` until `marker` appears `count` times or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while seen.count(marker) < count and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                return seen.count(marker) >= count
            seen.extend(chunk)
    return seen.count(marker) >= count


def _at_prompt(fd: int, seen: bytearray, number: int) -> bool:
    """Wait for the `number`th prompt to be drawn, and a moment more for the terminal to be in raw mode."""
    if not _read_until(fd, seen, PROMPT_STARTS, count=number):
        return False
    _read_until(fd, seen, b"\x00never", timeout=0.5)  # keys typed any sooner are echoed by the line discipline
    return True


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_at_a_real_terminal_up_recalls_the_last_command(tmp_path):
    pid, fd = pty.fork()
    if pid == 0:  # the child: the sandbox on the pseudo-terminal, its history in tmp_path/data
        os.chdir(tmp_path)
        os.environ.update(_sandbox_env())
        os.execv(sys.executable, [sys.executable, "-m", "bot", "sandbox", "--db", str(tmp_path / "s.db")])
    seen = bytearray()
    try:
        assert _read_until(fd, seen, b"quit to leave"), seen.decode(errors="replace")
        assert _at_prompt(fd, seen, 1), seen.decode(errors="replace")
        os.write(fd, b"as learner1: /nexus about\r")
        assert _read_until(fd, seen, b"About Nexus"), seen.decode(errors="replace")
        assert _at_prompt(fd, seen, 2), seen.decode(errors="replace")
        os.write(fd, b"\x1b[A\r")  # at the next prompt, Up and Enter: the same command again
        assert _read_until(fd, seen, b"About Nexus", count=2), seen.decode(errors="replace")
        assert b"^[[A" not in seen
        os.write(fd, b"quit\r")
        assert _read_until(fd, seen, b"Bye."), seen.decode(errors="replace")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        os.close(fd)
    assert "as learner1: /nexus about" in (tmp_path / "data" / "sandbox-history").read_text()
