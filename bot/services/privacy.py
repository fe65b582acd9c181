"""Forget me: remove or anonymise every record of one member in one guild."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, case, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from bot.db import transaction
from bot.domain.events import (
    Event,
    FollowUpFlagged,
    MemberForgotten,
    NoticeStored,
    NudgePostStored,
    ScheduledRunClaimed,
    TeamChanged,
)
from bot.domain.schedules import ScheduledPost
from bot.domain.teams import TeamEvent
from bot.services.checkins import forget_checkins
from bot.services.matching import end_membership
from bot.services.notices import retire_posts
from bot.services.nudges import forget_in_nudges
from bot.services.staff import shown_or_on_its_way
from models import (
    Announcement,
    ApiAgreement,
    ApiChange,
    ApiEndpoint,
    ChannelNotice,
    FollowUpFlag,
    FollowUpReply,
    Learner,
    Note,
    NoteVote,
    NoticeMember,
    PairHistory,
    PoolEntry,
    Schedule,
    ScheduleRun,
    Team,
    TeamMember,
    TeamThread,
)

ANONYMOUS_USER_ID = 0
"""Stands in for a forgotten member where a record must keep an author (a team's API endpoint)."""


@dataclass(frozen=True)
class Forgotten:
    """What was removed, and what follows in Discord (posts edited or deleted, members told)."""

    removed: dict[str, int] = field(default_factory=dict)
    events: tuple[Event, ...] = ()

    @property
    def anything(self) -> bool:
        return any(self.removed.values())


class PrivacyService:
    """One transaction that leaves no trace of a member in a guild."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def forget(self, guild_id: int, user_id: int) -> Forgotten:
        """Delete the member's profile, announcement, notes, votes, pool place and pair history;
        end their team (the others are told, without the member's name); anonymise their endpoints;
        and queue every channel post that names them to be edited without them or deleted."""
        async with transaction(self._sessions) as session:
            events: list[Event] = [*await end_membership(session, guild_id, user_id, TeamEvent.MEMBER_FORGOTTEN)]
            announced = await session.execute(
                select(Announcement.channel_id, Announcement.message_id).where(
                    Announcement.guild_id == guild_id, Announcement.user_id == user_id
                )
            )
            events += await retire_posts(session, guild_id, announced)
            events += await _retire_contract_posts(session, guild_id, user_id)
            events += await _scrub_posts(session, guild_id, user_id)
            removed = {
                "announcements": await _delete(
                    session,
                    delete(Announcement).where(Announcement.guild_id == guild_id, Announcement.user_id == user_id),
                ),
                "notes": await _delete(
                    session, delete(Note).where(Note.guild_id == guild_id, Note.author_id == user_id)
                ),
                "helpful votes": await _delete(
                    session, delete(NoteVote).where(NoteVote.guild_id == guild_id, NoteVote.member_id == user_id)
                ),
                "team memberships": await _delete(
                    session,
                    delete(TeamMember).where(TeamMember.guild_id == guild_id, TeamMember.user_id == user_id),
                ),
                "pairing history": await _delete(
                    session,
                    delete(PairHistory).where(
                        PairHistory.guild_id == guild_id,
                        or_(PairHistory.user_low == user_id, PairHistory.user_high == user_id),
                    ),
                ),
                "API agreements": await _delete(
                    session,
                    delete(ApiAgreement).where(ApiAgreement.guild_id == guild_id, ApiAgreement.user_id == user_id),
                ),
                "follow-up answers": await _delete(
                    session,
                    delete(FollowUpReply).where(FollowUpReply.guild_id == guild_id, FollowUpReply.user_id == user_id),
                ),
                "pool places": await _delete(
                    session, delete(PoolEntry).where(PoolEntry.guild_id == guild_id, PoolEntry.user_id == user_id)
                ),
                "profiles": await _delete(
                    session, delete(Learner).where(Learner.guild_id == guild_id, Learner.user_id == user_id)
                ),
            }
            anonymised = await session.execute(
                update(ApiEndpoint)
                .where(ApiEndpoint.guild_id == guild_id, ApiEndpoint.created_by == user_id)
                .values(created_by=ANONYMOUS_USER_ID)
            )
            removed["API endpoints anonymised"] = int(anonymised.rowcount or 0)  # type: ignore[attr-defined]
            unnamed = await session.execute(
                update(ApiChange)
                .where(ApiChange.guild_id == guild_id, ApiChange.actor_id == user_id)
                .values(actor_id=None)
            )
            removed["API changes anonymised"] = int(unnamed.rowcount or 0)  # type: ignore[attr-defined]
            removed["reminder settings and DMs"], nudges = await forget_in_nudges(session, guild_id, user_id)
            events += [NudgePostStored(post_id) for post_id in nudges]
            removed["check-in answers"], edited = await forget_checkins(session, guild_id, user_id)
            events += edited
            events.append(MemberForgotten(user_id))
            return Forgotten(removed, tuple(events))


async def _retire_contract_posts(session: AsyncSession, guild_id: int, user_id: int) -> list[Event]:
    """Queue the deletion of the contract-change posts in her teams' threads that name her: those of
    changes she made, and those of changes made while she was an accepted member (each pings the
    accepted members told; a team ends when one of them leaves). A trio's newcomer who never
    accepted was never told, and the pair's posts stay. The contract's history keeps the changes,
    without her name."""
    membership = and_(
        TeamMember.team_id == ApiChange.team_id, TeamMember.guild_id == guild_id, TeamMember.user_id == user_id
    )
    told = and_(TeamMember.accepted_at.is_not(None), ApiChange.created_at >= TeamMember.accepted_at)
    changes = (
        await session.execute(
            select(ApiChange.id, ApiChange.post_channel_id, ApiChange.post_message_id)
            .join(TeamMember, membership)
            .where(ApiChange.guild_id == guild_id, ApiChange.post_message_id.is_not(None))
            .where(or_(ApiChange.actor_id == user_id, told))
            .distinct()
        )
    ).all()
    if not changes:
        return []
    await session.execute(
        update(ApiChange)
        .where(ApiChange.id.in_([change.id for change in changes]))
        .values(post_channel_id=None, post_message_id=None)  # a teammate forgotten later finds none
    )
    return await retire_posts(session, guild_id, [(change[1], change[2]) for change in changes])


async def _scrub_posts(session: AsyncSession, guild_id: int, user_id: int) -> list[Event]:
    """Clear the member from every team and notice whose post names them, and bump those posts'
    revisions so the delivery layer edits them (or deletes them when nobody is left)."""
    member_of = set(
        await session.scalars(
            select(TeamMember.team_id).where(TeamMember.guild_id == guild_id, TeamMember.user_id == user_id)
        )
    )
    team_ids = await _bump_naming(session, Team, Team.end_actor_id, member_of, guild_id, user_id)
    addressed = set(
        await session.scalars(
            select(NoticeMember.notice_id).where(NoticeMember.guild_id == guild_id, NoticeMember.user_id == user_id)
        )
    )
    await session.execute(
        delete(NoticeMember).where(NoticeMember.guild_id == guild_id, NoticeMember.user_id == user_id)
    )
    # a notice of an API change she made names her as its author
    authored = select(ApiChange.id).where(ApiChange.guild_id == guild_id, ApiChange.actor_id == user_id)
    addressed |= set(
        await session.scalars(
            select(ChannelNotice.id).where(
                ChannelNotice.guild_id == guild_id, ChannelNotice.api_change_id.in_(authored)
            )
        )
    )
    notice_ids = await _bump_naming(session, ChannelNotice, ChannelNotice.actor_id, addressed, guild_id, user_id)
    # a follow-up's staff flag lists its team's members; a weekly digest names new teams and note authors
    flag_ids = await _bump(
        session, FollowUpFlag, FollowUpFlag.team_id.in_(member_of) & shown_or_on_its_way(FollowUpFlag), guild_id
    )
    await _bump(session, TeamThread, TeamThread.id.in_(member_of), guild_id)  # TeamChanged shows it again
    digests = select(Schedule.id).where(Schedule.guild_id == guild_id, Schedule.post == ScheduledPost.DIGEST.value)
    run_ids = await _bump(
        session, ScheduleRun, ScheduleRun.schedule_id.in_(digests) & ScheduleRun.message_id.is_not(None), guild_id
    )
    await session.execute(
        update(Schedule).where(Schedule.guild_id == guild_id, Schedule.author_id == user_id).values(author_id=0)
    )
    return [
        *(TeamChanged(t) for t in sorted(team_ids)),
        *(NoticeStored(n) for n in sorted(notice_ids)),
        *(FollowUpFlagged(f) for f in flag_ids),
        *(ScheduledRunClaimed(r) for r in run_ids),
    ]


async def _bump(
    session: AsyncSession,
    model: type[FollowUpFlag] | type[ScheduleRun] | type[TeamThread],
    where: ColumnElement[bool],
    guild_id: int,
) -> list[int]:
    """Give the guild's records matching `where` a new revision, so their posts are shown again."""
    ids = sorted(await session.scalars(select(model.id).where(model.guild_id == guild_id, where)))
    if ids:
        await session.execute(update(model).where(model.id.in_(ids)).values({model.revision: model.revision + 1}))
    return ids


async def _bump_naming(
    session: AsyncSession,
    model: type[Team] | type[ChannelNotice],
    actor: InstrumentedAttribute[int | None],
    ids: set[int],
    guild_id: int,
    user_id: int,
) -> set[int]:
    """Give a new revision to the records in `ids` and those the member acted in (clearing that
    actor), so their posts are shown again without the member; the ids touched."""
    ids = ids | set(await session.scalars(select(model.id).where(model.guild_id == guild_id, actor == user_id)))
    if ids:
        await session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values({model.revision: model.revision + 1, actor: case((actor == user_id, None), else_=actor)})
        )
    return ids


async def _delete(session: AsyncSession, statement: object) -> int:
    result = await session.execute(statement)  # type: ignore[call-overload]
    return int(result.rowcount or 0)
