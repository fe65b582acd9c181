"""Follow-through: the pool matches itself, reasons are true, forget-me leaves no trace, the form has the cooldown.

Follow-up work (proposing a waiting learner, editing old posts) may run in the background after the
reply that caused it, so these tests poll with a bounded wait instead of asserting at once.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from bot.domain.teams import TeamStatus
from bot.sandbox.emulator import Interaction
from bot.sandbox.state import EmuMember, EmuMessage
from models import Announcement, Base, Team, TeamMember
from tests.harness import World, bot_settings, running_bot

JOB_BOARD = "Job Board"
FOLLOW_UP_TIMEOUT = 5.0
POLL_INTERVAL = 0.05
QUIET_PERIOD = 1.0
"""How long to watch for a proposal that must not appear."""
FALSE_REASON = "nobody on the frontend track has announced"


async def eventually(check: Callable[[], bool], timeout: float = FOLLOW_UP_TIMEOUT) -> bool:
    """Poll `check` every POLL_INTERVAL until it holds or `timeout` passes; whether it held."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(POLL_INTERVAL)
    return True


def proposal_posts(world: World) -> list[EmuMessage]:
    """Every 🤝 proposal/team post in the project channel, whatever its state."""
    return [m for m in world.emu.channel_messages(world.project) if m.embeds and "🤝" in m.embeds[0].get("title", "")]


def open_proposals(world: World, *members: EmuMember) -> list[EmuMessage]:
    """Proposal posts still waiting for answers (Accept/Decline shown) that name every one of `members`."""
    return [
        p
        for p in proposal_posts(world)
        if {"Accept", "Decline"} <= {b.get("label") for b in p.buttons()}
        and all(m.mention in p.text() for m in members)
    ]


def describe_posts(world: World) -> str:
    return "\n---\n".join(p.text() for p in proposal_posts(world)) or "(no proposal posts)"


async def join(world: World, member: EmuMember, track: str, pitch: str | None = None) -> None:
    """Set a profile and announce JOB_BOARD on `track`; nothing else (no /partner find)."""
    emu = world.emu
    await emu.command(member, "profile set", track=track, timezone="Africa/Lagos")
    await emu.command(member, "project announce", project=JOB_BOARD, track=track, pitch=pitch or f"{track} work")


async def wait_in_pool(world: World, member: EmuMember) -> None:
    """Run /partner find with nobody to propose: the member must be told she is in the pool."""
    found = world.emu.reply(await world.emu.command(member, "partner find"))
    assert "in the pool" in found.content, found.content


async def propose(world: World, finder: EmuMember, other: EmuMember) -> EmuMessage:
    """Get `finder` and `other` a proposal: `finder` runs /partner find (the bot may already have
    proposed them on its own, which is fine), then the post naming both must appear."""
    await world.emu.command(finder, "partner find")
    assert await eventually(lambda: len(open_proposals(world, finder, other)) == 1), describe_posts(world)
    return open_proposals(world, finder, other)[0]


async def pool_reason(world: World, member: EmuMember) -> str:
    """What /partner status tells a member waiting in the pool."""
    status = world.emu.reply(await world.emu.command(member, "partner status"))
    assert status.ephemeral
    return status.text()


def plan_line(text: str, member: EmuMember) -> str:
    """The line of a /match run plan that names `member`."""
    lines = [line for line in text.splitlines() if member.mention in line]
    assert len(lines) == 1, f"expected one line naming {member.mention} in the plan:\n{text}"
    return lines[0]


def reason_in(line: str, member: EmuMember) -> str:
    """The reason a plan line gives for `member`: what follows her mention."""
    return line.split(member.mention, 1)[1].strip(" :.-—")


# 1. The pool matches itself -------------------------------------------------------------------


async def test_announcing_proposes_the_learner_waiting_in_the_pool(nexus, world: World):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    waiting, newcomer = world.learners[:2]
    await join(world, waiting, "backend")
    await wait_in_pool(world, waiting)
    await join(world, newcomer, "frontend")  # announces only; nobody runs /partner find again
    appeared = await eventually(lambda: len(open_proposals(world, waiting, newcomer)) == 1)
    assert appeared, f"no proposal for the waiting backend and the new frontend:\n{describe_posts(world)}"
    (proposal,) = open_proposals(world, waiting, newcomer)
    assert [b["label"] for b in proposal.buttons()] == ["Accept", "Decline"]
    assert proposal.pings().users == {waiting.id, newcomer.id} and not proposal.pings().mass
    assert len(proposal_posts(world)) == 1
    status = emu.reply(await emu.command(newcomer, "partner status")).text()
    assert waiting.mention in status  # the proposal is hers too, not only a post


async def test_only_a_learner_who_asked_is_proposed_on_announce(nexus, world: World):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    asker, announced_only, first_frontend, second_frontend = world.learners[:4]
    await join(world, asker, "backend")
    await wait_in_pool(world, asker)
    await join(world, announced_only, "backend")
    await join(world, first_frontend, "frontend")
    appeared = await eventually(lambda: len(open_proposals(world, asker, first_frontend)) == 1)
    assert appeared, f"the backend who ran /partner find was not proposed:\n{describe_posts(world)}"
    assert all(announced_only.mention not in p.text() for p in proposal_posts(world))
    # two learners who only announced are not proposed to each other
    await join(world, second_frontend, "frontend")
    await asyncio.sleep(QUIET_PERIOD)
    assert len(proposal_posts(world)) == 1, describe_posts(world)
    for member in (announced_only, second_frontend):
        status = emu.reply(await emu.command(member, "partner status")).text()
        assert not any(other.mention in status for other in world.learners if other is not member), status


async def test_a_declined_learner_is_proposed_to_a_newcomer(nexus, world: World):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    backend, first, second = world.learners[:3]
    await join(world, backend, "backend")
    await join(world, first, "frontend")
    proposal = await propose(world, backend, first)
    await emu.click(first, proposal, "Decline")
    assert "Declined" in proposal.text()
    await join(world, second, "frontend")  # announces only
    appeared = await eventually(lambda: len(open_proposals(world, backend, second)) == 1)
    assert appeared, f"the declined backend was not proposed to the new frontend:\n{describe_posts(world)}"


@pytest.mark.parametrize("how", ["decline", "leave"])
async def test_a_learner_back_in_the_pool_is_proposed_to_one_already_waiting(nexus, world: World, how: str):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    backend, first, second = world.learners[:3]
    await join(world, backend, "backend")
    await join(world, first, "frontend")
    proposal = await propose(world, backend, first)
    if how == "leave":
        await emu.click(backend, proposal, "Accept")
        await emu.click(first, proposal, "Accept")
    await join(world, second, "frontend")
    await wait_in_pool(world, second)  # the only backend is taken: she waits
    if how == "decline":
        await emu.click(first, proposal, "Decline")
    else:
        prompt = emu.reply(await emu.command(first, "partner leave"))
        await emu.click(first, prompt, "Leave team")
    appeared = await eventually(lambda: len(open_proposals(world, backend, second)) == 1)
    assert appeared, f"after the {how}, the backend was not proposed to the waiting frontend:\n{describe_posts(world)}"


async def test_two_frontends_at_once_give_the_waiting_backend_one_proposal(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    backend, first, second = world.learners[:3]
    await join(world, backend, "backend")
    await wait_in_pool(world, backend)
    for member in (first, second):
        await emu.command(member, "profile set", track="frontend", timezone="Africa/Lagos")
    await asyncio.gather(
        *(
            emu.command(member, "project announce", project=JOB_BOARD, track="frontend", pitch="frontend work")
            for member in (first, second)
        )
    )
    await eventually(lambda: bool(open_proposals(world, backend)))
    await asyncio.sleep(QUIET_PERIOD)  # room for a second proposal, if one were coming
    mine = open_proposals(world, backend)
    assert len(mine) == 1, f"expected exactly one open proposal for the backend:\n{describe_posts(world)}"
    assert sum(m.mention in mine[0].text() for m in (first, second)) == 1
    async with sessions() as session:
        current = (
            await session.execute(
                select(TeamMember.user_id, func.count())
                .where(TeamMember.is_current.is_(True))
                .group_by(TeamMember.user_id)
            )
        ).all()
        proposed = await session.scalar(select(func.count()).where(Team.status == TeamStatus.PROPOSED.value))
    assert all(count == 1 for _, count in current), current
    assert dict(current).get(backend.id) == 1 and proposed == 1


# 2. True reasons ------------------------------------------------------------------------------


async def test_a_full_trio_is_the_reason_everywhere(nexus, world: World):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    b1, b2, f1, late = world.learners[:4]
    for member, track in ((b1, "backend"), (b2, "backend"), (f1, "frontend")):
        await join(world, member, track)
    await emu.command(world.admin, "match run")
    (trio,) = open_proposals(world, b1, b2, f1)
    for member in (b1, b2, f1):
        await emu.click(member, trio, "Accept")
    assert "Team formed" in trio.text()
    await join(world, late, "backend")
    await wait_in_pool(world, late)

    status = await pool_reason(world, late)
    dry = plan_line(emu.reply(await emu.command(world.admin, "match run", dry_run=True)).text(), late)
    real = plan_line(emu.reply(await emu.command(world.admin, "match run")).text(), late)
    status_after = await pool_reason(world, late)
    for where, text in (("status", status), ("dry run", dry), ("run", real), ("status after the run", status_after)):
        assert FALSE_REASON not in text, f"{where}: {text}"
        assert "full" in text, f"{where} does not say the team is full: {text}"
    reason = reason_in(dry, late)
    assert reason == reason_in(real, late)
    assert reason in status and reason in status_after, (reason, status, status_after)


async def test_a_declined_proposal_is_the_reason(nexus, world: World):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    b1, f1, b2 = world.learners[:3]
    await join(world, b1, "backend")
    await join(world, f1, "frontend")
    await join(world, b2, "backend")
    first = await propose(world, b1, f1)
    await emu.click(b1, first, "Decline")
    second = await propose(world, b2, f1)
    await emu.click(b2, second, "Accept")
    await emu.click(f1, second, "Accept")
    assert "Team formed" in second.text()

    await emu.command(b1, "partner find")
    status = await pool_reason(world, b1)
    dry = plan_line(emu.reply(await emu.command(world.admin, "match run", dry_run=True)).text(), b1)
    for where, text in (("status", status), ("dry run", dry)):
        assert "declined" in text, f"{where} does not name the decline: {text}"
        assert "full" not in text, f"{where}: {text}"


# 3. Forget-me leaves no trace where Nexus can reach -------------------------------------------


def bot_posts_naming(world: World, user_id: int) -> list[str]:
    """The current version of every bot post in the guild's channels that still names `user_id`."""
    emu = world.emu
    needle = str(user_id)
    found = []
    for channel in world.guild.channels.values():
        for message in emu.channel_messages(channel):
            if message.author.id != emu.bot_user.id:
                continue
            shown = json.dumps(
                {"content": message.content, "embeds": message.embeds, "components": message.components},
                ensure_ascii=False,
            )
            if needle in shown:
                found.append(f"#{channel.name} {message.id}: {message.text()}")
    return found


async def rows_naming(sessions, user_id: int) -> list[str]:
    """Every database value equal to `user_id`, or text containing it, as table.column=value."""
    found = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    if value == user_id or (isinstance(value, str) and str(user_id) in value):
                        found.append(f"{table.name}.{column}={value!r}")
    return found


async def test_forget_me_leaves_no_trace_in_posts_or_database(nexus, world: World, sessions):
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    a, b, c = world.learners[:3]
    await join(world, a, "backend")
    await join(world, c, "frontend")
    declined = await propose(world, a, c)
    await emu.click(a, declined, "Decline")  # the post and the team now say "declined by" her
    await join(world, b, "frontend")
    team = await propose(world, a, b)
    await emu.click(a, team, "Accept")
    await emu.click(b, team, "Accept")
    assert "Team formed" in team.text()
    assert bot_posts_naming(world, a.id) and await rows_naming(sessions, a.id)  # there is something to forget

    prompt = emu.reply(await emu.command(a, "nexus forget-me"))
    done = emu.reply(await emu.click(a, prompt, "Forget me"))
    assert "Removed" in done.content

    await eventually(lambda: not bot_posts_naming(world, a.id))
    posts = bot_posts_naming(world, a.id)
    assert not posts, "bot posts still naming the forgotten member:\n" + "\n".join(posts)
    rows = await rows_naming(sessions, a.id)
    assert not rows, f"database values still naming the forgotten member: {rows}"


# 4. The kickoff form has the write cooldown ---------------------------------------------------


def without_numbers(text: str) -> str:
    return re.sub(r"\d+", "N", text)


async def submit_kickoff_form(world: World, member: EmuMember, kickoff: EmuMessage, pitch: str) -> EmuMessage:
    """Press "Announce my project" and submit the form; the reply the member sees.

    If the button itself refuses (a cooldown checked before the form opens), that refusal is the reply.
    """
    emu = world.emu
    opened: Interaction = await emu.click(member, kickoff, "Announce my project")
    if opened.modal is None:
        return emu.reply(opened)
    values = {"nexus:announce:project": JOB_BOARD, "nexus:announce:track": "backend", "nexus:announce:pitch": pitch}
    return emu.reply(await emu.submit_modal(member, opened, values))


async def post_kickoff(world: World) -> EmuMessage:
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await emu.command(world.admin, "cohort kickoff")
    (kickoff,) = [m for m in emu.channel_messages(world.project) if "Announce my project" in str(m.components)]
    return kickoff


async def stored_pitch(sessions, member: EmuMember) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(Announcement.pitch).where(Announcement.user_id == member.id))


def announcement_post(world: World, member: EmuMember) -> EmuMessage:
    (post,) = [m for m in world.emu.channel_messages(world.project) if "📣" in m.text() and member.mention in m.text()]
    return post


async def test_kickoff_form_is_refused_once_the_write_rate_is_used_up(world: World, database_url, sessions):
    emu = world.emu
    settings = bot_settings(emu, database_url, world.guild.id, write_cooldown_rate=2, write_cooldown_seconds=60)
    async with running_bot(settings, emu):
        kickoff = await post_kickoff(world)
        learner, other = world.learners[:2]
        for pitch in ("one", "two", "three"):
            command_reply = emu.reply(
                await emu.command(other, "project announce", project=JOB_BOARD, track="frontend", pitch=pitch)
            )
        assert command_reply.ephemeral and "Slow down" in command_reply.content  # the refusal to match

        for pitch in ("First pitch", "Second pitch"):
            accepted = await submit_kickoff_form(world, learner, kickoff, pitch)
            assert "Slow down" not in accepted.content and "See the post" in accepted.content, accepted.content
        refused = await submit_kickoff_form(world, learner, kickoff, "Third pitch")
        assert refused.ephemeral and "Slow down" in refused.content, f"the form was not refused: {refused.content}"
        assert without_numbers(refused.content) == without_numbers(command_reply.content)
        assert await stored_pitch(sessions, learner) == "Second pitch"
        post = announcement_post(world, learner)
        assert "Second pitch" in post.text() and "Third pitch" not in post.text()


async def test_kickoff_form_shares_the_write_rate_with_project_announce(world: World, database_url, sessions):
    emu = world.emu
    settings = bot_settings(emu, database_url, world.guild.id, write_cooldown_rate=2, write_cooldown_seconds=60)
    async with running_bot(settings, emu):
        kickoff = await post_kickoff(world)
        learner = world.learner
        for pitch in ("First pitch", "Second pitch"):
            reply = emu.reply(
                await emu.command(learner, "project announce", project=JOB_BOARD, track="backend", pitch=pitch)
            )
            assert "See the post" in reply.content, reply.content
        command_reply = emu.reply(
            await emu.command(learner, "project announce", project=JOB_BOARD, track="backend", pitch="Third pitch")
        )
        assert "Slow down" in command_reply.content
        refused = await submit_kickoff_form(world, learner, kickoff, "Form pitch")
        assert refused.ephemeral and "Slow down" in refused.content, (
            f"the form bypassed the cooldown: {refused.content}"
        )
        assert without_numbers(refused.content) == without_numbers(command_reply.content)
        assert await stored_pitch(sessions, learner) == "Second pitch"
        post = announcement_post(world, learner)
        assert "Second pitch" in post.text() and "Form pitch" not in post.text()
