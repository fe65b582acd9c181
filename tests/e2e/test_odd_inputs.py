"""Every command, form and reply button, driven with the longest and oddest inputs Discord allows.

The commands are read from the synced command payloads, so a new command or option is fuzzed
without touching this file. Hypothesis draws the values (derandomized: the same inputs every run)
in a worker thread; each step runs on the test's event loop, where the bot and the emulator live.
Every step is checked (answered, no error logged, no request refused, no member text turned
into a ping, a masked link or a role pill), and the test fails once, at the end, listing every
problem it found.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.sandbox.emulator import (
    OPT_BOOLEAN,
    OPT_CHANNEL,
    OPT_GROUP,
    OPT_INTEGER,
    OPT_MENTIONABLE,
    OPT_NUMBER,
    OPT_ROLE,
    OPT_STRING,
    OPT_SUBCOMMAND,
    OPT_USER,
    EmulatorError,
    Interaction,
    RecordedRequest,
)
from bot.sandbox.state import EmuMember, EmuMessage, compute_pings
from tests.harness import World

T = TypeVar("T")

EXAMPLES_PER_COMMAND = 6
"""Hypothesis examples per command (each runs as a learner and as staff)."""
DISCORD_STRING_MAX = 6000
"""What Discord accepts in a string option that declares no max_length."""
DISCORD_INTEGER_MAX = 2**53 - 1
FAKE_ROLE = "<@&123456789012345678>"
FAKE_USER = "<@123>"
EVIL = "https://evil.example"
LINE = 24
"""Characters per line in the many-lines example."""
LONE_SURROGATE = "\ud800"
"""Put into odd examples only: nearly every write fails on it, which would hide the other problems."""
FRAGMENTS = [
    "@everyone",
    "@here",
    FAKE_ROLE,
    FAKE_USER,
    f"[click]({EVIL}/login)",
    f"<{EVIL}>",
    "**__~~||`",
    "```",
    "\u202e",  # right-to-left override
    "e\u0301" * 8,  # combining acute accents
    "\u200d",  # zero-width joiner
    "\x00",
    "\n" * 12,
    "👩‍💻🔥",
    "中文字符",
    "# heading",
    "> quote",
    " ",
]
URL_FRAGMENTS = [
    FAKE_ROLE,
    f"[click]({EVIL}/login)",
    f"<{EVIL}>",
    ">",
    ")",
    "**__~~||`",
    "@everyone",
    "%00",
    "中文",
]
DESTRUCTIVE_LAST = [
    "note delete",
    "catalog remove",
    "topic remove",
    "project withdraw",
    "partner leave",
    "nexus forget-me",
]
"""Run after everything else: they take away what the other commands need."""
POPULATE_FIRST = ["catalog add", "topic add"]
"""Run first: their odd names then reach every list, post and autocomplete."""
KICKOFF_BUTTON = "kickoff button"
"""The 'Announce my project' button on the kickoff post, fuzzed like a command (its form)."""

# ---------------------------------------------------------------- strategies


def _fit(text: str, low: int, high: int) -> str:
    text = text[:high]
    return text + "@" * max(0, low - len(text))


def _fill(text: str, length: int) -> str:
    """`text` repeated and cut to exactly `length` characters."""
    text = text or "x"
    return (text * (length // len(text) + 1))[:length]


def wants_url(spec: dict[str, Any]) -> bool:
    """Whether the option or field asks for a link (its description or placeholder says https://)."""
    return "https://" in f"{spec.get('description', '')} {spec.get('placeholder', '')}"


@dataclass(frozen=True)
class Plan:
    """What example `number` of a command stresses, so that a few examples cover every case.

    Even examples put the maximum length in every string and send every optional option; the
    choices of an option rotate every two examples; an option with autocomplete takes one of the
    bot's own choices, except in examples 1 and 4 (4 is a full-length one), where it gets odd text."""

    number: int

    @property
    def full(self) -> bool:
        return self.number % 2 == 0

    @property
    def autocomplete(self) -> bool:
        return self.number % 3 != 1

    @property
    def lines(self) -> bool:
        """Example 2 (full-length) breaks every string into many short lines."""
        return self.number % 4 == 2

    @property
    def surrogate(self) -> bool:
        """Examples 1 and 5 (neither full-length) carry a lone surrogate in every string."""
        return self.number % 4 == 1

    def choice(self, values: list[Any]) -> Any:
        return values[(self.number // 2) % len(values)]


@dataclass(frozen=True)
class Raw:
    """What hypothesis draws for one input; `realize` turns it into a value under a Plan.

    The same things are drawn whatever the plan or the bot's answers (hypothesis requires it)."""

    text: str
    """Nasty fragments, joined."""
    link: str
    """An https:// link stuffed with markup."""
    longest: bool
    """In an example that is not all full-length: fill this one to its maximum anyway."""
    index: int
    """Which of the bot's autocomplete choices to take."""
    other: Any
    """A value for a non-string option (a number, a boolean, a member...)."""


def raw_strategy(world: World, kind: int = OPT_STRING, spec: dict[str, Any] | None = None) -> st.SearchStrategy[Raw]:
    spec = spec or {}
    if kind == OPT_STRING:
        other: st.SearchStrategy[Any] = st.none()
    elif kind in (OPT_INTEGER, OPT_NUMBER):
        low = int(spec.get("min_value", -DISCORD_INTEGER_MAX))
        high = int(spec.get("max_value", DISCORD_INTEGER_MAX))
        other = st.one_of(st.sampled_from([high, low]), st.integers(low, high))
    elif kind == OPT_BOOLEAN:
        other = st.booleans()
    elif kind in (OPT_USER, OPT_MENTIONABLE):
        other = st.sampled_from([world.learners[1], world.admin, world.mentor, world.learner])
    elif kind == OPT_CHANNEL:
        other = st.just(world.project)
    elif kind == OPT_ROLE:
        other = st.just(world.staff_role)
    else:
        raise AssertionError(f"option type {kind} has no strategy yet: add one")
    return st.builds(
        Raw,
        text=st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=10).map("".join),
        link=st.lists(st.sampled_from(URL_FRAGMENTS), min_size=1, max_size=6).map(
            lambda parts: "https://github.com/me/" + "".join(parts)
        ),
        longest=st.booleans(),
        index=st.integers(0, 24),
        other=other,
    )


def odd_text(raw: Raw, low: int, high: int, plan: Plan, *, url: bool) -> str:
    """Nasty text between `low` and `high` characters: exactly `high` in a full example."""
    text = raw.link if url else raw.text
    if plan.lines:
        text = "\n".join(text[start : start + LINE] for start in range(0, len(text), LINE)) + "\n"
    text = _fit(_fill(text, high) if plan.full or raw.longest else text, low, high)
    if plan.surrogate and text:
        middle = len(text) // 2
        text = text[:middle] + LONE_SURROGATE + text[middle + 1 :]
    return text


def realize(spec: dict[str, Any], raw: Raw, plan: Plan) -> Any:
    """The value a member sends for option `spec`: a Pick (an autocomplete choice) or odd input."""
    if spec.get("choices"):
        return plan.choice([c["value"] for c in spec["choices"]])
    if spec["type"] == OPT_STRING:
        # Discord never sends an empty string option; with no max_length it allows 6,000
        low = max(1, int(spec.get("min_length", 0) or 0))
        high = int(spec.get("max_length", DISCORD_STRING_MAX))
        value = odd_text(raw, low, high, plan, url=wants_url(spec))
    else:
        value = raw.other
    if spec.get("autocomplete") and plan.autocomplete:
        return Pick(raw.index, value)
    return value


@dataclass
class Pick:
    """Take one of the choices the bot's autocomplete offers, when it offers any."""

    index: int
    fallback: Any

    def __repr__(self) -> str:
        return f"autocomplete[{self.index}] (else {self.fallback!r:.60})"


def options_strategy(world: World, options: list[dict[str, Any]]) -> st.SearchStrategy[dict[str, tuple[Raw, bool]]]:
    """A Raw for every option, and whether to send it if it is optional (full examples send all)."""
    return st.fixed_dictionaries(
        {o["name"]: st.tuples(raw_strategy(world, o["type"], o), st.booleans()) for o in options}
    )


MODAL_INPUTS = 5
"""Discord's limit on a modal's inputs: one Raw is drawn for each, whether a form opens or not."""


def modal_fields(modal: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, input) of each input of a modal payload (text inputs and selects), in either layout."""
    found = []
    for row in modal.get("components", []):
        if row.get("type") == 18:
            found.append((str(row.get("label", "")), row["component"]))
        else:
            found.extend((str(inner.get("label", "")), inner) for inner in row.get("components", []))
    return found


def field_value(spec: dict[str, Any], raw: Raw, plan: Plan) -> str | list[str]:
    """Odd text for a modal's text input (within its lengths), one option for a select."""
    if spec.get("type") == 3:
        return [plan.choice([o["value"] for o in spec.get("options", [])])]
    required = spec.get("required", True)
    low = max(int(spec.get("min_length", 0) or 0), 1 if required else 0)
    high = int(spec.get("max_length", 4000))  # Discord's limit for a text input
    return odd_text(raw, low, high, plan, url=wants_url(spec))


# ---------------------------------------------------------------- the rendered-text checks

_CODE = re.compile(r"```.*?```|``.*?``|`[^`]*`", re.S)
_AUTOLINK = re.compile(r"<https?://[^\s>]+>")
_MASS = re.compile(r"(?<!\\)@(everyone|here)")
_PILL = re.compile(r"(?<!\\)<@([!&]?)(\d+)>")
_MASKED = re.compile(r"(?<!\\)\[((?:[^\]\\\n]|\\.)*)(?<!\\)\]\((<?https?://[^)\s]*)\)")
_OWN_LINK = re.compile(r"https://discord\.com/channels/\d+/\d+(/\d+)?")
_GITHUB_PROFILE = re.compile(r"https://github\.com/([A-Za-z0-9-]+)")
_INJECTED_IDS = {"123456789012345678", "123"}
"""The ids in FRAGMENTS' mentions: a pill with one of them can only come from member text."""


def rendered(text: str) -> str:
    """What of `text` Discord formats: code spans and blocks and <autolinks> show literally."""
    out = []
    index = 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text):
            out.append(text[index : index + 2])
            index += 2
            continue
        literal = _CODE.match(text, index) or (_AUTOLINK.match(text, index) if not text[:index].endswith("(") else None)
        if literal:
            out.append(" ")
            index = literal.end()
            continue
        out.append(text[index])
        index += 1
    return "".join(out)


def _embed_texts(embed: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, text) of every text in an embed."""
    parts = [("embed title", str(embed.get("title") or "")), ("embed description", str(embed.get("description") or ""))]
    for fld in embed.get("fields") or []:
        parts.append(("field name", str(fld.get("name") or "")))
        parts.append((f"field {str(fld.get('name'))[:30]!r}", str(fld.get("value") or "")))
    parts.append(("footer", str((embed.get("footer") or {}).get("text") or "")))
    parts.append(("author", str((embed.get("author") or {}).get("name") or "")))
    return parts


def _formatted(embed: dict[str, Any]) -> list[tuple[str, str]]:
    """The embed texts where Discord renders mentions and links: the description and field values."""
    return [(where, text) for where, text in _embed_texts(embed) if where == "embed description" or "'" in where]


def injection_findings(content: str, embeds: list[dict[str, Any]], allowed: dict[str, Any] | None) -> list[str]:
    """What member text turned into in one version of a message: pings, mention pills, masked links."""
    found = []
    pings = compute_pings(content, allowed)
    if pings.everyone:
        found.append("content PINGS @everyone/@here (allowed_mentions lets it)")
    if pings.roles:
        found.append(f"content PINGS role(s) {sorted(pings.roles)}")
    shown_content = rendered(content)
    for match in _MASS.finditer(shown_content):
        if not pings.everyone:
            found.append(f"content shows an unneutralised @{match[1]} (allowed_mentions stops the ping)")
    for where, text in [("content", content), *[p for e in embeds for p in _formatted(e)]]:
        shown = rendered(text)
        for match in _PILL.finditer(shown):
            if match[2] in _INJECTED_IDS:
                kind = "role" if match[1] == "&" else "user"
                found.append(f"{where}: member text renders as the {kind} mention pill {match[0]}")
        for match in _MASKED.finditer(shown):
            target = match[2].strip("<>")
            own = _OWN_LINK.fullmatch(target)
            profile = _GITHUB_PROFILE.fullmatch(target)
            if not own and not (profile and profile[1] == match[1]):
                found.append(f"{where}: a masked link [{match[1][:40]}]({target[:60]})")
    return found


def versions(message: EmuMessage, since: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """The versions of `message` from history index `since` on, ending with the current one."""
    older = [(str(h.get("content") or ""), list(h.get("embeds") or [])) for h in message.history[since:]]
    return [*older, (message.content, message.embeds)]


# ---------------------------------------------------------------- one step and its checks


def request_summary(request: RecordedRequest) -> str:
    """The route of a request (ids and tokens left out) and the size of the message it carried."""
    route = re.sub(r"/[0-9]{6,}|/itok[^/]*", "/…", request.path).removeprefix("/api/v10")
    body = request.body if isinstance(request.body, dict) else {}
    data = body["data"] if isinstance(body.get("data"), dict) else body
    content = len(str(data.get("content") or ""))
    embeds = sum(len(text) for embed in data.get("embeds") or [] for _, text in _embed_texts(embed))
    return f"{request.method} {route} (content {content} chars, embeds {embeds} chars)"


@dataclass
class Problem:
    command: str
    actor: str
    inputs: str
    what: str
    shown: str

    def key(self) -> tuple[str, str]:
        return (self.command, re.sub(r"[0-9a-f]{8,}|\d+", "#", self.what))


@dataclass
class Findings:
    problems: list[Problem] = field(default_factory=list)
    steps: int = 0

    def report(self) -> str:
        grouped: dict[tuple[str, str], list[Problem]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.key(), []).append(problem)
        lines = [f"{len(grouped)} distinct problem(s) in {len(self.problems)} finding(s) over {self.steps} steps:"]
        for (command, _), found in sorted(grouped.items()):
            first = found[0]
            actors = "/".join(sorted({p.actor for p in found}))
            lines.append(
                f"\n• /{command} [{actors}] ×{len(found)}: {first.what}\n"
                f"    inputs: {first.inputs}\n    Nexus sent: {first.shown}"
            )
        return "\n".join(lines)


def describe(values: Any) -> str:
    """A short account of the inputs: each value's length and what is odd in it."""

    def one(value: Any) -> str:
        if isinstance(value, EmuMember):
            return f"member {value.user.username}"
        if isinstance(value, list):
            return "/".join(map(one, value))
        if not isinstance(value, str):
            return repr(value)
        marks = [name for name, frag in _MARKS if frag in value]
        return f"{len(value)} chars {value[:50]!r}{'…' if len(value) > 50 else ''}" + (
            f" [{', '.join(marks)}]" if marks else ""
        )

    if isinstance(values, dict):
        return "; ".join(f"{k}={one(v)}" for k, v in values.items()) or "(no options)"
    return one(values)


_MARKS = [
    ("@everyone", "@everyone"),
    ("role mention", "<@&"),
    ("masked link", "]("),
    ("lone surrogate", LONE_SURROGATE),
    ("NUL", "\x00"),
    ("RTL override", "\u202e"),
    ("code fence", "```"),
]


class Driver:
    """Runs steps on the bot's loop from the hypothesis thread, and checks each one."""

    def __init__(self, world: World, loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture) -> None:
        self.world = world
        self.emu = world.emu
        self.loop = loop
        self.caplog = caplog
        self.findings = Findings()

    def call(self, coro: Awaitable[T]) -> T:
        async def run() -> T:
            return await coro

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=120)

    async def settle(self, quiet: float = 0.05, limit: float = 5.0) -> None:
        """Wait until the bot has sent nothing for `quiet` seconds (follow-ups, posts, edits)."""
        waited = 0.0
        while waited < limit:
            before = len(self.emu.requests)
            await asyncio.sleep(quiet)
            waited += quiet
            if len(self.emu.requests) == before:
                return

    def step(
        self, command: str, actor: str, inputs: Any, action: Callable[[], Awaitable[Interaction | None]]
    ) -> Interaction | None:
        """Run one interaction and record what went wrong: failures as one problem, each injection as one."""
        emu = self.emu
        requests_before = len(emu.requests)
        logs_before = len(self.caplog.records)
        violations = getattr(emu, "contract_violations", None)
        violations_before = len(violations) if violations is not None else 0
        history_before = {mid: len(m.history) for mid, m in emu.messages.items()}
        self.findings.steps += 1
        interaction: Interaction | None = None
        failures: list[str] = []
        try:
            interaction = self.call(action())
        except EmulatorError as exc:
            if "no reply" not in str(exc):
                raise  # the driver asked for something Discord would not send: fix the test
            failures.append(f"not answered ({exc})")
        self.call(self.settle())
        if interaction is not None and interaction.callback_type is None:
            failures.append("not answered (no callback)")
        for request in emu.requests[requests_before:]:
            if 400 <= request.status < 500:
                failures.append(f"Discord refused {request_summary(request)} with {request.status}")
        if violations is not None:
            failures += [f"contract violation: {str(v)[:300]}" for v in violations[violations_before:]]
        for record in self.caplog.records[logs_before:]:
            if record.levelno >= logging.ERROR:
                error = record.exc_info[1] if record.exc_info else None
                cause = f" {type(error).__name__}: {str(error).splitlines()[0][:160]}" if error else ""
                said = cause or f" {record.getMessage()[:160]}"  # "Unhandled error [ref …]": its cause says more
                failures.append(f"logged {record.levelname} ({record.name}){said}")
        sent: list[str] = []
        injections: list[tuple[str, str]] = []
        for message in list(emu.messages.values()):
            since = history_before.get(message.id)
            if message.author.id != emu.bot_user.id or since == len(message.history):
                continue  # not Nexus's, or untouched by this step
            for content, embeds in versions(message, since or 0):
                text = content + "\n" + "\n".join(t for e in embeds for _, t in _embed_texts(e))
                sent.append(text)
                if "Something went wrong" in text:
                    failures.append("the member was told 'Something went wrong'")
                injections += [
                    (finding, text) for finding in injection_findings(content, embeds, message.allowed_mentions)
                ]
        if failures:
            self.record(command, actor, inputs, " + ".join(dict.fromkeys(failures)), sent[-1] if sent else "")
        for what in dict.fromkeys(what for what, _ in injections):
            self.record(command, actor, inputs, what, next(text for w, text in injections if w == what))
        return interaction

    def record(self, command: str, actor: str, inputs: Any, what: str, shown: str) -> None:
        excerpt = " ".join(shown.split())
        excerpt = excerpt if len(excerpt) <= 300 else excerpt[:300] + f"… ({len(shown)} chars)"
        self.findings.problems.append(Problem(command, actor, describe(inputs), what, excerpt or "—"))

    # ------------------------------------------------------------ what a member does

    async def resolve(self, actor: EmuMember, command: str, values: dict[str, Any]) -> dict[str, Any]:
        """Replace each Pick by a choice the bot's autocomplete offers (typed: nothing yet)."""
        resolved = dict(values)
        for name, value in values.items():
            if isinstance(value, Pick):
                typed = {k: v for k, v in resolved.items() if not isinstance(v, Pick) and k != name}
                choices = await self.emu.autocomplete(actor, command, name, **typed)
                resolved[name] = choices[value.index % len(choices)]["value"] if choices else value.fallback
        return resolved

    def run_command(self, plan: Plan, command: str, values: dict[str, Any], form: list[Raw]) -> None:
        for label, actor in (("learner", self.world.learner), ("staff", self.world.admin)):
            if command.split()[0] not in {c["name"] for c in self.emu.visible_commands(actor)}:
                continue  # Discord neither lists nor dispatches it for this member
            resolved = self.call(self.resolve(actor, command, values))
            opened = self.step(command, label, resolved, lambda a=actor, v=resolved: self.emu.command(a, command, **v))
            self.follow_up(plan, form, command, label, actor, opened)

    def run_kickoff_button(self, plan: Plan, form: list[Raw]) -> None:
        posts = self.emu.channel_messages(self.world.project)
        kickoff = next(m for m in posts if any(b.get("label") == "Announce my project" for b in m.buttons()))
        for label, actor in (("learner", self.world.learner), ("staff", self.world.admin)):
            opened = self.step(
                KICKOFF_BUTTON, label, "press", lambda a=actor: self.emu.click(a, kickoff, "Announce my project")
            )
            self.follow_up(plan, form, KICKOFF_BUTTON, label, actor, opened)

    def follow_up(
        self,
        plan: Plan,
        form: list[Raw],
        command: str,
        label: str,
        actor: EmuMember,
        opened: Interaction | None,
    ) -> None:
        """Submit the form the step opened (odd text in every field), then press the reply's buttons."""
        if opened is None:
            return
        if opened.modal is not None:
            modal = opened
            fields = modal_fields(modal.modal)
            values = {f["custom_id"]: field_value(f, raw, plan) for (_, f), raw in zip(fields, form, strict=False)}
            inputs = {name: values[f["custom_id"]] for name, f in fields}
            opened = self.step(f"{command} (form)", label, inputs, lambda: self.emu.submit_modal(actor, modal, values))
            if opened is None:
                return
        for message in self.emu.messages_of(opened):
            self.press_buttons(command, label, actor, message)

    def press_buttons(self, command: str, label: str, actor: EmuMember, message: EmuMessage) -> None:
        buttons = [b for b in message.buttons() if "custom_id" in b and not b.get("disabled")]
        labels = [str(b.get("label")) for b in buttons]
        if "Cancel" in labels:  # a confirmation: go ahead, so the action runs on the odd input
            labels = [name for name in labels if name != "Cancel"][:1]
        for name in reversed(labels):  # Next before Previous, so both get pressed on page one
            current = self.emu.messages[message.id]
            spec = next((b for b in current.buttons() if b.get("label") == name and not b.get("disabled")), None)
            if spec is None:
                continue
            presser = self.world.learners[2] if name == "Helpful" else actor
            self.step(
                f"{command} → {name}", label, "press", lambda s=spec, p=presser, m=current: self.emu.click(p, m, s)
            )


# ---------------------------------------------------------------- the test


def leaf_commands(schemas: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Qualified name → options of every chat-input leaf command in the synced payloads."""
    found: dict[str, list[dict[str, Any]]] = {}

    def walk(prefix: str, options: list[dict[str, Any]]) -> None:
        subs = [o for o in options if o["type"] in (OPT_SUBCOMMAND, OPT_GROUP)]
        if not subs:
            found[prefix] = options
        for sub in subs:
            walk(f"{prefix} {sub['name']}", sub.get("options", []))

    for schema in schemas:
        if schema.get("type", 1) == 1:
            walk(schema["name"], schema.get("options", []))
    return found


def running_order(names: list[str]) -> list[str]:
    first = [n for n in POPULATE_FIRST if n in names]
    last = [n for n in DESTRUCTIVE_LAST if n in names]
    middle = sorted(set(names) - set(first) - set(last))
    if "project announce" in middle:
        middle.insert(middle.index("project announce") + 1, KICKOFF_BUTTON)
    return first + middle + last


async def prepare(world: World) -> None:
    """The cohort mid-week: a project channel, the kickoff post, and the learner in a formed team."""
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await emu.command(world.admin, "cohort kickoff")
    partner = world.learners[1]
    for member, track in ((world.learner, "backend"), (partner, "frontend")):
        await emu.command(member, "profile set", track=track, timezone="Africa/Lagos")
        await emu.command(member, "project announce", project="Job Board", track=track, pitch="p")
    await emu.command(world.learner, "partner find")
    proposal = next(m for m in emu.channel_messages(world.project) if m.buttons() and "🤝" in m.text())
    await emu.click(world.learner, proposal, "Accept")
    await emu.click(partner, proposal, "Accept")
    assert emu.messages[proposal.id].buttons() == [], "the team was not formed"


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_COMMAND,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate],  # no shrinking: every problem is collected, not raised
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)


async def test_every_command_survives_odd_inputs(nexus, world: World, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.ERROR)
    await prepare(world)
    commands = leaf_commands(world.emu.commands_for(world.guild.id))
    assert len(commands) >= 30
    driver = Driver(world, asyncio.get_running_loop(), caplog)

    def explore(name: str) -> None:
        numbers = itertools.count()

        @FUZZ_SETTINGS
        @given(data=st.data())
        def one_command(data: st.DataObject) -> None:
            plan = Plan(next(numbers))
            drawn = data.draw(options_strategy(world, commands.get(name, [])), label="options")
            form = data.draw(st.lists(raw_strategy(world), min_size=MODAL_INPUTS, max_size=MODAL_INPUTS), label="form")
            if name == KICKOFF_BUTTON:
                driver.run_kickoff_button(plan, form)
            else:
                options = {o["name"]: o for o in commands[name]}
                values = {
                    key: realize(options[key], raw, plan)
                    for key, (raw, send) in drawn.items()
                    if options[key].get("required") or send or plan.full
                }
                driver.run_command(plan, name, values, form)

        one_command()

    def explore_all() -> None:
        for name in running_order(list(commands)):
            explore(name)

    await asyncio.to_thread(explore_all)
    assert driver.findings.steps > 3 * len(commands)
    assert not driver.findings.problems, driver.findings.report()
