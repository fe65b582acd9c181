"""Week 1 end to end: catalog, profiles, announcements, who/board, kickoff, roster."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from bot.sandbox.emulator import CommandHidden
from bot.sandbox.state import EMBED_LINKS, SEND_MESSAGES
from models import Announcement, AnnouncementRevision, Project
from tests.e2e.test_matching import form_team, setup_learners
from tests.harness import World, bot_settings, running_bot

JOB_BOARD = "Job Board"


async def set_channel(world: World) -> None:
    await world.emu.command(world.admin, "setup channel", channel=world.project)


async def announce(world: World, member, project=JOB_BOARD, track="backend", pitch="Building the API", **extra):
    return await world.emu.command(member, "project announce", project=project, track=track, pitch=pitch, **extra)


def posts(world: World):
    return [m for m in world.emu.channel_messages(world.project) if m.embeds]


async def test_full_week1_flow_with_several_learners(nexus, world: World, sessions):
    emu = world.emu
    await set_channel(world)
    kickoff = await emu.command(world.admin, "cohort kickoff")
    assert "Kickoff posted" in emu.reply(kickoff).content
    for i, member in enumerate(world.learners[:4]):
        track = "backend" if i % 2 == 0 else "frontend"
        await emu.command(member, "profile set", track=track, timezone="Africa/Lagos", github=f"dev{i}")
        it = await announce(world, member, track=track, pitch=f"Learner {i} builds the {track}")
        reply = emu.reply(it)
        assert reply.ephemeral and "See the post" in reply.content
    await announce(world, world.learners[4], project="E-Commerce", track="backend")

    announcement_posts = [m for m in posts(world) if "Week 1 announcement" in m.text()]
    assert len(announcement_posts) == 5
    assert all(not m.pings().mass for m in emu.channel_messages(world.project))

    who = emu.reply(await emu.command(world.learners[5], "project who", project="job board backend"))
    text = who.text()
    assert "2 backend · 2 frontend" in text
    for member in world.learners[:4]:
        assert member.mention in text
    assert world.learners[4].mention not in text

    board = emu.reply(await emu.command(world.learners[5], "project board")).text()
    job_line = next(line for line in board.splitlines() if line.startswith("Job Board"))
    assert job_line.split()[-3:] == ["2", "2", "4"]
    shop_line = next(line for line in board.splitlines() if line.startswith("E-Commerce"))
    assert shop_line.split()[-3:] == ["1", "0", "1"]

    progress = emu.reply(await emu.command(world.learners[0], "nexus progress")).text()
    assert "✅ Profile set" in progress and "✅ Project announced" in progress and "⬜ Partner found" in progress

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 5


async def test_reannounce_edits_the_same_message_and_keeps_history(nexus, world: World, sessions):
    emu = world.emu
    await set_channel(world)
    await announce(world, world.learner, pitch="First version")
    first = posts(world)
    assert len(first) == 1
    message_id = first[0].id
    await announce(world, world.learner, project="E-Commerce", track="frontend", pitch="Second version")
    after = posts(world)
    assert [m.id for m in after] == [message_id]
    assert "Second version" in after[0].text() and "E-Commerce" in after[0].text()
    assert "First version" in after[0].history[-1]["embeds"][0]["description"]
    async with sessions() as session:
        revisions = (await session.scalars(select(AnnouncementRevision))).all()
    assert [(r.revision, r.pitch, r.project_name) for r in revisions] == [(1, "First version", JOB_BOARD)]
    assert emu.reply(await emu.command(world.learner, "nexus progress"))


async def test_withdraw_edits_the_post(nexus, world: World, sessions):
    emu = world.emu
    await set_channel(world)
    await announce(world, world.learner)
    prompt = await emu.command(world.learner, "project withdraw")
    assert "Withdraw your announcement" in emu.reply(prompt).content
    done = await emu.click(world.learner, emu.reply(prompt), "Withdraw")
    assert "Withdrawn" in emu.reply(done).content
    (post,) = posts(world)
    assert "withdrawn" in post.text()
    who = emu.reply(await emu.command(world.learners[1], "project who", project=JOB_BOARD)).text()
    assert world.learner.mention not in who
    again = await emu.command(world.learner, "project withdraw")
    assert "no active announcement" in emu.reply(again).content


async def test_withdraw_cancel_changes_nothing(nexus, world: World, sessions):
    emu = world.emu
    await set_channel(world)
    await announce(world, world.learner)
    prompt = await emu.command(world.learner, "project withdraw")
    cancelled = await emu.click(world.learner, emu.reply(prompt), "Cancel")
    assert "nothing was changed" in emu.reply(cancelled).content
    async with sessions() as session:
        row = await session.scalar(select(Announcement))
    assert row is not None and row.active


async def test_kickoff_button_works_after_a_restart(world: World, database_url: str, sessions):
    emu = world.emu
    settings = bot_settings(emu, database_url, world.guild.id)
    async with running_bot(settings, emu):
        await set_channel(world)
        await emu.command(world.admin, "cohort kickoff")
    (kickoff,) = [m for m in emu.channel_messages(world.project) if "Week 1" in m.text()]
    async with running_bot(settings, emu):
        opened = await emu.click(world.learners[2], kickoff, "Announce my project")
        assert opened.modal is not None and opened.modal["title"] == "Announce your project"
        submitted = await emu.submit_modal(
            world.learners[2],
            opened,
            {
                "nexus:announce:project": JOB_BOARD,
                "nexus:announce:track": "frontend",
                "nexus:announce:pitch": "React client for the job board",
                "nexus:announce:repo": "https://github.com/learner3/jobs-web",
            },
        )
        assert "See the post" in emu.reply(submitted).content
    async with sessions() as session:
        row = await session.scalar(select(Announcement))
    assert row is not None and row.track == "frontend" and row.repo_url == "https://github.com/learner3/jobs-web"


async def test_roster_lists_exactly_the_learners_missing_each_step(nexus, world: World):
    emu = world.emu
    await set_channel(world)
    a, b, c = world.learners[:3]
    await emu.command(a, "profile set", track="backend", timezone="UTC")  # known, not announced
    await announce(world, b)  # announced, no partner
    await emu.command(c, "profile set", track="frontend", timezone="UTC")
    await announce(world, c, track="frontend")
    not_announced = emu.reply(await emu.command(world.admin, "cohort roster", step="not-announced")).text()
    assert a.mention in not_announced and b.mention not in not_announced and c.mention not in not_announced
    no_partner = emu.reply(await emu.command(world.admin, "cohort roster", step="no-partner")).text()
    assert b.mention in no_partner and c.mention in no_partner and a.mention not in no_partner
    exported = emu.reply(await emu.command(world.admin, "cohort roster", step="no-partner", csv=True))
    (attachment,) = exported.attachments
    rows = list(csv.DictReader(io.StringIO(attachment.data.decode())))
    assert {int(r["user_id"]) for r in rows} == {b.id, c.id}
    with pytest.raises(CommandHidden):  # Discord shows /cohort only to staff
        await emu.command(world.learners[4], "cohort roster")


async def test_roster_paginates(nexus, world: World):
    emu = world.emu
    extra = [emu.add_member(world.guild, f"cohort{i}") for i in range(20)]
    for member in extra:
        await emu.command(member, "profile set", track="backend", timezone="UTC")
    first = emu.reply(await emu.command(world.admin, "cohort roster", step="not-announced"))
    assert "1/2" in [b.get("label") for b in first.buttons()]
    page_one = first.text()
    second = await emu.click(world.admin, first, "Next ▶")
    page_two = emu.reply(second).text()
    assert "page 2/2" in page_two and emu.reply(second).id == first.id  # the same message, edited
    assert sum(m.mention in page_one or m.mention in page_two for m in extra) == 20


async def test_catalog_add_list_remove(nexus, world: World, sessions):
    emu = world.emu
    added = await emu.command(world.admin, "catalog add", name="Library API", description="Books and loans")
    assert "Added **Library API**" in emu.reply(added).content
    dup = await emu.command(world.mentor, "catalog add", name="library api", validate=True)
    assert "Only staff" in emu.reply(dup).content
    await emu.command(world.admin, "setup staff-role", role=world.staff_role)
    dup = await emu.command(world.mentor, "catalog add", name="  LIBRARY   api ")
    assert "already in the catalog" in emu.reply(dup).content
    listing = emu.reply(await emu.command(world.learner, "catalog list")).text()
    assert "Library API" in listing and JOB_BOARD in listing
    choices = await emu.autocomplete(world.learner, "project announce", "project", project="libr")
    assert choices[0]["value"] == "Library API"
    prompt = await emu.command(world.admin, "catalog remove", project="Library API")
    removed = await emu.click(world.admin, emu.reply(prompt), "Remove")
    assert "Removed **Library API**" in emu.reply(removed).content
    # autocomplete read the catalog (and cached it) before the removal: the change shows at once
    choices = await emu.autocomplete(world.learner, "project announce", "project", project="libr")
    assert "Library API" not in [c["value"] for c in choices]
    async with sessions() as session:
        names = set((await session.scalars(select(Project.name))).all())
    assert "Library API" not in names and JOB_BOARD in names


async def test_catalog_list_pages_through_a_long_catalog(nexus, world: World):
    """Every project is on some page: the list no longer stops at the first 4,000 characters."""
    emu = world.emu
    added = [f"Project {index:02d}" for index in range(30)]
    for name in added:
        await nexus.services.catalog.add(world.guild.id, name, "b" * 200, "f" * 200)
    names = [p.name for p in await nexus.services.catalog.projects(world.guild.id)]
    page = emu.reply(await emu.command(world.learner, "catalog list"))
    assert page.ephemeral
    seen: list[str] = []
    while True:
        text = page.embeds[0]["description"]
        seen += [name for name in names if f"**{name}**" in text]
        (position,) = [b for b in page.buttons() if b.get("disabled") and "/" in b["label"]]
        following = next(b for b in page.buttons() if b["label"] == "Next ▶")
        if following.get("disabled"):
            break
        page = emu.reply(await emu.click(world.learner, page, "Next ▶"))
    assert sorted(seen) == sorted(names) and set(added) <= set(seen)
    current, total = position["label"].split("/")
    assert current == total and int(total) > 1  # the last of several pages


async def test_catalog_remove_refused_once_a_team_was_formed_on_it(nexus, world: World, sessions):
    """Teams keep their project after they end and their members re-announce elsewhere (the database
    refuses the delete): staff get the reason, not an error reference."""
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    await form_team(world, a, b)
    await emu.click(a, emu.reply(await emu.command(a, "partner leave")), "Leave team")
    for member in (a, b):
        await emu.command(member, "project announce", project="Online Poll System", track="backend", pitch="moved on")
    prompt = await emu.command(world.admin, "catalog remove", project=JOB_BOARD)
    refused = emu.reply(await emu.click(world.admin, emu.reply(prompt), "Remove"))
    assert "can't be removed: 1 team(s)" in refused.content and "reference" not in refused.content
    async with sessions() as session:
        assert await session.scalar(select(Project).where(Project.name == JOB_BOARD)) is not None


async def test_catalog_remove_refused_while_announced(nexus, world: World, sessions):
    emu = world.emu
    await announce(world, world.learner)
    prompt = await emu.command(world.admin, "catalog remove", project=JOB_BOARD)
    refused = await emu.click(world.admin, emu.reply(prompt), "Remove")
    assert "can't be removed" in emu.reply(refused).content
    async with sessions() as session:
        assert await session.scalar(select(Project).where(Project.name == JOB_BOARD)) is not None


async def test_profile_set_show_and_timezone_autocomplete(nexus, world: World):
    emu = world.emu
    choices = await emu.autocomplete(world.learner, "profile set", "timezone", track="backend", timezone="lagos")
    assert "Africa/Lagos" in [c["value"] for c in choices]
    it = await emu.command(
        world.learner, "profile set", track="backend", timezone="africa/lagos", github="@ada-dev", skills="Django, DRF"
    )
    assert "Profile saved" in emu.reply(it).content
    shown = emu.reply(await emu.command(world.learners[1], "profile show", member=world.learner)).text()
    assert "Africa/Lagos" in shown and "ada-dev" in shown and "Django, DRF" in shown
    missing = emu.reply(await emu.command(world.learners[1], "profile show")).content
    assert "not set a profile" in missing
    # fixing the time zone alone keeps the handle and skills; "none" removes one
    await emu.command(world.learner, "profile set", track="backend", timezone="Europe/Paris")
    shown = emu.reply(await emu.command(world.learner, "profile show")).text()
    assert "Europe/Paris" in shown and "ada-dev" in shown and "Django, DRF" in shown
    await emu.command(world.learner, "profile set", track="backend", timezone="UTC", github="none")
    shown = emu.reply(await emu.command(world.learner, "profile show")).text()
    assert "ada-dev" not in shown and "Django, DRF" in shown
    refused = emu.reply(
        await emu.command(world.learner, "profile set", track="frontend", timezone="UTC", skills="x" * 31)
    )
    assert refused.ephemeral and "longer than 30" in refused.content
    shown = emu.reply(await emu.command(world.learner, "profile show")).text()
    assert "Django, DRF" in shown and "Backend" in shown  # a refusal changes nothing


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"timezone": "Mars/Olympus"}, "is not a time zone"),
        ({"timezone": "UTC", "github": "bad handle!"}, "not a valid GitHub handle"),
        ({"timezone": "UTC", "skills": ",".join(f"s{i}" for i in range(12))}, "at most 10 skills"),
    ],
)
async def test_profile_bad_input(nexus, world: World, options, expected):
    it = await world.emu.command(world.learner, "profile set", track="backend", **options)
    reply = world.emu.reply(it)
    assert reply.ephemeral and expected in reply.content
    shown = world.emu.reply(await world.emu.command(world.learner, "profile show")).content
    assert "not set a profile" in shown


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"project": "Spaceship Backend"}, "no project called"),
        ({"project": "Jobb Bored"}, "Did you mean Job Board"),
        ({"pitch": "x" * 301}, "keep it to 300"),
        ({"pitch": "   \u200b  "}, "pitch is empty"),
        ({"repo": "http://github.com/me/x"}, "https://"),
        ({"repo": "https://github.com/me/my repo"}, "spaces or control characters"),
        ({"repo": "https://github.com/me/x\u0007"}, "spaces or control characters"),
        ({"repo": "javascript:alert(1)"}, "https://"),
    ],
)
async def test_announce_bad_input_changes_nothing(nexus, world: World, sessions, options, expected):
    await set_channel(world)
    values = {"project": JOB_BOARD, "track": "backend", "pitch": "ok", **options}
    it = await world.emu.command(world.learner, "project announce", validate=False, **values)
    reply = world.emu.reply(it)
    assert reply.ephemeral
    assert expected in reply.content
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 0
    assert posts(world) == []


async def test_mentions_and_markdown_in_pitch_ping_nobody(nexus, world: World):
    emu = world.emu
    await set_channel(world)
    pitch = f"@everyone @here {world.staff_role.mention} {world.admin.mention} **bold** ``` [x](https://evil)"
    it = await announce(world, world.learner, pitch=pitch)
    (post,) = posts(world)
    description = post.embeds[0]["description"]
    assert "@everyone" not in description.replace("@\u200beveryone", "")
    assert "<@&" not in description.replace("<@&\u200b", "")
    assert "\\*\\*bold\\*\\*" in description and "\\`\\`\\`" in description
    for message in [post, emu.reply(it)]:
        assert not message.pings().mass and not message.pings().users


async def test_a_post_edited_after_the_channel_moved_moves_and_leaves_no_copy(nexus, world: World, sessions):
    """Staff chose another channel: the next change posts the record there and deletes the old
    message, so no stale copy (with its buttons, or a forgotten member's name) stays behind."""
    emu = world.emu
    await set_channel(world)
    await announce(world, world.learner)
    (old,) = posts(world)
    fresh = emu.add_channel(world.guild, "cohort-projects")
    await emu.command(world.admin, "setup channel", channel=fresh)
    await announce(world, world.learner, pitch="Now with webhooks")
    await nexus.delivery.settled()
    assert posts(world) == []  # the old message is gone
    (moved,) = [m for m in emu.channel_messages(fresh) if m.embeds]
    assert "Now with webhooks" in moved.text() and moved.id != old.id
    async with sessions() as session:
        row = await session.scalar(select(Announcement))
    assert row is not None and (row.channel_id, row.message_id) == (fresh.id, moved.id)
    # forget-me then deletes the one copy there is
    confirm = emu.reply(await emu.command(world.learner, "nexus forget-me"))
    await emu.click(world.learner, confirm, "Forget me")
    await nexus.delivery.settled()
    assert [m for m in emu.channel_messages(fresh) if m.embeds] == [] and posts(world) == []


async def test_channel_not_set_then_set_posts_the_waiting_announcement(nexus, world: World, sessions):
    emu = world.emu
    emu.delete_channel(world.project)  # no channel named like the default, none configured
    it = await announce(world, world.learner)
    reply = emu.reply(it)
    assert "Saved" in reply.content and "no project channel is set" in reply.content
    async with sessions() as session:
        row = await session.scalar(select(Announcement))
    assert row is not None and row.message_id is None and row.post_error
    fresh = emu.add_channel(world.guild, "cohort-projects")
    done = await emu.command(world.admin, "setup channel", channel=fresh)
    assert "Posted 1 announcement(s)" in emu.reply(done).content
    (post,) = [m for m in emu.channel_messages(fresh) if m.embeds]
    assert "Building the API" in post.text()


async def test_channel_deleted_and_missing_permission_are_explained(nexus, world: World, sessions):
    emu = world.emu
    await set_channel(world)
    emu.deny_bot(world.project, SEND_MESSAGES | EMBED_LINKS)
    it = await announce(world, world.learner)
    assert "I can't post in" in emu.reply(it).content and "Send Messages" in emu.reply(it).content
    show = emu.reply(await emu.command(world.admin, "setup show")).text()
    assert "I need Send Messages" in show
    emu.delete_channel(world.project)
    again = await announce(world, world.learner, pitch="second try")
    assert "no longer exists" in emu.reply(again).content
    async with sessions() as session:
        row = await session.scalar(select(Announcement))
    assert row is not None and row.pitch == "second try" and row.posted_revision == 0


async def test_refused_post_is_posted_once_staff_fix_the_channel(nexus, world: World):
    emu = world.emu
    await set_channel(world)
    emu.fail(r"/channels/\d+/messages$", 403, method="POST")
    it = await announce(world, world.learner)
    assert "Discord refused" in emu.reply(it).content
    await world.emu.command(world.admin, "setup channel", channel=world.project)
    assert len(posts(world)) == 1
