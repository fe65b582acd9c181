"""/note, /tip, /topic and /nexus export through the emulator, as members would use them."""

from __future__ import annotations

import asyncio

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import func, select

from bot.domain.notes import NoteKind
from bot.domain.readme import SECTION_TITLES
from bot.sandbox.emulator import CB_MESSAGE, EmulatorError
from models import Note, NoteVote
from tests.harness import World, bot_settings, running_bot


async def _note(nexus, world: World, member, *, title="JWT refresh tokens", body="Rotate refresh tokens.", **extra):
    options = {"topic": "Django", "kind": NoteKind.LEARNING, "private": False} | extra
    return await nexus.services.notes.create_note(world.guild.id, member.id, title=title, body=body, **options)


async def _vote(emu, member, message):
    """Press Helpful and wait for the whole answer: the updated note, then the private confirmation."""
    it = await emu.click(member, message, "Helpful")
    for _ in range(250):
        if it.followup_ids or it.callback_type == CB_MESSAGE:
            break
        await asyncio.sleep(0.02)
    return it


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------- writing


async def test_note_add_opens_a_modal_and_saves(nexus, world: World, sessions):
    emu = world.emu
    it = await emu.command(world.learner, "note add", topic="django", kind="challenge")
    assert it.modal is not None and len(it.modal["title"]) <= 45
    done = await emu.submit_modal(
        world.learner,
        it,
        {
            "Title": "N+1 queries on the orders list",
            "The challenge": "The endpoint ran 300 queries.",
            "How you solved it": "select_related('customer')",
            "Tags (comma separated)": "orm, #Performance",
        },
    )
    reply = emu.reply(done)
    assert reply.ephemeral and "Saved as note #" in reply.content
    assert "select\\_related" in reply.text() and "orm, performance" in reply.text()
    async with sessions() as session:
        note = (await session.scalars(select(Note))).one()
    assert (note.kind, note.title, note.tags) == (
        "challenge",
        "N+1 queries on the orders list",
        "orm, performance",
    )


async def test_learning_modal_has_no_solution_field(nexus, world: World):
    it = await world.emu.command(world.learner, "note add", topic="Python", kind="learning", private=True)
    labels = [c["components"][0]["label"] for c in it.modal["components"]] if it.modal else []
    assert labels == ["Title", "What did you learn?", "Tags (comma separated)"]


async def test_blank_title_is_refused(nexus, world: World, sessions):
    it = await world.emu.command(world.learner, "note add", topic="Python", kind="learning")
    done = await world.emu.submit_modal(world.learner, it, {"Title": "   ", "What did you learn?": "x"})
    reply = world.emu.reply(done)
    assert reply.ephemeral and "title can't be blank" in reply.content
    assert await _count(sessions, Note) == 0


async def test_over_long_fields_are_refused(nexus, world: World, sessions):
    it = await world.emu.command(world.learner, "note add", topic="Python", kind="learning")
    with pytest.raises(EmulatorError, match="longer than 100"):  # the modal itself caps the title
        await world.emu.submit_modal(world.learner, it, {"Title": "x" * 101, "What did you learn?": "x"})
    tip = await world.emu.command(world.learner, "tip share", text="y" * 301, topic="Python", validate=False)
    reply = world.emu.reply(tip)
    assert reply.ephemeral and "limit is 300" in reply.content
    assert await _count(sessions, Note) == 0


async def test_unknown_topic_is_refused_before_the_modal(nexus, world: World):
    it = await world.emu.command(world.learner, "note add", topic="Djnago", kind="learning")
    assert it.modal is None
    reply = world.emu.reply(it)
    assert reply.ephemeral and "no topic called" in reply.content and "Django" in reply.content


async def test_tip_share_neutralises_mentions_and_markdown(nexus, world: World):
    text = f"@everyone @here <@&{world.staff_role.id}> **bold** use `select_related`"
    it = await world.emu.command(world.learner, "tip share", text=text, topic="Django")
    reply = world.emu.reply(it)
    assert reply.ephemeral
    assert not reply.pings().mass
    assert "@everyone" not in reply.content and "@here" not in reply.content
    assert "\\*\\*bold\\*\\*" in reply.content


async def test_note_show_renders_injection_as_text(nexus, world: World):
    note = await _note(nexus, world, world.learner, title="@everyone look", body="@here <@&1> [x](http://evil)")
    it = await world.emu.command(world.learners[1], "note show", id=str(note.id))
    reply = world.emu.reply(it)
    assert not reply.pings().mass
    text = reply.text()
    assert "@everyone" not in text and "@here" not in text and "<@&1>" not in text
    assert "\\[x\\]" in text


# ---------------------------------------------------------------- show, vote, edit, delete


async def test_public_note_is_shared_with_a_helpful_button_and_votes_toggle(nexus, world: World, sessions):
    emu = world.emu
    note = await _note(nexus, world, world.learner)
    shown = emu.reply(await emu.command(world.learners[1], "note show", id=f"#{note.id}"))
    assert not shown.ephemeral
    assert shown.button("Helpful")["custom_id"] == f"nexus:note:helpful:{note.id}"

    first = await _vote(emu, world.learners[1], shown)
    assert emu.reply(first).ephemeral and "marked" in emu.reply(first).content
    assert "1 found it helpful" in emu.messages[shown.id].text()
    await _vote(emu, world.learners[2], shown)
    assert "2 found it helpful" in emu.messages[shown.id].text()
    again = await _vote(emu, world.learners[1], shown)
    assert "taken back" in emu.reply(again).content
    assert "1 found it helpful" in emu.messages[shown.id].text()
    own = await _vote(emu, world.learner, shown)
    assert "your own note" in emu.reply(own).content
    assert await _count(sessions, NoteVote) == 1


async def test_private_note_is_shown_only_to_its_author(nexus, world: World):
    note = await _note(nexus, world, world.learner, private=True)
    mine = world.emu.reply(await world.emu.command(world.learner, "note show", id=str(note.id)))
    assert mine.ephemeral and mine.buttons() == [] and "Private" in mine.text()
    other = world.emu.reply(await world.emu.command(world.learners[1], "note show", id=str(note.id)))
    assert other.ephemeral and "There is no note" in other.content


@pytest.mark.parametrize("ref", ["999999", "#2147483648", "abc", "99999999999999999999"])
async def test_unknown_note_ids_are_refused(nexus, world: World, ref):
    reply = world.emu.reply(await world.emu.command(world.learner, "note show", id=ref))
    assert reply.ephemeral and "There is no note" in reply.content


async def test_a_note_from_another_server_is_not_found(nexus, world: World):
    elsewhere = await nexus.services.notes.create_note(
        world.guild.id + 1, world.learner.id, topic="Django", kind=NoteKind.LEARNING, title="t", body="b"
    )
    for command in ("note show", "note edit", "note delete"):
        reply = world.emu.reply(await world.emu.command(world.learner, command, id=str(elsewhere.id)))
        assert reply.ephemeral and "There is no note" in reply.content


async def test_edit_opens_a_filled_modal_for_the_author_only(nexus, world: World, sessions):
    emu = world.emu
    note = await _note(nexus, world, world.learner, tags="jwt")
    refused = await emu.command(world.learners[1], "note edit", id=str(note.id))
    assert refused.modal is None and "Only the note's author" in emu.reply(refused).content
    it = await emu.command(world.learner, "note edit", id=str(note.id))
    assert it.modal is not None
    fields = {c["components"][0]["label"]: c["components"][0].get("value") for c in it.modal["components"]}
    assert fields["Title"] == "JWT refresh tokens" and fields["Tags (comma separated)"] == "jwt"
    done = await emu.submit_modal(world.learner, it, {"Title": "JWT rotation"})
    assert "updated" in emu.reply(done).content
    async with sessions() as session:
        assert (await session.get(Note, note.id)).title == "JWT rotation"


async def test_delete_asks_for_confirmation(nexus, world: World, sessions):
    emu = world.emu
    note = await _note(nexus, world, world.learner)
    refused = emu.reply(await emu.command(world.learners[1], "note delete", id=str(note.id)))
    assert refused.ephemeral and "Only the note's author or staff" in refused.content

    question = emu.reply(await emu.command(world.learner, "note delete", id=str(note.id)))
    assert question.ephemeral and "Delete note" in question.content
    cancelled = await emu.click(world.learner, question, "Cancel")
    assert "nothing was changed" in emu.reply(cancelled).content
    assert await _count(sessions, Note) == 1

    # autocomplete offers the notes the member may delete: their own (staff: any public one)
    for member, offered in ((world.learners[1], False), (world.learner, True), (world.admin, True)):
        choices = await emu.autocomplete(member, "note delete", "id", id="JWT")
        assert (str(note.id) in [c["value"] for c in choices]) is offered, member

    question = emu.reply(await emu.command(world.learner, "note delete", id=str(note.id)))
    second = emu.reply(await emu.command(world.learner, "note delete", id=str(note.id)))
    done = await emu.click(world.learner, question, "Delete")
    assert f"Deleted note #{note.id}" in emu.reply(done).content
    assert await _count(sessions, Note) == 0
    # a second prompt pressed after the note went is answered in place, not left to fail
    late = emu.reply(await emu.click(world.learner, second, "Delete"))
    assert "There is no note" in late.content and not late.buttons()


async def test_staff_may_delete_a_public_note(nexus, world: World, sessions):
    note = await _note(nexus, world, world.learner)
    question = world.emu.reply(await world.emu.command(world.admin, "note delete", id=str(note.id)))
    done = await world.emu.click(world.admin, question, "Delete")
    assert "Deleted" in world.emu.reply(done).content
    assert await _count(sessions, Note) == 0


# ---------------------------------------------------------------- search and lists


async def test_search_pages_with_buttons(nexus, world: World):
    emu = world.emu
    for index in range(12):
        await _note(nexus, world, world.learners[index % 3], title=f"Docker tip {index}", body="docker compose up")
    reply = emu.reply(await emu.command(world.learner, "note search", query="docker"))
    assert reply.ephemeral and reply.button("1/3")
    first_page = reply.text()
    assert "12 notes" in first_page and "**docker**" in first_page.lower()
    # the pages keep the query, not the hits: another page runs the search again, fresh
    await _note(nexus, world, world.learners[1], title="Docker tip 12", body="docker compose up")
    after = emu.reply(await emu.click(world.learner, reply, "Next ▶"))
    assert after.button("2/3") and after.text() != first_page and "13 notes" in after.text()
    back = emu.reply(await emu.click(world.learner, after, "◀ Previous"))
    assert back.button("1/3") and "Docker tip 12" in back.text() and "13 notes" in back.text()
    # the bot keeps nothing per search: no stored view, no timer (the buttons carry the search)
    store = nexus._connection._view_store
    assert not store._synced_message_views and not store._views
    timers = [t for t in asyncio.all_tasks() if "timeout_task" in getattr(t.get_coro(), "__qualname__", "")]
    assert not timers


async def test_search_pages_keep_the_filters(nexus, world: World):
    emu = world.emu
    for index in range(7):
        await _note(nexus, world, world.learner, title=f"Redis cache {index}", kind=NoteKind.CHALLENGE, topic="Python")
    await _note(nexus, world, world.learner, title="Redis cache other kind", topic="Python")
    await _note(nexus, world, world.learner, title="Redis cache other topic", kind=NoteKind.CHALLENGE)
    await _note(
        nexus, world, world.learners[1], title="Redis cache other author", kind=NoteKind.CHALLENGE, topic="Python"
    )
    options = {"query": "redis cache", "kind": "challenge", "topic": "python", "author": world.learner}
    reply = emu.reply(await emu.command(world.learner, "note search", **options))
    assert reply.button("1/2") and "7 notes" in reply.text()
    second = emu.reply(await emu.click(world.learner, reply, "Next ▶"))
    assert second.button("2/2") and "7 notes" in second.text() and "other" not in second.text()
    assert second.button("Next ▶")["disabled"] and not second.button("◀ Previous")["disabled"]


async def test_search_pages_of_a_long_search(world: World, database_url: str):
    """A search too long for a custom_id is kept by the process; after a restart its buttons say so."""
    emu = world.emu
    words = " ".join(["docker"] + [f"compose{index}" for index in range(15)])
    async with running_bot(bot_settings(emu, database_url, world.guild.id), emu) as bot:
        for index in range(8):
            await _note(bot, world, world.learners[index % 3], title=f"Docker tip {index}", body=words)
        reply = emu.reply(await emu.command(world.learner, "note search", query=words))
        custom_ids = [b["custom_id"] for row in reply.components for b in row["components"]]
        assert all(len(c.encode()) <= 100 for c in custom_ids) and "compose14" not in "".join(custom_ids)
        second = emu.reply(await emu.click(world.learner, reply, "Next ▶"))
        assert second.button("2/2") and "8 notes" in second.text()
    async with running_bot(bot_settings(emu, database_url, world.guild.id), emu):
        expired = emu.reply(await emu.click(world.learner, second, "◀ Previous"))
        assert expired.ephemeral and "Run /note search again" in expired.content
        assert "2/2" in str(emu.messages[second.id].components)  # the old page is left as it was


async def test_search_buttons_work_after_a_restart(world: World, database_url: str):
    emu = world.emu
    async with running_bot(bot_settings(emu, database_url, world.guild.id), emu) as bot:
        for index in range(6):
            await _note(bot, world, world.learner, title=f"GraphQL tip {index}", body="graphql schema first")
        reply = emu.reply(await emu.command(world.learner, "note search", query="graphql schema"))
        assert reply.button("1/2")
    async with running_bot(bot_settings(emu, database_url, world.guild.id), emu):
        second = emu.reply(await emu.click(world.learner, reply, "Next ▶"))
        assert second.button("2/2") and "6 notes" in second.text()


async def test_search_filters_and_privacy(nexus, world: World):
    emu = world.emu
    await _note(nexus, world, world.learner, title="Public JWT")
    await _note(nexus, world, world.learner, title="Secret JWT", private=True)
    await _note(nexus, world, world.learners[1], title="JWT challenge", kind=NoteKind.CHALLENGE, topic="Python")
    other = emu.reply(await emu.command(world.learners[2], "note search", query="jwt")).text()
    assert "Public JWT" in other and "JWT challenge" in other and "Secret" not in other
    mine = emu.reply(await emu.command(world.learner, "note search", query="jwt", author=world.learner)).text()
    assert "Secret JWT" in mine and "JWT challenge" not in mine
    kind = emu.reply(await emu.command(world.learner, "note search", query="jwt", kind="challenge")).text()
    assert "JWT challenge" in kind and "Public JWT" not in kind
    topic = emu.reply(await emu.command(world.learner, "note search", query="jwt", topic="Python")).text()
    assert "JWT challenge" in topic and "Public JWT" not in topic


async def test_nothing_found_suggests_topics(nexus, world: World):
    await _note(nexus, world, world.learner, tags="graphql")
    reply = world.emu.reply(await world.emu.command(world.learner, "note search", query="graphq"))
    assert reply.ephemeral and "Nothing found" in reply.content and "GraphQL" in reply.content


NASTY_QUERIES = [
    '"',
    '"jwt',
    'jwt"',
    "jwt AND OR NOT docker",
    "NEAR(jwt docker)",
    "jwt*",
    "^jwt",
    "title:jwt",
    "body:",
    "(jwt",
    "jwt)",
    "🐍🔥💡",
    "Джанго 日本語 عربي",
    "jwt " * 125,
    "!!!...???",
    "-jwt +docker",
    "%_",
]


@pytest.mark.parametrize("query", NASTY_QUERIES)
async def test_search_survives_any_text(nexus, world: World, query):
    await _note(nexus, world, world.learner)
    reply = world.emu.reply(await world.emu.command(world.learner, "note search", query=query[:500]))
    assert reply.ephemeral
    assert "Nothing found" in reply.content or "JWT refresh tokens" in reply.text()
    assert "reference" not in reply.content  # no unexpected error


@pytest.mark.parametrize("query", ["", "   ", "x" * 600])
async def test_search_survives_what_discord_would_not_send(nexus, world: World, query):
    reply = world.emu.reply(await world.emu.command(world.learner, "note search", query=query, validate=False))
    assert reply.ephemeral and "reference" not in reply.content


async def test_autocomplete_shows_titles_and_matches_content(nexus, world: World):
    public = await _note(nexus, world, world.learner, title="Token rotation", body="simplejwt blacklist app")
    await _note(nexus, world, world.learner, title="Secret simplejwt", body="x", private=True)
    choices = await world.emu.autocomplete(world.learners[1], "note show", "id", id="simplejwt")
    assert [c["value"] for c in choices] == [str(public.id)]
    assert "Token rotation" in choices[0]["name"]
    topics = await world.emu.autocomplete(world.learner, "note add", "topic", topic="dj", kind="learning")
    assert [c["name"] for c in topics] == ["Django"]


async def test_note_mine_is_ephemeral_and_paginated(nexus, world: World):
    for index in range(11):
        await _note(nexus, world, world.learner, title=f"Note {index}", private=index == 0)
    reply = world.emu.reply(await world.emu.command(world.learner, "note mine"))
    assert reply.ephemeral and reply.button("1/2") and "Note 10" in reply.text()
    following = world.emu.reply(await world.emu.click(world.learner, reply, "Next ▶"))
    assert "Note 0" in following.text() and "🔒" in following.text()


async def test_tip_random_and_top(nexus, world: World):
    emu = world.emu
    empty = emu.reply(await emu.command(world.learner, "tip random"))
    assert "No tips yet" in empty.content
    await emu.command(world.learner, "tip share", text="Use select_related", topic="Django")
    await emu.command(world.learners[1], "tip share", text="Pin image tags", topic="Docker")
    await _note(nexus, world, world.learners[2], title="hidden tip", kind=NoteKind.TIP, private=True)
    shown = emu.reply(await emu.command(world.learner, "tip random", topic="Docker"))
    assert "Pin image tags" in shown.text() and shown.button("Helpful")
    await _vote(emu, world.learner, shown)
    top = emu.reply(await emu.command(world.learner, "tip top", days=7)).text()
    assert top.index("Pin image tags") < top.index("Use select") and "hidden" not in top


# ---------------------------------------------------------------- topics


async def test_topics_are_managed_by_staff(nexus, world: World):
    emu = world.emu
    refused = emu.reply(await emu.command(world.learner, "topic add", name="Kubernetes"))
    assert "Only staff" in refused.content
    added = emu.reply(await emu.command(world.admin, "topic add", name="Kubernetes"))
    assert "Kubernetes" in added.content
    clash = emu.reply(await emu.command(world.admin, "topic add", name="kubernetes"))
    assert "already exists" in clash.content
    await _note(nexus, world, world.learner, topic="Kubernetes")
    kept = emu.reply(await emu.command(world.admin, "topic remove", name="KUBERNETES"))
    assert kept.ephemeral and "nothing was removed" in kept.content
    assert "Kubernetes" in emu.reply(await emu.command(world.learner, "topic list")).text()
    removed = emu.reply(await emu.command(world.admin, "topic remove", name="Caching"))
    assert "removed" in removed.content
    # topic list read (and cached) the topics before: the removal shows at once
    listing = emu.reply(await emu.command(world.learner, "topic list")).text()
    assert "Kubernetes" in listing and "Caching" not in listing


# ---------------------------------------------------------------- export


def _h2(markdown: str) -> list[str]:
    tokens = MarkdownIt().parse(markdown)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]


async def test_export_is_a_markdown_readme_with_six_sections(nexus, world: World):
    await _note(nexus, world, world.learner, title="JWT", body="## Not a section\nsetext\n---\n```py\n# comment")
    await _note(nexus, world, world.learner, title="N+1", kind=NoteKind.CHALLENGE, solution="select_related")
    await _note(nexus, world, world.learner, title="Healthchecks", kind=NoteKind.PRACTICE, topic="Docker")
    await _note(nexus, world, world.learner, title="Private thought", private=True)
    await nexus.services.notes.share_tip(world.guild.id, world.learner.id, "Pin image tags", "Docker")
    it = await world.emu.command(world.learner, "nexus export")
    reply = world.emu.reply(it)
    assert reply.ephemeral and len(reply.attachments) == 1
    attachment = reply.attachments[0]
    assert attachment.filename.endswith(".md")
    markdown = attachment.data.decode()
    assert _h2(markdown) == list(SECTION_TITLES)
    assert "Private thought" in markdown and "select_related" in markdown and "Pin image tags" in markdown
    assert "Not recorded yet" in markdown

    other = world.emu.reply(await world.emu.command(world.learners[1], "nexus export", member=world.learner))
    theirs = other.attachments[0].data.decode()
    assert _h2(theirs) == list(SECTION_TITLES) and "Private thought" not in theirs


# ---------------------------------------------------------------- restart


async def test_helpful_button_works_after_a_restart(world: World, database_url: str, sessions):
    emu = world.emu
    settings = bot_settings(emu, database_url, world.guild.id)
    async with running_bot(settings, emu) as bot:
        note = await bot.services.notes.create_note(
            world.guild.id,
            world.learner.id,
            topic="Docker",
            kind=NoteKind.TIP,
            title="Pin tags",
            body="Pin tags",
        )
        shown = emu.reply(await emu.command(world.learners[1], "note show", id=str(note.id)))
    async with running_bot(bot_settings(emu, database_url, world.guild.id), emu):
        clicked = await _vote(emu, world.learners[1], shown)
        assert "marked" in emu.reply(clicked).content
        assert "1 found it helpful" in emu.messages[shown.id].text()
    assert await _count(sessions, NoteVote) == 1


async def test_list_pages_rebuild_from_their_buttons(world: World, database_url: str):
    """/note mine and /project who keep nothing in memory: their buttons rebuild the list, after a
    restart too, with the command's own argument."""
    emu = world.emu
    settings = bot_settings(emu, database_url, world.guild.id)
    async with running_bot(settings, emu) as bot:
        for index in range(12):
            await _note(bot, world, world.learner, title=f"Mine {index}", body="b")
        for index in range(15):  # one announcement each: 12 on the job board, 3 elsewhere
            project = "Job Board" if index < 12 else "E-Commerce"
            member = emu.add_member(world.guild, f"builder-{index}")
            await bot.services.announcements.announce(
                world.guild.id,
                member.id,
                f"builder-{index}",
                project=project,
                track="backend",
                pitch="p",
                repo_url=None,
            )
        mine = emu.reply(await emu.command(world.learner, "note mine"))
        assert mine.ephemeral and mine.button("1/2") and "Mine 11" in mine.text()
        who = emu.reply(await emu.command(world.learner, "project who", project="job board backend"))
        assert who.button("1/2")
        store = bot._connection._view_store
        assert not store._synced_message_views and not store._views
    async with running_bot(settings, emu):
        second = emu.reply(await emu.click(world.learner, mine, "Next ▶"))
        assert second.button("2/2") and "Mine 0" in second.text() and "Mine 11" not in second.text()
        who_second = emu.reply(await emu.click(world.learner, who, "Next ▶"))
        assert who_second.button("2/2") and "Job Board" in who_second.text()
        assert "12 backend" in who_second.text()  # the project came back from the button
        other = emu.reply(await emu.click(world.learners[2], who, "◀ Previous"))
        assert other.ephemeral and "someone else" in other.content


async def test_search_says_what_it_changed_in_the_query(nexus, world: World):
    await _note(nexus, world, world.learner, title="Idempotency keys", body="Retries are safe with them.")
    found = world.emu.reply(await world.emu.command(world.learner, "note search", query="idem\u200dpotency"))
    assert "Idempotency keys" in found.text() and "(ignored invisible characters)" in found.text()
    missing = world.emu.reply(await world.emu.command(world.learner, "note search", query="zzz\u200dq"))
    assert "Nothing found for “zzzq”. (ignored invisible characters)" in missing.content
    long = "idempotency " + "y" * 600
    cut = world.emu.reply(await world.emu.command(world.learner, "note search", query=long, validate=False))
    assert "(your search was cut to the first 500 characters)" in cut.text()


async def test_search_bolds_whole_words_only(nexus, world: World):
    await _note(nexus, world, world.learner, title="Slow list", body="A JOIN fixed the N+1 queries in one transaction.")
    reply = world.emu.reply(await world.emu.command(world.learner, "note search", query="N+1 queries on"))
    assert "**N**+**1** **queries**" in reply.text()
    assert "JOI**N**" not in reply.text() and "transacti**on**" not in reply.text()
