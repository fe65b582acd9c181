"""Reading a team's API contract: endpoints with who agreed to their current revision, its version,
its changes, and the contract's health across a guild."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.api_contract import EndpointSpec, parse_query_params
from bot.domain.api_diff import FieldChange, diff_endpoints, snapshot_spec
from bot.services.team_queries import current_members
from models import ApiAgreement, ApiChange, ApiEndpoint, Project, Team


@dataclass(frozen=True)
class EndpointView:
    """An endpoint, who agreed to it as it stands (`agreed_by`) and who agreed to an earlier revision."""

    id: int
    spec: EndpointSpec
    revision: int
    agreed_by: frozenset[int]
    earlier_agreed: frozenset[int]
    members: frozenset[int]

    @property
    def method(self) -> str:
        return self.spec.method

    @property
    def path(self) -> str:
        return self.spec.path

    @property
    def summary(self) -> str:
        return self.spec.summary

    @property
    def agreed(self) -> bool:
        return bool(self.members) and self.members <= self.agreed_by

    @property
    def changed_since_agreement(self) -> bool:
        """Not agreed as it stands, though some member agreed to an earlier revision."""
        return not self.agreed and bool(self.earlier_agreed & self.members)


@dataclass(frozen=True)
class ContractHealth:
    """How many endpoints every member agreed, how many wait, and how many changed since agreed."""

    agreed: int = 0
    pending: int = 0
    changed: int = 0

    @property
    def total(self) -> int:
        return self.agreed + self.pending + self.changed

    @property
    def all_agreed(self) -> bool:
        return self.total > 0 and self.agreed == self.total


@dataclass(frozen=True)
class Contract:
    team_id: int
    project_name: str
    members: frozenset[int]
    endpoints: tuple[EndpointView, ...]
    version: int

    @property
    def agreed(self) -> bool:
        return bool(self.endpoints) and all(e.agreed for e in self.endpoints)

    @property
    def health(self) -> ContractHealth:
        changed = sum(e.changed_since_agreement for e in self.endpoints)
        agreed = sum(e.agreed for e in self.endpoints)
        return ContractHealth(agreed, len(self.endpoints) - agreed - changed, changed)


@dataclass(frozen=True)
class ChangeView:
    """One change to a contract: the version it made, who made it, and the endpoint before and after."""

    id: int
    team_id: int
    project_name: str
    version: int
    actor_id: int | None
    endpoint_id: int | None
    before: EndpointSpec | None
    after: EndpointSpec | None
    created_at: datetime

    @property
    def endpoint(self) -> EndpointSpec:
        spec = self.after or self.before
        assert spec is not None
        return spec

    @property
    def action(self) -> str:
        return "added" if self.before is None else "removed" if self.after is None else "changed"

    @property
    def changes(self) -> list[FieldChange]:
        return diff_endpoints(self.before, self.after)


def endpoint_spec(endpoint: ApiEndpoint, *, agreed: bool = False) -> EndpointSpec:
    return EndpointSpec(
        method=endpoint.method,
        path=endpoint.path,
        summary=endpoint.summary,
        status=endpoint.status,
        request_example=endpoint.request_example,
        response_example=endpoint.response_example,
        query=parse_query_params(endpoint.query_params),
        description=endpoint.description,
        agreed=agreed,
    )


async def members_of(session: AsyncSession, team_id: int) -> frozenset[int]:
    return frozenset(m.user_id for m in await current_members(session, team_id, accepted_only=True))


async def contract_version(session: AsyncSession, team_id: int) -> int:
    """The contract's version: how many changes it has had since versions were kept (0 before any)."""
    return int(await session.scalar(select(func.max(ApiChange.version)).where(ApiChange.team_id == team_id)) or 0)


async def load_contract(session: AsyncSession, team: Team) -> Contract:
    """The team's contract with each endpoint's agreements from current members."""
    members = await members_of(session, team.id)
    endpoints = list(
        await session.scalars(select(ApiEndpoint).where(ApiEndpoint.team_id == team.id).order_by(ApiEndpoint.id))
    )
    current: dict[int, set[int]] = {}
    earlier: dict[int, set[int]] = {}
    if endpoints:
        revisions = {e.id: e.revision for e in endpoints}
        for endpoint_id, user_id, revision in await session.execute(
            select(ApiAgreement.endpoint_id, ApiAgreement.user_id, ApiAgreement.revision).where(
                ApiAgreement.endpoint_id.in_(list(revisions))
            )
        ):
            (current if revision == revisions[endpoint_id] else earlier).setdefault(endpoint_id, set()).add(user_id)
    project = await session.get(Project, team.project_id)
    views = []
    for e in endpoints:
        agreed_by = frozenset(current.get(e.id, set()) & members)
        views.append(
            EndpointView(
                e.id,
                endpoint_spec(e, agreed=bool(members) and members <= agreed_by),
                e.revision,
                agreed_by,
                frozenset(earlier.get(e.id, set())),
                members,
            )
        )
    return Contract(
        team.id, project.name if project else "Project", members, tuple(views), await contract_version(session, team.id)
    )


def change_view(change: ApiChange, project_name: str) -> ChangeView:
    return ChangeView(
        change.id,
        change.team_id,
        project_name,
        change.version,
        change.actor_id,
        change.endpoint_id,
        snapshot_spec(json.loads(change.before) if change.before else None),
        snapshot_spec(json.loads(change.after) if change.after else None),
        change.created_at,
    )


async def guild_health(session: AsyncSession, guild_id: int, teams: dict[int, int]) -> dict[int, ContractHealth]:
    """Each formed team's contract health; `teams` maps each member in a formed team to the team."""
    members: dict[int, set[int]] = {}
    for user_id, team_id in teams.items():
        members.setdefault(team_id, set()).add(user_id)
    endpoints = {
        endpoint_id: (team_id, revision)
        for endpoint_id, team_id, revision in await session.execute(
            select(ApiEndpoint.id, ApiEndpoint.team_id, ApiEndpoint.revision).where(ApiEndpoint.guild_id == guild_id)
        )
        if team_id in members
    }
    current: dict[int, set[int]] = {}
    earlier: dict[int, set[int]] = {}
    for endpoint_id, user_id, revision in await session.execute(
        select(ApiAgreement.endpoint_id, ApiAgreement.user_id, ApiAgreement.revision).where(
            ApiAgreement.guild_id == guild_id
        )
    ):
        if endpoint_id in endpoints:
            latest = endpoints[endpoint_id][1]
            (current if revision == latest else earlier).setdefault(endpoint_id, set()).add(user_id)
    counts: dict[int, list[int]] = {}
    for endpoint_id, (team_id, _revision) in endpoints.items():
        tally = counts.setdefault(team_id, [0, 0, 0])
        if members[team_id] <= current.get(endpoint_id, set()):
            tally[0] += 1
        elif earlier.get(endpoint_id, set()) & members[team_id]:
            tally[2] += 1
        else:
            tally[1] += 1
    return {team_id: ContractHealth(*tally) for team_id, tally in counts.items()}
