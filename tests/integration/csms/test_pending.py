"""UNKNOWN_STATIONS=pending: unknown chargers are created Pending for an operator to adopt."""

from __future__ import annotations

import pytest

from config.settings import Settings, UnknownStationPolicy
from core.bus.events import EventType
from tests.integration.csms.support import Csms, boot_16, boot_201, raw_client, seed_station


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"unknown_stations": UnknownStationPolicy.PENDING})


async def test_unknown_station_is_created_pending(csms: Csms) -> None:
    cpid = "NEW-CHARGER-WITH-A-RATHER-LONG-IDENTITY-0001"
    async with raw_client(csms.url(cpid), "ocpp1.6") as client:
        boot = await client.call("BootNotification", boot_16())
        assert boot[2]["status"] == "Pending"
        assert boot[2]["interval"] == 60
        # Not adopted yet: no partner, so no id tag can match.
        assert (await client.call("Authorize", {"idTag": "ANY"}))[2] == {
            "idTagInfo": {"status": "Invalid"}
        }
    rows = await csms.fetch(
        "SELECT name, partner_id, registration_status, type_id, vendor FROM station "
        "WHERE charge_point_id = :cpid",
        cpid=cpid,
    )
    assert [dict(r) for r in rows] == [
        {
            "name": cpid[:32],
            "partner_id": None,
            "registration_status": "Pending",
            "type_id": None,
            "vendor": "ACME",
        }
    ]
    connected = await csms.event(EventType.STATION_CONNECTED)
    assert connected.partner_id is None


async def test_reconnecting_pending_station_is_not_duplicated(csms: Csms) -> None:
    for _ in range(2):
        async with raw_client(csms.url("PENDING-TWICE"), "ocpp2.0.1") as client:
            assert (await client.call("BootNotification", boot_201()))[2]["status"] == "Pending"
    rows = await csms.fetch(
        "SELECT count(*) AS n FROM station WHERE charge_point_id = 'PENDING-TWICE'"
    )
    assert rows[0]["n"] == 1


async def test_known_and_deleted_stations_keep_their_rules(csms: Csms) -> None:
    known = await seed_station(csms.resources)
    async with raw_client(csms.url(known.charge_point_id), "ocpp1.6") as client:
        assert (await client.call("BootNotification", boot_16()))[2]["status"] == "Accepted"
    # A soft-deleted identity is free again: the charger comes back as a new Pending station.
    gone = await seed_station(csms.resources, deleted=True)
    async with raw_client(csms.url(gone.charge_point_id), "ocpp1.6") as client:
        assert (await client.call("BootNotification", boot_16()))[2]["status"] == "Pending"
    rows = await csms.fetch(
        "SELECT registration_status, deleted_at IS NULL AS live FROM station "
        "WHERE charge_point_id = :cpid ORDER BY created_at",
        cpid=gone.charge_point_id,
    )
    assert [dict(r) for r in rows] == [
        {"registration_status": "Accepted", "live": False},
        {"registration_status": "Pending", "live": True},
    ]
