"""OCPP 1.6J end to end: the ``ocpp`` ChargePoint against the running csms and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocpp.v16 import call

from core.bus.events import EventType
from tests.integration.csms.support import Csms, connect_charger, iso, seed_station

T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)


def _meter_value(at: datetime, energy: str, power: str) -> dict[str, object]:
    return {
        "timestamp": iso(at),
        "sampledValue": [
            {"value": energy, "unit": "kWh", "context": "Sample.Periodic"},
            {
                "value": power,
                "measurand": "Power.Active.Import",
                "unit": "W",
                "phase": "L1",
                "location": "Outlet",
            },
        ],
    }


async def test_full_session_is_persisted_exactly(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, id_tags={"TAG-OK": {}})
    cpid = seeded.charge_point_id
    async with connect_charger(csms.url(cpid), cpid, "ocpp1.6") as cp:
        boot = await cp.call(
            call.BootNotification(
                charge_point_model="Rapid-1",
                charge_point_vendor="ACME",
                charge_point_serial_number="SN-1",
                firmware_version="1.2.3",
            )
        )
        assert boot.status == "Accepted"
        assert boot.interval == 60
        assert abs(datetime.fromisoformat(boot.current_time) - datetime.now(UTC)) < timedelta(
            minutes=1
        )

        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Preparing", timestamp=iso(T0)
            )
        )
        auth = await cp.call(call.Authorize(id_tag="TAG-OK"))
        assert auth.id_tag_info["status"] == "Accepted"

        start = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="TAG-OK", meter_start=1000, timestamp=iso(T0)
            )
        )
        assert start.id_tag_info["status"] == "Accepted"
        tx_id = start.transaction_id
        assert isinstance(tx_id, int)
        assert tx_id > 0

        await cp.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=tx_id,
                meter_value=[_meter_value(T0 + timedelta(minutes=1), "1.5", "7000.5")],
            )
        )
        stop = await cp.call(
            call.StopTransaction(
                meter_stop=4000,
                timestamp=iso(T0 + timedelta(minutes=5)),
                transaction_id=tx_id,
                reason="EVDisconnected",
                id_tag="TAG-OK",
                transaction_data=[
                    {
                        "timestamp": iso(T0 + timedelta(minutes=5)),
                        "sampledValue": [{"value": "4000", "context": "Transaction.End"}],
                    }
                ],
            )
        )
        assert stop.id_tag_info["status"] == "Accepted"
    await csms.event(EventType.STATION_DISCONNECTED)

    station = (
        await csms.fetch(
            "SELECT vendor, model, serial_number, firmware_version, ocpp_protocol, online "
            "FROM station WHERE id = :id",
            id=seeded.station_id,
        )
    )[0]
    assert dict(station) == {
        "vendor": "ACME",
        "model": "Rapid-1",
        "serial_number": "SN-1",
        "firmware_version": "1.2.3",
        "ocpp_protocol": "ocpp1.6",
        "online": False,
    }
    connectors = await csms.fetch(
        "SELECT connector_number, status, error_code, status_updated_at FROM connector "
        "WHERE station_id = :id",
        id=seeded.station_id,
    )
    assert [dict(c) for c in connectors] == [
        {
            "connector_number": 1,
            "status": "Preparing",
            "error_code": "NoError",
            "status_updated_at": T0,
        }
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
        "transaction_id": str(tx_id),
        "connector_number": 1,
        "id_tag": "TAG-OK",
        "id_tag_status": "Accepted",
        "started_at": T0,
        "stopped_at": T0 + timedelta(minutes=5),
        "meter_start_wh": 1000.0,
        "meter_stop_wh": 4000.0,
        "energy_wh": 3000.0,
        "stop_reason": "EVDisconnected",
    }
    samples = await csms.fetch(
        "SELECT time, connector_number, transaction_id, measurand, value, unit, phase, context, "
        "location FROM meter_value WHERE station_id = :id ORDER BY time, measurand",
        id=seeded.station_id,
    )
    assert [dict(s) for s in samples] == [
        {
            "time": T0 + timedelta(minutes=1),
            "connector_number": 1,
            "transaction_id": tx_uuid,
            "measurand": "Energy.Active.Import.Register",
            "value": 1.5,
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
            "value": 7000.5,
            "unit": "W",
            "phase": "L1",
            "context": "Sample.Periodic",
            "location": "Outlet",
        },
        {
            "time": T0 + timedelta(minutes=5),
            "connector_number": 1,
            "transaction_id": tx_uuid,
            "measurand": "Energy.Active.Import.Register",
            "value": 4000.0,
            "unit": "Wh",
            "phase": None,
            "context": "Transaction.End",
            "location": "Outlet",
        },
    ]


async def test_events_follow_the_session(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, id_tags={"TAG-OK": {}})
    cpid = seeded.charge_point_id
    async with connect_charger(csms.url(cpid), cpid, "ocpp1.6") as cp:
        connected = await csms.event(EventType.STATION_CONNECTED)
        assert connected.data == {"ocpp_protocol": "ocpp1.6"}
        assert connected.partner_id == seeded.partner_id
        assert connected.charge_point_id == cpid

        await cp.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )
        first = await csms.event(EventType.CONNECTOR_STATUS_CHANGED)
        assert first.data == {
            "connector_number": 1,
            "previous": None,
            "status": "Available",
            "error_code": "NoError",
        }
        await cp.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
        )
        second = await csms.event(EventType.CONNECTOR_STATUS_CHANGED)
        assert second.data["previous"] == "Available"
        assert second.data["status"] == "Charging"

        await cp.call(
            call.StatusNotification(connector_id=0, error_code="NoError", status="Available")
        )
        station_level = await csms.event(EventType.CONNECTOR_STATUS_CHANGED)
        assert station_level.data["connector_number"] == 0

        start = await cp.call(
            call.StartTransaction(connector_id=2, id_tag="TAG-OK", meter_start=0, timestamp=iso(T0))
        )
        started = await csms.event(EventType.TRANSACTION_STARTED)
        assert started.data["transaction_id"] == str(start.transaction_id)
        assert started.data["connector_number"] == 2
        assert started.data["meter_start_wh"] == 0.0

        await cp.call(
            call.MeterValues(
                connector_id=2,
                transaction_id=start.transaction_id,
                meter_value=[_meter_value(T0 + timedelta(minutes=1), "0.5", "11000")],
            )
        )
        meter = await csms.event(EventType.METER_VALUES)
        assert meter.data["transaction_id"] == str(start.transaction_id)
        assert meter.data["connector_number"] == 2
        assert [s["measurand"] for s in meter.data["samples"]] == [
            "Energy.Active.Import.Register",
            "Power.Active.Import",
        ]

        await cp.call(
            call.StopTransaction(
                meter_stop=2500,
                timestamp=iso(T0 + timedelta(minutes=2)),
                transaction_id=start.transaction_id,
            )
        )
        stopped = await csms.event(EventType.TRANSACTION_STOPPED)
        assert stopped.data["energy_wh"] == 2500.0
        assert stopped.data["stop_reason"] == "Local"
    disconnected = await csms.event(EventType.STATION_DISCONNECTED)
    assert disconnected.station_id == seeded.station_id

    # Connector 0 is the station itself: no connector row was created for it.
    numbers = await csms.fetch(
        "SELECT connector_number FROM connector WHERE station_id = :id ORDER BY 1",
        id=seeded.station_id,
    )
    assert [r["connector_number"] for r in numbers] == [1]
