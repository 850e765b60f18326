"""OCPP 2.0.1 end to end: the ``ocpp`` ChargePoint against the running csms and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v201 import call

from core.bus.events import EventType
from tests.integration.csms.support import Csms, connect_charger, iso, seed_station

T0 = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


def _energy(at: datetime, wh: float, context: str, **extra: Any) -> dict[str, Any]:
    return {
        "timestamp": iso(at),
        "sampled_value": [{"value": wh, "context": context, **extra}],
    }


def _event(event_type: str, at: datetime, seq_no: int, **fields: Any) -> Any:
    return call.TransactionEvent(
        event_type=event_type,
        timestamp=iso(at),
        trigger_reason=fields.pop("trigger_reason", "MeterValuePeriodic"),
        seq_no=seq_no,
        transaction_info=fields.pop("transaction_info", {"transaction_id": "TX-201-A"}),
        **fields,
    )


async def test_full_session_is_persisted_exactly(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, id_tags={"TOKEN-OK": {}})
    cpid = seeded.charge_point_id
    async with connect_charger(csms.url(cpid), cpid, "ocpp2.0.1") as cs:
        boot = await cs.call(
            call.BootNotification(
                charging_station={
                    "vendor_name": "ACME",
                    "model": "Rapid-2",
                    "serial_number": "SN-201",
                    "firmware_version": "2.0.0",
                },
                reason="PowerUp",
            )
        )
        assert boot.status == "Accepted"
        assert boot.interval == 60

        heartbeat = await cs.call(call.Heartbeat())
        assert heartbeat.current_time.endswith("Z")

        await cs.call(
            call.StatusNotification(
                timestamp=iso(T0), connector_status="Occupied", evse_id=1, connector_id=1
            )
        )
        auth = await cs.call(call.Authorize(id_token={"id_token": "TOKEN-OK", "type": "ISO14443"}))
        assert auth.id_token_info["status"] == "Accepted"

        started = await cs.call(
            _event(
                "Started",
                T0,
                0,
                trigger_reason="Authorized",
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": "TOKEN-OK", "type": "ISO14443"},
                meter_value=[_energy(T0, 10000, "Transaction.Begin")],
            )
        )
        assert started.id_token_info["status"] == "Accepted"

        await cs.call(
            _event(
                "Updated",
                T0 + timedelta(minutes=1),
                1,
                meter_value=[
                    {
                        "timestamp": iso(T0 + timedelta(minutes=1)),
                        "sampled_value": [
                            {
                                "value": 10.5,
                                "unit_of_measure": {"unit": "kWh", "multiplier": 0},
                            },
                            {
                                "value": 7.2,
                                "measurand": "Power.Active.Import",
                                "unit_of_measure": {"unit": "W", "multiplier": 3},
                                "phase": "L2",
                                "location": "Inlet",
                            },
                        ],
                    }
                ],
            )
        )
        # Outside any transaction: evseId 0 is the station's main meter.
        await cs.call(
            call.MeterValues(
                evse_id=0,
                meter_value=[
                    {
                        "timestamp": iso(T0 + timedelta(minutes=2)),
                        "sampled_value": [{"value": 230.1, "measurand": "Voltage"}],
                    }
                ],
            )
        )
        ended = await cs.call(
            _event(
                "Ended",
                T0 + timedelta(minutes=3),
                2,
                trigger_reason="EVDeparted",
                transaction_info={"transaction_id": "TX-201-A", "stopped_reason": "EVDisconnected"},
                meter_value=[_energy(T0 + timedelta(minutes=3), 12500, "Transaction.End")],
            )
        )
        assert ended.id_token_info is None
    await csms.event(EventType.STATION_DISCONNECTED)

    station = (
        await csms.fetch(
            "SELECT vendor, model, serial_number, firmware_version, ocpp_protocol, online, "
            "last_seen_at IS NOT NULL AS seen FROM station WHERE id = :id",
            id=seeded.station_id,
        )
    )[0]
    assert dict(station) == {
        "vendor": "ACME",
        "model": "Rapid-2",
        "serial_number": "SN-201",
        "firmware_version": "2.0.0",
        "ocpp_protocol": "ocpp2.0.1",
        "online": False,
        "seen": True,
    }
    connectors = await csms.fetch(
        "SELECT connector_number, status, error_code, status_updated_at FROM connector "
        "WHERE station_id = :id",
        id=seeded.station_id,
    )
    assert [dict(c) for c in connectors] == [
        {"connector_number": 1, "status": "Occupied", "error_code": None, "status_updated_at": T0}
    ]
    transactions = await csms.fetch(
        "SELECT id, transaction_id, connector_number, id_tag, id_tag_status, started_at, "
        "stopped_at, meter_start_wh, meter_stop_wh, energy_wh, stop_reason FROM transaction "
        "WHERE station_id = :id",
        id=seeded.station_id,
    )
    assert len(transactions) == 1
    tx = dict(transactions[0])
    tx_uuid = tx.pop("id")
    assert tx == {
        "transaction_id": "TX-201-A",
        "connector_number": 1,
        "id_tag": "TOKEN-OK",
        "id_tag_status": "Accepted",
        "started_at": T0,
        "stopped_at": T0 + timedelta(minutes=3),
        "meter_start_wh": 10000.0,
        "meter_stop_wh": 12500.0,
        "energy_wh": 2500.0,
        "stop_reason": "EVDisconnected",
    }
    samples = await csms.fetch(
        "SELECT time, connector_number, transaction_id, measurand, value, unit, phase, context, "
        "location FROM meter_value WHERE station_id = :id ORDER BY time, measurand",
        id=seeded.station_id,
    )
    assert [dict(s) for s in samples] == [
        {
            "time": T0,
            "connector_number": 1,
            "transaction_id": tx_uuid,
            "measurand": "Energy.Active.Import.Register",
            "value": 10000.0,
            "unit": "Wh",
            "phase": None,
            "context": "Transaction.Begin",
            "location": "Outlet",
        },
        {
            "time": T0 + timedelta(minutes=1),
            "connector_number": 1,
            "transaction_id": tx_uuid,
            "measurand": "Energy.Active.Import.Register",
            "value": 10.5,
            "unit": "kWh",
            "phase": None,
            "context": "Sample.Periodic",
            "location": "Outlet",
        },
        {
            "time": T0 + timedelta(minutes=1),
            "connector_number": 1,
            "transaction_id": tx_uuid,
            "measurand": "Power.Active.Import",
            "value": 7200.0,
            "unit": "W",
            "phase": "L2",
            "context": "Sample.Periodic",
            "location": "Inlet",
        },
        {
            "time": T0 + timedelta(minutes=2),
            "connector_number": 0,
            "transaction_id": None,
            "measurand": "Voltage",
            "value": 230.1,
            "unit": "Wh",
            "phase": None,
            "context": "Sample.Periodic",
            "location": "Outlet",
        },
        {
            "time": T0 + timedelta(minutes=3),
            "connector_number": 1,
            "transaction_id": tx_uuid,
            "measurand": "Energy.Active.Import.Register",
            "value": 12500.0,
            "unit": "Wh",
            "phase": None,
            "context": "Transaction.End",
            "location": "Outlet",
        },
    ]


async def test_transaction_started_without_token_learns_it_later(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, id_tags={"LATE": {}})
    cpid = seeded.charge_point_id
    async with connect_charger(csms.url(cpid), cpid, "ocpp2.0.1") as cs:
        await cs.call(
            _event(
                "Started",
                T0,
                0,
                trigger_reason="CablePluggedIn",
                evse={"id": 2},
                transaction_info={"transaction_id": "TX-LATE"},
            )
        )
        started = await csms.event(EventType.TRANSACTION_STARTED)
        assert started.data["id_tag"] is None
        assert started.data["connector_number"] == 2
        updated = await cs.call(
            _event(
                "Updated",
                T0 + timedelta(seconds=30),
                1,
                trigger_reason="Authorized",
                transaction_info={"transaction_id": "TX-LATE"},
                id_token={"id_token": "LATE", "type": "ISO14443"},
            )
        )
        assert updated.id_token_info["status"] == "Accepted"
        # The EVSE is named only in the first event; samples of later ones still land on it.
        await cs.call(
            _event(
                "Ended",
                T0 + timedelta(minutes=10),
                2,
                transaction_info={"transaction_id": "TX-LATE"},
                meter_value=[_energy(T0 + timedelta(minutes=10), 900, "Transaction.End")],
            )
        )
    rows = await csms.fetch(
        "SELECT t.id_tag, t.id_tag_status, t.energy_wh, t.stop_reason, m.connector_number "
        "FROM transaction t JOIN meter_value m ON m.transaction_id = t.id "
        "WHERE t.station_id = :id",
        id=seeded.station_id,
    )
    # No reading at the start: energy needs both ends, so it stays unknown.
    assert [dict(r) for r in rows] == [
        {
            "id_tag": "LATE",
            "id_tag_status": "Accepted",
            "energy_wh": None,
            "stop_reason": "Local",
            "connector_number": 2,
        }
    ]
