"""REST commands end to end: HTTP -> command bus -> csms -> a real OCPP test charger -> HTTP.

Chargers are the ``ocpp`` library's ChargePoints of each version; the API is called with real
tokens of a partner's operator. Nothing is faked between the HTTP request and the websocket.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.integration.api.conftest import Caller, PartnerCallers, make_station
from tests.integration.csms.support import Csms, iso
from tests.integration.live.support import ENERGY, session_charger, subscribe

PROTOCOLS = ["ocpp1.6", "ocpp2.0.1"]
TAG = "RFID-LIVE-1"


async def _station(caller: Caller, type_ids: dict[str, str]) -> dict[str, Any]:
    return await make_station(caller, type_ids["AC 22 kW dual"])


async def _command(
    caller: Caller, station_id: str, action: str, body: Any = None, status: int = 200, **query: Any
) -> Any:
    params = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in query.items()
    }
    kwargs: dict[str, Any] = {"params": params}
    if body is not None:
        kwargs["json"] = body
    return await caller.ok("POST", f"/stations/{station_id}/commands/{action}", status, **kwargs)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_remote_start_runs_a_session_seen_in_transactions_and_meter_values(
    api: TestClient[Any, Any],
    csms: Csms,
    acme: PartnerCallers,
    type_ids: dict[str, str],
    protocol: str,
) -> None:
    operator = acme.operator
    station = await _station(operator, type_ids)
    await operator.ok("POST", "/id-tags", 201, json={"value": TAG})
    cpid = station["charge_point_id"]
    async with (
        subscribe(api, operator.token or "", query={"station_id": station["id"]}) as events,
        session_charger(csms.url(cpid), cpid, protocol) as charger,
    ):
        await events.next(lambda m: m["type"] == "station.connected")

        started = await _command(
            operator, station["id"], "remote-start", {"id_tag": TAG, "connector_number": 1}, wait=10
        )
        assert started["status"] == "accepted"
        assert started["action"] == "remote-start"
        assert started["response"]["status"] == "Accepted"
        assert started["requested_by"] == operator.client_id
        assert started["answered_at"] is not None
        first_call = charger.received[0]
        assert first_call[0] in {"RemoteStartTransaction", "RequestStartTransaction"}

        session = await asyncio.wait_for(charger.started, 10)
        running = await operator.ok(
            "GET", "/transactions", params={"station_id": station["id"], "active": "true"}
        )
        [tx] = running["items"]
        assert tx["transaction_id"] == session.transaction_id
        assert tx["id_tag"] == TAG
        assert tx["connector_number"] == 1
        assert tx["stopped_at"] is None

        stopped = await _command(
            operator,
            station["id"],
            "remote-stop",
            {"transaction_id": session.transaction_id},
            wait=10,
        )
        assert stopped["status"] == "accepted"
        await asyncio.wait_for(charger.stopped, 10)

        kinds = [
            m["type"] for m in await events.until(lambda m: m["type"] == "transaction.stopped")
        ]
        assert "transaction.started" in kinds
        assert "meter_values" in kinds
        assert kinds.count("command.completed") == 2

    done = await operator.ok("GET", f"/transactions/{tx['id']}")
    assert done["stopped_at"] is not None
    assert done["energy_wh"] == session.energy_wh
    assert done["stop_reason"] == "Remote"

    window = {
        "from": iso(session.started_at - timedelta(seconds=1)),
        "to": iso(session.started_at + timedelta(minutes=1)),
    }
    samples = await operator.ok(
        "GET", f"/stations/{station['id']}/meter-values", params={**window, "limit": "500"}
    )
    got = sorted(
        (item["time"], item["measurand"], item["value"], item["unit"])
        for item in samples["items"]
        if item["transaction_id"] == tx["id"]
    )
    sent = sorted(
        (iso(at), measurand, value, unit) for at, measurand, value, unit in session.samples
    )
    # The stop of 1.6 carries meter_stop only, 2.0.1's Ended carries a sample: both as sent.
    assert [(t.replace("+00:00", "Z"), *rest) for t, *rest in got] == sent
    latest = await operator.ok(
        "GET", f"/stations/{station['id']}/metrics/latest", params={"measurand": ENERGY}
    )
    [energy] = latest["items"]
    assert energy["value"] == max(v for _t, m, v, _u in session.samples if m == ENERGY)
