"""The per-guild project catalog, seeded from bot/data/catalog.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import insert_new, transaction
from bot.domain.cohort import clean_description, clean_project_name, project_key
from bot.domain.errors import ConflictError, NotFoundError, ValidationError
from bot.domain.names import match_name, rank_names, suggest_names
from bot.domain.text import quoted, safe_text, strip_control
from bot.services.cache import GuildCache
from models import Announcement, GuildSettings, Project, Team

AUTOCOMPLETE_LIMIT = 25
CATALOG_MAX = 100


@dataclass(frozen=True)
class ProjectInfo:
    """A catalog entry as the cogs show it."""

    id: int
    name: str
    description: str
    """The backend brief."""
    frontend: str = ""
    """The frontend brief ("" when staff gave none)."""


@lru_cache(maxsize=1)
def default_catalog() -> tuple[tuple[str, str, str], ...]:
    """(name, backend brief, frontend brief) triples from the packaged default catalog."""
    text = resources.files("bot").joinpath("data/catalog.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return tuple(
        (str(p["name"]), str(p.get("description", "")), str(p.get("frontend", ""))) for p in data.get("projects", [])
    )


def _info(row: Project) -> ProjectInfo:
    return ProjectInfo(row.id, row.name, row.description, row.frontend_brief or "")


async def ensure_catalog(session: AsyncSession, guild_id: int) -> None:
    """Seed the guild's catalog from the default file the first time it is needed."""
    settings = await session.get(GuildSettings, guild_id)
    if settings is not None and settings.catalog_seeded:
        return
    # first commands in a new server arrive together: on PostgreSQL their transactions seed at the
    # same moment, so every insert tolerates the rows another one is adding
    if settings is None:
        await session.execute(insert_new(session, GuildSettings, "guild_id").values(guild_id=guild_id))
    # the row lock waits for a transaction seeding right now; if it did, its catalog stands (staff
    # may even have removed a default project since, which must not come back)
    seeded = await session.scalar(
        select(GuildSettings.catalog_seeded).where(GuildSettings.guild_id == guild_id).with_for_update()
    )
    if seeded:
        return
    projects = [
        {
            "guild_id": guild_id,
            "name": name,
            "name_key": project_key(name),
            "description": description,
            "frontend_brief": frontend or None,
        }
        for name, description, frontend in default_catalog()
    ]
    await session.execute(insert_new(session, Project, "guild_id", "name_key"), projects)
    await session.execute(
        update(GuildSettings)
        .where(GuildSettings.guild_id == guild_id)
        .values(catalog_seeded=True)
        .execution_options(synchronize_session="fetch")
    )


async def resolve_project(session: AsyncSession, guild_id: int, text: str) -> Project:
    """The project named `text` (case-insensitively, or an unambiguous near-match such as
    `ecommerce`), or a NotFoundError suggesting close names."""
    key = project_key(text)
    row = await session.scalar(select(Project).where(Project.guild_id == guild_id, Project.name_key == key))
    if row is not None:
        return row
    names = list((await session.scalars(select(Project.name).where(Project.guild_id == guild_id))).all())
    meant = match_name(text, names)
    if meant is not None:
        row = await session.scalar(
            select(Project).where(Project.guild_id == guild_id, Project.name_key == project_key(meant))
        )
        if row is not None:
            return row
    close = suggest_names(text, names)
    hint = f" Did you mean {', '.join(safe_text(c) for c in close)}?" if close else " See `/catalog list`."
    shown = strip_control(text, keep_newlines=False)[:80]
    raise NotFoundError(f"There is no project called {quoted(shown)} in this server's catalog.{hint}")


class CatalogService:
    """Lists and changes a guild's catalog.

    Autocomplete reads the catalog on every keystroke, so the list comes from a per-guild cache
    that `add` and `remove` invalidate once their transaction ends.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._seeded: set[int] = set()
        self.cache = GuildCache(self._read)

    async def projects(self, guild_id: int) -> tuple[ProjectInfo, ...]:
        """Every project in the catalog, by name."""
        return await self.cache.get(guild_id)

    async def _read(self, guild_id: int) -> tuple[ProjectInfo, ...]:
        if guild_id not in self._seeded:
            # the first read seeds the defaults (a write); once seeded, a catalog stays seeded
            async with transaction(self._sessions) as session:
                await ensure_catalog(session, guild_id)
            self._seeded.add(guild_id)
        async with self._sessions() as session:
            rows = await session.scalars(select(Project).where(Project.guild_id == guild_id).order_by(Project.name))
            return tuple(_info(row) for row in rows)

    async def autocomplete(self, guild_id: int, current: str) -> list[str]:
        """Project names for an autocomplete box, best matches first."""
        projects = await self.projects(guild_id)
        return rank_names(current, [p.name for p in projects], AUTOCOMPLETE_LIMIT)

    async def add(self, guild_id: int, name: str, description: str, frontend: str = "") -> ProjectInfo:
        """Add a project with its backend brief (`description`) and optional frontend brief; names are
        unique per guild, ignoring case."""
        clean = clean_project_name(name)
        about = clean_description(description)
        front = clean_description(frontend)
        try:
            async with self.cache.changing(guild_id), transaction(self._sessions) as session:
                await ensure_catalog(session, guild_id)
                count = await session.scalar(select(func.count()).where(Project.guild_id == guild_id))
                if (count or 0) >= CATALOG_MAX:
                    raise ValidationError(f"The catalog already has {CATALOG_MAX} projects; remove one first.")
                clash = await session.scalar(
                    select(Project).where(Project.guild_id == guild_id, Project.name_key == project_key(clean))
                )
                if clash is not None:
                    raise ConflictError(f"{clash.name} is already in the catalog.")
                row = Project(
                    guild_id=guild_id,
                    name=clean,
                    name_key=project_key(clean),
                    description=about,
                    frontend_brief=front or None,
                )
                session.add(row)
                await session.flush()
                return _info(row)
        except IntegrityError:
            raise ConflictError(f"{clean} is already in the catalog.") from None

    async def remove(self, guild_id: int, name: str) -> ProjectInfo:
        """Remove a project nobody has announced and no team was formed on; otherwise refuse and say
        why (the database refuses too: announcements and teams keep their project)."""
        async with self.cache.changing(guild_id), transaction(self._sessions) as session:
            await ensure_catalog(session, guild_id)
            row = await resolve_project(session, guild_id, name)
            used = await session.scalar(
                select(func.count()).where(Announcement.project_id == row.id, Announcement.guild_id == guild_id)
            )
            if used:
                raise ConflictError(
                    f"{row.name} can't be removed: {used} announcement(s) use it. "
                    "They would lose their project; ask those learners to re-announce first."
                )
            teams = await session.scalar(select(func.count()).where(Team.project_id == row.id))
            if teams:
                raise ConflictError(
                    f"{row.name} can't be removed: {teams} team(s), past or present, were formed on it, "
                    "and their history keeps its name."
                )
            info = _info(row)
            await session.delete(row)
            return info
