"""The cases where Nexus sent Discord what Discord refuses, or let member text become markup."""

from __future__ import annotations

from sqlalchemy import select

from models import Announcement, Learner, Note
from tests.harness import World, add_endpoint

EMBEDS_TOTAL = 6000
CONTENT_MAX = 2000


def embeds_size(embeds: list[dict]) -> int:
    """Characters Discord counts against a message's 6,000 across its embeds."""
    total = 0
    for embed in embeds:
        total += len(embed.get("title", "")) + len(embed.get("description", ""))
        total += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in embed.get("fields", []))
        total += len((embed.get("footer") or {}).get("text", "")) + len((embed.get("author") or {}).get("name", ""))
    return total


async def _long_challenge(world: World) -> None:
    emu = world.emu
    it = await emu.command(world.learner, "note add", topic="django", kind="challenge")
    body = ("The list view ran one query per order. " * 100)[:3900]
    solution = "\n".join(f"step {i}: select_related and prefetch_related, measured again" for i in range(70))[:3900]
    done = await emu.submit_modal(
        world.learner,
        it,
        {
            "Title": "N+1 everywhere",
            "The challenge": body,
            "How you solved it": solution,
            "Tags (comma separated)": "orm",
        },
    )
    return emu.reply(done), body, solution


async def test_a_long_challenge_is_shown_whole_within_the_limit(nexus, world: World, sessions):
    emu = world.emu
    reply, body, solution = await _long_challenge(world)
    assert "Saved as note #" in reply.content
    assert embeds_size(reply.embeds) <= EMBEDS_TOTAL
    assert "…" in reply.text() and "attached" in reply.text()
    (attachment,) = reply.attachments
    assert body.strip() in attachment.data.decode() and solution in attachment.data.decode()
    async with sessions() as session:
        note_id = (await session.scalars(select(Note.id))).one()
    shown = emu.reply(await emu.command(world.learner, "note show", id=str(note_id)))
    assert embeds_size(shown.embeds) <= EMBEDS_TOTAL and len(shown.attachments) == 1
    assert "step 0:" in shown.text() and "Solution (continued)" in shown.text()


async def test_a_short_challenge_is_one_embed_with_no_file(nexus, world: World):
    emu = world.emu
    it = await emu.command(world.learner, "note add", topic="django", kind="challenge")
    reply = emu.reply(
        await emu.submit_modal(
            world.learner, it, {"Title": "Short", "The challenge": "slow", "How you solved it": "an index"}
        )
    )
    assert reply.attachments == [] and "…" not in reply.text() and "an index" in reply.text()


async def test_catalog_remove_never_echoes_more_than_discord_takes(nexus, world: World):
    emu = world.emu
    (remove,) = [
        sub
        for command in emu.commands_for(world.guild.id)
        if command["name"] == "catalog"
        for sub in command["options"]
        if sub["name"] == "remove"
    ]
    (option,) = remove["options"]
    assert option.get("max_length", 6000) <= 100
    prompt = emu.reply(await emu.command(world.admin, "catalog remove", project="x" * option["max_length"]))
    assert len(prompt.content) <= CONTENT_MAX and prompt.ephemeral


async def test_a_repository_link_cannot_carry_markup(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    sneaky = "<https://github.com/x>[Official grading form](https://evil.example/login)<<@&123456789012345678>>"
    refused = emu.reply(
        await emu.command(
            world.learner, "project announce", project="Job Board", track="backend", pitch="hi", repo=sneaky
        )
    )
    assert refused.ephemeral and "repository link" in refused.content
    async with sessions() as session:
        assert (await session.scalars(select(Announcement))).all() == []
    ok = emu.reply(
        await emu.command(
            world.learner,
            "project announce",
            project="Job Board",
            track="backend",
            pitch="hi",
            repo="https://github.com/learner1/job-board",
        )
    )
    assert "announced" in ok.content
    (post,) = emu.channel_messages(world.project)
    assert "https://github.com/learner1/job-board" in post.text() and "](" not in post.text()


async def test_text_discord_cannot_carry_is_cleaned_not_an_error(nexus, world: World, sessions):
    emu = world.emu
    lone = "\ud800"
    replies = [
        emu.reply(
            await emu.command(world.learner, "tip share", text=f"Use select_related{lone} early", topic="django")
        ),
        emu.reply(await emu.command(world.learner, "note search", query=f"select{lone}")),
        emu.reply(
            await emu.command(
                world.learner, "profile set", track="backend", timezone="UTC", skills=f"django, re{lone}dis"
            )
        ),
        emu.reply(
            await emu.command(
                world.learner, "project announce", project="Job Board", track="backend", pitch=f"jobs{lone}"
            )
        ),
        emu.reply(await emu.command(world.admin, "topic add", name=f"Celery{lone}")),
    ]
    for reply in replies:
        assert "Something went wrong" not in reply.content, reply.content
        assert "reference" not in reply.content, reply.content
    async with sessions() as session:
        learner = (await session.scalars(select(Learner).where(Learner.user_id == world.learner.id))).one()
        announcement = (await session.scalars(select(Announcement))).one()
    assert lone not in learner.skills and "redis" in learner.skills
    assert announcement.pitch == "jobs"


async def test_a_long_api_contract_pages_instead_of_being_cut(nexus, world: World):
    from tests.e2e.test_matching import form_team, setup_learners

    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    a, b = world.learners[:2]
    await form_team(world, a, b)
    for i in range(30):
        await add_endpoint(emu, a, method="GET", path=f"/things/{i}", summary=f"thing {i} " + "x" * 180)
    first = emu.reply(await emu.command(a, "api list"))
    assert embeds_size(first.embeds) <= EMBEDS_TOTAL and "page 1/" in first.text()
    seen = set(first.text().split("`#")[1:])
    page = first
    while page.buttons() and not page.button("Next ▶").get("disabled"):
        page = emu.reply(await emu.click(a, page, "Next ▶"))
        seen |= set(page.text().split("`#")[1:])
    assert len(seen) == 30  # every endpoint is on some page


async def test_a_post_retried_after_the_nonce_window_is_not_made_twice(nexus, world: World, sessions):
    import time

    from bot.sandbox.emulator import NONCE_WINDOW_SECONDS

    emu = world.emu
    clock = [time.time()]
    emu.clock = lambda: clock[0]
    await emu.command(world.admin, "setup channel", channel=world.project)
    emu.lose_answer(r"/channels/\d+/messages$", 503, method="POST")  # posted, but the answer is lost
    reply = emu.reply(
        await emu.command(world.learner, "project announce", project="Job Board", track="backend", pitch="hi")
    )
    assert "not in the project channel yet" in reply.content
    (made,) = emu.channel_messages(world.project)
    clock[0] += NONCE_WINDOW_SECONDS + 60  # Discord no longer matches the nonce
    assert await nexus.delivery.flush(world.guild.id) == (1, 0)
    (post,) = emu.channel_messages(world.project)
    assert post.id == made.id and "hi" in post.text()
    async with sessions() as session:
        assert (await session.scalars(select(Announcement.message_id))).one() == made.id
