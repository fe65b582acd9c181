"""API contracts with examples (issue 18), end to end through the emulator: the form, agreements reset
by a change and the teammate told with the diff, the history, the roster's contract health, the
README, the OpenAPI 3.1 and Postman v2.1 exports, and every refusal leaving the contract as it was."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from openapi_spec_validator import validate
from sqlalchemy import func, select

from bot.sandbox.state import CREATE_PRIVATE_THREADS, EmuMember, EmuMessage
from models import ApiAgreement, ApiChange, ApiEndpoint
from tests.e2e.test_matching import form_team, proposals, setup_learners
from tests.harness import API_FORM_LABELS, World, add_endpoint

POSTMAN_SCHEMA = Path(__file__).parents[1] / "data" / "postman" / "collection-v2.1.0.json"
FOLLOW_UP_TIMEOUT = 5.0

JOBS = json.dumps([{"id": 7, "title": "Junior developer", "remote": True, "tags": ["python"]}], indent=2)
JOBS_CHANGED = json.dumps(
    [{"id": 7, "title": "Junior developer", "remote": "hybrid", "tags": ["python"], "salary": 52000}], indent=2
)
APPLICATION = json.dumps({"letter": "Hello!", "cv_url": "https://example.com/cv.pdf"})
APPLIED = json.dumps({"id": 3, "job_id": 7, "status": "received"})
JOB = json.dumps({"id": 7, "title": "Junior developer", "remote": True, "owner": {"name": "Acme"}})
OTHER_JOB = json.dumps({"id": 8, "title": "Designer", "remote": False, "owner": {"name": "Studio"}})


async def eventually(check: Any, timeout: float = FOLLOW_UP_TIMEOUT) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def dms(world: World, member: EmuMember) -> list[EmuMessage]:
    channel = world.emu.dm_channel(member)
    return [] if channel is None else world.emu.channel_messages(channel)


def endpoint_id(message: EmuMessage) -> int:
    found = re.search(r"#(\d+)", message.content)
    assert found is not None, message.content
    return int(found[1])


def modal_values(modal: dict[str, Any]) -> dict[str, str]:
    """A modal payload's text inputs by label."""
    values: dict[str, str] = {}
    for row in modal.get("components", []):
        inners = [row["component"]] if row.get("type") == 18 else row.get("components", [])
        for inner in inners:
            values[row.get("label") or inner.get("label", "")] = inner.get("value", "")
    return values


async def team_of_two(world: World) -> tuple[EmuMember, EmuMember]:
    emu = world.emu
    await emu.command(world.admin, "setup channel", channel=world.project)
    await setup_learners(world, ["backend", "frontend"])
    backend, frontend = world.learners[:2]
    await form_team(world, backend, frontend)
    return backend, frontend


async def contract_state(sessions: Any) -> tuple[Any, ...]:
    """Everything a refusal must leave as it was."""
    async with sessions() as session:
        endpoints = (
            await session.execute(
                select(
                    ApiEndpoint.id,
                    ApiEndpoint.summary,
                    ApiEndpoint.status,
                    ApiEndpoint.request_example,
                    ApiEndpoint.response_example,
                    ApiEndpoint.query_params,
                    ApiEndpoint.revision,
                ).order_by(ApiEndpoint.id)
            )
        ).all()
        agreements = (
            await session.execute(
                select(ApiAgreement.endpoint_id, ApiAgreement.user_id, ApiAgreement.revision).order_by(
                    ApiAgreement.endpoint_id, ApiAgreement.user_id
                )
            )
        ).all()
        changes = await session.scalar(select(func.count()).select_from(ApiChange))
    return tuple(endpoints), tuple(agreements), changes


async def test_a_change_resets_agreement_and_tells_the_frontend_with_the_diff(nexus, world: World, sessions):
    emu = world.emu
    emu.deny_bot(world.project, CREATE_PRIVATE_THREADS)  # a team without a thread: told by DM
    backend, frontend = await team_of_two(world)
    listed = await add_endpoint(emu, backend, "GET", "/jobs", "List jobs", response=JOBS, query="page: integer")
    jobs_id = endpoint_id(emu.reply(listed))
    applied = await add_endpoint(
        emu,
        backend,
        "POST",
        "/jobs/{job_id}/applications",
        "Apply to a job",
        201,
        request=APPLICATION,
        response=APPLIED,
    )
    apply_id = endpoint_id(emu.reply(applied))
    assert "contract v2" in emu.reply(applied).content
    assert await eventually(lambda: len(dms(world, frontend)) == 2), [m.content for m in dms(world, frontend)]
    assert "added `POST /jobs/{job_id}/applications`" in dms(world, frontend)[1].content
    assert dms(world, backend) == []  # the author is not told of their own change

    shown = emu.reply(await emu.command(frontend, "api show", id=apply_id)).text()
    assert "job_id" in shown and "201" in shown
    assert "`letter` string" in shown and "`cv_url` string" in shown and "`status` string" in shown
    for endpoint in (jobs_id, apply_id):
        await emu.command(frontend, "api agree", id=endpoint)
    listing = emu.reply(await emu.command(frontend, "api list")).text()
    assert listing.count("✅") == 2 and "agreed by everyone" in listing
    assert "✅ API contract agreed" in emu.reply(await emu.command(frontend, "nexus progress")).text()

    # the backend changes a response field: the form opens filled in with the endpoint as it stands
    opened = await emu.command(backend, "api edit", id=jobs_id)
    assert opened.modal is not None
    filled = modal_values(opened.modal)
    assert json.loads(filled[API_FORM_LABELS["response"]]) == json.loads(JOBS)
    assert filled[API_FORM_LABELS["query"]] == "page: integer"
    changed = emu.reply(await emu.submit_modal(backend, opened, {API_FORM_LABELS["response"]: JOBS_CHANGED}))
    assert changed.ephemeral and "Changed" in changed.content and "contract v3" in changed.content
    assert "must agree again" in changed.content

    assert await eventually(lambda: len(dms(world, frontend)) == 3)
    told = dms(world, frontend)[2].content
    assert backend.mention in told and "changed `GET /jobs`" in told and "v3" in told
    assert "+ response field [].salary (integer)" in told
    assert "~ response field [].remote: boolean → string" in told
    assert f"/api agree id:{jobs_id}" in told

    (team_post,) = proposals(world)  # the team's post in the project channel shows the change too
    assert await eventually(lambda: "1 changed since agreed" in team_post.text()), team_post.text()
    assert "v3 · 1/2 endpoint(s) agreed" in team_post.text()
    assert f"Last change: {backend.mention} changed `GET /jobs`" in team_post.text()
    assert "+ response field [].salary (integer)" in team_post.text()
    listing = emu.reply(await emu.command(frontend, "api list")).text()
    assert listing.count("✅") == 1 and "changed" in listing and "not agreed yet" in listing
    assert "✅ API contract agreed" not in emu.reply(await emu.command(frontend, "nexus progress")).text()
    roster = emu.reply(await emu.command(world.admin, "cohort roster")).text()
    line = next(line for line in roster.splitlines() if frontend.mention in line)
    assert "API: 1 agreed, 0 pending, 1 changed since agreed" in line

    history = emu.reply(await emu.command(frontend, "api history"))
    assert history.ephemeral
    text = history.text()
    assert text.index("v3 · changed GET /jobs") < text.index("v2 · added POST") < text.index("v1 · added GET /jobs")
    assert f"by {backend.mention}" in text and "+ response field [].salary (integer)" in text

    again = emu.reply(await emu.command(frontend, "api agree", id=jobs_id))
    assert "agreed by everyone" in again.content
    assert await eventually(lambda: "v3 · 2/2 endpoint(s) agreed" in team_post.text()), team_post.text()
    assert "Next: agree your API" not in team_post.text()
    readme = emu.reply(await emu.command(frontend, "nexus export"))
    (attachment,) = readme.attachments
    collaboration = attachment.data.decode().split("## Collaboration", 1)[1]
    assert "Agreed API endpoints" in collaboration
    assert "GET /jobs: List jobs" in collaboration and "POST /jobs/{job\\_id}/applications" in collaboration
    # another member's export shows what is public (project, partners), not the team's contract
    outsider = world.learners[3]
    theirs = emu.reply(await emu.command(outsider, "nexus export", member=frontend))
    collaboration = theirs.attachments[0].data.decode().split("## Collaboration", 1)[1]
    assert "Job Board" in collaboration and "Agreed API endpoints" not in collaboration
    assert "/jobs" not in collaboration


async def test_history_pages_through_many_changes(nexus, world: World):
    emu = world.emu
    backend, frontend = await team_of_two(world)
    for index in range(12):
        await add_endpoint(emu, backend, "GET", f"/things/{index}", f"Thing {index}")
    first = emu.reply(await emu.command(frontend, "api history"))
    assert "page 1/3" in first.text() and "v12 · added GET /things/11" in first.text()
    second = emu.reply(await emu.click(frontend, first, "Next ▶"))
    assert "page 2/3" in second.text() and "v7 · added GET /things/6" in second.text()


async def test_dms_closed_the_change_is_told_in_the_channel(nexus, world: World):
    emu = world.emu
    emu.deny_bot(world.project, CREATE_PRIVATE_THREADS)  # a team without a thread: told by DM
    backend, frontend = await team_of_two(world)
    emu.fail(r"/users/@me/channels$", 403, method="POST", times=5)
    await add_endpoint(emu, backend, "GET", "/jobs", "List jobs", response=JOBS)

    def notices() -> list[EmuMessage]:
        return [m for m in emu.channel_messages(world.project) if "API contract changed" in m.text()]

    assert await eventually(lambda: len(notices()) == 1)
    (notice,) = notices()
    assert frontend.mention in notice.content and backend.mention not in notice.content
    assert "added `GET /jobs`" in notice.text()
    assert notice.pings().users == {frontend.id}
    # forget-me of the change's author: the notice is edited without her
    assert backend.mention in notice.text()
    confirm = emu.reply(await emu.command(backend, "nexus forget-me"))
    await emu.click(backend, confirm, "Forget me")
    assert await eventually(lambda: backend.mention not in notices()[0].text()), notices()[0].text()


async def test_exports_validate_and_their_schemas_accept_the_examples(nexus, world: World):
    emu = world.emu
    backend, frontend = await team_of_two(world)
    await add_endpoint(
        emu, backend, "GET", "/jobs", "List jobs", response=JOBS, query="page: integer\nq: string, required"
    )
    await add_endpoint(
        emu, backend, "POST", "/jobs/{job_id}/applications", "Apply", 201, request=APPLICATION, response=APPLIED
    )
    await add_endpoint(emu, frontend, "GET", "/jobs/{job_id}", "One job", response=JOB)
    await add_endpoint(emu, frontend, "PUT", "/jobs/{job_id}", "Replace a job", request=OTHER_JOB, response=OTHER_JOB)
    await add_endpoint(emu, frontend, "DELETE", "/jobs/{job_id}", "Delete a job", 204, description="Gone for good.")

    exported = emu.reply(await emu.command(backend, "api export"))
    assert exported.ephemeral and "prism mock" in exported.content
    (attachment,) = exported.attachments
    assert attachment.filename.endswith("openapi.yaml")
    document = yaml.safe_load(attachment.data)
    validate(document)
    assert document["openapi"] == "3.1.0" and document["info"]["version"] == "5"
    schemas = document["components"]["schemas"]
    one, put = document["paths"]["/jobs/{job_id}"]["get"], document["paths"]["/jobs/{job_id}"]["put"]
    # the three job examples have one shape: one component shared by the three
    refs = {
        one["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        put["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        put["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
    }
    assert len(refs) == 1
    listing = document["paths"]["/jobs"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in listing["parameters"]] == [
        ("page", "query", False),
        ("q", "query", True),
    ]
    assert document["paths"]["/jobs/{job_id}"]["delete"]["responses"]["204"] == {"description": "No Content"}
    checked = 0
    for operations in document["paths"].values():
        for operation in operations.values():
            bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
            for body in bodies:
                media = body.get("content", {}).get("application/json")
                if media is None:
                    continue
                schema = media["schema"]
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
                jsonschema.Draft202012Validator(schema).validate(media["example"])
                if schema.get("type") == "object":  # and it is a real schema: another shape is refused
                    assert list(jsonschema.Draft202012Validator(schema).iter_errors({"unexpected": "shape"}))
                checked += 1
    assert checked == 6

    postman = emu.reply(await emu.command(frontend, "api export", format="postman"))
    (attachment,) = postman.attachments
    assert attachment.filename.endswith(".postman_collection.json")
    collection = json.loads(attachment.data)
    jsonschema.Draft7Validator(json.loads(POSTMAN_SCHEMA.read_text())).validate(collection)
    assert len(collection["item"]) == 5
    apply = next(i for i in collection["item"] if i["request"]["method"] == "POST")
    assert apply["request"]["url"]["path"] == ["jobs", ":job_id", "applications"]
    assert json.loads(apply["request"]["body"]["raw"]) == json.loads(APPLICATION)
    assert apply["response"][0]["code"] == 201 and json.loads(apply["response"][0]["body"]) == json.loads(APPLIED)


async def test_refusals_are_clear_ephemeral_and_change_nothing(nexus, world: World, sessions):
    emu = world.emu
    backend, frontend = await team_of_two(world)
    other_a, other_b, outsider = world.learners[2:5]
    for member, track in ((other_a, "backend"), (other_b, "frontend")):
        await emu.command(member, "profile set", track=track, timezone="Africa/Lagos")
        await emu.command(member, "project announce", project="Job Board", track=track, pitch="work")
    await form_team(world, other_a, other_b)
    jobs_id = endpoint_id(emu.reply(await add_endpoint(emu, backend, "GET", "/jobs", "List jobs", response=JOBS)))
    await emu.command(frontend, "api agree", id=jobs_id)
    before = await contract_state(sessions)

    # bad JSON: the line and column, and an Edit button that reopens the form as typed
    broken = '{\n  "title": "Junior developer",\n  "remote": true,\n}'
    bad = emu.reply(await add_endpoint(emu, backend, "POST", "/jobs", "Post a job", request=broken, query="x: integer"))
    assert bad.ephemeral and "request body example is not valid JSON" in bad.content
    assert "line 4, column 1" in bad.content
    reopened = await emu.click(backend, bad, "Edit")
    assert reopened.modal is not None
    assert modal_values(reopened.modal)[API_FORM_LABELS["request"]] == broken
    assert modal_values(reopened.modal)[API_FORM_LABELS["query"]] == "x: integer"
    assert await contract_state(sessions) == before

    deep = json.dumps({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}})
    too_deep = emu.reply(await add_endpoint(emu, backend, "POST", "/jobs", "Post a job", response=deep))
    assert too_deep.ephemeral and "nests 9 levels deep; at most 8" in too_deep.content
    bad_query = emu.reply(await add_endpoint(emu, backend, "POST", "/jobs", "Post a job", query="page integer"))
    assert bad_query.ephemeral and "Query parameters, line 1" in bad_query.content

    # a path with unbalanced braces is refused before the form opens
    unbalanced = await add_endpoint(emu, backend, "GET", "/api/jobs/{id", "One job")
    assert unbalanced.modal is None
    message = emu.reply(unbalanced)
    assert message.ephemeral and "unbalanced braces" in message.content
    duplicate = await add_endpoint(emu, frontend, "GET", "/jobs", "Again")
    assert duplicate.modal is None and "already in your contract" in emu.reply(duplicate).content

    # an endpoint of another team: not found for them, whatever they try
    for command in ("api edit", "api agree", "api show", "api remove"):
        refused = await emu.command(other_a, command, id=jobs_id)
        assert refused.modal is None
        assert emu.reply(refused).ephemeral and f"no endpoint #{jobs_id}" in emu.reply(refused).content, command

    # a member of no team cannot change a contract
    await emu.command(outsider, "profile set", track="frontend", timezone="Africa/Lagos")
    for command, options in (
        ("api add", {"method": "GET", "path": "/x", "summary": "x"}),
        ("api edit", {"id": jobs_id}),
        ("api agree", {"id": jobs_id}),
    ):
        refused = await emu.command(outsider, command, **options)
        assert refused.modal is None
        assert emu.reply(refused).ephemeral and "formed team" in emu.reply(refused).content, command

    # a teammate's change submitted after they left the team is refused at the form too
    opened = await emu.command(frontend, "api edit", id=jobs_id)
    prompt = emu.reply(await emu.command(frontend, "partner leave"))
    await emu.click(frontend, prompt, "Leave team")
    after = await contract_state(sessions)
    late = emu.reply(await emu.submit_modal(frontend, opened, {API_FORM_LABELS["response"]: JOBS_CHANGED}))
    assert late.ephemeral and "formed team" in late.content
    assert await contract_state(sessions) == after
    assert after[0] == before[0] and after[2] == before[2]  # leaving changed no endpoint and no version


LINK = re.compile(r"\]\(\s*<?https?://")


def outside_code(text: str) -> str:
    """`text` without its inline code spans: what Discord renders as markdown."""
    return re.sub(r"`[^`]*`", "", text)


async def test_member_text_in_a_change_never_becomes_a_link(nexus, world: World):
    """A summary or a JSON key carrying backticks cannot close the diff's code span and become a
    masked link, in the teammate's DM, the team's post in the project channel, or the history."""
    emu = world.emu
    emu.deny_bot(world.project, CREATE_PRIVATE_THREADS)  # a team without a thread: told by DM
    backend, frontend = await team_of_two(world)
    listed = await add_endpoint(emu, backend, "GET", "/jobs", "List jobs", response=JOBS)
    jobs_id = endpoint_id(emu.reply(listed))
    evil = "x` [Claim your prize](https://evil.example) `y"
    opened = await emu.command(backend, "api edit", id=jobs_id, summary=evil)
    assert opened.modal is not None
    evil_key = json.dumps([{"id": 7, "a` [win](https://evil.example) `b": 1}])
    changed = emu.reply(await emu.submit_modal(backend, opened, {API_FORM_LABELS["response"]: evil_key}))
    assert "Changed" in changed.content
    assert await eventually(lambda: len(dms(world, frontend)) == 2)
    # the two tellings are delivered concurrently: under load the edit's DM may come first
    (told,) = [m.content for m in dms(world, frontend) if " changed " in m.content]
    assert "evil.example" in told  # shown, as text
    assert not LINK.search(outside_code(told)), told
    team_posts = [m for m in emu.channel_messages(world.project) if "Last change" in m.text()]
    assert team_posts and "evil.example" in team_posts[-1].text()
    assert not LINK.search(outside_code(team_posts[-1].text())), team_posts[-1].text()
    history = emu.reply(await emu.command(frontend, "api history")).text()
    assert "evil.example" in history and not LINK.search(outside_code(history)), history
