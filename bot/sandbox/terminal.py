"""Where the sandbox console reads its lines: a terminal with line editing, or plain stdin.

At a terminal, prompt_toolkit gives line editing, a history kept across runs and tab completion of
members, commands, options, choices and (through the bot's own handlers) autocompleted values.
Piped input (scripts, tests, CI) is read plainly, so nothing there depends on a terminal.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import sys
import threading
from collections.abc import AsyncGenerator, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output

from bot.sandbox.emulator import OPT_BOOLEAN, OPT_CHANNEL, OPT_MENTIONABLE, OPT_ROLE, OPT_USER

if TYPE_CHECKING:
    from bot.sandbox.emulator import DiscordEmulator
    from bot.sandbox.state import EmuChannel, EmuGuild, EmuMember


class Names(Protocol):
    """Console words to emulator objects (the console's Directory)."""

    def member(self, name: str) -> EmuMember: ...

    def channel(self, name: str) -> EmuChannel: ...


class Console(Protocol):
    """What completion reads from the console (the console imports this module, not the other way)."""

    @property
    def emu(self) -> DiscordEmulator: ...

    @property
    def guild(self) -> EmuGuild: ...

    @property
    def names(self) -> Names: ...

    def commands(self) -> list[dict[str, Any]]: ...

    def button_labels(self) -> list[str]: ...


HISTORY_FILE = Path("data/sandbox-history")
AUTOCOMPLETE_TIMEOUT_SECONDS = 2.0
"""How long tab completion waits for the bot's autocomplete handler before offering nothing from it."""
CONSOLE_WORDS = ("as ", "channel ", "who", "help", "reset", "quit")
ACTION_WORDS = ("/", "click ", "complete ")
SUBCOMMAND_TYPES = (1, 2)

_AS_PREFIX = re.compile(r"^as\s+(?P<member>[^\s:]+)(?:\s+in\s+(?P<channel>\S+))?\s*:\s*", re.I)


class LineReader(Protocol):
    """A source of console lines."""

    at_terminal: bool

    async def read(self, prompt: str, *, form: bool = False) -> str | None:
        """The next line (without its newline), or None at the end of input or Ctrl-C/Ctrl-D."""
        ...


class StdinLines:
    """Lines typed or piped on stdin, read by a daemon thread so the bot keeps running meanwhile.

    A daemon thread blocked in os.read does not hold up the exit after Ctrl-C, whereas a worker of
    asyncio.to_thread blocked in input() makes asyncio.run wait for one more line on Python 3.11.
    """

    at_terminal = False

    def __init__(self, loop: asyncio.AbstractEventLoop, out: TextIO | None = None) -> None:
        self._loop = loop
        self._out = out or sys.stdout
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._ended = False
        self._thread = threading.Thread(target=self._read, name="nexus-console-stdin", daemon=True)
        self._thread.start()

    async def read(self, prompt: str, *, form: bool = False) -> str | None:
        """Print `prompt`, then the next line without its newline, or None at the end of input."""
        self._out.write(prompt)
        self._out.flush()
        if self._ended:
            return None
        line = await self._queue.get()
        self._ended = line is None
        return line

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, ValueError, OSError):
            self._put(None)
            return
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                tail = pending + decoder.decode(b"", final=True)
                if tail:
                    self._put(tail)
                self._put(None)
                return
            pending += decoder.decode(chunk)
            *complete, pending = pending.split("\n")
            for line in complete:
                self._put(line.removesuffix("\r"))

    def _put(self, line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: the console is over
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)


class TerminalLines:
    """Lines read with prompt_toolkit: editing keys, history (Up/Down, Ctrl-R) and tab completion."""

    at_terminal = True

    def __init__(
        self,
        console: Callable[[], Console | None],
        *,
        history: Path | None = HISTORY_FILE,
        input: Input | None = None,
        output: Output | None = None,
    ) -> None:
        if history is not None:
            with contextlib.suppress(OSError):
                history.parent.mkdir(parents=True, exist_ok=True)
        kept = FileHistory(str(history)) if history is not None else InMemoryHistory()
        self._lines: PromptSession[str] = PromptSession(
            history=kept,
            completer=ConsoleCompleter(console),
            complete_while_typing=False,
            input=input,
            output=output,
        )
        # form answers stay out of the command history
        self._answers: PromptSession[str] = PromptSession(history=InMemoryHistory(), input=input, output=output)

    async def read(self, prompt: str, *, form: bool = False) -> str | None:
        session = self._answers if form else self._lines
        try:
            return await session.prompt_async(prompt)
        except (EOFError, KeyboardInterrupt):
            return None


class ConsoleCompleter(Completer):
    """Completes console words, `as <member>:`, commands, options, choices and autocompleted values."""

    def __init__(self, console: Callable[[], Console | None]) -> None:
        self._console = console

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        """Completions that need no answer from the bot."""
        console = self._console()
        if console is not None:
            yield from self._offline(console, document.text_before_cursor)

    async def get_completions_async(
        self, document: Document, complete_event: CompleteEvent
    ) -> AsyncGenerator[Completion, None]:
        """Completions, the bot's autocomplete included."""
        console = self._console()
        if console is None:
            return
        text = document.text_before_cursor
        for completion in self._offline(console, text):
            yield completion
        for completion in await self._autocompleted(console, text):
            yield completion

    def _offline(self, console: Console, text: str) -> Iterable[Completion]:
        head = _AS_PREFIX.match(text)
        if head is None:
            if text.lower().startswith("as ") and ":" not in text:
                yield from _as_member(console, text)
            elif " " not in text:
                yield from _starting(text, CONSOLE_WORDS)
            elif text.lower().startswith("channel "):
                partial = text[len("channel ") :]
                yield from _starting(partial, [c.name for c in console.guild.channels.values()])
            return
        action = text[head.end() :]
        if not action.startswith("/"):
            if action.lower().startswith("complete "):
                action = action[len("complete ") :]
            else:
                if " " not in action:
                    yield from _starting(action, ACTION_WORDS)
                elif action.lower().startswith("click "):
                    yield from _click_labels(console, action[len("click ") :])
                return
        yield from _command_words(console, action)

    async def _autocompleted(self, console: Console, text: str) -> list[Completion]:
        head = _AS_PREFIX.match(text)
        if head is None:
            return []
        action = text[head.end() :].removeprefix("complete ")
        where = _typing_option(console, action)
        if where is None:
            return []
        path, spec, partial, others = where
        if not spec.get("autocomplete"):
            return []
        others[spec["name"].replace("-", "_")] = partial  # the emulator takes options by their Python names
        try:
            member = console.names.member(head["member"])
            channel = console.names.channel(head["channel"]) if head["channel"] else None
            choices = await asyncio.wait_for(
                console.emu.autocomplete(member, path, spec["name"], in_channel=channel, **others),
                AUTOCOMPLETE_TIMEOUT_SECONDS,
            )
        except Exception:  # a completion is a convenience: a failing one offers nothing
            return []
        return [
            Completion(str(c.get("value")), start_position=-len(partial), display=str(c.get("name"))) for c in choices
        ]


def _starting(partial: str, words: Iterable[str], *, suffix: str = "") -> Iterable[Completion]:
    for word in words:
        if word.lower().startswith(partial.lower()):
            yield Completion(word + suffix, start_position=-len(partial))


def _as_member(console: Console, text: str) -> Iterable[Completion]:
    partial = text[3:].lstrip()
    names = [m.user.username for m in console.guild.members.values() if not m.user.bot]
    yield from _starting(partial, names, suffix=": ")


def _click_labels(console: Console, partial: str) -> Iterable[Completion]:
    yield from _starting(partial, console.button_labels())


def _leaf(console: Console, action: str) -> tuple[list[str], list[dict[str, Any]], str] | None:
    """The command path typed so far, the leaf's options and the text after it; None while still naming."""
    words = action[1:].split(" ")
    commands = [c for c in console.commands() if c.get("type", 1) == 1]
    specs: list[dict[str, Any]] = [{"name": c["name"], "type": 1, "options": c.get("options") or []} for c in commands]
    path: list[str] = []
    while True:
        subs = [s for s in specs if s["type"] in SUBCOMMAND_TYPES]
        if not subs:
            return path, specs, " ".join(words)
        if len(words) <= 1:
            return None
        chosen = next((s for s in subs if s["name"] == words[0]), None)
        if chosen is None:
            return None
        path.append(chosen["name"])
        specs = chosen.get("options") or []
        words = words[1:]


def _command_words(console: Console, action: str) -> Iterable[Completion]:
    words = action[1:].split(" ")
    commands = [c for c in console.commands() if c.get("type", 1) == 1]
    specs: list[dict[str, Any]] = [{"name": c["name"], "type": 1, "options": c.get("options") or []} for c in commands]
    while len(words) > 1:
        subs = [s for s in specs if s["type"] in SUBCOMMAND_TYPES]
        chosen = next((s for s in subs if s["name"] == words[0]), None)
        if chosen is None:
            break
        specs = chosen.get("options") or []
        words = words[1:]
    subs = [s for s in specs if s["type"] in SUBCOMMAND_TYPES]
    if subs:
        if len(words) == 1:
            yield from _starting(words[0], [s["name"] for s in subs], suffix=" ")
        return
    rest = " ".join(words)
    names = [s["name"] for s in specs]
    last_word = rest.rsplit(" ", 1)[-1]
    if ":" not in last_word:
        used = set(re.findall(r"(?<!\S)([\w-]+):", rest))
        yield from _starting(last_word, [n for n in names if n not in used], suffix=":")
    where = _typing_option(console, action)
    if where is None:
        return
    _, spec, partial, _ = where
    yield from _starting(partial, _value_words(console, spec))


def _value_words(console: Console, spec: dict[str, Any]) -> list[str]:
    """The values an option offers without asking the bot: its choices, or the server's names."""
    choices = [str(c.get("name")) for c in spec.get("choices") or []]
    if choices:
        return choices
    guild = console.guild
    members = [f"@{m.user.username}" for m in guild.members.values() if not m.user.bot]
    roles = [f"@{r.name}" for r in guild.roles.values() if r.id != guild.id]
    by_type = {
        OPT_BOOLEAN: ["yes", "no"],
        OPT_CHANNEL: [f"#{c.name}" for c in guild.channels.values()],
        OPT_USER: members,
        OPT_ROLE: roles,
        OPT_MENTIONABLE: members + roles,
    }
    return by_type.get(spec["type"], [])


def _typing_option(console: Console, action: str) -> tuple[str, dict[str, Any], str, dict[str, Any]] | None:
    """(command path, option schema, value typed so far, the other options' raw values) for the last option."""
    leaf = _leaf(console, action)
    if leaf is None:
        return None
    path, specs, rest = leaf
    names = [s["name"] for s in specs]
    if not names:
        return None
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    found = list(re.finditer(rf"(?<!\S)({alternatives}):", rest))
    if not found:
        return None
    last = found[-1]
    spec = next(s for s in specs if s["name"] == last[1])
    others: dict[str, Any] = {}
    for match, following in zip(found, [*found[1:], None], strict=True):
        if match is last:
            continue
        end = following.start() if following is not None else len(rest)
        other = next(s for s in specs if s["name"] == match[1])
        if other["type"] == 3:  # only plain text is passed on: other types would need converting
            others[match[1].replace("-", "_")] = rest[match.end() : end].strip()
    return " ".join(path), spec, rest[last.end() :].lstrip(), others
