"""The weekly digest through the emulator, the clock moved: the week's new teams, its most helpful
notes (buttons that show each note, still working after a restart) and the cohort's progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import MovableClock
from bot.domain.notes import NoteKind
from bot.sandbox.emulator import DiscordEmulator
from bot.sandbox.state import EmuMessage
from tests.e2e.test_charts import png_pixels
from tests.e2e.test_matching import form_team
from tests.e2e.test_schedules import FAST, until
from tests.harness import World, bot_settings, running_bot

LONG_AGO = datetime(2026, 3, 15, 10, tzinfo=UTC)  # before the digest's week
START = datetime(2026, 3, 25, 10, tzinfo=UTC)
THURSDAY = datetime(2026, 3, 26, 9, tzinfo=UTC)  # the digest covers 19 March 09:00 to now


def digests(emu: DiscordEmulator, world: World) -> list[EmuMessage]:
    return [m for m in emu.channel_messages(world.project) if m.embeds and "weekly digest" in m.text()]


def field(post: EmuMessage, name: str) -> str:
    (value,) = [f["value"] for f in post.embeds[0]["fields"] if f["name"].startswith(name)]
    return str(value)


async def _pair(world: World, a, b, project: str = "Job Board") -> None:
    emu = world.emu
    for member, track in ((a, "backend"), (b, "frontend")):
        await emu.command(member, "profile set", track=track, timezone="Africa/Lagos")
        await emu.command(member, "project announce", project=project, track=track, pitch=f"{track} work")
    await form_team(world, a, b)


async def test_the_digest_shows_the_weeks_teams_top_notes_and_progress_and_its_buttons_survive_a_restart(
    world: World, database_url
):
    emu = world.emu
    clock = MovableClock(LONG_AGO)
    emu.clock = clock.time
    one, two, three, four, writer, other = world.learners
    guild = world.guild.id
    settings = bot_settings(emu, database_url, guild, **FAST)
    async with running_bot(settings, emu, clock=clock) as bot:
        notes = bot.services.notes
        await _pair(world, three, four, "Social Media Feed")  # formed long ago: not this week's
        old = await notes.share_tip(guild, writer.id, "Pin your dependency versions", "Python")
        await notes.toggle_helpful(guild, one.id, old.id)  # a vote from long ago
        clock.set(START)
        await _pair(world, one, two)
        tip = await notes.share_tip(guild, writer.id, "Read the traceback from the bottom up", "Python")
        learning = await notes.create_note(
            guild, other.id, topic="Django", kind=NoteKind.LEARNING, title="Serializers", body="They validate too."
        )
        secret = await notes.create_note(
            guild, other.id, topic="Django", kind=NoteKind.LEARNING, title="My secret", body="x", private=True
        )
        for voter in (one, two, three):
            await notes.toggle_helpful(guild, voter.id, tip.id)
        await notes.toggle_helpful(guild, one.id, learning.id)
        added = emu.reply(
            await emu.command(
                world.admin, "schedule add", post="digest", date="2026-03-26", time="09:00", repeat="weekly", days="thu"
            )
        )
        assert "Scheduled #1 weekly digest" in added.content
        clock.set(THURSDAY + timedelta(seconds=2))
        await until(lambda: len(digests(emu, world)) == 1)
        (post,) = digests(emu, world)
        teams = field(post, "New teams")
        assert field(post, "New teams (1)") and "Job Board" in teams and one.mention in teams and two.mention in teams
        assert "Social Media Feed" not in teams and three.mention not in teams
        top = field(post, "Most helpful").splitlines()
        assert len(top) == 2 and f"#{tip.id}" in top[0] and "👍 3" in top[0] and writer.mention in top[0]
        assert f"#{learning.id}" in top[1] and "👍 1" in top[1]
        assert (
            f"#{old.id} " not in post.text() and "My secret" not in post.text() and f"#{secret.id} " not in post.text()
        )
        progress = field(post, "Cohort progress").splitlines()
        assert progress == [
            "Profile set: **4** / 6",
            "Project announced: **4** / 6",
            "Partner found: **4** / 6",
            "API contract agreed: **0** / 6",
            "First learning note: **2** / 6",
        ]
        assert [b["label"] for b in post.buttons()] == [
            f"#{tip.id} Read the traceback from the bottom up",
            f"#{learning.id} Serializers",
        ]
        assert post.pings().users == set()  # mentions in an embed notify nobody
        # the funnel chart rides along: the same numbers as the progress field, drawn as a PNG
        (chart,) = post.attachments
        assert chart.filename == "funnel.png" and post.embeds[0]["image"]["url"] == "attachment://funnel.png"
        pixels = png_pixels(chart.data)
        assert pixels.shape[1] == 800 and pixels.std() > 20  # decoded, not blank
        picture = await bot.services.cohort.chart(guild)
        assert picture.known == 6
        assert [step.learners for step in picture.funnel] == [int(line.split("**")[1]) for line in progress]
        # forget-me: the digest is edited without the tip's author (her notes go with her)
        confirm = emu.reply(await emu.command(writer, "nexus forget-me"))
        await emu.click(writer, confirm, "Forget me")
        await bot.delivery.settled()
        (post,) = digests(emu, world)
        assert writer.mention not in post.text() and f"#{tip.id}" not in field(post, "Most helpful")
    # the buttons are DynamicItems: they work on the post made before the restart
    async with running_bot(settings, emu, clock=clock) as bot:
        (post,) = digests(emu, world)
        shown = emu.reply(await emu.click(four, post, f"#{learning.id} Serializers"))
        assert shown.ephemeral and "Serializers" in shown.text() and "They validate too." in shown.text()
        assert [b["label"] for b in post.buttons()] == [f"#{learning.id} Serializers"]  # the tip left with her
        # its author deletes the note: the digest no longer shows its title nor a button to a note gone
        question = emu.reply(await emu.command(other, "note delete", id=str(learning.id)))
        assert "Deleted" in emu.reply(await emu.click(other, question, "Delete")).content
        await bot.delivery.settled()
        (post,) = digests(emu, world)
        assert "Serializers" not in post.text() and post.buttons() == []
    assert len(digests(emu, world)) == 1
