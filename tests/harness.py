"""Test harness: databases per test (SQLite or PostgreSQL), the emulator world, the running bot."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.checks import STAFF_GROUPS
from bot.clock import Clock
from bot.config import Settings
from bot.db import upgrade_database
from bot.runtime import build_bot
from bot.sandbox.emulator import DiscordEmulator, Interaction
from bot.sandbox.state import MANAGE_GUILD, EmuChannel, EmuGuild, EmuMember, EmuRole

ROOT = Path(__file__).resolve().parent.parent
PG_ENV = "NEXUS_TEST_DATABASE_URL"
T = TypeVar("T")


def run_sync(coro: Awaitable[T]) -> T:
    """Run a coroutine to completion from sync code, even when a loop exists in this thread."""

    async def runner() -> T:
        return await coro

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, runner()).result()


def postgres_url() -> str | None:
    url = os.environ.get(PG_ENV, "").strip()
    return url or None


def _with_database(url: str, name: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{name}"


async def _pg_admin(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


class DatabaseFactory:
    """Hands each test a fresh database at the migration head, copied from a template."""

    def __init__(self, workdir: Path) -> None:
        self.pg = postgres_url()
        self.workdir = workdir
        if self.pg:
            self.template = f"nexus_tpl_{os.getpid()}"
            run_sync(_pg_admin(self.pg, f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)"))
            run_sync(_pg_admin(self.pg, f"CREATE DATABASE {self.template}"))
            upgrade_database(_with_database(self.pg, self.template))
        else:
            self.template_file = workdir / "template.db"
            upgrade_database(f"sqlite+aiosqlite:///{self.template_file}")

    def create(self, directory: Path) -> str:
        if self.pg:
            name = f"nexus_t_{uuid.uuid4().hex[:12]}"
            run_sync(_pg_admin(self.pg, f"CREATE DATABASE {name} TEMPLATE {self.template}"))
            return _with_database(self.pg, name)
        target = directory / "nexus.db"
        shutil.copyfile(self.template_file, target)
        return f"sqlite+aiosqlite:///{target}"

    def drop(self, url: str) -> None:
        if self.pg:
            name = url.rpartition("/")[2]
            run_sync(_pg_admin(self.pg, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def close(self) -> None:
        if self.pg:
            run_sync(_pg_admin(self.pg, f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)"))


@dataclass
class World:
    """The emulated cohort server every end-to-end test starts from."""

    emu: DiscordEmulator
    guild: EmuGuild
    general: EmuChannel
    project: EmuChannel
    staff_role: EmuRole
    admin: EmuMember  # has Manage Server
    mentor: EmuMember  # has the Staff role only
    learners: list[EmuMember]

    @property
    def learner(self) -> EmuMember:
        return self.learners[0]


def build_world(emu: DiscordEmulator, learners: int = 6, *, staff_overrides: bool = True) -> World:
    """The cohort server; like a well set-up one, its Staff role is allowed on the staff groups that
    Discord otherwise shows only to Manage Server (unless `staff_overrides` is False)."""
    guild = emu.add_guild("ALX ProDev Cohort")
    general = emu.add_channel(guild, "general")
    project = emu.add_channel(guild, "prodevprojectnexus")
    facilitators = emu.add_role(guild, "Facilitators", MANAGE_GUILD)
    staff_role = emu.add_role(guild, "Staff")
    if staff_overrides:
        for group in STAFF_GROUPS:
            emu.allow_role(guild, group, staff_role)
    admin = emu.add_member(guild, "admin1", roles=[facilitators])
    mentor = emu.add_member(guild, "mentor1", roles=[staff_role])
    members = [emu.add_member(guild, f"learner{i + 1}") for i in range(learners)]
    return World(emu, guild, general, project, staff_role, admin, mentor, members)


def bot_settings(emu: DiscordEmulator, database_url: str, guild_id: int | None, **extra: Any) -> Settings:
    # tests drive many writes per member within seconds; the cooldown has its own test
    extra.setdefault("write_cooldown_rate", 1000)
    return Settings(
        discord_token=emu.token,
        database_url=database_url,
        dev_guild_id=guild_id,
        log_level="INFO",
        discord_api_base_url=emu.api_base_url,
        discord_gateway_url=emu.gateway_url,
        _env_file=None,
        **extra,
    )


TEARDOWN_TIMEOUT = 20.0


async def bounded(awaitable: Awaitable[Any], what: str, timeout: float = TEARDOWN_TIMEOUT) -> None:
    """Await a teardown step; if it stalls, print every task's stack and fail instead of hanging."""
    try:
        await asyncio.wait_for(asyncio.ensure_future(awaitable), timeout)
    except TimeoutError:
        print(f"\n{what} did not finish within {timeout} s; tasks:", file=sys.stderr)
        for task in asyncio.all_tasks():
            print(repr(task), file=sys.stderr)
            task.print_stack(file=sys.stderr)
        raise


@contextlib.asynccontextmanager
async def running_bot(settings: Settings, emu: DiscordEmulator, *, clock: Clock | None = None) -> AsyncIterator[Any]:
    """The real bot, in this event loop, connected to the emulator until the block ends; with a
    `clock`, the bot reads the time from it (share it with the emulator: `emu.clock = clock.time`)."""
    bot = build_bot(settings, guild_ready_timeout=0.05, clock=clock)
    assert settings.discord_token is not None
    task = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
    try:
        ready = asyncio.create_task(emu.wait_until_ready())
        done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            ready.cancel()
            task.result()
            raise RuntimeError("the bot stopped before it was ready")
        ready.result()
        await bot.wait_until_ready()
        yield bot
    finally:
        await bounded(bot.close(), "bot.close()")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        await bounded(bot.engine.dispose(), "the bot's engine.dispose()")


class BotProcess:
    """`python -m bot run` (or another bot's `program`) as a child process talking to the emulator."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        python_args: tuple[str, ...] = (),
        program: tuple[str, ...] = ("-m", "bot", "run"),
    ) -> None:
        self.env = env
        self.log_path = log_path
        self.python_args = python_args  # e.g. ("-m", "cProfile", "-o", "bot.prof") to profile the bot
        self.program = program  # e.g. ("bench/bare_bot.py",): a bare discord.py bot to compare with
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, emu: DiscordEmulator, *, timeout: float = 30.0) -> None:
        before = emu.identify_count
        syncs_before = emu.command_syncs
        syncs = "DEV_GUILD_ID" in self.env
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, *self.python_args, *self.program, env=self.env, cwd=ROOT, stdout=log, stderr=log
        )
        log.close()
        deadline = asyncio.get_running_loop().time() + timeout
        while emu.identify_count == before or (syncs and emu.command_syncs == syncs_before):
            if self.proc.returncode is not None:
                raise RuntimeError(f"bot exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"bot did not connect:\n{self.log_path.read_text()}")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # GUILD_CREATE processed and the bot marked ready

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await asyncio.wait_for(self.proc.wait(), timeout)


def subprocess_env(emu: DiscordEmulator, database_url: str, guild_id: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_", "DEV_GUILD"))}
    env.update(
        {
            "DISCORD_TOKEN": emu.token,
            "DATABASE_URL": database_url,
            "DISCORD_API_BASE_URL": emu.api_base_url,
            "DISCORD_GATEWAY_URL": emu.gateway_url,
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if guild_id is not None:
        env["DEV_GUILD_ID"] = str(guild_id)
    return env


Check = Callable[[], bool]


API_FORM_LABELS = {
    "request": "Request body example (JSON)",
    "response": "Response example (JSON)",
    "query": "Query parameters (name: type, one a line)",
    "description": "Description",
}
"""The /api add and /api edit form's fields by short name."""


async def add_endpoint(
    emu: DiscordEmulator, member: Any, method: str, path: str, summary: str, status: int | None = None, **form: str
) -> Interaction:
    """Run /api add and, when the form opens, submit it with `form` (request=, response=, query=,
    description=); the interaction that answered (the form's, or the command's refusal)."""
    options: dict[str, Any] = {"method": method, "path": path, "summary": summary}
    if status is not None:
        options["status"] = status
    opened = await emu.command(member, "api add", **options)
    if opened.modal is None:
        return opened
    return await emu.submit_modal(member, opened, {API_FORM_LABELS[k]: v for k, v in form.items()})
