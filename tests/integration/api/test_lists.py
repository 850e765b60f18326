"""Lists: keyset pagination stable under inserts, every filter of SPEC section 5, and 422s."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core.runtime import Resources
from tests.integration.api.conftest import Caller, PartnerCallers, make_station
from tests.integration.services.factories import make_transaction

DUAL = "AC 22 kW dual"
SEEDED = 1000


async def _insert_stations(
    resources: Resources, partner_id: str, type_id: str, count: int, prefix: str
) -> set[str]:
    """``count`` stations in one statement (so they share created_at: ties on the sort key)."""
    async with resources.engine.begin() as conn:
        rows = await conn.execute(
            text(
                "INSERT INTO station (partner_id, type_id, name, charge_point_id) "
                "SELECT CAST(:partner AS uuid), CAST(:type AS uuid), "
                "left(:prefix || md5(random()::text || n), 32), :prefix || n || '-' || "
                "md5(random()::text) FROM generate_series(1, :count) AS n RETURNING id"
            ),
            {"partner": partner_id, "type": type_id, "prefix": prefix, "count": count},
        )
        return {str(row[0]) for row in rows}


async def _walk(
    caller: Caller, query: str, between_pages: Any = None
) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, page by page; ``between_pages`` runs after each page."""
    items: list[dict[str, Any]] = []
    pages = 0
    cursor: str | None = None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        page = await caller.ok("GET", f"{query}{suffix}")
        pages += 1
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        if between_pages is not None:
            await between_pages()


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "name", "-charge_point_id"])
async def test_walk_1000_stations_while_inserting(
    acme: PartnerCallers, type_ids: dict[str, str], resources: Resources, sort: str
) -> None:
    seeded = await _insert_stations(resources, acme.id, type_ids[DUAL], SEEDED, "seed-")
    inserted: set[str] = set()

    async def insert_more() -> None:
        # Names and identities spread over the whole key range: some land before the cursor,
        # some after it.
        for prefix in ("a-", "m-", "z-"):
            inserted.update(await _insert_stations(resources, acme.id, type_ids[DUAL], 1, prefix))

    items, pages = await _walk(acme.viewer, f"/stations?sort={sort}&limit=97", insert_more)
    ids = [item["id"] for item in items]
    duplicates = [key for key, count in Counter(ids).items() if count > 1]
    assert duplicates == []
    assert seeded <= set(ids), f"missing {len(seeded - set(ids))} seeded stations"
    assert set(ids) <= seeded | inserted
    assert pages >= SEEDED // 97
    field = sort.removeprefix("-")
    keys = [item[field] for item in items]
    assert keys == sorted(keys, reverse=sort.startswith("-"))


async def test_default_and_maximum_limit(acme: PartnerCallers, type_ids: dict[str, str]) -> None:
    await _insert_stations_api(acme.operator, type_ids[DUAL], 3)
    page = await acme.viewer.ok("GET", "/stations?limit=2")
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    rest = await acme.viewer.ok("GET", f"/stations?limit=500&cursor={page['next_cursor']}")
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None


async def test_default_limit_is_50(
    acme: PartnerCallers, type_ids: dict[str, str], resources: Resources
) -> None:
    await _insert_stations(resources, acme.id, type_ids[DUAL], 51, "lim-")
    page = await acme.viewer.ok("GET", "/stations")
    assert len(page["items"]) == 50
    assert page["next_cursor"] is not None


async def _insert_stations_api(caller: Caller, type_id: str, count: int) -> list[dict[str, Any]]:
    return [await make_station(caller, type_id) for _ in range(count)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("cursor=%21%21not-a-cursor", "cursor"),
        ("sort=vendor", "sort"),
        ("online=maybe", "online"),
        ("type_id=not-a-uuid", "type_id"),
        ("site_id=1", "site_id"),
        ("current_type=XY", "current_type"),
        ("status=Sleeping", "status"),
        ("partner_id=nope", "partner_id"),
        ("q=", "q"),
        ("colour=red", "colour"),
        ("online=true&online=false", "online"),
    ],
)
async def test_invalid_station_filters_are_422(
    acme: PartnerCallers, query: str, field: str
) -> None:
    response = await acme.viewer.get(f"/stations?{query}")
    problem = await response.json()
    assert response.status == 422, problem
    assert field in [error["field"] for error in problem["errors"]]


async def test_cursor_of_another_sort_is_422(
    acme: PartnerCallers, type_ids: dict[str, str]
) -> None:
    await _insert_stations_api(acme.operator, type_ids[DUAL], 2)
    page = await acme.viewer.ok("GET", "/stations?limit=1&sort=name")
    response = await acme.viewer.get(f"/stations?limit=1&sort=-name&cursor={page['next_cursor']}")
    assert response.status == 422


async def test_every_station_filter_narrows(
    admin: Caller,
    acme: PartnerCallers,
    globex: PartnerCallers,
    type_ids: dict[str, str],
    resources: Resources,
) -> None:
    op = acme.operator
    site = await op.ok("POST", "/sites", 201, json={"name": "Filters"})
    ac = await make_station(
        op,
        type_ids[DUAL],
        name="Alpha Garage",
        charge_point_id="ACME-ALPHA",
        firmware_version="1.0",
        site_id=site["id"],
        connectors=[{"connector_number": 1}],
    )
    dc = await make_station(
        op,
        type_ids["DC 50 kW"],
        name="Beta Depot",
        charge_point_id="ACME-BETA",
        firmware_version="2.0",
        connectors=[{"connector_number": 1}],
    )
    plain = await make_station(op, type_ids[DUAL], name="Gamma", charge_point_id="X-garage-9")
    other = await make_station(globex.operator, type_ids[DUAL], name="Alpha Garage")
    async with resources.engine.begin() as conn:
        await conn.execute(
            text("UPDATE station SET online = true WHERE id = :id"), {"id": dc["id"]}
        )
        await conn.execute(
            text("UPDATE connector SET status = 'Charging' WHERE station_id = :id"),
            {"id": dc["id"]},
        )
        await conn.execute(
            text("UPDATE connector SET status = 'Available' WHERE station_id = :id"),
            {"id": ac["id"]},
        )

    async def ids(caller: Caller, query: str) -> set[str]:
        items, _ = await _walk(caller, f"/stations?limit=2&{query}")
        return {item["id"] for item in items}

    everyone = {ac["id"], dc["id"], plain["id"]}
    assert await ids(acme.viewer, "") == everyone
    assert await ids(acme.viewer, f"type_id={type_ids[DUAL]}") == {ac["id"], plain["id"]}
    assert await ids(acme.viewer, "current_type=DC") == {dc["id"]}
    assert await ids(acme.viewer, "current_type=AC") == {ac["id"], plain["id"]}
    assert await ids(acme.viewer, f"site_id={site['id']}") == {ac["id"]}
    assert await ids(acme.viewer, "status=Charging") == {dc["id"]}
    assert await ids(acme.viewer, "status=Available") == {ac["id"]}
    assert await ids(acme.viewer, "status=Faulted") == set()
    assert await ids(acme.viewer, "online=true") == {dc["id"]}
    assert await ids(acme.viewer, "online=false") == {ac["id"], plain["id"]}
    assert await ids(acme.viewer, "firmware_version=2.0") == {dc["id"]}
    assert await ids(acme.viewer, "q=garage") == {ac["id"], plain["id"]}  # name or identity
    assert await ids(acme.viewer, "q=acme-") == {ac["id"], dc["id"]}
    assert await ids(acme.viewer, "q=%25") == set()  # wildcards are literal
    assert await ids(acme.viewer, "q=garage&online=false&current_type=AC") == {
        ac["id"],
        plain["id"],
    }
    assert await ids(admin, "q=Alpha") == {ac["id"], other["id"]}
    assert await ids(admin, f"q=Alpha&partner_id={globex.id}") == {other["id"]}
    assert await ids(admin, f"partner_id={acme.id}") == everyone
    response = await acme.viewer.get(f"/stations?partner_id={globex.id}")
    assert response.status == 422
    assert await ids(acme.viewer, f"partner_id={acme.id}") == everyone


# --- transactions ----------------------------------------------------------------------------


async def test_transactions_read_only_filters_and_isolation(
    admin: Caller,
    acme: PartnerCallers,
    globex: PartnerCallers,
    type_ids: dict[str, str],
    resources: Resources,
) -> None:
    a = await make_station(acme.operator, type_ids[DUAL])
    b = await make_station(acme.operator, type_ids[DUAL])
    g = await make_station(globex.operator, type_ids[DUAL])
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    old = await make_transaction(
        resources,
        station_id=uuid.UUID(a["id"]),
        transaction_id="1",
        id_tag="TAG-A",
        started_at=t0,
        stopped_at=t0 + timedelta(hours=1),
        meter_start_wh=0.0,
        meter_stop_wh=5000.0,
        energy_wh=5000.0,
        stop_reason="Local",
    )
    running = await make_transaction(
        resources,
        station_id=uuid.UUID(a["id"]),
        transaction_id="2",
        id_tag="TAG-B",
        started_at=t0 + timedelta(days=1),
    )
    on_b = await make_transaction(
        resources,
        station_id=uuid.UUID(b["id"]),
        transaction_id="3",
        id_tag="TAG-A",
        started_at=t0 + timedelta(days=2),
    )
    theirs = await make_transaction(
        resources, station_id=uuid.UUID(g["id"]), transaction_id="1", started_at=t0
    )

    async def ids(caller: Caller, query: str = "") -> list[str]:
        items, _ = await _walk(caller, f"/transactions?limit=1&{query}")
        return [item["id"] for item in items]

    mine = [str(on_b.id), str(running.id), str(old.id)]  # newest first by default
    assert await ids(acme.viewer) == mine
    assert await ids(acme.viewer, "sort=started_at") == mine[::-1]
    assert await ids(acme.viewer, f"station_id={a['id']}") == [str(running.id), str(old.id)]
    assert await ids(acme.viewer, "id_tag=TAG-A") == [str(on_b.id), str(old.id)]
    assert await ids(acme.viewer, "active=true") == [str(on_b.id), str(running.id)]
    assert await ids(acme.viewer, "active=false") == [str(old.id)]
    after = (t0 + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    before = (t0 + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    assert await ids(acme.viewer, f"started_after={after}") == [str(on_b.id), str(running.id)]
    assert await ids(acme.viewer, f"started_before={before}") == [str(running.id), str(old.id)]
    assert await ids(acme.viewer, f"started_after={after}&started_before={before}") == [
        str(running.id)
    ]
    assert await ids(acme.viewer, f"station_id={g['id']}") == []
    assert set(await ids(admin)) == {*mine, str(theirs.id)}
    one = await acme.viewer.ok("GET", f"/transactions/{old.id}")
    assert one["transaction_id"] == "1"
    assert one["energy_wh"] == 5000.0
    assert one["stop_reason"] == "Local"
    assert one["station_id"] == a["id"]
    assert (await acme.viewer.get(f"/transactions/{theirs.id}")).status == 404
    assert (await acme.viewer.get(f"/transactions/{uuid.uuid4()}")).status == 404
    for bad in (
        "active=perhaps",
        "started_after=2026-01-01T00:00:00",  # no timezone
        "started_after=yesterday",
        f"started_after={before}&started_before={after}",
        "sort=energy_wh",
        "station_id=zzz",
    ):
        response = await acme.viewer.get(f"/transactions?{bad}")
        assert response.status == 422, bad
    # Read-only: no write methods.
    response = await acme.operator.post("/transactions", json={})
    assert response.status == 405
    assert response.content_type == "application/problem+json"
    response = await acme.operator.delete(f"/transactions/{old.id}")
    assert response.status == 405
    # A deleted station's sessions disappear from the partner's view.
    await acme.operator.ok("DELETE", f"/stations/{a['id']}", 204)
    assert await ids(acme.viewer) == [str(on_b.id)]
