"""Chargers retry: after a reconnect, after a lost CALLRESULT, with the same message id.

Whatever arrives twice must be stored once and answered the same way.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from core.bus.events import EventType
from tests.integration.csms.support import Csms, iso, raw_client, seed_station

T0 = datetime(2026, 11, 23, 14, 0, 0, tzinfo=UTC)


def _start(meter_start: int = 100, at: datetime = T0) -> dict[str, Any]:
    return {"connectorId": 1, "idTag": "TAG", "meterStart": meter_start, "timestamp": iso(at)}


def _meter(tx: int | None, at: datetime, value: str) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "connectorId": 1,
        "meterValue": [{"timestamp": iso(at), "sampledValue": [{"value": value}]}],
    }
    if tx is not None:
        payload["transactionId"] = tx
    return payload


async def test_repeated_start_transaction_returns_the_same_transaction(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, id_tags={"TAG": {}})
    url = csms.url(seeded.charge_point_id)
    async with raw_client(url, "ocpp1.6") as client:
        first = await client.call("StartTransaction", _start())
    # The charger reconnects (it never saw the answer) and sends the same message again.
    async with raw_client(url, "ocpp1.6") as client:
        again = await client.call("StartTransaction", _start())
        other = await client.call("StartTransaction", _start(meter_start=200))
    assert first[0] == again[0] == 3
    assert again[2] == first[2]
    assert other[2]["transactionId"] != first[2]["transactionId"]
    rows = await csms.fetch(
        "SELECT transaction_id FROM transaction WHERE station_id = :id ORDER BY started_at",
        id=seeded.station_id,
    )
    assert sorted(r["transaction_id"] for r in rows) == sorted(
        {str(first[2]["transactionId"]), str(other[2]["transactionId"])}
    )
    started = [e for e in csms.drain_events() if e.type is EventType.TRANSACTION_STARTED]
    assert len(started) == 2


async def test_repeated_stop_does_not_double_count(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, id_tags={"TAG": {}})
    url = csms.url(seeded.charge_point_id)
    async with raw_client(url, "ocpp1.6") as client:
        start = await client.call("StartTransaction", _start(meter_start=1000))
        tx = start[2]["transactionId"]
        stop = {"transactionId": tx, "meterStop": 5000, "timestamp": iso(T0 + timedelta(hours=1))}
        first = await client.call("StopTransaction", stop)
        again = await client.call("StopTransaction", stop)
        late = await client.call("StopTransaction", {**stop, "meterStop": 9000})
    assert first == [3, first[1], {}]
    assert again[2] == {}
    assert late[2] == {}
    rows = await csms.fetch(
        "SELECT meter_stop_wh, energy_wh, stopped_at FROM transaction WHERE station_id = :id",
        id=seeded.station_id,
    )
    assert [dict(r) for r in rows] == [
        {"meter_stop_wh": 5000.0, "energy_wh": 4000.0, "stopped_at": T0 + timedelta(hours=1)}
    ]
    stopped = [e for e in csms.drain_events() if e.type is EventType.TRANSACTION_STOPPED]
    assert len(stopped) == 1


async def test_stop_for_unknown_transaction_is_acknowledged(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, id_tags={"TAG": {}})
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        answer = await client.call(
            "StopTransaction",
            {
                "transactionId": 424242,
                "meterStop": 10,
                "timestamp": iso(T0),
                "idTag": "TAG",
                "transactionData": [
                    {"timestamp": iso(T0), "sampledValue": [{"value": "10"}]},
                ],
            },
        )
        # Acknowledged like any stop, so the charger does not retry it forever.
        assert answer[0] == 3
        assert answer[2] == {"idTagInfo": {"status": "Accepted"}}
        heartbeat = await client.call("Heartbeat", {})
        assert heartbeat[0] == 3
    assert (
        await csms.fetch("SELECT 1 FROM transaction WHERE station_id = :id", id=seeded.station_id)
        == []
    )
    # The transaction data is kept, unlinked.
    samples = await csms.fetch(
        "SELECT value, transaction_id FROM meter_value WHERE station_id = :id",
        id=seeded.station_id,
    )
    assert [dict(s) for s in samples] == [{"value": 10.0, "transaction_id": None}]


async def test_same_message_id_on_one_connection_is_processed_once(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        first = await client.call("StatusNotification", status, unique_id="dup-1")
        # Same id again, even with another status: answered from the cache, not applied.
        again = await client.call(
            "StatusNotification", {**status, "status": "Faulted"}, unique_id="dup-1"
        )
    assert first == again == [3, "dup-1", {}]
    rows = await csms.fetch(
        "SELECT status FROM connector WHERE station_id = :id", id=seeded.station_id
    )
    assert [r["status"] for r in rows] == ["Charging"]
    changes = [e for e in csms.drain_events() if e.type is EventType.CONNECTOR_STATUS_CHANGED]
    assert len(changes) == 1


async def test_retried_meter_values_add_no_samples(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, id_tags={"TAG": {}})
    url = csms.url(seeded.charge_point_id)
    async with raw_client(url, "ocpp1.6") as client:
        tx = (await client.call("StartTransaction", _start()))[2]["transactionId"]
        await client.call("MeterValues", _meter(tx, T0 + timedelta(minutes=1), "150"))
    async with raw_client(url, "ocpp1.6") as client:
        answer = await client.call("MeterValues", _meter(tx, T0 + timedelta(minutes=1), "150"))
        assert answer[0] == 3
        await client.call("MeterValues", _meter(tx, T0 + timedelta(minutes=2), "200"))
    rows = await csms.fetch(
        "SELECT time, value FROM meter_value WHERE station_id = :id ORDER BY time",
        id=seeded.station_id,
    )
    assert [(r["time"], r["value"]) for r in rows] == [
        (T0 + timedelta(minutes=1), 150.0),
        (T0 + timedelta(minutes=2), 200.0),
    ]
    published = [e for e in csms.drain_events() if e.type is EventType.METER_VALUES]
    assert len(published) == 2


async def test_repeated_transaction_events_v201(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)

    def event(kind: str, seq: int, at: datetime, wh: float) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "eventType": kind,
            "timestamp": iso(at),
            "triggerReason": "MeterValuePeriodic",
            "seqNo": seq,
            "transactionInfo": {"transactionId": "TX-R"},
            "meterValue": [{"timestamp": iso(at), "sampledValue": [{"value": wh}]}],
        }
        if kind == "Started":
            payload["evse"] = {"id": 1}
            payload["meterValue"][0]["sampledValue"][0]["context"] = "Transaction.Begin"
        return payload

    url = csms.url(seeded.charge_point_id)
    started = event("Started", 0, T0, 100)
    ended = event("Ended", 1, T0 + timedelta(minutes=30), 600)
    async with raw_client(url, "ocpp2.0.1") as client:
        assert (await client.call("TransactionEvent", started))[0] == 3
        assert (await client.call("TransactionEvent", ended))[0] == 3
    async with raw_client(url, "ocpp2.0.1") as client:
        assert (await client.call("TransactionEvent", started))[0] == 3
        assert (await client.call("TransactionEvent", ended))[0] == 3
    rows = await csms.fetch(
        "SELECT meter_start_wh, meter_stop_wh, energy_wh FROM transaction WHERE station_id = :id",
        id=seeded.station_id,
    )
    assert [dict(r) for r in rows] == [
        {"meter_start_wh": 100.0, "meter_stop_wh": 600.0, "energy_wh": 500.0}
    ]
    samples = await csms.fetch(
        "SELECT count(*) AS n FROM meter_value WHERE station_id = :id", id=seeded.station_id
    )
    assert samples[0]["n"] == 2
    kinds = [e.type for e in csms.drain_events()]
    assert kinds.count(EventType.TRANSACTION_STARTED) == 1
    assert kinds.count(EventType.TRANSACTION_STOPPED) == 1


async def test_transaction_ids_are_random_positive_int32(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, id_tags={"TAG": {}})
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        ids = [
            (await client.call("StartTransaction", _start(meter_start=n)))[2]["transactionId"]
            for n in range(8)
        ]
    assert len(set(ids)) == 8
    assert all(0 < i <= 2**31 - 1 for i in ids)
    steps = {b - a for a, b in itertools.pairwise(ids)}
    assert len(steps) > 1, "transaction ids must not form an arithmetic sequence"
