"""The first hour: a catalog named for the product, and input that forgives near-misses."""

from __future__ import annotations

from sqlalchemy import select

from models import Announcement, Note, NoteTopic, Project
from tests.harness import World


async def test_catalog_lists_backend_and_frontend_briefs(nexus, world: World):
    emu = world.emu
    listing = emu.reply(await emu.command(world.learner, "catalog list")).text()
    assert "E-Commerce" in listing and "E-Commerce Backend" not in listing
    assert "Backend: Product catalog, cart" in listing and "Frontend: A storefront" in listing
    added = await emu.command(
        world.admin, "catalog add", name="Library", description="Books and loans API", frontend="A catalogue UI"
    )
    assert "Added **Library**" in emu.reply(added).content
    listing = emu.reply(await emu.command(world.learner, "catalog list")).text()
    assert "Backend: Books and loans API" in listing and "Frontend: A catalogue UI" in listing


async def test_project_names_rank_prefixes_first_and_accept_near_matches(nexus, world: World, sessions):
    emu = world.emu
    choices = await emu.autocomplete(world.learner, "project announce", "project", project="ecom")
    assert choices[0]["value"] == "E-Commerce"
    it = await emu.command(world.learner, "project announce", project="ecommerce", track="backend", pitch="shop")
    assert "**E-Commerce**" in emu.reply(it).content
    async with sessions() as session:
        project_id = await session.scalar(select(Announcement.project_id))
        assert (await session.get(Project, project_id)).name == "E-Commerce"
    prefix = await emu.command(world.learners[1], "project announce", project="Online", track="backend", pitch="x")
    assert "**Online Poll System**" in emu.reply(prefix).content  # a unique prefix is enough


async def test_topic_near_match_is_accepted(nexus, world: World, sessions):
    emu = world.emu
    choices = await emu.autocomplete(world.learner, "note add", "topic", topic="dj", kind="learning")
    assert choices[0]["value"] == "Django"
    it = await emu.command(world.learner, "note add", topic="djang", kind="learning")
    assert it.modal is not None
    await emu.submit_modal(world.learner, it, {"Title": "ORM", "What did you learn?": "select_related"})
    async with sessions() as session:
        topic_id = await session.scalar(select(Note.topic_id))
        assert (await session.get(NoteTopic, topic_id)).name == "Django"


async def test_repository_without_scheme_is_completed_and_kept_on_reannounce(nexus, world: World, sessions):
    emu = world.emu

    async def announce(**extra):
        values = {"project": "Job Board", "track": "backend", "pitch": "jobs api", **extra}
        return emu.reply(await emu.command(world.learner, "project announce", **values)).content

    async def stored() -> str | None:
        async with sessions() as session:
            return await session.scalar(select(Announcement.repo_url))

    assert "✅" in await announce(repo="github.com/ada/jobs")
    assert await stored() == "https://github.com/ada/jobs"
    assert "✅" in await announce(pitch="jobs api, second version")
    assert await stored() == "https://github.com/ada/jobs"
    assert "✅" in await announce(repo="none")
    assert await stored() is None


async def test_profile_time_zone_by_city_country_or_offset(nexus, world: World):
    emu = world.emu
    choices = await emu.autocomplete(world.learner, "profile set", "timezone", track="backend", timezone="kenya")
    assert choices[0]["value"] == "Africa/Nairobi"
    for typed, stored in (("nairobi", "Africa/Nairobi"), ("UTC+3", "Etc/GMT-3"), ("UTC-05:30", "UTC-05:30")):
        it = await emu.command(world.learner, "profile set", track="backend", timezone=typed)
        assert "Profile saved" in emu.reply(it).content
        assert stored in emu.reply(await emu.command(world.learner, "profile show")).text()
    it = await emu.command(world.learner, "profile set", track="backend", timezone="nairobbi")
    assert "Did you mean Africa/Nairobi" in emu.reply(it).content
