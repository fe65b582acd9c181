"""Charts end to end: /cohort chart for staff and the chart on /project board, as PNG attachments
whose numbers are the cohort's, through the real client and the emulator's contract checks."""

from __future__ import annotations

import asyncio
import io
import time

import numpy as np
import pytest
from PIL import Image

from bot.render import charts
from bot.sandbox.emulator import CommandHidden
from tests.e2e.test_matching import form_team
from tests.harness import World, add_endpoint

JOB_BOARD = "Job Board"
SHOP = "E-Commerce"


def png_pixels(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB"), dtype=np.float64)


async def join(world: World, member, track: str, project: str = JOB_BOARD, *, profile: bool = True) -> None:
    if profile:
        await world.emu.command(member, "profile set", track=track, timezone="UTC")
    await world.emu.command(member, "project announce", project=project, track=track, pitch=f"{track} work")


async def cohort_at_different_steps(world: World) -> None:
    """a: profile only; b: announced without a profile; c and d: a team with an agreed API;
    e: announced on another project and wrote a tip; f: never used Nexus."""
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    a, b, c, d, e = world.learners[:5]
    await emu.command(a, "profile set", track="backend", timezone="UTC")
    await join(world, b, "backend", profile=False)
    await join(world, c, "backend")
    await join(world, d, "frontend")
    await form_team(world, c, d)
    await add_endpoint(emu, c, "GET", "/jobs", "List jobs")
    listing = emu.reply(await emu.command(c, "api list")).text()
    endpoint_id = int(listing.split("`#")[1].split("`")[0])
    for member in (c, d):
        await emu.command(member, "api agree", id=endpoint_id)
    await join(world, e, "frontend", SHOP)
    await emu.command(e, "tip share", text="Pin image tags", topic="Docker")


async def test_cohort_chart_posts_one_png_with_the_cohorts_numbers(nexus, world: World):
    emu = world.emu
    await cohort_at_different_steps(world)
    posts_before = len(emu.channel_messages(world.project))
    it = await emu.command(world.admin, "cohort chart")
    reply = emu.reply(it)
    assert reply.ephemeral
    (attachment,) = reply.attachments
    assert attachment.filename == "funnel.png"
    (sent,) = [r for r in emu.requests if r.files == ["funnel.png"]]
    (described,) = sent.body["attachments"]
    assert "Week-1 step" in described["description"]  # alt text for screen readers
    pixels = png_pixels(attachment.data)
    height, width, _ = pixels.shape
    assert width == 800 and 400 < height < 1400
    assert pixels.std() > 20  # not blank
    (embed,) = reply.embeds
    assert embed["image"]["url"] == "attachment://funnel.png"
    lines = embed["description"].splitlines()
    for expected in (
        "Known learners: 5",
        "Profile set: 4",
        "Announced: 4",
        "Partner found: 2",
        "API agreed: 2",
        "First note: 1",
        "E-Commerce: 0 · 1 · 0",
        "Job Board: 2 · 1 · 2",
    ):
        assert expected in lines, f"{expected!r} not in {lines}"
    assert len(emu.channel_messages(world.project)) == posts_before  # nothing posted in the channel


async def test_non_staff_are_refused_the_chart(nexus, world: World):
    emu = world.emu
    with pytest.raises(CommandHidden):  # Discord shows /cohort only to staff
        await emu.command(world.learner, "cohort chart")
    # the mentor's role is allowed on /cohort in Discord, but no staff role is set: the bot refuses
    refused = emu.reply(await emu.command(world.mentor, "cohort chart"))
    assert "Only staff" in refused.content and not refused.attachments
    await emu.command(world.admin, "setup staff-role", role=world.staff_role)
    allowed = emu.reply(await emu.command(world.mentor, "cohort chart"))
    assert [a.filename for a in allowed.attachments] == ["funnel.png"]
    assert "Known learners: 0" in allowed.text() and "No project announced yet." in allowed.text()


async def test_project_board_carries_the_anonymous_chart(nexus, world: World):
    emu = world.emu
    await cohort_at_different_steps(world)
    reply = emu.reply(await emu.command(world.learners[5], "project board"))
    (attachment,) = reply.attachments
    assert attachment.filename == "board.png"
    pixels = png_pixels(attachment.data)
    assert pixels.shape[1] == 800 and pixels.std() > 20
    text = reply.text()
    job_line = next(line for line in text.splitlines() if line.startswith(JOB_BOARD))
    assert job_line.split()[-3:] == ["2", "1", "1"]  # the counts text stays: BE, FE, alone
    shop_line = next(line for line in text.splitlines() if line.startswith(SHOP))
    assert shop_line.split()[-3:] == ["0", "1", "1"]
    for member in world.learners:
        assert member.mention not in text and member.user.username not in text


async def test_board_pages_keep_the_chart(nexus, world: World):
    emu = world.emu
    for i in range(12):  # 5 seeded projects + 12: two pages of 15
        await emu.command(world.admin, "catalog add", name=f"Project {i:02}", description="x")
    reply = emu.reply(await emu.command(world.learner, "project board"))
    assert [a.filename for a in reply.attachments] == ["board.png"]
    turned = emu.reply(await emu.click(world.learner, reply, "Next ▶"))
    assert turned.id == reply.id and "page 2" in turned.text()
    assert [a.filename for a in turned.attachments] == ["board.png"]


async def test_other_interactions_are_answered_while_a_chart_draws(nexus, world: World, monkeypatch):
    emu = world.emu
    real = charts.draw_cohort_chart
    drawing = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow_draw(picture):
        loop.call_soon_threadsafe(drawing.set)
        time.sleep(1.5)  # as long as a cold matplotlib import on a busy machine
        return real(picture)

    monkeypatch.setattr(charts, "draw_cohort_chart", slow_draw)
    chart = await emu.command(world.admin, "cohort chart", wait=False)
    await asyncio.wait_for(drawing.wait(), 10)
    started = time.perf_counter()
    help_reply = emu.reply(await emu.command(world.learner, "nexus help"))
    answered_in = time.perf_counter() - started
    assert "/cohort" in help_reply.text() or help_reply.embeds
    assert answered_in < 1.0, f"/nexus help waited {answered_in:.2f} s for the chart"
    await emu.wait_reply(chart)
    assert [a.filename for a in emu.reply(chart).attachments] == ["funnel.png"]
