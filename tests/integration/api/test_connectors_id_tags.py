"""Connectors (nested create, plug_count, one priority) and id tags."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from core.runtime import Resources
from tests.integration.api.conftest import Caller, PartnerCallers, assert_problem, make_station

DUAL = "AC 22 kW dual"


@pytest.fixture
async def station(acme: PartnerCallers, type_ids: dict[str, str]) -> dict[str, Any]:
    """An acme station of a two-plug type, without connectors."""
    return await make_station(acme.operator, type_ids[DUAL])


async def test_connector_lifecycle(acme: PartnerCallers, station: dict[str, Any]) -> None:
    op = acme.operator
    base = f"/stations/{station['id']}/connectors"
    response = await op.post(base, json={"connector_number": 2, "name": "B", "priority": True})
    second = await response.json()
    assert response.status == 201, second
    assert response.headers["Location"] == f"/api/v1/connectors/{second['id']}"
    assert second["station_id"] == station["id"]
    assert second["status"] is None
    first = await op.ok("POST", base, 201, json={"connector_number": 1})
    assert first["priority"] is False
    listed = await acme.viewer.ok("GET", base)
    assert [c["connector_number"] for c in listed["items"]] == [1, 2]
    assert await acme.viewer.ok("GET", f"/connectors/{first['id']}") == first
    replaced = await op.ok(
        "PUT", f"/connectors/{first['id']}", json={"connector_number": 1, "name": "A"}
    )
    assert replaced["name"] == "A"
    # Moving the priority: clear it on one, then set it on the other.
    await op.ok("PATCH", f"/connectors/{second['id']}", json={"priority": False})
    moved = await op.ok("PATCH", f"/connectors/{first['id']}", json={"priority": True})
    assert moved["priority"] is True
    priority = await op.ok("GET", "/connectors?priority=true")
    assert [c["id"] for c in priority["items"]] == [first["id"]]
    with_station = await op.ok("GET", f"/stations/{station['id']}")
    assert [c["name"] for c in with_station["connectors"]] == ["A", "B"]
    await op.ok("DELETE", f"/connectors/{second['id']}", 204)
    assert (await op.get(f"/connectors/{second['id']}")).status == 404
    assert (await op.delete(f"/connectors/{second['id']}")).status == 404


async def test_connector_conflicts(acme: PartnerCallers, station: dict[str, Any]) -> None:
    op = acme.operator
    base = f"/stations/{station['id']}/connectors"
    one = await op.ok("POST", base, 201, json={"connector_number": 1, "priority": True})
    cases = [
        ({"connector_number": 3}, "exceeds the station type's plug_count"),
        ({"connector_number": 1}, "already has a connector with this connector_number"),
        ({"connector_number": 2, "priority": True}, "station already has a priority connector"),
    ]
    for body, message in cases:
        response = await op.post(base, json=body)
        problem = await response.json()
        assert response.status == 409, problem
        assert_problem(problem, 409)
        assert message in problem["detail"]
    two = await op.ok("POST", base, 201, json={"connector_number": 2})
    response = await op.patch(f"/connectors/{two['id']}", json={"priority": True})
    assert response.status == 409
    response = await op.patch(f"/connectors/{two['id']}", json={"connector_number": 1})
    assert response.status == 409
    response = await op.patch(f"/connectors/{one['id']}", json={"connector_number": 5})
    assert response.status == 409
    # Never more than plug_count: the two-plug station is full.
    listed = await op.ok("GET", base)
    assert len(listed["items"]) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"connector_number": 0},
        {"connector_number": 17},
        {"connector_number": "1"},
        {"connector_number": 1, "priority": "yes"},
        {"connector_number": 1, "status": "Available"},
        {},
    ],
)
async def test_connector_validation(
    acme: PartnerCallers, station: dict[str, Any], body: dict[str, Any]
) -> None:
    response = await acme.operator.post(f"/stations/{station['id']}/connectors", json=body)
    assert response.status == 422, await response.text()


async def test_connector_isolation_and_viewer(
    acme: PartnerCallers, globex: PartnerCallers, station: dict[str, Any]
) -> None:
    base = f"/stations/{station['id']}/connectors"
    mine = await acme.operator.ok("POST", base, 201, json={"connector_number": 1})
    path = f"/connectors/{mine['id']}"
    for method, kwargs in (
        ("GET", {}),
        ("PUT", {"json": {"connector_number": 1}}),
        ("PATCH", {"json": {"name": "x"}}),
        ("DELETE", {}),
    ):
        assert (await globex.operator.call(method, path, **kwargs)).status == 404, method
    assert (await globex.operator.get(base)).status == 404
    assert (await globex.operator.post(base, json={"connector_number": 2})).status == 404
    assert (await globex.operator.ok("GET", "/connectors"))["items"] == []
    assert (await acme.viewer.post(base, json={"connector_number": 2})).status == 403
    for method, kwargs in (
        ("PUT", {"json": {"connector_number": 1}}),
        ("PATCH", {"json": {"name": "x"}}),
        ("DELETE", {}),
    ):
        assert (await acme.viewer.call(method, path, **kwargs)).status == 403, method
    # Connectors of a deleted station are gone with it.
    await acme.operator.ok("DELETE", f"/stations/{station['id']}", 204)
    assert (await acme.operator.get(path)).status == 404
    assert (await acme.operator.get(base)).status == 404


async def test_connector_filters(
    acme: PartnerCallers, type_ids: dict[str, str], resources: Resources
) -> None:
    a = await make_station(
        acme.operator,
        type_ids[DUAL],
        connectors=[{"connector_number": 1, "priority": True}, {"connector_number": 2}],
    )
    b = await make_station(acme.operator, type_ids[DUAL], connectors=[{"connector_number": 1}])
    async with resources.engine.begin() as conn:
        await conn.execute(
            text("UPDATE connector SET status = 'Available' WHERE station_id = :id"),
            {"id": a["id"]},
        )
        await conn.execute(
            text("UPDATE connector SET status = 'Faulted' WHERE station_id = :id"),
            {"id": b["id"]},
        )
    op = acme.operator

    async def ids(query: str) -> set[str]:
        return {c["id"] for c in (await op.ok("GET", f"/connectors?{query}"))["items"]}

    a_ids = {c["id"] for c in a["connectors"]}
    b_ids = {c["id"] for c in b["connectors"]}
    assert await ids("") == a_ids | b_ids
    assert await ids(f"station_id={a['id']}") == a_ids
    assert await ids("status=Faulted") == b_ids
    assert await ids("status=Available&priority=false") == {a["connectors"][1]["id"]}
    assert await ids(f"station_id={uuid.uuid4()}") == set()
    by_station = await op.ok(
        "GET", f"/stations/{a['id']}/connectors?status=Available&priority=true"
    )
    assert [c["id"] for c in by_station["items"]] == [a["connectors"][0]["id"]]
    desc = await op.ok("GET", f"/stations/{a['id']}/connectors?sort=-connector_number")
    assert [c["connector_number"] for c in desc["items"]] == [2, 1]
    for bad in ("status=Sleeping", "priority=maybe", "station_id=nope", "sort=name", "limit=0"):
        response = await op.get(f"/connectors?{bad}")
        assert response.status == 422, bad


# --- id tags ---------------------------------------------------------------------------------


async def test_id_tag_crud(acme: PartnerCallers) -> None:
    op = acme.operator
    response = await op.post(
        "/id-tags",
        json={"value": "RFID-0001", "expires_at": "2030-01-01T00:00:00Z", "parent_id_tag": "GRP"},
    )
    tag = await response.json()
    assert response.status == 201, tag
    assert response.headers["Location"] == f"/api/v1/id-tags/{tag['id']}"
    assert tag["status"] == "Accepted"
    assert tag["partner_id"] == acme.id
    path = f"/id-tags/{tag['id']}"
    assert await acme.viewer.ok("GET", path) == tag
    blocked = await op.ok("PATCH", path, json={"status": "Blocked"})
    assert blocked["status"] == "Blocked"
    assert blocked["parent_id_tag"] == "GRP"
    replaced = await op.ok("PUT", path, json={"value": "RFID-0002"})
    assert replaced["status"] == "Accepted"
    assert replaced["expires_at"] is None
    assert replaced["parent_id_tag"] is None
    assert (await op.post("/id-tags", json={"value": "RFID-0002"})).status == 409
    await op.ok("DELETE", path, 204)
    assert (await op.get(path)).status == 404


@pytest.mark.parametrize(
    "body",
    [
        {"value": ""},
        {"value": "x" * 37},
        {"value": "ok", "status": "Lost"},
        {"value": "ok", "expires_at": "2030-01-01T00:00:00"},
        {"value": "ok", "expires_at": "tomorrow"},
        {"value": "ok", "owner": "me"},
    ],
)
async def test_id_tag_validation(acme: PartnerCallers, body: dict[str, Any]) -> None:
    response = await acme.operator.post("/id-tags", json=body)
    assert response.status == 422, await response.text()


async def test_id_tag_isolation_filters_and_roles(
    admin: Caller, acme: PartnerCallers, globex: PartnerCallers
) -> None:
    mine = await acme.operator.ok("POST", "/id-tags", 201, json={"value": "SHARED"})
    blocked = await acme.operator.ok(
        "POST", "/id-tags", 201, json={"value": "B-1", "status": "Blocked"}
    )
    theirs = await globex.operator.ok("POST", "/id-tags", 201, json={"value": "SHARED"})
    path = f"/id-tags/{theirs['id']}"
    for method, kwargs in (
        ("GET", {}),
        ("PUT", {"json": {"value": "x"}}),
        ("PATCH", {"json": {"value": "x"}}),
        ("DELETE", {}),
    ):
        assert (await acme.operator.call(method, path, **kwargs)).status == 404, method
        assert (await acme.viewer.call(method, f"/id-tags/{mine['id']}", **kwargs)).status == (
            200 if method == "GET" else 403
        )
    assert (await acme.viewer.post("/id-tags", json={"value": "x"})).status == 403

    async def ids(caller: Caller, query: str) -> set[str]:
        return {t["id"] for t in (await caller.ok("GET", f"/id-tags?{query}"))["items"]}

    assert await ids(acme.viewer, "") == {mine["id"], blocked["id"]}
    assert await ids(acme.viewer, "status=Blocked") == {blocked["id"]}
    assert await ids(acme.viewer, "value=SHARED") == {mine["id"]}
    assert await ids(admin, "value=SHARED") == {mine["id"], theirs["id"]}
    assert await ids(admin, f"value=SHARED&partner_id={globex.id}") == {theirs["id"]}
    assert (await acme.viewer.get(f"/id-tags?partner_id={globex.id}")).status == 422
    assert (await acme.viewer.get("/id-tags?status=Lost")).status == 422
    response = await admin.post("/id-tags", json={"value": "NO-OWNER"})
    assert response.status == 422
    made = await admin.ok(
        "POST", "/id-tags", 201, json={"value": "BY-ADMIN", "partner_id": acme.id}
    )
    assert made["partner_id"] == acme.id
