"""Scale-out: a command submitted by another process reaches the charger through Redis.

The csms runs over Resources opened with REDIS_URL (so a ``RedisCommandBus``); the "API process"
is a second set of Resources on the same Redis and database, with its own bus (its own node).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from config.settings import Settings
from core.bus.commands import CommandRequest, RedisCommandBus, StationNotConnectedError
from core.domain.enums import CommandAction, CommandStatus
from core.runtime import Resources, open_resources
from csms.app import serve_csms
from tests.integration.csms.support import connect_charger, port_of, seed_station


@pytest.fixture
async def redis_settings(settings: Settings, redis_url: str) -> Settings:
    return settings.model_copy(update={"redis_url": redis_url})


@pytest.fixture
async def api_resources(redis_settings: Settings, resources: Resources) -> AsyncIterator[Resources]:
    """The submitting process (``resources`` has emptied the tables first)."""
    async with open_resources(redis_settings, migrate=False) as res:
        yield res


async def _connected(resources: Resources, charge_point_id: str, expected: bool) -> None:
    async with asyncio.timeout(5):
        while await resources.command_bus.is_connected(charge_point_id) is not expected:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_command_from_another_process_reaches_the_charger_through_redis(
    redis_settings: Settings, api_resources: Resources
) -> None:
    assert isinstance(api_resources.command_bus, RedisCommandBus)
    seeded = await seed_station(api_resources)
    cpid = seeded.charge_point_id
    async with (
        open_resources(redis_settings, migrate=False) as csms_resources,
        serve_csms(csms_resources) as server,
    ):
        assert isinstance(csms_resources.command_bus, RedisCommandBus)
        url = f"ws://127.0.0.1:{port_of(server)}/ocpp/{cpid}"
        async with connect_charger(url, cpid, "ocpp1.6") as charger:
            await _connected(api_resources, cpid, True)
            request = CommandRequest(
                command_id=uuid.uuid4(),
                station_id=seeded.station_id,
                charge_point_id=cpid,
                action=CommandAction.RESET,
                payload={"type": "Hard"},
                timeout=10,
            )
            reply = await asyncio.wait_for(await api_resources.command_bus.submit(request), 15)
        assert reply.command_id == request.command_id
        assert reply.status is CommandStatus.ACCEPTED
        assert reply.response is not None
        assert reply.response["status"] == "Accepted"
        assert charger.received == [("Reset", {"type": "Hard"})]

        # The socket closed: presence goes with it, and the bus refuses at once.
        await _connected(api_resources, cpid, False)
        with pytest.raises(StationNotConnectedError):
            await api_resources.command_bus.submit(request)
