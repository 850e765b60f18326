"""Station types (seeded, admin writes) and sites (a partner's locations)."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.api.conftest import Caller, PartnerCallers, assert_problem, make_station

NEW_TYPE = {
    "name": "AC 7 kW test",
    "plug_count": 2,
    "efficiency": 95.5,
    "current_type": "AC",
    "max_power_kw": 7.4,
}


async def test_five_seeded_types_readable_by_everyone(admin: Caller, acme: PartnerCallers) -> None:
    for caller in (admin, acme.operator, acme.viewer):
        page = await caller.ok("GET", "/station-types")
        assert len(page["items"]) == 5
        assert page["next_cursor"] is None
        one = await caller.ok("GET", f"/station-types/{page['items'][0]['id']}")
        assert one == page["items"][0]
    dc = await admin.ok("GET", "/station-types?current_type=DC")
    assert dc["items"]
    assert all(item["current_type"] == "DC" for item in dc["items"])
    by_power = await admin.ok("GET", "/station-types?sort=-max_power_kw")
    powers = [item["max_power_kw"] for item in by_power["items"]]
    assert powers == sorted(powers, reverse=True)
    response = await admin.get("/station-types?current_type=XX")
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "current_type"


async def test_station_type_crud(admin: Caller) -> None:
    created = await admin.ok("POST", "/station-types", 201, json=NEW_TYPE)
    assert {k: created[k] for k in NEW_TYPE} == NEW_TYPE
    path = f"/station-types/{created['id']}"
    replaced = await admin.ok("PUT", path, json={**NEW_TYPE, "name": "AC 7 kW v2", "plug_count": 1})
    assert replaced["name"] == "AC 7 kW v2"
    assert replaced["plug_count"] == 1
    patched = await admin.ok("PATCH", path, json={"efficiency": 99})
    assert patched["efficiency"] == 99
    assert patched["name"] == "AC 7 kW v2"
    response = await admin.post("/station-types", json={**NEW_TYPE, "name": "AC 7 kW v2"})
    assert response.status == 409
    await admin.ok("DELETE", path, 204)
    assert (await admin.get(path)).status == 404
    assert (await admin.delete(path)).status == 404


@pytest.mark.parametrize(
    "change",
    [
        {"plug_count": 0},
        {"plug_count": 17},
        {"efficiency": 0},
        {"efficiency": 100.5},
        {"efficiency": 0.001},
        {"current_type": "XX"},
        {"max_power_kw": -1},
        {"name": ""},
        {"plug_count": "2"},
        {"colour": "red"},
    ],
)
async def test_station_type_validation(admin: Caller, change: dict[str, object]) -> None:
    response = await admin.post("/station-types", json={**NEW_TYPE, **change})
    body = await response.json()
    assert response.status == 422, body
    assert_problem(body, 422)
    assert body["errors"]


async def test_station_type_in_use(
    admin: Caller, acme: PartnerCallers, type_ids: dict[str, str]
) -> None:
    created = await admin.ok("POST", "/station-types", 201, json={**NEW_TYPE, "plug_count": 2})
    station = await make_station(
        acme.operator,
        created["id"],
        connectors=[{"connector_number": 1}, {"connector_number": 2}],
    )
    path = f"/station-types/{created['id']}"
    response = await admin.delete(path)
    assert response.status == 409
    assert "in use" in (await response.json())["detail"]
    response = await admin.patch(path, json={"plug_count": 1})
    assert response.status == 409
    assert "plug_count" in (await response.json())["detail"]
    # Even soft-deleted stations keep their type.
    await acme.operator.ok("DELETE", f"/stations/{station['id']}", 204)
    assert (await admin.delete(path)).status == 409


async def test_station_types_writes_are_admin_only(acme: PartnerCallers) -> None:
    page = await acme.operator.ok("GET", "/station-types")
    path = f"/station-types/{page['items'][0]['id']}"
    for caller in (acme.operator, acme.viewer):
        assert (await caller.post("/station-types", json=NEW_TYPE)).status == 403
        assert (await caller.put(path, json=NEW_TYPE)).status == 403
        assert (await caller.patch(path, json={"efficiency": 50})).status == 403
        assert (await caller.delete(path)).status == 403


# --- sites -----------------------------------------------------------------------------------


async def test_site_crud_for_operator(acme: PartnerCallers) -> None:
    op = acme.operator
    site = await op.ok(
        "POST",
        "/sites",
        201,
        json={"name": "Depot", "address": "1 Main St", "latitude": 48.1, "longitude": 11.5},
    )
    assert site["partner_id"] == acme.id
    path = f"/sites/{site['id']}"
    assert await acme.viewer.ok("GET", path) == site
    replaced = await op.ok("PUT", path, json={"name": "Depot 2"})
    assert replaced["name"] == "Depot 2"
    assert replaced["address"] is None
    assert replaced["latitude"] is None
    patched = await op.ok("PATCH", path, json={"address": "2 Side St"})
    assert patched["address"] == "2 Side St"
    assert patched["name"] == "Depot 2"
    assert (await op.post("/sites", json={"name": "Depot 2"})).status == 409
    listed = await op.ok("GET", "/sites")
    assert [s["id"] for s in listed["items"]] == [site["id"]]
    await op.ok("DELETE", path, 204)
    assert (await op.get(path)).status == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x", "latitude": 91},
        {"name": "x", "longitude": -181},
        {"name": "x", "latitude": "1"},
        {"name": "x", "unknown": True},
        {"name": "bad\u0000name"},
    ],
)
async def test_site_validation(acme: PartnerCallers, body: dict[str, object]) -> None:
    response = await acme.operator.post("/sites", json=body)
    assert response.status == 422, await response.text()


async def test_site_partner_rules(
    admin: Caller, acme: PartnerCallers, globex: PartnerCallers
) -> None:
    response = await admin.post("/sites", json={"name": "No owner"})
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "partner_id"
    response = await admin.post("/sites", json={"name": "x", "partner_id": str(uuid.uuid4())})
    assert response.status == 422
    made = await admin.ok("POST", "/sites", 201, json={"name": "By admin", "partner_id": acme.id})
    assert made["partner_id"] == acme.id
    response = await acme.operator.post("/sites", json={"name": "theirs", "partner_id": globex.id})
    assert response.status == 422
    theirs = await globex.operator.ok("POST", "/sites", 201, json={"name": "Globex site"})
    only_acme = await admin.ok("GET", f"/sites?partner_id={acme.id}")
    assert [s["id"] for s in only_acme["items"]] == [made["id"]]
    all_sites = await admin.ok("GET", "/sites")
    assert {s["id"] for s in all_sites["items"]} == {made["id"], theirs["id"]}
    response = await acme.operator.get(f"/sites?partner_id={globex.id}")
    assert response.status == 422


async def test_site_isolation_and_viewer(acme: PartnerCallers, globex: PartnerCallers) -> None:
    theirs = await globex.operator.ok("POST", "/sites", 201, json={"name": "Secret"})
    path = f"/sites/{theirs['id']}"
    for method, kwargs in (
        ("GET", {}),
        ("PUT", {"json": {"name": "x"}}),
        ("PATCH", {"json": {"name": "x"}}),
        ("DELETE", {}),
    ):
        response = await acme.operator.call(method, path, **kwargs)
        assert response.status == 404, method
    assert (await acme.operator.ok("GET", "/sites"))["items"] == []
    assert (await acme.viewer.post("/sites", json={"name": "x"})).status == 403
    own = await acme.operator.ok("POST", "/sites", 201, json={"name": "Mine"})
    for method, kwargs in (
        ("PUT", {"json": {"name": "x"}}),
        ("PATCH", {"json": {"name": "x"}}),
        ("DELETE", {}),
    ):
        response = await acme.viewer.call(method, f"/sites/{own['id']}", **kwargs)
        assert response.status == 403, method
    # A deleted site leaves its stations in place, without a site.
    type_id = (await acme.operator.ok("GET", "/station-types"))["items"][0]["id"]
    station = await make_station(acme.operator, type_id, site_id=own["id"])
    assert station["site_id"] == own["id"]
    await acme.operator.ok("DELETE", f"/sites/{own['id']}", 204)
    after = await acme.operator.ok("GET", f"/stations/{station['id']}")
    assert after["site_id"] is None
