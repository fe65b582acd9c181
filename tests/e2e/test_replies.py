"""Replies that guide: every flow's last reply names the next step and its command."""

from __future__ import annotations

import csv
import io

from tests.e2e.test_matching import form_team
from tests.harness import World, add_endpoint

JOB_BOARD = "Job Board"


async def _profile(world: World, member, track: str):
    return await world.emu.command(member, "profile set", track=track, timezone="UTC")


async def _announce(world: World, member, track: str):
    return await world.emu.command(member, "project announce", project=JOB_BOARD, track=track, pitch=f"{track} work")


async def test_each_flow_ends_with_the_next_step(nexus, world: World):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    a, b = world.learners[:2]
    progress = emu.reply(await emu.command(a, "nexus progress")).text()
    assert "Next: set your profile with /profile set." in progress

    saved = emu.reply(await _profile(world, a, "backend")).content
    assert saved == "✅ Profile saved. Next: announce your project with /project announce."
    progress = emu.reply(await emu.command(a, "nexus progress")).text()
    assert "Next: announce your project with /project announce." in progress

    announced = emu.reply(await _announce(world, a, "backend")).content
    assert announced.endswith("\nNext: find your partner with /partner find.")
    progress = emu.reply(await emu.command(a, "nexus progress")).text()
    assert "Next: find your partner with /partner find." in progress
    updated = emu.reply(await _announce(world, a, "backend")).content
    assert "updated" in updated and "Next:" not in updated

    await _profile(world, b, "frontend")
    await _announce(world, b, "frontend")
    await form_team(world, a, b)
    progress = emu.reply(await emu.command(a, "nexus progress")).text()
    assert "Next: agree your API with /api add and /api agree." in progress
    emu.reply(await add_endpoint(emu, a, method="GET", path="/jobs", summary="List jobs"))
    listing = emu.reply(await emu.command(a, "api list")).text()
    endpoint_id = int(listing.split("`#")[1].split("`")[0])
    first = emu.reply(await emu.command(a, "api agree", id=endpoint_id)).content
    assert "waiting for your teammates" in first and "Next:" not in first
    second = emu.reply(await emu.command(b, "api agree", id=endpoint_id)).content
    assert second.endswith("\nNext: write your first learning note with /note add.")

    it = await emu.command(a, "note add", topic="django", kind="challenge")
    done = await emu.submit_modal(
        a, it, {"Title": "N+1", "The challenge": "300 queries.", "How you solved it": "select_related"}
    )
    note_reply = emu.reply(done).content
    assert note_reply.endswith("Next: find more with /note search, or share a one-line tip with /tip share.")
    progress = emu.reply(await emu.command(a, "nexus progress")).text()
    assert "All done" in progress


async def test_profile_saved_after_announcing_points_further(nexus, world: World):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    a = world.learners[0]
    await _announce(world, a, "backend")
    saved = emu.reply(await _profile(world, a, "backend")).content
    assert saved == "✅ Profile saved. Next: find your partner with /partner find."


async def test_tip_random_shows_the_tip_once(nexus, world: World):
    emu = world.emu
    await emu.command(world.learner, "tip share", text="Pin image tags", topic="Docker")
    shown = emu.reply(await emu.command(world.learner, "tip random"))
    assert shown.text().count("Pin image tags") == 1


async def test_roster_filters_every_step_and_says_whom_it_knows(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    a, b, c, d, writer, reader = world.learners[:6]
    await _profile(world, a, "backend")  # profile only
    await _announce(world, b, "backend")  # announced, no profile
    for member, track in ((c, "backend"), (d, "frontend")):
        await _profile(world, member, track)
        await _announce(world, member, track)
    await form_team(world, c, d)  # teamed, API not agreed
    await emu.command(writer, "tip share", text="Pin image tags", topic="Docker")  # wrote a tip only
    await emu.command(reader, "project board")  # read only: not known, and nothing is stored
    await emu.command(reader, "nexus progress")

    def listed(step: str) -> set[int]:
        text = emu.reply(await_roster[step]).text()
        return {m.id for m in (a, b, c, d, writer, reader) if m.mention in text}

    await_roster = {
        step: await emu.command(world.admin, "cohort roster", step=step)
        for step in ("no-profile", "not-announced", "no-partner", "no-api", "no-notes")
    }
    assert listed("no-profile") == {b.id, writer.id}
    assert listed("not-announced") == {a.id, writer.id}
    assert listed("no-partner") == {b.id}
    assert listed("no-api") == {c.id, d.id}
    assert listed("no-notes") == {a.id, b.id, c.id, d.id}
    whole = emu.reply(await emu.command(world.admin, "cohort roster")).text()
    assert "of 5 known members" in whole
    assert "Nexus knows members who set a profile, announced or wrote a note" in whole
    exported = emu.reply(await emu.command(world.admin, "cohort roster", step="no-api", csv=True))
    (attachment,) = exported.attachments
    rows = list(csv.DictReader(io.StringIO(attachment.data.decode())))
    assert {int(r["user_id"]) for r in rows} == {c.id, d.id}
    assert all(r["missing"] == "API not agreed; no notes" for r in rows)
