"""The emulator answers a body that breaks Discord's contract as Discord does, and keeps Discord's limits."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from bot.sandbox.emulator import NONCE_WINDOW_SECONDS, DiscordEmulator
from tests.harness import World


async def _call(emu: DiscordEmulator, method: str, path: str, body: object = None) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {emu.token}"}) as session:
        response = await session.request(method, f"{emu.api_base_url}{path}", json=body)
        await response.read()
        return response


async def test_a_bad_body_gets_400_50035_with_the_errors_tree(emu: DiscordEmulator, world: World) -> None:
    body = {"content": "x" * 2001, "embeds": [{"description": "d" * 4097}]}
    response = await _call(emu, "POST", f"/channels/{world.project.id}/messages", body)
    assert response.status == 400
    assert await response.json() == {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {
            "content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]},
            "embeds": {
                "0": {
                    "description": {
                        "_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 4096 or fewer in length."}]
                    }
                }
            },
        },
    }
    assert [(str(v.violation.path), v.violation.code) for v in emu.contract_violations] == [
        ("('embeds', '0', 'description')", "BASE_TYPE_MAX_LENGTH"),
        ("('content',)", "BASE_TYPE_MAX_LENGTH"),
    ]
    assert emu.channel_messages(world.project) == []
    emu.contract_violations.clear()  # seen; the fixture fails any test that leaves one


async def test_discord_py_raises_http_exception_50035(world: World, nexus) -> None:
    channel = nexus.get_channel(world.project.id)
    with pytest.raises(discord.HTTPException) as raised:
        await channel.send(embed=discord.Embed(description="d" * 4097))
    assert (raised.value.status, raised.value.code) == (400, 50035)
    assert "embeds.0.description" in raised.value.text
    assert len(world.emu.contract_violations) == 1
    world.emu.contract_violations.clear()


async def test_enforce_nonce_deduplicates_only_within_its_window(world: World) -> None:
    emu = world.emu
    clock = [1_000_000.0]
    emu.clock = lambda: clock[0]
    path = f"/channels/{world.project.id}/messages"
    body = {"content": "once", "nonce": "nexus:1:1", "enforce_nonce": True}
    first = await (await _call(emu, "POST", path, body)).json()
    clock[0] += NONCE_WINDOW_SECONDS - 1
    again = await (await _call(emu, "POST", path, body)).json()
    assert again["id"] == first["id"]
    clock[0] += 2
    later = await (await _call(emu, "POST", path, body)).json()
    assert later["id"] != first["id"]
    assert emu.nonce_hits == 1


async def test_edits_per_channel_are_limited_when_on(world: World) -> None:
    emu = world.emu
    posted = await (await _call(emu, "POST", f"/channels/{world.project.id}/messages", {"content": "v1"})).json()
    emu.channel_edit_limit = (2, 60.0)
    path = f"/channels/{world.project.id}/messages/{posted['id']}"
    statuses = [(await _call(emu, "PATCH", path, {"content": f"v{i}"})).status for i in range(3)]
    assert statuses == [200, 200, 429]
    response = await _call(emu, "PATCH", path, {"content": "v4"})
    assert response.headers["X-RateLimit-Bucket"] == "emulated-channel-edits"
    assert response.headers["X-RateLimit-Remaining"] == "0"


async def test_the_global_limit_spares_interaction_routes(world: World) -> None:
    emu = world.emu
    emu.global_rate_limit = (2, 60.0)
    statuses = [(await _call(emu, "GET", "/users/@me")).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = await _call(emu, "GET", "/users/@me")
    assert response.headers["X-RateLimit-Global"] == "true"
    payload = await response.json()
    assert payload["global"] is True
    assert 0 < payload["retry_after"] <= 60
    # callbacks and follow-ups are not bound by it: an unknown token is answered, not rate limited
    assert (await _call(emu, "POST", "/interactions/1/nope/callback", {"type": 5})).status == 404
    assert (await _call(emu, "POST", f"/webhooks/{emu.application_id}/nope", {"content": "x"})).status == 404
