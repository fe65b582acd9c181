"""What staff are told in their channel: one rule for every record posted there (a follow-up's
flag, a check-in silence flag, a staff notice such as Discord's thread cap)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CheckinFlag, FollowUpFlag, GuildSettings, StaffNotice

StaffPost = FollowUpFlag | CheckinFlag | StaffNotice


async def add_staff_post(session: AsyncSession, record: StaffPost) -> int | None:
    """Add `record` (of its guild) to the session; its id when it is to be posted in the staff
    channel (the post kind's `channel=staff_channel`), None when no staff channel is set: it is then
    recorded as shown, staff see it in `/setup show` (and the roster), and it is not posted when a
    channel is set later."""
    staff_channel = await session.scalar(
        select(GuildSettings.staff_channel_id).where(GuildSettings.guild_id == record.guild_id)
    )
    record.revision = 1
    record.posted_revision = 0 if staff_channel is not None else 1
    session.add(record)
    await session.flush()
    return record.id if staff_channel is not None else None


def shown_or_on_its_way(model: type[StaffPost]) -> ColumnElement[bool]:
    """The staff posts a change to what they say must show again (with a new revision): those in the
    staff channel, and those still waiting to be posted (a post being made may have read the old
    text). Not those recorded as shown with no staff channel set: a new revision would post them,
    late, once a channel is set (or keep them waiting in `/setup show` until then)."""
    return model.message_id.is_not(None) | (model.posted_revision < model.revision)
