"""A formed team's API contract: endpoints with examples, agreements, versions and the exports.

Every change (an endpoint added, edited or removed) is one transaction that bumps the contract's
version, records the endpoint before and after, and returns an `ApiChanged` event: the delivery
layer tells the other members what changed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import transaction
from bot.domain.api_contract import (
    ENDPOINTS_MAX,
    EndpointForm,
    EndpointSpec,
    clean_endpoint,
    query_text,
)
from bot.domain.api_export import openapi_document, postman_collection
from bot.domain.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from bot.domain.events import ApiChanged, Event, TeamChanged
from bot.services.api_queries import (
    ChangeView,
    Contract,
    EndpointView,
    change_view,
    contract_version,
    endpoint_spec,
    load_contract,
)
from bot.services.notices import retire_posts
from bot.services.team_queries import formed_team_of
from models import ApiAgreement, ApiChange, ApiEndpoint, Project, Team, TeamMember

__all__ = ["ApiOutcome", "ApiService", "ChangeView", "Contract", "EndpointView", "ExportFormat", "load_contract"]

HISTORY_MAX = 500
"""Changes /api history reads at most (newest first)."""
EXPORT_DESCRIPTION = "Agreed in Discord with Nexus. x-nexus-agreed marks endpoints every team member agreed."


class ExportFormat(StrEnum):
    OPENAPI = "openapi"
    POSTMAN = "postman"


@dataclass(frozen=True)
class ApiOutcome:
    """What a change did: the contract after it, the endpoint (None once removed), the change
    recorded (None when nothing changed) and the events for the delivery layer."""

    contract: Contract
    endpoint: EndpointView | None
    change: ChangeView | None
    events: tuple[Event, ...] = ()


async def _my_team(session: AsyncSession, guild_id: int, user_id: int) -> Team:
    team = await formed_team_of(session, guild_id, user_id)
    if team is None:
        raise PermissionDeniedError(
            "Only members of a formed team can work on its API: find a partner first (`/partner find`). "
            "Nothing was changed."
        )
    return team


async def _endpoint(session: AsyncSession, guild_id: int, team: Team, endpoint_id: int) -> ApiEndpoint:
    endpoint = await session.get(ApiEndpoint, endpoint_id)
    if endpoint is None or endpoint.guild_id != guild_id or endpoint.team_id != team.id:
        raise NotFoundError(
            f"Your team's contract has no endpoint #{endpoint_id}; see `/api list`. Nothing was changed."
        )
    return endpoint


async def _room_for(session: AsyncSession, team: Team, method: str, path: str) -> None:
    """Refuse a new endpoint when the contract is full or already has `method path`."""
    count = await session.scalar(select(func.count()).where(ApiEndpoint.team_id == team.id))
    if (count or 0) >= ENDPOINTS_MAX:
        raise ValidationError(f"A contract has at most {ENDPOINTS_MAX} endpoints.")
    taken = await session.scalar(
        select(ApiEndpoint.id).where(
            ApiEndpoint.team_id == team.id, ApiEndpoint.method == method, ApiEndpoint.path == path
        )
    )
    if taken is not None:
        raise ConflictError(f"{method} {path} is already in your contract as #{taken}: change it with `/api edit`.")


def _write(endpoint: ApiEndpoint, spec: EndpointSpec) -> None:
    endpoint.summary = spec.summary
    endpoint.status = spec.status
    endpoint.request_example = spec.request_example
    endpoint.response_example = spec.response_example
    endpoint.query_params = query_text(spec.query)
    endpoint.description = spec.description


async def _agree(session: AsyncSession, endpoint: ApiEndpoint, user_id: int) -> None:
    agreement = await session.get(ApiAgreement, (endpoint.id, user_id))
    if agreement is None:
        session.add(
            ApiAgreement(
                guild_id=endpoint.guild_id, endpoint_id=endpoint.id, user_id=user_id, revision=endpoint.revision
            )
        )
    else:
        agreement.revision = endpoint.revision
    await session.flush()


async def _record(
    session: AsyncSession,
    team: Team,
    user_id: int,
    endpoint_id: int,
    before: EndpointSpec | None,
    after: EndpointSpec | None,
) -> tuple[ChangeView, ApiChanged]:
    """Record a change as the contract's next version, and whom to tell: the other members."""
    change = ApiChange(
        guild_id=team.guild_id,
        team_id=team.id,
        endpoint_id=endpoint_id,
        version=await contract_version(session, team.id) + 1,
        actor_id=user_id,
        before=json.dumps(before.snapshot()) if before else None,
        after=json.dumps(after.snapshot()) if after else None,
    )
    session.add(change)
    team.revision += 1  # the team's post shows the contract: it is edited
    await session.flush()
    project = await session.get(Project, team.project_id)
    view = change_view(change, project.name if project else "Project")
    contract = await load_contract(session, team)
    others = tuple(sorted(contract.members - {user_id}))
    return view, ApiChanged(team.id, change.id, others)


def _view(contract: Contract, endpoint_id: int) -> EndpointView:
    return next(e for e in contract.endpoints if e.id == endpoint_id)


class ApiService:
    """Endpoints of the caller's own team only: nobody else can change a contract."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def contract(self, guild_id: int, user_id: int) -> Contract:
        """The caller's team contract (refused when the caller is in no formed team)."""
        async with self._sessions() as session:
            return await load_contract(session, await _my_team(session, guild_id, user_id))

    async def endpoint(self, guild_id: int, user_id: int, endpoint_id: int) -> EndpointView:
        """One endpoint of the caller's team contract."""
        async with self._sessions() as session:
            team = await _my_team(session, guild_id, user_id)
            endpoint = await _endpoint(session, guild_id, team, endpoint_id)
            return _view(await load_contract(session, team), endpoint.id)

    async def check_new(self, guild_id: int, user_id: int, method: str, path: str) -> None:
        """Refuse, before the form opens, an endpoint `add` would refuse for its method and path."""
        async with self._sessions() as session:
            team = await _my_team(session, guild_id, user_id)
            await _room_for(session, team, method, path)

    async def add(
        self, guild_id: int, user_id: int, method: str, path: str, summary: str, status: int, form: EndpointForm
    ) -> ApiOutcome:
        """Add an endpoint; its author agrees to it at once, the others still have to."""
        spec = clean_endpoint(method, path, summary, status, form)
        try:
            async with transaction(self._sessions) as session:
                team = await _my_team(session, guild_id, user_id)
                await _room_for(session, team, spec.method, spec.path)
                endpoint = ApiEndpoint(
                    guild_id=guild_id, team_id=team.id, method=spec.method, path=spec.path, created_by=user_id
                )
                _write(endpoint, spec)
                session.add(endpoint)
                await session.flush()
                await _agree(session, endpoint, user_id)
                change, event = await _record(session, team, user_id, endpoint.id, None, spec)
                contract = await load_contract(session, team)
                return ApiOutcome(contract, _view(contract, endpoint.id), change, (event,))
        except IntegrityError:
            raise ConflictError(
                f"{spec.method} {spec.path} is already in your contract (or a teammate changed it at the same "
                "moment): see `/api list`."
            ) from None

    async def edit(
        self,
        guild_id: int,
        user_id: int,
        endpoint_id: int,
        form: EndpointForm,
        *,
        summary: str | None = None,
        status: int | None = None,
    ) -> ApiOutcome:
        """Change an endpoint's examples, query parameters, description (and summary or status): a
        new revision that its editor agrees to and the others must agree to again."""
        try:
            async with transaction(self._sessions) as session:
                team = await _my_team(session, guild_id, user_id)
                endpoint = await _endpoint(session, guild_id, team, endpoint_id)
                before = endpoint_spec(endpoint)
                after = clean_endpoint(
                    endpoint.method,
                    endpoint.path,
                    before.summary if summary is None else summary,
                    before.status if status is None else status,
                    form,
                )
                if after.same_contract(before):
                    contract = await load_contract(session, team)
                    return ApiOutcome(contract, _view(contract, endpoint.id), None)
                _write(endpoint, after)
                endpoint.revision += 1
                await session.flush()
                await _agree(session, endpoint, user_id)
                change, event = await _record(session, team, user_id, endpoint.id, before, after)
                contract = await load_contract(session, team)
                return ApiOutcome(contract, _view(contract, endpoint.id), change, (event,))
        except IntegrityError:
            raise ConflictError("A teammate changed the contract at the same moment: try again.") from None

    async def agree(self, guild_id: int, user_id: int, endpoint_id: int) -> ApiOutcome:
        """Agree to an endpoint as it stands (its current revision); the team's post shows it."""
        async with transaction(self._sessions) as session:
            team = await _my_team(session, guild_id, user_id)
            endpoint = await _endpoint(session, guild_id, team, endpoint_id)
            await _agree(session, endpoint, user_id)
            team.revision += 1
            await session.flush()
            contract = await load_contract(session, team)
            return ApiOutcome(contract, _view(contract, endpoint.id), None, (TeamChanged(team.id),))

    async def remove(self, guild_id: int, user_id: int, endpoint_id: int) -> ApiOutcome:
        try:
            async with transaction(self._sessions) as session:
                team = await _my_team(session, guild_id, user_id)
                endpoint = await _endpoint(session, guild_id, team, endpoint_id)
                before = endpoint_spec(endpoint)
                await session.execute(delete(ApiAgreement).where(ApiAgreement.endpoint_id == endpoint.id))
                await session.delete(endpoint)
                await session.flush()
                change, event = await _record(session, team, user_id, endpoint_id, before, None)
                return ApiOutcome(await load_contract(session, team), None, change, (event,))
        except IntegrityError:
            raise ConflictError("A teammate changed the contract at the same moment: try again.") from None

    async def history(self, guild_id: int, user_id: int) -> list[ChangeView]:
        """The changes to the caller's team contract, newest first."""
        async with self._sessions() as session:
            team = await _my_team(session, guild_id, user_id)
            project = await session.get(Project, team.project_id)
            rows = await session.scalars(
                select(ApiChange)
                .where(ApiChange.team_id == team.id)
                .order_by(ApiChange.version.desc())
                .limit(HISTORY_MAX)
            )
            return [change_view(row, project.name if project else "Project") for row in rows]

    async def change(self, change_id: int) -> ChangeView:
        """One recorded change (for the delivery layer's notices)."""
        async with self._sessions() as session:
            row = await session.get(ApiChange, change_id)
            if row is None:
                raise NotFoundError("That change is no longer recorded.")
            name = await session.scalar(
                select(Project.name).join(Team, Team.project_id == Project.id).where(Team.id == row.team_id)
            )
            return change_view(row, name or "Project")

    async def record_post(
        self, change_id: int, channel_id: int, message_id: int, told_ids: Sequence[int]
    ) -> list[Event]:
        """Remember the team-thread message that told `told_ids` of a change, so forget-me can
        delete it. The post names who made the change and pings those told: if one of them was
        forgotten while it was being sent (forget-me could not see it yet), it is deleted at once;
        the events deliver that deletion. A change no longer recorded has nothing to remember."""
        async with transaction(self._sessions) as session:
            # locked (PostgreSQL): a forget-me running now either commits first, and her row is gone
            # here, or waits for this to commit, and then finds the post recorded
            row = await session.get(ApiChange, change_id, with_for_update=True)
            if row is None:
                return []
            members = set(
                await session.scalars(
                    select(TeamMember.user_id).where(TeamMember.team_id == row.team_id).with_for_update(read=True)
                )
            )
            if row.actor_id is None or not set(told_ids) <= members:
                return await retire_posts(session, row.guild_id, [(channel_id, message_id)])
            row.post_channel_id, row.post_message_id = channel_id, message_id
            return []

    async def export(self, guild_id: int, user_id: int, fmt: ExportFormat = ExportFormat.OPENAPI) -> tuple[str, str]:
        """(file name, text) of the caller's team contract: OpenAPI 3.1 YAML or a Postman collection v2.1."""
        contract = await self.contract(guild_id, user_id)
        if not contract.endpoints:
            raise ValidationError("Your contract has no endpoints yet: add one with `/api add`.")
        title = f"{contract.project_name} API"
        specs = [e.spec for e in contract.endpoints]
        slug = "".join(ch if ch.isalnum() else "-" for ch in contract.project_name.lower()).strip("-") or "api"
        if fmt is ExportFormat.POSTMAN:
            collection = postman_collection(title, specs, description=EXPORT_DESCRIPTION)
            return f"{slug}.postman_collection.json", json.dumps(collection, indent=2, ensure_ascii=False)
        document = openapi_document(title, specs, version=contract.version, description=EXPORT_DESCRIPTION)
        return f"{slug}-openapi.yaml", yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
