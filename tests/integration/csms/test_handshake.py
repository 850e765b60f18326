"""Who may connect, with which protocol, and what the plain HTTP endpoints answer."""

from __future__ import annotations

import asyncio
import base64
import urllib.request
from datetime import UTC, datetime

import pytest
import websockets
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from config.settings import Settings
from core.bus.events import EventType
from core.runtime import open_resources
from csms.app import serve_csms
from tests.integration.csms.support import Csms, port_of, raw_client, seed_station


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def _refused(url: str, **kwargs: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(url, **kwargs):  # type: ignore[arg-type]
            pass
    return int(refused.value.response.status_code)


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


async def test_unknown_station_is_refused_with_404(csms: Csms) -> None:
    status = await _refused(csms.url("NOBODY-1"), subprotocols=[Subprotocol("ocpp1.6")])
    assert status == 404


async def test_soft_deleted_station_is_refused_with_404(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, deleted=True)
    status = await _refused(csms.url(seeded.charge_point_id), subprotocols=[Subprotocol("ocpp1.6")])
    assert status == 404


async def test_malformed_identity_is_refused_with_404(csms: Csms) -> None:
    status = await _refused(csms.url("bad%20id"), subprotocols=[Subprotocol("ocpp1.6")])
    assert status == 404


async def test_password_is_required_and_checked(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, password="s3cret-pass-0123")
    url = csms.url(seeded.charge_point_id)
    protocols = [Subprotocol("ocpp1.6")]
    assert await _refused(url, subprotocols=protocols) == 401
    wrong = _basic(seeded.charge_point_id, "not-the-password")
    assert await _refused(url, subprotocols=protocols, additional_headers=wrong) == 401
    other_user = _basic("SOMEONE-ELSE", "s3cret-pass-0123")
    assert await _refused(url, subprotocols=protocols, additional_headers=other_user) == 401
    right = _basic(seeded.charge_point_id, "s3cret-pass-0123")
    async with websockets.connect(url, subprotocols=protocols, additional_headers=right) as ws:
        assert ws.subprotocol == "ocpp1.6"


async def test_refused_password_answer_asks_for_basic_auth(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, password="s3cret-pass-0123")
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(csms.url(seeded.charge_point_id)):
            pass
    assert refused.value.response.headers["WWW-Authenticate"].startswith("Basic ")


async def test_no_subprotocol_means_ocpp16(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), None) as client:
        assert client.ws.subprotocol is None
        # 1.6 vocabulary: StartTransaction exists (2.0.1 would say NotImplemented).
        answer = await client.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "X", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"},
        )
        assert answer[0] == 3
    connected = await csms.event(EventType.STATION_CONNECTED)
    assert connected.data == {"ocpp_protocol": "ocpp1.6"}


async def test_only_unknown_subprotocols_are_refused(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    status = await _refused(
        csms.url(seeded.charge_point_id), subprotocols=[Subprotocol("ocpp1.5"), Subprotocol("x")]
    )
    assert status == 400


async def test_charger_preference_picks_the_version(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    url = csms.url(seeded.charge_point_id)
    both = [Subprotocol("ocpp1.6"), Subprotocol("ocpp2.0.1")]
    async with websockets.connect(url, subprotocols=both) as ws:
        assert ws.subprotocol == "ocpp1.6"
    reverse = [Subprotocol("ocpp2.1"), Subprotocol("ocpp2.0.1"), Subprotocol("ocpp1.6")]
    async with websockets.connect(url, subprotocols=reverse) as ws:
        assert ws.subprotocol == "ocpp2.0.1"


async def test_path_without_ocpp_prefix_is_accepted(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id, prefix="/"), "ocpp2.0.1") as client:
        assert (await client.call("Heartbeat", {}))[0] == 3


async def test_reconnect_with_same_id_evicts_the_old_socket(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    url = csms.url(seeded.charge_point_id)
    async with raw_client(url, "ocpp1.6") as old:
        await csms.event(EventType.STATION_CONNECTED)
        async with raw_client(url, "ocpp1.6") as new:
            replaced = await csms.event(EventType.STATION_DISCONNECTED)
            assert replaced.data == {"reason": "replaced by a new connection"}
            await csms.event(EventType.STATION_CONNECTED)
            async with asyncio.timeout(10):
                await old.ws.wait_closed()
            assert old.ws.close_code == 1000
            assert (await new.call("Heartbeat", {}))[0] == 3
            online = await csms.fetch(
                "SELECT online FROM station WHERE id = :id", id=seeded.station_id
            )
            assert online[0]["online"] is True
            # The old socket closing did not mark the station offline or say so twice.
            assert [
                e for e in csms.drain_events() if e.type is EventType.STATION_DISCONNECTED
            ] == []
    last = await csms.event(EventType.STATION_DISCONNECTED)
    assert last.data["reason"].startswith("closed with code 1000")
    online = await csms.fetch("SELECT online FROM station WHERE id = :id", id=seeded.station_id)
    assert online[0]["online"] is False


async def test_disconnect_marks_offline_at_once(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6"):
        await csms.event(EventType.STATION_CONNECTED)
        rows = await csms.fetch(
            "SELECT online, ip_address::text AS ip, last_seen_at FROM station WHERE id = :id",
            id=seeded.station_id,
        )
        assert rows[0]["online"] is True
        assert rows[0]["ip"] == "127.0.0.1/32"
        connected_at = rows[0]["last_seen_at"]
    await csms.event(EventType.STATION_DISCONNECTED)
    rows = await csms.fetch(
        "SELECT online, last_seen_at FROM station WHERE id = :id", id=seeded.station_id
    )
    assert rows[0]["online"] is False
    assert rows[0]["last_seen_at"] >= connected_at
    assert rows[0]["last_seen_at"] <= datetime.now(UTC)


async def test_http_endpoints(csms: Csms) -> None:
    base = f"http://127.0.0.1:{csms.port}"
    health = await asyncio.to_thread(_get, f"{base}/health")
    assert health[0] == 200
    ready = await asyncio.to_thread(_get, f"{base}/ready")
    assert ready[0] == 200
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        await client.call("Heartbeat", {})
        await client.call("Nonsense", {})
        status, content_type, body = await asyncio.to_thread(_get, f"{base}/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=")
    assert "ocpp_connected_stations 1.0" in body
    assert 'ocpp_messages_total{action="Heartbeat",version="ocpp1.6"} 1.0' in body
    assert 'ocpp_call_errors_total{code="NotImplemented",version="ocpp1.6"} 1.0' in body
    assert "group_commit_batch_size_count" in body
    assert "group_commit_flush_seconds_bucket" in body
    missing = await asyncio.to_thread(_get, f"{base}/nothing/here/at/all")
    assert missing[0] == 404


async def test_ready_reports_an_unreachable_database(settings: Settings) -> None:
    # Nothing listens on port 1: the server still starts, is alive, and says it is not ready.
    broken = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/none"}
    )
    async with open_resources(broken, migrate=False) as resources, serve_csms(resources) as server:
        base = f"http://127.0.0.1:{port_of(server)}"
        health = await asyncio.to_thread(_get, f"{base}/health")
        ready = await asyncio.to_thread(_get, f"{base}/ready")
        refused = await _refused(
            f"ws://127.0.0.1:{port_of(server)}/ocpp/CP-X", subprotocols=[Subprotocol("ocpp1.6")]
        )
    assert health[0] == 200
    assert ready[0] == 503
    assert refused == 503
