"""Stations: registration with inline connectors, PUT/PATCH, soft delete, isolation, live state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core.runtime import Resources
from tests.integration.api.conftest import (
    Caller,
    PartnerCallers,
    assert_problem,
    make_station,
    unique,
)
from tests.integration.services.factories import add_meter_values, make_transaction

DUAL = "AC 22 kW dual"


def _type(type_ids: dict[str, str], plugs: int) -> str:
    """A seeded type with exactly ``plugs`` plugs."""
    names = {1: "AC 11 kW single", 2: DUAL}
    return type_ids[names[plugs]]


async def test_create_with_connectors_and_read_back(
    acme: PartnerCallers, type_ids: dict[str, str]
) -> None:
    body = {
        "name": "Garage 1",
        "charge_point_id": "ACME-GARAGE-1",
        "type_id": type_ids[DUAL],
        "ip_address": "10.0.0.7",
        "firmware_version": "1.2.3",
        "vendor": "Acme",
        "model": "W22",
        "serial_number": "SN-1",
        "ocpp_password": "correct-horse-battery",
        "connectors": [
            {"connector_number": 1, "name": "left", "priority": True},
            {"connector_number": 2, "name": "right"},
        ],
    }
    response = await acme.operator.post("/stations", json=body)
    created = await response.json()
    assert response.status == 201, created
    assert response.headers["Location"] == f"/api/v1/stations/{created['id']}"
    assert created["partner_id"] == acme.id
    assert created["registration_status"] == "Accepted"
    assert created["online"] is False
    assert created["last_seen_at"] is None
    assert created["ocpp_protocol"] is None
    assert created["active_transactions"] == []
    uuid.UUID(created["device_id"])
    assert [(c["connector_number"], c["name"], c["priority"]) for c in created["connectors"]] == [
        (1, "left", True),
        (2, "right", False),
    ]
    assert all(c["active_transaction"] is None for c in created["connectors"])
    assert "ocpp_password" not in created
    assert "password_hash" not in created
    fetched = await acme.viewer.ok("GET", f"/stations/{created['id']}")
    assert fetched == created
    assert "correct-horse" not in await (await acme.viewer.get("/stations")).text()


async def test_password_is_stored_hashed(
    acme: PartnerCallers, type_ids: dict[str, str], resources: Resources
) -> None:
    station = await make_station(
        acme.operator, type_ids[DUAL], ocpp_password="correct-horse-battery"
    )
    async with resources.engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT password_hash FROM station WHERE id = :id"), {"id": station["id"]}
            )
        ).scalar_one()
    assert stored.startswith("$argon2")
    assert "correct-horse" not in stored
    await acme.operator.ok("PATCH", f"/stations/{station['id']}", json={"ocpp_password": None})
    async with resources.engine.connect() as conn:
        cleared = (
            await conn.execute(
                text("SELECT password_hash FROM station WHERE id = :id"), {"id": station["id"]}
            )
        ).scalar_one()
    assert cleared is None


async def test_put_replaces_and_patch_updates(
    acme: PartnerCallers, type_ids: dict[str, str]
) -> None:
    station = await make_station(
        acme.operator, type_ids[DUAL], vendor="Acme", firmware_version="1.0"
    )
    path = f"/stations/{station['id']}"
    patched = await acme.operator.ok("PATCH", path, json={"firmware_version": "2.0"})
    assert patched["firmware_version"] == "2.0"
    assert patched["vendor"] == "Acme"
    assert patched["updated_at"] >= station["updated_at"]
    replaced = await acme.operator.ok(
        "PUT",
        path,
        json={
            "name": "renamed",
            "charge_point_id": station["charge_point_id"],
            "type_id": type_ids[DUAL],
        },
    )
    assert replaced["name"] == "renamed"
    assert replaced["vendor"] is None
    assert replaced["firmware_version"] is None
    assert replaced["device_id"] == station["device_id"]
    # Unknown fields and nulls for required ones are refused.
    assert (await acme.operator.patch(path, json={"colour": "red"})).status == 422
    assert (await acme.operator.patch(path, json={"name": None})).status == 422
    assert (await acme.operator.put(path, json={"name": "x"})).status == 422


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 33}, "name"),
        ({"charge_point_id": "has space"}, "charge_point_id"),
        ({"charge_point_id": "x" * 49}, "charge_point_id"),
        ({"ip_address": "999.1.1.1"}, "ip_address"),
        ({"ocpp_password": "short"}, "ocpp_password"),
        ({"device_id": "not-a-uuid"}, "device_id"),
        ({"registration_status": "Maybe"}, "registration_status"),
        ({"connectors": [{"connector_number": 0}]}, "connectors.0.connector_number"),
        ({"connectors": [{"connector_number": 1, "extra": 1}]}, "connectors.0.extra"),
        ({"serial": "x"}, "serial"),
    ],
)
async def test_station_validation(
    acme: PartnerCallers, type_ids: dict[str, str], change: dict[str, Any], field: str
) -> None:
    body = {"name": "v", "charge_point_id": unique("CPV"), "type_id": type_ids[DUAL], **change}
    response = await acme.operator.post("/stations", json=body)
    problem = await response.json()
    assert response.status == 422, problem
    assert_problem(problem, 422)
    assert field in [error["field"] for error in problem["errors"]]


async def test_reference_checks(
    acme: PartnerCallers, globex: PartnerCallers, type_ids: dict[str, str]
) -> None:
    body = {"name": "r", "charge_point_id": unique("CPR"), "type_id": str(uuid.uuid4())}
    response = await acme.operator.post("/stations", json=body)
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "type_id"
    their_site = await globex.operator.ok("POST", "/sites", 201, json={"name": "G"})
    body = {**body, "type_id": type_ids[DUAL], "site_id": their_site["id"]}
    response = await acme.operator.post("/stations", json=body)
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "site_id"


async def test_conflicts(
    acme: PartnerCallers, globex: PartnerCallers, type_ids: dict[str, str]
) -> None:
    station = await make_station(acme.operator, type_ids[DUAL])
    cases = [
        ({"charge_point_id": station["charge_point_id"]}, "charge_point_id already exists"),
        ({"name": station["name"]}, "already has a station with this name"),
        ({"device_id": station["device_id"]}, "device_id already exists"),
    ]
    for override, message in cases:
        body = {
            "name": unique("n")[:32],
            "charge_point_id": unique("CPC"),
            "type_id": type_ids[DUAL],
        }
        response = await acme.operator.post("/stations", json={**body, **override})
        problem = await response.json()
        assert response.status == 409, problem
        assert message in problem["detail"]
    # Names are unique per partner only.
    await make_station(globex.operator, type_ids[DUAL], name=station["name"])


async def test_inline_connector_rules_roll_back_the_station(
    acme: PartnerCallers, type_ids: dict[str, str]
) -> None:
    cases = [
        (1, [{"connector_number": 1}, {"connector_number": 2}], "exceeds the station type"),
        (2, [{"connector_number": 1}, {"connector_number": 1}], "already has a connector"),
        (
            2,
            [{"connector_number": 1, "priority": True}, {"connector_number": 2, "priority": True}],
            "station already has a priority connector",
        ),
    ]
    for plugs, connectors, message in cases:
        cpid = unique("CPX")
        body = {"name": "x", "charge_point_id": cpid, "type_id": _type(type_ids, plugs)}
        response = await acme.operator.post("/stations", json={**body, "connectors": connectors})
        problem = await response.json()
        assert response.status == 409, problem
        assert message in problem["detail"]
        listed = await acme.operator.ok("GET", f"/stations?q={cpid}")
        assert listed["items"] == []


async def test_type_change_below_connectors_is_409(
    acme: PartnerCallers, type_ids: dict[str, str]
) -> None:
    station = await make_station(
        acme.operator,
        type_ids[DUAL],
        connectors=[{"connector_number": 1}, {"connector_number": 2}],
    )
    response = await acme.operator.patch(
        f"/stations/{station['id']}", json={"type_id": _type(type_ids, 1)}
    )
    assert response.status == 409
    assert "plug_count" in (await response.json())["detail"]


async def test_soft_delete_frees_identity(
    acme: PartnerCallers, type_ids: dict[str, str], resources: Resources
) -> None:
    station = await make_station(acme.operator, type_ids[DUAL])
    path = f"/stations/{station['id']}"
    await acme.operator.ok("DELETE", path, 204)
    for method in ("GET", "PATCH", "DELETE"):
        kwargs = {"json": {"vendor": "x"}} if method == "PATCH" else {}
        assert (await acme.operator.call(method, path, **kwargs)).status == 404
    assert (await acme.operator.ok("GET", "/stations"))["items"] == []
    async with resources.engine.connect() as conn:
        deleted_at = (
            await conn.execute(
                text("SELECT deleted_at FROM station WHERE id = :id"), {"id": station["id"]}
            )
        ).scalar_one()
    assert deleted_at is not None
    again = await make_station(
        acme.operator,
        type_ids[DUAL],
        name=station["name"],
        charge_point_id=station["charge_point_id"],
    )
    assert again["id"] != station["id"]


async def test_isolation_and_roles(
    admin: Caller, acme: PartnerCallers, globex: PartnerCallers, type_ids: dict[str, str]
) -> None:
    theirs = await make_station(globex.operator, type_ids[DUAL])
    path = f"/stations/{theirs['id']}"
    for caller in (acme.operator, acme.viewer):
        assert (await caller.get(path)).status == 404
        listed = await caller.ok("GET", "/stations")
        assert theirs["id"] not in {s["id"] for s in listed["items"]}
    for method, kwargs in (
        ("PUT", {"json": {"name": "x", "charge_point_id": "X", "type_id": type_ids[DUAL]}}),
        ("PATCH", {"json": {"vendor": "x"}}),
        ("DELETE", {}),
    ):
        assert (await acme.operator.call(method, path, **kwargs)).status == 404, method
        assert (await globex.viewer.call(method, path, **kwargs)).status == 403, method
    assert (await acme.viewer.post("/stations", json={"name": "x"})).status == 403
    # An operator cannot hand a station to, or create one for, another partner.
    body = {"name": "x", "charge_point_id": unique("CPI"), "type_id": type_ids[DUAL]}
    response = await acme.operator.post("/stations", json={**body, "partner_id": globex.id})
    assert response.status == 422
    own = await make_station(acme.operator, type_ids[DUAL])
    response = await acme.operator.patch(f"/stations/{own['id']}", json={"partner_id": globex.id})
    assert response.status == 422
    # The admin sees both and may move a station.
    everyone = await admin.ok("GET", "/stations")
    assert {theirs["id"], own["id"]} <= {s["id"] for s in everyone["items"]}
    moved = await admin.ok("PATCH", f"/stations/{own['id']}", json={"partner_id": globex.id})
    assert moved["partner_id"] == globex.id
    assert (await acme.operator.get(f"/stations/{own['id']}")).status == 404
    # The admin must name the owner when creating.
    response = await admin.post("/stations", json=body)
    assert response.status == 422
    made = await admin.ok("POST", "/stations", 201, json={**body, "partner_id": acme.id})
    assert made["partner_id"] == acme.id


async def test_live_state_in_station_responses(
    acme: PartnerCallers, type_ids: dict[str, str], resources: Resources
) -> None:
    station = await make_station(
        acme.operator,
        type_ids[DUAL],
        connectors=[{"connector_number": 1}, {"connector_number": 2}],
    )
    station_id = uuid.UUID(station["id"])
    seen = datetime.now(UTC).replace(microsecond=0)
    async with resources.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE station SET online = true, last_seen_at = :seen, ocpp_protocol = 'ocpp1.6'"
                " WHERE id = :id"
            ),
            {"seen": seen, "id": station_id},
        )
        await conn.execute(
            text(
                "UPDATE connector SET status = CASE connector_number WHEN 1 THEN 'Charging' "
                "ELSE 'Faulted' END, error_code = CASE connector_number WHEN 1 THEN 'NoError' "
                "ELSE 'GroundFailure' END, status_updated_at = :seen WHERE station_id = :id"
            ),
            {"seen": seen, "id": station_id},
        )
    started = seen - timedelta(minutes=10)
    running = await make_transaction(
        resources,
        station_id=station_id,
        connector_number=1,
        transaction_id="4711",
        id_tag="RFID-1",
        started_at=started,
        meter_start_wh=1000.0,
    )
    await make_transaction(
        resources,
        station_id=station_id,
        connector_number=2,
        transaction_id="4710",
        started_at=started - timedelta(hours=1),
        stopped_at=started - timedelta(minutes=30),
    )
    await add_meter_values(
        resources,
        station_id,
        [
            {
                "time": seen - timedelta(minutes=1),
                "transaction_id": running.id,
                "measurand": "Energy.Active.Import.Register",
                "value": 3500.0,
                "unit": "Wh",
            }
        ],
    )
    for body in (
        await acme.viewer.ok("GET", f"/stations/{station_id}"),
        (await acme.viewer.ok("GET", "/stations?online=true"))["items"][0],
    ):
        assert body["online"] is True
        assert body["ocpp_protocol"] == "ocpp1.6"
        assert datetime.fromisoformat(body["last_seen_at"]) == seen
        one, two = body["connectors"]
        assert (one["status"], one["error_code"]) == ("Charging", "NoError")
        assert (two["status"], two["error_code"]) == ("Faulted", "GroundFailure")
        assert two["active_transaction"] is None
        session = one["active_transaction"]
        assert session["id"] == str(running.id)
        assert session["transaction_id"] == "4711"
        assert session["id_tag"] == "RFID-1"
        assert session["meter_start_wh"] == 1000.0
        assert session["energy_wh"] == 2500.0
        assert [tx["id"] for tx in body["active_transactions"]] == [str(running.id)]
    # The stopped session is not live state.
    offline = await acme.viewer.ok("GET", "/stations?online=false")
    assert offline["items"] == []
