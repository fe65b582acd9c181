"""A formed team's API contract: endpoints, agreements and the OpenAPI export."""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import transaction
from bot.domain.api_contract import (
    ENDPOINTS_MAX,
    EndpointSpec,
    clean_method,
    clean_path,
    clean_summary,
    openapi_document,
)
from bot.domain.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from bot.services.team_queries import current_members, formed_team_of
from models import ApiAgreement, ApiEndpoint, Project, Team


@dataclass(frozen=True)
class EndpointView:
    id: int
    method: str
    path: str
    summary: str
    agreed_by: frozenset[int]
    members: frozenset[int]

    @property
    def agreed(self) -> bool:
        return bool(self.members) and self.members <= self.agreed_by


@dataclass(frozen=True)
class Contract:
    team_id: int
    project_name: str
    members: frozenset[int]
    endpoints: tuple[EndpointView, ...]

    @property
    def agreed(self) -> bool:
        return bool(self.endpoints) and all(e.agreed for e in self.endpoints)


async def _my_team(session: AsyncSession, guild_id: int, user_id: int) -> Team:
    team = await formed_team_of(session, guild_id, user_id)
    if team is None:
        raise PermissionDeniedError(
            "Only members of a formed team can work on its API: find a partner first (`/partner find`)."
        )
    return team


async def _members(session: AsyncSession, team_id: int) -> frozenset[int]:
    return frozenset(m.user_id for m in await current_members(session, team_id, accepted_only=True))


async def load_contract(session: AsyncSession, team: Team) -> Contract:
    """The team's contract with each endpoint's agreements from current members."""
    members = await _members(session, team.id)
    endpoints = list(
        await session.scalars(select(ApiEndpoint).where(ApiEndpoint.team_id == team.id).order_by(ApiEndpoint.id))
    )
    agreements: dict[int, set[int]] = {}
    if endpoints:
        for endpoint_id, user_id in await session.execute(
            select(ApiAgreement.endpoint_id, ApiAgreement.user_id).where(
                ApiAgreement.endpoint_id.in_([e.id for e in endpoints])
            )
        ):
            agreements.setdefault(endpoint_id, set()).add(user_id)
    project = await session.get(Project, team.project_id)
    return Contract(
        team.id,
        project.name if project else "Project",
        members,
        tuple(
            EndpointView(e.id, e.method, e.path, e.summary, frozenset(agreements.get(e.id, set()) & members), members)
            for e in endpoints
        ),
    )


async def _endpoint(session: AsyncSession, guild_id: int, team: Team, endpoint_id: int) -> ApiEndpoint:
    endpoint = await session.get(ApiEndpoint, endpoint_id)
    if endpoint is None or endpoint.guild_id != guild_id or endpoint.team_id != team.id:
        raise NotFoundError(f"Your team's contract has no endpoint #{endpoint_id}; see `/api list`.")
    return endpoint


class ApiService:
    """Endpoints of the caller's own team only: nobody else can change a contract."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, guild_id: int, user_id: int, method: str, path: str, summary: str) -> Contract:
        """Add an endpoint; its author agrees to it at once, the others still have to."""
        method, path, summary = clean_method(method), clean_path(path), clean_summary(summary)
        try:
            async with transaction(self._sessions) as session:
                team = await _my_team(session, guild_id, user_id)
                count = await session.scalar(select(func.count()).where(ApiEndpoint.team_id == team.id))
                if (count or 0) >= ENDPOINTS_MAX:
                    raise ValidationError(f"A contract has at most {ENDPOINTS_MAX} endpoints.")
                endpoint = ApiEndpoint(
                    guild_id=guild_id, team_id=team.id, method=method, path=path, summary=summary, created_by=user_id
                )
                session.add(endpoint)
                await session.flush()
                session.add(ApiAgreement(guild_id=guild_id, endpoint_id=endpoint.id, user_id=user_id))
                await session.flush()
                return await load_contract(session, team)
        except IntegrityError:
            raise ConflictError(f"{method} {path} is already in your contract.") from None

    async def contract(self, guild_id: int, user_id: int) -> Contract:
        async with self._sessions() as session:
            return await load_contract(session, await _my_team(session, guild_id, user_id))

    async def agree(self, guild_id: int, user_id: int, endpoint_id: int) -> tuple[Contract, EndpointView]:
        async with transaction(self._sessions) as session:
            team = await _my_team(session, guild_id, user_id)
            endpoint = await _endpoint(session, guild_id, team, endpoint_id)
            if await session.get(ApiAgreement, (endpoint.id, user_id)) is None:
                session.add(ApiAgreement(guild_id=guild_id, endpoint_id=endpoint.id, user_id=user_id))
                await session.flush()
            contract = await load_contract(session, team)
            return contract, next(e for e in contract.endpoints if e.id == endpoint.id)

    async def remove(self, guild_id: int, user_id: int, endpoint_id: int) -> EndpointView:
        async with transaction(self._sessions) as session:
            team = await _my_team(session, guild_id, user_id)
            endpoint = await _endpoint(session, guild_id, team, endpoint_id)
            view = EndpointView(endpoint.id, endpoint.method, endpoint.path, endpoint.summary, frozenset(), frozenset())
            await session.execute(delete(ApiAgreement).where(ApiAgreement.endpoint_id == endpoint.id))
            await session.delete(endpoint)
            return view

    async def export_yaml(self, guild_id: int, user_id: int) -> tuple[str, str]:
        """(file name, OpenAPI 3.1 YAML) for the caller's team contract."""
        contract = await self.contract(guild_id, user_id)
        if not contract.endpoints:
            raise ValidationError("Your contract has no endpoints yet: add one with `/api add`.")
        document = openapi_document(
            f"{contract.project_name} API",
            [EndpointSpec(e.method, e.path, e.summary, e.agreed) for e in contract.endpoints],
            description="Agreed in Discord with Nexus. x-nexus-agreed marks endpoints every team member agreed.",
        )
        slug = "".join(ch if ch.isalnum() else "-" for ch in contract.project_name.lower()).strip("-") or "api"
        return f"{slug}-openapi.yaml", yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
