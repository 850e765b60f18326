"""Boot answers, connector rows, and what happens when the model and the charger disagree."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from core.bus.events import EventType
from core.db.models import Partner, Station
from tests.integration.csms.support import Csms, boot_16, boot_201, raw_client, seed_station

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_status_creates_connectors_only_within_the_plug_count(csms: Csms) -> None:
    seeded = await seed_station(csms.resources, type_name="AC 11 kW single")
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        beyond = await client.call(
            "StatusNotification", {"connectorId": 2, "errorCode": "NoError", "status": "Available"}
        )
        within = await client.call(
            "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Faulted"}
        )
    # Both acknowledged: the charger is right about itself, our model just has no plug 2.
    assert beyond[2] == within[2] == {}
    rows = await csms.fetch(
        "SELECT connector_number, status FROM connector WHERE station_id = :id",
        id=seeded.station_id,
    )
    assert [dict(r) for r in rows] == [{"connector_number": 1, "status": "Faulted"}]
    changes = [e for e in csms.drain_events() if e.type is EventType.CONNECTOR_STATUS_CHANGED]
    assert [e.data["connector_number"] for e in changes] == [1]


async def test_same_status_again_is_no_change(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        await client.call("StatusNotification", status)
        await client.call("StatusNotification", status)
        await client.call("StatusNotification", {**status, "errorCode": "GroundFailure"})
    changes = [e for e in csms.drain_events() if e.type is EventType.CONNECTOR_STATUS_CHANGED]
    assert [(e.data["previous"], e.data["error_code"]) for e in changes] == [
        (None, "NoError"),
        ("Available", "GroundFailure"),
    ]


async def test_boot_of_a_station_deleted_meanwhile_is_rejected(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp2.0.1") as client:
        assert (await client.call("BootNotification", boot_201()))[2]["status"] == "Accepted"
        async with csms.resources.session_factory() as session:
            await session.execute(
                update(Station).where(Station.id == seeded.station_id).values(deleted_at=T0)
            )
            await session.commit()
        assert (await client.call("BootNotification", boot_201()))[2]["status"] == "Rejected"


async def test_boot_answers_the_stored_registration_status(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with csms.resources.session_factory() as session:
        await session.execute(
            update(Station)
            .where(Station.id == seeded.station_id)
            .values(registration_status="Rejected")
        )
        await session.commit()
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        answer = await client.call("BootNotification", boot_16())
    assert answer[2]["status"] == "Rejected"
    assert answer[2]["interval"] == 60


async def test_boot_picks_up_a_new_partner_for_later_events(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with csms.resources.session_factory() as session:
        partner = Partner(name="adopter")
        session.add(partner)
        await session.flush()
        new_partner = partner.id
        await session.commit()
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        async with csms.resources.session_factory() as session:
            await session.execute(
                update(Station)
                .where(Station.id == seeded.station_id)
                .values(partner_id=new_partner)
            )
            await session.commit()
        await client.call("BootNotification", boot_16())
        await client.call(
            "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
        )
    change = await csms.event(EventType.CONNECTOR_STATUS_CHANGED)
    assert change.partner_id == new_partner


async def test_heartbeat_keeps_last_seen_current(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        await csms.event(EventType.STATION_CONNECTED)
        before = (
            await csms.fetch(
                "SELECT last_seen_at FROM station WHERE id = :id", id=seeded.station_id
            )
        )[0]["last_seen_at"]
        answer = await client.call("Heartbeat", {})
        after = (
            await csms.fetch(
                "SELECT last_seen_at FROM station WHERE id = :id", id=seeded.station_id
            )
        )[0]["last_seen_at"]
    assert answer[2]["currentTime"].endswith("Z")
    assert after >= before


async def test_informational_messages_are_acknowledged(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as v16:
        assert (await v16.call("FirmwareStatusNotification", {"status": "Installed"}))[2] == {}
        assert (await v16.call("DiagnosticsStatusNotification", {"status": "Uploaded"}))[2] == {}
        assert (await v16.call("DataTransfer", {"vendorId": "com.acme", "messageId": "x"}))[2] == {
            "status": "UnknownVendorId"
        }
    other = await seed_station(csms.resources)
    at = "2026-11-23T09:00:00Z"
    async with raw_client(csms.url(other.charge_point_id), "ocpp2.0.1") as v201:
        assert (await v201.call("FirmwareStatusNotification", {"status": "Installed"}))[2] == {}
        assert (await v201.call("LogStatusNotification", {"status": "Uploaded"}))[2] == {}
        assert (
            await v201.call(
                "SecurityEventNotification", {"type": "TamperDetected", "timestamp": at}
            )
        )[2] == {}
        notify_event = {
            "generatedAt": at,
            "seqNo": 0,
            "eventData": [
                {
                    "eventId": 1,
                    "timestamp": at,
                    "trigger": "Alerting",
                    "actualValue": "Faulted",
                    "eventNotificationType": "HardWiredNotification",
                    "component": {"name": "Connector"},
                    "variable": {"name": "AvailabilityState"},
                }
            ],
        }
        assert (await v201.call("NotifyEvent", notify_event))[2] == {}
        assert (await v201.call("NotifyReport", {"requestId": 1, "generatedAt": at, "seqNo": 0}))[
            2
        ] == {}
        assert (await v201.call("DataTransfer", {"vendorId": "com.acme"}))[2] == {
            "status": "UnknownVendorId"
        }
