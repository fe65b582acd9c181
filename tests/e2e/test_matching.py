"""Partner matching and the API contract, end to end through the emulator."""

from __future__ import annotations

import asyncio
import copy

import pytest
import yaml
from openapi_spec_validator import validate
from sqlalchemy import func, select

from bot.sandbox.emulator import CommandHidden
from models import Announcement, PairHistory, Project, Team, TeamMember
from tests.harness import World, add_endpoint, bot_settings, running_bot

JOB_BOARD = "Job Board"


async def setup_learners(world: World, tracks: list[str], project: str = JOB_BOARD, tz: str = "Africa/Lagos") -> None:
    emu = world.emu
    for member, track in zip(world.learners, tracks, strict=False):
        await emu.command(member, "profile set", track=track, timezone=tz)
        await emu.command(member, "project announce", project=project, track=track, pitch=f"{track} work")


def proposals(world: World):
    return [m for m in world.emu.channel_messages(world.project) if m.embeds and "🤝" in m.embeds[0].get("title", "")]


async def form_team(world: World, a, b):
    emu = world.emu
    await emu.command(a, "partner find")
    (proposal,) = [p for p in proposals(world) if a.mention in p.content and b.mention in p.content]
    await emu.click(a, proposal, "Accept")
    await emu.click(b, proposal, "Accept")
    return proposal


async def test_find_accept_forms_a_team(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    found = emu.reply(await emu.command(a, "partner find"))
    assert found.ephemeral and "Proposed: you and" in found.content and b.mention in found.content
    (proposal,) = proposals(world)
    assert a.mention in proposal.content and b.mention in proposal.content
    assert proposal.pings().users == {a.id, b.id} and not proposal.pings().mass
    assert [btn["label"] for btn in proposal.buttons()] == ["Accept", "Decline"]
    first = emu.reply(await emu.click(a, proposal, "Accept"))
    assert first.ephemeral and "Waiting for" in first.content
    second = emu.reply(await emu.click(b, proposal, "Accept"))
    assert "Team formed" in second.content
    assert "Team formed" in proposal.text() and proposal.buttons() == []
    progress = emu.reply(await emu.command(a, "nexus progress")).text()
    assert "✅ Partner found" in progress
    status = emu.reply(await emu.command(b, "partner status")).text()
    assert "Team formed" in status and a.mention in status
    board = emu.reply(await emu.command(a, "project board")).text()
    assert next(line for line in board.splitlines() if line.startswith(JOB_BOARD)).split()[-3:] == ["1", "1", "0"]


async def test_decline_returns_both_to_the_pool_and_never_repeats(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    await emu.command(a, "partner find")
    (proposal,) = proposals(world)
    declined = emu.reply(await emu.click(b, proposal, "Decline"))
    assert "back in the pool" in declined.content
    assert "Declined" in proposal.text() and proposal.buttons() == []
    again = emu.reply(await emu.command(a, "partner find"))
    assert "You are in the pool" in again.content and "declined" in again.content
    assert len(proposals(world)) == 1
    status = emu.reply(await emu.command(b, "partner status")).content
    assert "You are in the pool" in status


async def test_accept_by_someone_else_and_after_leave(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    outsider = world.learners[3]
    await emu.command(a, "partner find")
    (proposal,) = proposals(world)
    refused = emu.reply(await emu.click(outsider, proposal, "Accept"))
    assert refused.ephemeral and "only they can answer" in refused.content
    async with sessions() as session:
        accepted = await session.scalar(select(func.count()).where(TeamMember.accepted_at.is_not(None)))
    assert accepted == 0
    stale = copy.deepcopy(proposal)  # what b's client still shows while a leaves
    prompt = emu.reply(await emu.command(a, "partner leave"))
    done = emu.reply(await emu.click(a, prompt, "Leave team"))
    assert "You left the team" in done.content
    late = emu.reply(await emu.click(b, stale, "Accept"))
    assert "cancelled" in late.content and "nothing left to answer" in late.content


async def test_two_accepts_at_once_form_one_consistent_team(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    await emu.command(a, "partner find")
    (proposal,) = proposals(world)
    replies = await asyncio.gather(emu.click(a, proposal, "Accept"), emu.click(b, proposal, "Accept"))
    texts = [emu.reply(r).content for r in replies]
    assert any("Team formed" in t for t in texts)
    async with sessions() as session:
        team = await session.scalar(select(Team))
        members = (await session.scalars(select(TeamMember))).all()
        formed = await session.scalar(select(func.count()).where(PairHistory.outcome == "formed"))
    assert team is not None and team.status == "active"
    assert all(m.accepted_at is not None and m.is_current for m in members)
    assert formed == 1


async def test_double_find_gives_one_proposal(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend", "frontend"])
    a = world.learners[0]
    first, second = await asyncio.gather(emu.command(a, "partner find"), emu.command(a, "partner find"))
    texts = sorted(emu.reply(first).content + emu.reply(second).content for _ in range(1))
    assert "Proposed" in texts[0] and ("already have" in texts[0] or "at the same moment" in texts[0])
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Team)) == 1
        current = await session.scalar(
            select(func.count()).where(TeamMember.user_id == a.id, TeamMember.is_current.is_(True))
        )
    assert current == 1


async def test_unanswered_proposal_expires_and_learners_are_matched_again(world: World, database_url, sessions):
    emu = world.emu
    # proposals expire after ~1.5 s here and the expiry task runs every second
    settings = bot_settings(emu, database_url, world.guild.id, proposal_expiry_hours=0.0004, expiry_check_seconds=1)
    async with running_bot(settings, emu):
        await emu.command(world.admin, "setup channel", channel=world.project)
        await setup_learners(world, ["backend", "frontend"])
        await emu.command(world.learners[0], "partner find")
        (proposal,) = proposals(world)
        for _ in range(100):
            if "Expired" in proposal.text() and len(proposals(world)) == 2:
                break
            await asyncio.sleep(0.1)
    assert "Expired" in proposal.text() and proposal.buttons() == []
    fresh = [p for p in proposals(world) if p.id != proposal.id]
    assert len(fresh) == 1 and "Proposed" in fresh[0].text()
    async with sessions() as session:
        statuses = (await session.scalars(select(Team.status).order_by(Team.id))).all()
    assert statuses[0] == "expired" and statuses[1] in ("proposed", "expired")


async def test_leave_tells_the_partner(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    proposal = await form_team(world, a, b)
    prompt = emu.reply(await emu.command(a, "partner leave"))
    await emu.click(a, prompt, "Leave team")
    dm = emu.dm_channel(b)
    assert dm is not None
    (notice,) = emu.channel_messages(dm)
    assert "Project Nexus team" in notice.content and f"{a.mention} left" in notice.content
    assert "Dissolved" in proposal.text()
    again = emu.reply(await emu.command(a, "partner find"))
    assert "You are in the pool" in again.content  # a dissolved pair is never proposed again


async def test_moving_project_or_track_while_in_a_team_is_refused_until_leaving(nexus, world: World, sessions):
    """The team is on its project and tracks: a re-announcement elsewhere would leave it behind, so
    it is refused (nothing changes); the pitch can change, and after /partner leave the move."""
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    await form_team(world, a, b)
    for project, track in (("Online Poll System", "backend"), (JOB_BOARD, "frontend")):
        it = await emu.command(a, "project announce", project=project, track=track, pitch="elsewhere")
        refused = emu.reply(it)
        assert refused.ephemeral and "leave it first with `/partner leave`" in refused.content
        assert "Job Board as backend" in refused.content
    async with sessions() as session:
        row = await session.scalar(select(Announcement).where(Announcement.user_id == a.id))
    assert row is not None and row.track == "backend" and row.pitch == "backend work"
    kept = emu.reply(await emu.command(a, "project announce", project=JOB_BOARD, track="backend", pitch="sharper"))
    assert "leave it first" not in kept.content
    prompt = emu.reply(await emu.command(a, "partner leave"))
    await emu.click(a, prompt, "Leave team")
    moved = emu.reply(
        await emu.command(a, "project announce", project="Online Poll System", track="backend", pitch="x")
    )
    assert "leave it first" not in moved.content
    async with sessions() as session:
        row = await session.scalar(select(Announcement).where(Announcement.user_id == a.id))
        project = await session.get(Project, row.project_id) if row else None
    assert project is not None and project.name == "Online Poll System"


async def test_withdrawing_dissolves_the_team_with_notice(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    proposal = await form_team(world, a, b)
    prompt = emu.reply(await emu.command(b, "project withdraw"))
    await emu.click(b, prompt, "Withdraw")
    assert "Dissolved" in proposal.text()
    (notice,) = emu.channel_messages(emu.dm_channel(a))
    assert "withdrew" in notice.content
    status = emu.reply(await emu.command(a, "partner status")).content
    assert "You are in the pool" in status


async def test_buttons_work_after_a_restart(world: World, database_url: str, sessions):
    emu = world.emu
    settings = bot_settings(emu, database_url, world.guild.id)
    async with running_bot(settings, emu):
        await emu.command(world.admin, "setup channel", channel=world.project)
        await setup_learners(world, ["backend", "frontend"])
        await emu.command(world.learners[0], "partner find")
    (proposal,) = proposals(world)
    async with running_bot(settings, emu):
        await emu.click(world.learners[0], proposal, "Accept")
        formed = emu.reply(await emu.click(world.learners[1], proposal, "Accept"))
        assert "Team formed" in formed.content
    async with sessions() as session:
        assert await session.scalar(select(Team.status)) == "active"


async def test_match_run_on_a_cohort_of_twenty(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    extra = [emu.add_member(world.guild, f"c{i:02d}") for i in range(20)]
    tracks = ["backend"] * 7 + ["frontend"] * 5 + ["backend"] * 5 + ["frontend"] * 2 + ["backend"]
    projects = [JOB_BOARD] * 12 + ["E-Commerce"] * 7 + ["Online Poll System"]
    for member, track, project in zip(extra, tracks, projects, strict=True):
        await emu.command(member, "profile set", track=track, timezone="Africa/Nairobi")
        await emu.command(member, "project announce", project=project, track=track, pitch="hi")
    dry = emu.reply(await emu.command(world.admin, "match run", dry_run=True))
    assert "dry run" in dry.text() and proposals(world) == []
    run = emu.reply(await emu.command(world.admin, "match run"))
    text = run.text()
    assert "unplaced" in text and "nobody on the frontend track" in text
    posted = proposals(world)
    async with sessions() as session:
        teams = (await session.scalars(select(Team))).all()
        sizes = sorted([await session.scalar(select(func.count()).where(TeamMember.team_id == t.id)) for t in teams])
    # Job Board: 7 backends, 5 frontends -> 5 groups, 2 of them trios;
    # E-Commerce: 5 vs 2 -> 2 trios and one backend left over; Poll System: a lone backend
    assert len(teams) == 7 == len(posted)
    assert sizes.count(3) == 4 and sizes.count(2) == 3
    placed = {m for p in posted for m in (x.id for x in extra) if f"<@{m}>" in p.content}
    assert len(placed) == 18
    unplaced = [m for m in extra if m.id not in placed]
    assert len(unplaced) == 2
    for member in unplaced:
        line = next(line for line in text.splitlines() if member.mention in line)
        assert "unplaced" in line and ("already has a partner" in line or "nobody on the frontend" in line)
        status = emu.reply(await emu.command(member, "partner status")).content
        assert "You are in the pool" in status
    summary = [m for m in emu.channel_messages(world.project) if "proposals are up" in m.text()]
    assert len(summary) == 1
    assert {m.id for m in unplaced} <= summary[0].pings().users and not summary[0].pings().mass

    with pytest.raises(CommandHidden):  # Discord shows /match only to staff
        await emu.command(extra[0], "match run")


async def test_api_contract_flow_and_openapi_export(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    outsider = world.learners[2]
    refused = emu.reply(await add_endpoint(emu, a, method="GET", path="/jobs", summary="List jobs"))
    assert "formed team" in refused.content
    await form_team(world, a, b)
    added = emu.reply(await add_endpoint(emu, a, method="GET", path="/jobs", summary="List jobs"))
    assert "Added #" in added.content and "waiting for" in added.text() and b.mention in added.text()
    await add_endpoint(emu, a, method="POST", path="/jobs/{job_id}/applications", summary="Apply to a job")
    dup = emu.reply(await add_endpoint(emu, b, method="GET", path="/jobs", summary="again"))
    assert "already in your contract" in dup.content
    # a trailing slash is kept as typed (Django's routes need it): /jobs/ is another endpoint
    slashed = emu.reply(await add_endpoint(emu, b, method="GET", path="/jobs/", summary="Django's list"))
    assert "Added" in slashed.content and "GET /jobs/:" in slashed.content
    bad = emu.reply(await add_endpoint(emu, b, method="GET", path="jobs list", summary="x"))
    assert "starts with /" in bad.content
    choices = await emu.autocomplete(b, "api agree", "id", id="appl")
    assert len(choices) == 1 and choices[0]["name"].endswith("POST /jobs/{job_id}/applications — Apply to a job")
    assert choices[0]["name"].startswith("#")
    listing = emu.reply(await emu.command(b, "api list")).text()
    ids = [int(part.split("`")[0]) for part in listing.split("`#")[1:]]
    for endpoint_id in ids:
        await emu.command(b, "api agree", id=endpoint_id)
        await emu.command(a, "api agree", id=endpoint_id)
    outsider_try = emu.reply(await emu.command(outsider, "api agree", id=ids[0]))
    assert "formed team" in outsider_try.content
    progress = emu.reply(await emu.command(a, "nexus progress")).text()
    assert "✅ API contract agreed" in progress
    exported = emu.reply(await emu.command(b, "api export"))
    (attachment,) = exported.attachments
    assert attachment.filename.endswith("openapi.yaml")
    document = yaml.safe_load(attachment.data)
    validate(document)
    assert document["openapi"].startswith("3.1")
    operation = document["paths"]["/jobs/{job_id}/applications"]["post"]
    assert operation["parameters"][0]["name"] == "job_id" and operation["x-nexus-agreed"] is True
    prompt = emu.reply(await emu.command(a, "api remove", id=ids[0]))
    removed = emu.reply(await emu.click(a, prompt, "Remove"))
    assert "Removed GET `/jobs`" in removed.content
