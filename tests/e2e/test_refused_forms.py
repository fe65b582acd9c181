"""A refused form answers with an Edit button that reopens it filled with what was typed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

import bot.ui.drafts
from models import Announcement, Note
from tests.harness import World


def _fields(node: Any, found: dict[str, dict[str, Any]] | None = None, label: str = "") -> dict[str, dict[str, Any]]:
    """Every input of a modal payload, by custom_id and by label."""
    found = {} if found is None else found
    if isinstance(node, dict):
        label = node.get("label", label) if node.get("type") in (4, 18) else label
        if node.get("type") in (3, 4) and "custom_id" in node:
            found[node["custom_id"]] = node
            if label:
                found[label] = node
        for value in node.values():
            _fields(value, found, label)
    elif isinstance(node, list):
        for value in node:
            _fields(value, found, label)
    return found


async def test_refused_note_form_reopens_filled_in(nexus, world: World, sessions):
    emu = world.emu
    it = await emu.command(world.learner, "note add", topic="Django", kind="learning")
    typed = {"Title": "   ", "What did you learn?": "select_related joins", "Tags (comma separated)": "orm"}
    refused = emu.reply(await emu.submit_modal(world.learner, it, typed))
    assert refused.ephemeral and "Edit" in [b["label"] for b in refused.buttons()]
    reopened = await emu.click(world.learner, refused, "Edit")
    assert reopened.modal is not None
    fields = _fields(reopened.modal)
    assert fields["What did you learn?"]["value"] == "select_related joins"
    assert fields["Tags (comma separated)"]["value"] == "orm"
    done = await emu.submit_modal(world.learner, reopened, {**typed, "Title": "The ORM joins for you"})
    assert "Saved as note #" in emu.reply(done).content
    async with sessions() as session:
        assert await session.scalar(select(Note.body)) == "select_related joins"


async def test_refused_kickoff_form_reopens_filled_in_and_expires_after_a_restart(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await emu.command(world.admin, "cohort kickoff")
    (kickoff,) = [m for m in emu.channel_messages(world.project) if "Week 1" in m.text()]
    opened = await emu.click(world.learner, kickoff, "Announce my project")
    typed = {
        "nexus:announce:project": "Job Board",
        "nexus:announce:track": "frontend",
        "nexus:announce:pitch": "React client for the job board",
        "nexus:announce:repo": "http://github.com/me/jobs",
    }
    refused = emu.reply(await emu.submit_modal(world.learner, opened, typed))
    assert "https://" in refused.content and "Edit" in [b["label"] for b in refused.buttons()]
    reopened = await emu.click(world.learner, refused, "Edit")
    fields = _fields(reopened.modal)
    assert fields["nexus:announce:pitch"]["value"] == "React client for the job board"
    assert fields["nexus:announce:repo"]["value"] == "http://github.com/me/jobs"
    chosen = [o["value"] for o in fields["nexus:announce:project"]["options"] if o.get("default")]
    assert chosen == ["Job Board"]
    done = await emu.submit_modal(world.learner, reopened, {**typed, "nexus:announce:repo": "github.com/me/jobs"})
    assert "✅" in emu.reply(done).content
    async with sessions() as session:
        assert await session.scalar(select(Announcement.repo_url)) == "https://github.com/me/jobs"
    # the typed values live in memory only: once Nexus restarts, the button says to start again
    bot.ui.drafts._drafts.clear()
    expired = await emu.click(world.learner, refused, "Edit")
    assert expired.modal is None and "run the command again" in emu.reply(expired).content
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 1
