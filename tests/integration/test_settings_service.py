from __future__ import annotations

import asyncio

from bot.services.settings import GuildConfig, SettingsService


async def test_defaults_then_updates_per_guild(sessions):
    service = SettingsService(sessions)
    assert await service.get(1) == GuildConfig(1)
    await service.set_project_channel(1, 100)
    await service.set_staff_role(1, 200)
    await service.set_project_channel(2, 300)
    assert await service.get(1) == GuildConfig(1, 100, 200)
    assert await service.get(2) == GuildConfig(2, 300, None)
    await service.set_staff_role(1, None)
    assert (await service.get(1)).staff_role_id is None


async def test_concurrent_first_writes_do_not_fail(sessions):
    service = SettingsService(sessions)
    await asyncio.gather(*(service.set_project_channel(7, 1000 + i) for i in range(5)))
    assert (await service.get(7)).project_channel_id in {1000 + i for i in range(5)}
