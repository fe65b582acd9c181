"""Forget me: every record of the member in that guild is gone; the partner is told."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from models import Announcement, ApiChange, ApiEndpoint, Learner, Note, NoteVote, PairHistory, TeamMember
from tests.harness import World, add_endpoint


async def test_forget_me_removes_everything_and_tells_the_partner(nexus, world: World, sessions):
    emu = world.emu
    a, b = world.learners[:2]
    await emu.command(world.admin, "setup channel", channel=world.project)
    for member, track in ((a, "backend"), (b, "frontend")):
        await emu.command(member, "profile set", track=track, timezone="UTC")
        await emu.command(member, "project announce", project="Job Board", track=track, pitch="hi")
    await emu.command(a, "partner find")
    proposal = next(m for m in emu.channel_messages(world.project) if "🤝" in m.text())
    await emu.click(a, proposal, "Accept")
    await emu.click(b, proposal, "Accept")
    await add_endpoint(emu, a, method="GET", path="/jobs", summary="List jobs")
    await emu.command(a, "tip share", text="Use select_related for foreign keys", topic="Django")
    await emu.command(b, "tip share", text="Keep components small", topic="Python")
    async with sessions() as session:
        b_note = await session.scalar(select(Note.id).where(Note.author_id == b.id))
    shown = await emu.command(a, "note show", id=str(b_note))
    await emu.click(a, emu.reply(shown), emu.reply(shown).buttons()[0])
    announcement_post = next(
        m for m in emu.channel_messages(world.project) if a.mention in m.text() and "📣" in m.text()
    )

    prompt = emu.reply(await emu.command(a, "nexus forget-me"))
    assert prompt.ephemeral and "cannot be undone" in prompt.content
    done = emu.reply(await emu.click(a, prompt, "Forget me"))
    assert "Removed" in done.content and "1 announcements" in done.content and "1 notes" in done.content

    async with sessions() as session:
        for model, column in (
            (Learner, Learner.user_id),
            (Announcement, Announcement.user_id),
            (Note, Note.author_id),
            (NoteVote, NoteVote.member_id),
            (TeamMember, TeamMember.user_id),
        ):
            assert await session.scalar(select(func.count()).where(column == a.id)) == 0, model.__name__
        assert (
            await session.scalar(
                select(func.count()).where(or_(PairHistory.user_low == a.id, PairHistory.user_high == a.id))
            )
            == 0
        )
        assert await session.scalar(select(ApiEndpoint.created_by)) == 0
        assert await session.scalar(select(func.count()).where(Note.author_id == b.id)) == 1
    assert announcement_post.deleted
    assert a.mention not in proposal.text() and "Dissolved" in proposal.text()
    await nexus.delivery.settled()
    (thread,) = emu.threads_in(world.project)  # the API change a made went to the team's thread
    posted = [m for m in emu.channel_messages(thread, include_deleted=True) if "API contract" in m.content]
    assert len(posted) == 1 and posted[0].deleted  # it named a: deleted, the thread reopened for it
    assert thread.thread is not None and thread.thread.archived and thread.thread.locked
    assert thread.name == "Job Board · team 1"  # a's name is not left in it
    (notice,) = emu.channel_messages(emu.dm_channel(b))  # the team's end
    assert "left Nexus" in notice.content and a.mention not in notice.content
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(ApiChange.actor_id == a.id)) == 0
    again = emu.reply(await emu.click(a, emu.reply(await emu.command(a, "nexus forget-me")), "Forget me"))
    assert "nothing stored" in again.content
    opening = emu.channel_messages(thread)[0]
    assert a.mention not in opening.text() and b.mention in opening.text()
    # b, forgotten after the team ended: its locked thread's opening is edited without b, and stays locked
    await emu.click(b, emu.reply(await emu.command(b, "nexus forget-me")), "Forget me")
    await nexus.delivery.settled()
    assert b.mention not in emu.channel_messages(thread)[0].text()
    assert thread.thread.archived and thread.thread.locked


async def test_forget_me_cancel_keeps_everything(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.learner, "profile set", track="backend", timezone="UTC")
    prompt = emu.reply(await emu.command(world.learner, "nexus forget-me"))
    await emu.click(world.learner, prompt, "Cancel")
    async with sessions() as session:
        assert await session.get(Learner, (world.guild.id, world.learner.id)) is not None
