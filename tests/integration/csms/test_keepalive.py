"""A charger that stops answering pings is marked offline once the pong timeout expires."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from websockets.typing import Subprotocol

from config.settings import Settings
from core.bus.events import EventType
from tests.integration.csms.support import Csms, seed_station


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ocpp_ping_interval": 0.2, "ocpp_ping_timeout": 0.3})


async def test_silent_peer_is_marked_offline(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with websockets.connect(
        csms.url(seeded.charge_point_id),
        subprotocols=[Subprotocol("ocpp1.6")],
        ping_interval=None,
    ) as ws:
        await csms.event(EventType.STATION_CONNECTED)
        # Stop reading: pings pile up unanswered, as with a charger whose link died.
        ws.transport.pause_reading()
        gone = await csms.event(EventType.STATION_DISCONNECTED)
        ws.transport.resume_reading()
    assert gone.data["reason"] in {
        "connection lost",
        "closed with code 1006",  # no close frame came back within the close timeout
        "closed with code 1011: keepalive ping timeout",
    }
    rows = await csms.fetch("SELECT online FROM station WHERE id = :id", id=seeded.station_id)
    assert rows[0]["online"] is False


async def test_answering_peer_stays_connected(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with websockets.connect(
        csms.url(seeded.charge_point_id), subprotocols=[Subprotocol("ocpp1.6")]
    ) as ws:
        await csms.event(EventType.STATION_CONNECTED)
        # Several ping rounds pass while the client answers them (it reads in the background).
        for _ in range(5):
            pong = await ws.ping()
            async with asyncio.timeout(5):
                await pong
        await ws.send('[2, "hb", "Heartbeat", {}]')
        async with asyncio.timeout(5):
            answer = await ws.recv()
    assert isinstance(answer, str)
    assert answer.startswith('[3,"hb"')
    assert [e for e in csms.drain_events() if e.type is EventType.STATION_DISCONNECTED] == []
