"""Command line: `python -m bot [run|migrate|sync|backup|sandbox]`.

With no subcommand, Nexus connects to Discord when DISCORD_TOKEN is set and otherwise opens the
local sandbox, so a newcomer can try it without a Discord application.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from bot.config import Settings, load_settings_or_exit
from bot.logging_setup import configure_logging
from bot.versions import installed_problem

T = TypeVar("T")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Nexus, the Project Nexus Discord bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="apply migrations, then connect to Discord (needs DISCORD_TOKEN)")
    sub.add_parser("migrate", help="upgrade the database to the latest schema")
    sync = sub.add_parser("sync", help="sync slash commands globally, or to one server with --guild")
    sync.add_argument("--guild", type=int, help="server id to sync to (instant, for development)")
    backup = sub.add_parser("backup", help="copy the SQLite database to FILE while the bot runs")
    backup.add_argument("file", type=Path, help="where to write the copy")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    sandbox = sub.add_parser("sandbox", help="run against the local Discord emulator with a console")
    sandbox.add_argument(
        "--db",
        type=Path,
        help="SQLite file (default data/sandbox.db; a --script without --db uses a new temporary one)",
    )
    sandbox.add_argument("--script", type=Path, help="play the lines of FILE, then exit (non-zero on an error)")
    return parser


def _require_token(settings: Settings) -> None:
    if settings.discord_token is None:
        print(
            "nexus: Missing setting DISCORD_TOKEN: put the bot token in .env or the environment",
            file=sys.stderr,
        )
        raise SystemExit(2)


def _with_discord(settings: Settings, work: Callable[[], Coroutine[Any, Any, T]]) -> T | None:
    """Run `work`; a failure to reach or log in to Discord becomes one line on stderr and None."""
    from bot.runtime import describe_connect_failure

    try:
        return asyncio.run(work())
    except Exception as exc:
        problem = describe_connect_failure(exc, settings)
        if problem is None:
            raise
        logging.getLogger("nexus").debug("Connecting to Discord failed", exc_info=exc)
        print(f"nexus: {problem}", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    problem = installed_problem()
    if problem is not None:  # before anything imports the SQLite adapter, which would refuse it
        print(f"nexus: {problem}", file=sys.stderr)
        return 2
    settings = load_settings_or_exit()
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    configure_logging(settings.log_level, secrets=[token], log_format=settings.log_format)
    command = args.command or ("run" if settings.has_token else "sandbox")

    if command == "migrate":
        from bot.db import upgrade_database

        upgrade_database(settings.database_url)
        print(f"Database at head ({settings.database_url.split('://', 1)[0]}).")
        return 0
    if command == "backup":
        from bot.backup import BackupError, backup_sqlite

        try:
            size = backup_sqlite(settings.database_url, args.file, overwrite=args.force)
        except BackupError as exc:
            print(f"nexus: backup failed: {exc}", file=sys.stderr)
            return 1
        print(f"Backed up to {args.file} ({size:,} bytes, integrity ok).")
        return 0
    if command == "sync":
        from bot.runtime import sync_commands

        _require_token(settings)
        count = _with_discord(settings, lambda: sync_commands(settings, args.guild))
        if count is None:
            return 1
        where = f"server {args.guild}" if args.guild else "all servers (global; may take up to an hour to show)"
        print(f"Synced {count} commands to {where}.")
        return 0
    if command == "run":
        from bot.runtime import run_bot

        _require_token(settings)

        async def serve() -> bool:
            await run_bot(settings)
            return True

        return 0 if _with_discord(settings, serve) else 1

    from bot.sandbox.console import run_sandbox

    if args.command is None:
        print("No DISCORD_TOKEN set: starting the local sandbox (type 'help').", file=sys.stderr)
    db = getattr(args, "db", None)
    script = getattr(args, "script", None)
    if "database_url" in settings.model_fields_set:
        where = db or "data/sandbox.db, or a temporary one for --script"
        print(f"nexus: the sandbox keeps its own SQLite file ({where}; choose it with --db); DATABASE_URL is not used.")
    return asyncio.run(run_sandbox(settings, db=db, script=script))


if __name__ == "__main__":
    raise SystemExit(main())
