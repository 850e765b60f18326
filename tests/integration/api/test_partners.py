"""Partners and their API clients: admin-only onboarding."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from tests.integration.api.conftest import (
    Caller,
    PartnerCallers,
    assert_problem,
    login,
    make_station,
    unique,
)


async def test_partner_crud(admin: Caller) -> None:
    name = unique("partner")
    created = await admin.ok("POST", "/partners", 201, json={"name": name})
    assert created["name"] == name
    assert created["disabled_at"] is None
    assert await admin.ok("GET", f"/partners/{created['id']}") == created
    renamed = await admin.ok("PATCH", f"/partners/{created['id']}", json={"name": name + "-x"})
    assert renamed["name"] == name + "-x"
    disabled = await admin.ok("PATCH", f"/partners/{created['id']}", json={"disabled": True})
    assert disabled["disabled_at"] is not None
    enabled = await admin.ok("PATCH", f"/partners/{created['id']}", json={"disabled": False})
    assert enabled["disabled_at"] is None
    listed = await admin.ok("GET", "/partners")
    assert created["id"] in {item["id"] for item in listed["items"]}
    await admin.ok("DELETE", f"/partners/{created['id']}", 204)
    response = await admin.get(f"/partners/{created['id']}")
    assert response.status == 404
    assert_problem(await response.json(), 404)


async def test_partner_validation_and_conflicts(admin: Caller) -> None:
    name = unique("dup")
    await admin.ok("POST", "/partners", 201, json={"name": name})
    response = await admin.post("/partners", json={"name": name})
    body = await response.json()
    assert response.status == 409
    assert body["detail"] == "a partner with this name already exists"
    for bad in ({}, {"name": ""}, {"name": "x" * 201}, {"name": "ok", "extra": 1}, {"name": 5}):
        response = await admin.post("/partners", json=bad)
        assert response.status == 422, bad
        assert (await response.json())["errors"]
    some = await admin.ok("POST", "/partners", 201, json={"name": unique("p")})
    response = await admin.patch(f"/partners/{some['id']}", json={"name": None})
    assert response.status == 422
    response = await admin.patch(f"/partners/{some['id']}", json={"disabled": "yes"})
    assert response.status == 422


async def test_partner_with_stations_cannot_be_deleted(
    admin: Caller, acme: PartnerCallers, type_ids: dict[str, str]
) -> None:
    await make_station(acme.operator, next(iter(type_ids.values())))
    response = await admin.delete(f"/partners/{acme.id}")
    assert response.status == 409
    assert "disable it instead" in (await response.json())["detail"]


async def test_missing_partner_is_404(admin: Caller) -> None:
    missing = uuid.uuid4()
    for method, path, kwargs in (
        ("GET", f"/partners/{missing}", {}),
        ("PATCH", f"/partners/{missing}", {"json": {"name": "x"}}),
        ("DELETE", f"/partners/{missing}", {}),
        ("GET", f"/partners/{missing}/clients", {}),
        ("POST", f"/partners/{missing}/clients", {"json": {"role": "viewer"}}),
        ("DELETE", f"/partners/{missing}/clients/{uuid.uuid4()}", {}),
    ):
        response = await admin.call(method, path, **kwargs)
        assert response.status == 404, (method, path)


async def test_clients_secret_shown_once(
    api: TestClient[Any, Any], admin: Caller, acme: PartnerCallers
) -> None:
    created = await admin.ok(
        "POST",
        f"/partners/{acme.id}/clients",
        201,
        json={"role": "operator", "client_id": "acme.ops-2"},
    )
    assert created["client_id"] == "acme.ops-2"
    assert created["role"] == "operator"
    assert created["partner_id"] == acme.id
    assert len(created["client_secret"]) >= 24
    listed = await admin.ok("GET", f"/partners/{acme.id}/clients")
    assert {c["client_id"] for c in listed["items"]} == {
        "acme.ops-2",
        acme.operator.client_id,
        acme.viewer.client_id,
    }
    assert all("client_secret" not in c and "secret_hash" not in c for c in listed["items"])
    caller = await login(api, "acme.ops-2", created["client_secret"])
    await caller.ok("GET", "/stations")


async def test_client_validation(admin: Caller, acme: PartnerCallers) -> None:
    path = f"/partners/{acme.id}/clients"
    for bad in ({"role": "admin"}, {}, {"role": "viewer", "client_id": "a b"}, {"role": "x"}):
        response = await admin.post(path, json=bad)
        assert response.status == 422, bad
    response = await admin.post(path, json={"role": "viewer", "client_id": acme.viewer.client_id})
    assert response.status == 409
    assert "client_id already exists" in (await response.json())["detail"]


async def test_partner_endpoints_are_admin_only(acme: PartnerCallers) -> None:
    for caller in (acme.operator, acme.viewer):
        for method, path, kwargs in (
            ("GET", "/partners", {}),
            ("POST", "/partners", {"json": {"name": "x"}}),
            ("GET", f"/partners/{acme.id}", {}),
            ("PATCH", f"/partners/{acme.id}", {"json": {"name": "x"}}),
            ("DELETE", f"/partners/{acme.id}", {}),
            ("GET", f"/partners/{acme.id}/clients", {}),
            ("POST", f"/partners/{acme.id}/clients", {"json": {"role": "viewer"}}),
        ):
            response = await caller.call(method, path, **kwargs)
            assert response.status == 403, (caller.client_id, method, path)
            assert_problem(await response.json(), 403)


async def test_partner_list_sort_and_pages(admin: Caller) -> None:
    names = [f"sorted-{i:02d}-{uuid.uuid4().hex[:4]}" for i in range(5)]
    for name in reversed(names):
        await admin.ok("POST", "/partners", 201, json={"name": name})
    seen: list[str] = []
    cursor = None
    while True:
        query = "sort=name&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = await admin.ok("GET", f"/partners?{query}")
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert [n for n in seen if n.startswith("sorted-")] == names
    page = await admin.ok("GET", "/partners?sort=-name&limit=500")
    assert [i["name"] for i in page["items"]] == sorted(seen, reverse=True)
    response = await admin.get("/partners?sort=disabled_at")
    assert response.status == 422
