"""Security profile 2: with a certificate and key configured the csms speaks only wss://."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
import websockets
from websockets.exceptions import InvalidMessage
from websockets.typing import Subprotocol

from config.settings import Settings
from core.bus.events import EventType
from core.runtime import Resources
from csms.app import serve_csms
from tests.integration.csms.support import Csms, port_of, seed_station


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def settings(settings: Settings, authority: trustme.CA, tmp_path: Path) -> Settings:
    cert = authority.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    return settings.model_copy(update={"tls_cert_file": cert_file, "tls_key_file": key_file})


@pytest.fixture
async def csms(resources: Resources) -> AsyncIterator[Csms]:
    events = resources.event_bus.subscribe(max_queue=1_000)
    async with serve_csms(resources) as server:
        yield Csms(resources, server, events)
    events.close()


async def test_wss_with_a_trusted_certificate_and_basic_auth(
    csms: Csms, authority: trustme.CA
) -> None:
    seeded = await seed_station(csms.resources, password="s3cret-pass-1234")
    client = ssl.create_default_context()
    authority.configure_trust(client)
    url = f"wss://{seeded.charge_point_id}:s3cret-pass-1234@127.0.0.1:{port_of(csms.server)}"
    async with websockets.connect(
        f"{url}/ocpp/{seeded.charge_point_id}",
        subprotocols=[Subprotocol("ocpp1.6")],
        ssl=client,
    ) as ws:
        await csms.event(EventType.STATION_CONNECTED)
        await ws.send('[2, "hb-1", "Heartbeat", {}]')
        answer = await ws.recv()
    assert isinstance(answer, str)
    assert answer.startswith('[3,"hb-1",{"currentTime":')


async def test_plain_ws_is_not_served(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    with pytest.raises((InvalidMessage, OSError, EOFError)):
        async with websockets.connect(
            f"ws://127.0.0.1:{port_of(csms.server)}/ocpp/{seeded.charge_point_id}",
            subprotocols=[Subprotocol("ocpp1.6")],
            open_timeout=5,
        ):
            pass
