"""The registry of channel-post kinds: each names its model, how it renders, and what follows.

A new kind of post is one `PostKind` entry here: the publisher, the outbox's retries and
`/setup show`'s count of waiting posts all go through this registry.
"""

from __future__ import annotations

import logging

import discord

from bot.app import NexusApp
from bot.delivery.channel import staff_channel
from bot.delivery.checkins import show_checkin_report
from bot.delivery.rendered import PostKind, Rendered, ThreadPlan
from bot.delivery.threads import delete_post, show_team_thread
from bot.domain.events import PostKindName
from bot.domain.notices import NoticeKind
from bot.domain.nudges import digest_window
from bot.domain.schedules import ScheduledPost
from bot.domain.threads import ThreadState, archive_duration, thread_name
from bot.ui.checkins import checkin_flag_embed, report_embed, report_view
from bot.ui.cohort import announcement_embed, kickoff_embed, kickoff_view
from bot.ui.digest import digest_embed, digest_view, funnel_attachment
from bot.ui.follow_ups import flag_embed, follow_up_view
from bot.ui.matching import team_embed, team_mentions, team_view
from bot.ui.notices import notice_message
from bot.ui.nudges import nudge_message
from bot.ui.schedules import scheduled_post_embed
from bot.ui.threads import staff_notice_embed, thread_mentions, thread_opening
from models import (
    Announcement,
    ChannelNotice,
    CheckinFlag,
    CheckinReport,
    FollowUpFlag,
    NudgePost,
    PostDeletion,
    ScheduleRun,
    StaffNotice,
    Team,
    TeamThread,
)

__all__ = ["POST_KINDS", "PostKind", "Rendered"]


log = logging.getLogger("nexus.delivery")


async def _announcement(app: NexusApp, record_id: int) -> Rendered:
    info = await app.services.announcements.get(record_id)
    return Rendered(info.revision, info.posted_revision, info.channel_id, info.message_id, announcement_embed(info))


async def _team(app: NexusApp, record_id: int) -> Rendered:
    team = await app.services.matching.team(record_id)
    return Rendered(
        team.revision,
        team.posted_revision,
        team.channel_id,
        team.message_id,
        team_embed(team) if team.members else None,
        team_view(team),
        team_mentions(team),
    )


async def _notice(app: NexusApp, record_id: int) -> Rendered:
    notice = await app.services.notices.get(record_id)
    change = await app.services.api.change(notice.api_change_id) if notice.api_change_id is not None else None
    content, embed = notice_message(notice, change)
    view = None
    if notice.kind is NoticeKind.FOLLOW_UP and notice.team_id is not None and embed is not None:
        view = follow_up_view(notice.team_id)
    return Rendered(notice.revision, notice.posted_revision, notice.channel_id, notice.message_id, embed, view, content)


async def _deletion(app: NexusApp, record_id: int) -> Rendered:
    gone = await app.services.notices.deletion(record_id)
    return Rendered(gone.revision, gone.posted_revision, gone.channel_id, gone.message_id)


async def _scheduled(app: NexusApp, record_id: int) -> Rendered:
    run = await app.services.schedules.run(record_id)
    where = (run.revision, run.posted_revision, run.channel_id, run.message_id)
    if run.post is ScheduledPost.KICKOFF:
        return Rendered(*where, kickoff_embed(), kickoff_view())
    if run.post is ScheduledPost.DIGEST:
        digest = await app.services.digest.week(run.guild_id, *digest_window(run.due_at))
        embed = digest_embed(digest)
        chart = funnel_attachment(embed, await _funnel_png(app, run.guild_id))
        return Rendered(*where, embed, digest_view(digest), file=chart)
    return Rendered(*where, scheduled_post_embed(run))


async def _funnel_png(app: NexusApp, guild_id: int) -> bytes | None:
    """The cohort's Week-1 funnel as PNG bytes (the chart `/cohort chart` draws), drawn off the
    event loop; None when it cannot be drawn, so the digest goes out without it."""
    try:
        return (await app.charts.cohort(await app.services.cohort.chart(guild_id))).png
    except Exception:
        log.exception("Drawing the digest's funnel chart failed; posting the digest without it")
        return None


async def _nudge(app: NexusApp, record_id: int) -> Rendered:
    post = await app.services.nudges.post(record_id)
    content, embed, allowed = nudge_message(post)
    where = (post.revision, post.posted_revision, post.channel_id, post.message_id)
    return Rendered(*where, embed, None, content, allowed_mentions=allowed)


async def _team_thread(app: NexusApp, record_id: int) -> Rendered:
    thread = await app.services.team_threads.get(record_id)
    if thread is None or thread.state is ThreadState.CAPPED:
        return Rendered(0, 0, None, None)  # never formed, or Discord's cap refused it: nothing to show
    team = await app.services.matching.team(record_id)
    content, embed = thread_opening(team)
    closed = thread.state is ThreadState.CLOSED
    plan = ThreadPlan(
        thread_name(team.id, team.project_name, [] if closed else [m.display_name for m in team.members if m.accepted]),
        team.accepted_ids,
        closed,
        archive_duration(app.settings.team_thread_archive_minutes),
    )
    return Rendered(
        thread.revision,
        thread.posted_revision,
        thread.thread_id,
        thread.message_id,
        embed,
        None,
        content,
        thread_mentions(team),
        thread=plan,
    )


async def _staff_notice(app: NexusApp, record_id: int) -> Rendered:
    notice = await app.services.team_threads.staff_notice(record_id)
    embed = staff_notice_embed(notice.kind)
    return Rendered(notice.revision, notice.posted_revision, notice.channel_id, notice.message_id, embed)


async def _flag(app: NexusApp, record_id: int) -> Rendered:
    flagged = await app.services.follow_ups.flag(record_id)
    return Rendered(
        flagged.flag_revision,
        flagged.flag_posted_revision,
        flagged.flag_channel_id,
        flagged.flag_message_id,
        flag_embed(flagged),
    )


async def _checkin_report(app: NexusApp, record_id: int) -> Rendered:
    report = await app.services.checkins.report(record_id)
    if report.revision == 0:
        return Rendered(0, 0, None, None)  # not ready yet: nothing to show
    if not report.team_active and report.message_id is None:
        # the team ended before its report was shown: not in the public channel (recorded as shown)
        return Rendered(report.revision, report.posted_revision, None, None)
    where = report.channel_id if report.message_id is not None else report.thread_id
    return Rendered(
        report.revision,
        report.posted_revision,
        where,
        report.message_id,
        report_embed(report),
        report_view(report),
        allowed_mentions=discord.AllowedMentions.none(),
    )


async def _checkin_flag(app: NexusApp, record_id: int) -> Rendered:
    flag = await app.services.checkins.flag(record_id)
    return Rendered(flag.revision, flag.posted_revision, flag.channel_id, flag.message_id, checkin_flag_embed(flag))


POST_KINDS: dict[PostKindName, PostKind] = {
    kind.name: kind
    for kind in (
        PostKind(PostKindName.ANNOUNCEMENT, Announcement, _announcement),
        PostKind(PostKindName.TEAM, Team, _team),
        PostKind(PostKindName.NOTICE, ChannelNotice, _notice),
        PostKind(PostKindName.DELETION, PostDeletion, _deletion, show=delete_post, remove_when_deleted=True),
        PostKind(PostKindName.SCHEDULED, ScheduleRun, _scheduled),
        PostKind(PostKindName.TEAM_THREAD, TeamThread, _team_thread, show=show_team_thread, code="h"),
        PostKind(PostKindName.STAFF_NOTICE, StaffNotice, _staff_notice, channel=staff_channel, code="f"),
        PostKind(PostKindName.NUDGE, NudgePost, _nudge, code="r"),
        PostKind(PostKindName.FLAG, FollowUpFlag, _flag, channel=staff_channel, code="g"),
        PostKind(PostKindName.CHECKIN_REPORT, CheckinReport, _checkin_report, show=show_checkin_report, code="c"),
        PostKind(PostKindName.CHECKIN_FLAG, CheckinFlag, _checkin_flag, channel=staff_channel, code="k"),
    )
}
"""Every kind of channel post, by name."""
