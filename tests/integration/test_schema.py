"""The schema after migration: every table, the seeds, and rules held by the database itself."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.db.errors import constraint_name
from core.runtime import Resources

EXPECTED_TABLES = {
    "partner",
    "api_client",
    "station_type",
    "site",
    "station",
    "connector",
    "id_tag",
    "transaction",
    "meter_value",
    "command",
}


async def _scalar(resources: Resources, sql: str, **params: object) -> object:
    async with resources.engine.begin() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def _station(resources: Resources, type_name: str, cpid: str) -> str:
    async with resources.engine.begin() as conn:
        partner = (
            await conn.execute(
                text("INSERT INTO partner (name) VALUES (:n) RETURNING id"),
                {"n": f"p-{cpid}-{uuid.uuid4().hex[:6]}"},
            )
        ).scalar_one()
        station = (
            await conn.execute(
                text(
                    "INSERT INTO station (partner_id, type_id, name, charge_point_id) "
                    "SELECT :p, id, :name, :cpid FROM station_type WHERE name = :t RETURNING id"
                ),
                {"p": partner, "name": cpid, "cpid": cpid, "t": type_name},
            )
        ).scalar_one()
    return str(station)


async def test_every_table_exists(resources: Resources) -> None:
    async with resources.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        tables = {row[0] for row in rows}
    assert tables >= EXPECTED_TABLES


async def test_exactly_five_station_types_seeded(resources: Resources) -> None:
    assert await _scalar(resources, "SELECT count(*) FROM station_type") == 5
    assert await _scalar(resources, "SELECT count(DISTINCT current_type) FROM station_type") == 2


async def test_second_priority_connector_is_refused_by_the_database(
    resources: Resources,
) -> None:
    station = await _station(resources, "AC 22 kW dual", "CP-PRIO")
    async with resources.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO connector (station_id, connector_number, priority) "
                "VALUES (:s, 1, true)"
            ),
            {"s": station},
        )
    with pytest.raises(IntegrityError) as excinfo:
        async with resources.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO connector (station_id, connector_number, priority) "
                    "VALUES (:s, 2, true)"
                ),
                {"s": station},
            )
    assert constraint_name(excinfo.value) == "uq_connector_station_id_priority"


async def test_connector_beyond_plug_count_is_refused_by_the_database(
    resources: Resources,
) -> None:
    station = await _station(resources, "AC 11 kW single", "CP-PLUGS")
    async with resources.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO connector (station_id, connector_number) VALUES (:s, 1)"),
            {"s": station},
        )
    with pytest.raises(IntegrityError) as excinfo:
        async with resources.engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO connector (station_id, connector_number) VALUES (:s, 2)"),
                {"s": station},
            )
    assert constraint_name(excinfo.value) == "ck_connector_within_plug_count"


async def test_duplicate_connector_number_is_refused(resources: Resources) -> None:
    station = await _station(resources, "AC 22 kW dual", "CP-DUP")
    insert = text("INSERT INTO connector (station_id, connector_number) VALUES (:s, 1)")
    async with resources.engine.begin() as conn:
        await conn.execute(insert, {"s": station})
    with pytest.raises(IntegrityError) as excinfo:
        async with resources.engine.begin() as conn:
            await conn.execute(insert, {"s": station})
    assert constraint_name(excinfo.value) == "uq_connector_station_id_connector_number"


async def test_changing_type_to_fewer_plugs_than_connectors_is_refused(
    resources: Resources,
) -> None:
    station = await _station(resources, "AC 22 kW dual", "CP-SHRINK")
    async with resources.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO connector (station_id, connector_number) VALUES (:s, 2)"),
            {"s": station},
        )
    with pytest.raises(IntegrityError) as excinfo:
        async with resources.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE station SET type_id = "
                    "(SELECT id FROM station_type WHERE name = 'AC 11 kW single') WHERE id = :s"
                ),
                {"s": station},
            )
    assert constraint_name(excinfo.value) == "ck_station_type_fits_connectors"
    with pytest.raises(IntegrityError) as excinfo:
        async with resources.engine.begin() as conn:
            await conn.execute(
                text("UPDATE station_type SET plug_count = 1 WHERE name = 'AC 22 kW dual'")
            )
    assert constraint_name(excinfo.value) == "ck_station_type_plug_count_fits"


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        (
            "INSERT INTO station_type (name, plug_count, efficiency, current_type, max_power_kw)"
            " VALUES ('x', 17, 90, 'AC', 11)",
            "ck_station_type_plug_count_range",
        ),
        (
            "INSERT INTO station_type (name, plug_count, efficiency, current_type, max_power_kw)"
            " VALUES ('x', 2, 0, 'AC', 11)",
            "ck_station_type_efficiency_range",
        ),
        (
            "INSERT INTO station_type (name, plug_count, efficiency, current_type, max_power_kw)"
            " VALUES ('x', 2, 90, 'XX', 11)",
            "ck_station_type_current_type",
        ),
        (
            "INSERT INTO station_type (name, plug_count, efficiency, current_type, max_power_kw)"
            " VALUES ('AC 11 kW single', 1, 90, 'AC', 11)",
            "uq_station_type_name",
        ),
        (
            "INSERT INTO api_client (client_id, secret_hash, role) VALUES ('c', 'h', 'operator')",
            "ck_api_client_partner_unless_admin",
        ),
    ],
)
async def test_check_constraints(resources: Resources, sql: str, constraint: str) -> None:
    with pytest.raises(IntegrityError) as excinfo:
        async with resources.engine.begin() as conn:
            await conn.execute(text(sql))
    assert constraint_name(excinfo.value) == constraint


async def test_charge_point_id_format_and_uniqueness(resources: Resources) -> None:
    await _station(resources, "DC 50 kW", "CP.ok_1:a-b")
    with pytest.raises(IntegrityError) as excinfo:
        await _station(resources, "DC 50 kW", "bad id with spaces")
    assert constraint_name(excinfo.value) == "ck_station_charge_point_id_format"
    with pytest.raises(IntegrityError) as excinfo:
        await _station(resources, "DC 50 kW", "CP.ok_1:a-b")
    assert constraint_name(excinfo.value) == "uq_station_charge_point_id_live"


async def test_ip_address_must_be_valid(resources: Resources) -> None:
    station = await _station(resources, "DC 50 kW", "CP-IP")
    async with resources.engine.begin() as conn:
        await conn.execute(
            text("UPDATE station SET ip_address = '2001:db8::1' WHERE id = :s"), {"s": station}
        )
    with pytest.raises(DBAPIError, match="inet"):
        async with resources.engine.begin() as conn:
            await conn.execute(
                text("UPDATE station SET ip_address = '300.1.1.1' WHERE id = :s"), {"s": station}
            )
