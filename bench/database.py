"""A scratch database per run: created on DATABASE_URL's server, migrated, filled, dropped.

Stations, connectors and id tags are written with a few set-based statements (20,000 stations
take well under a second), not through the REST API: registration is not what is measured.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url

from core.db.migrate import upgrade_to_head

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
PARTNER = "bench"


def plain_dsn(url: str) -> str:
    """asyncpg wants ``postgresql://``; the product accepts ``postgresql+asyncpg://`` too."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    return make_url(plain_dsn(url)).set(database=name).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """Create ``bench_<timestamp>``, migrate it to head, yield its URL, drop it afterwards."""
    name = f"bench_{time.strftime('%Y%m%d_%H%M%S')}_{int(time.time() * 1000) % 1000:03d}"
    admin = await asyncpg.connect(plain_dsn(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(server_url, name)
    try:
        await upgrade_to_head(url)
        yield url
    finally:
        admin = await asyncpg.connect(plain_dsn(server_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@dataclass(frozen=True, slots=True)
class Fleet:
    """Stations registered for one scenario: ``<prefix>00001`` ... as the simulator names them."""

    prefix: str
    count: int
    connectors: int
    tags: int

    def charge_point_id(self, index: int) -> str:
        """Same rule as the simulator: 1-based, zero-padded to at least five digits."""
        width = max(5, len(str(self.count)))
        return f"{self.prefix}{index:0{width}d}"

    def id_tag(self, number: int) -> str:
        """Same rule as the simulator's ``--register``."""
        return f"{self.prefix}TAG-{number:04d}"


async def register(url: str, fleet: Fleet) -> list[str]:
    """Create the fleet's stations (with connectors) and id tags; return the station ids."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        async with conn.transaction():
            partner_id = await conn.fetchval(
                "INSERT INTO partner (name) VALUES ($1) ON CONFLICT (name) DO UPDATE"
                " SET name = EXCLUDED.name RETURNING id",
                PARTNER,
            )
            type_id = await conn.fetchval(
                "SELECT id FROM station_type WHERE plug_count >= $1 ORDER BY plug_count, name"
                " LIMIT 1",
                fleet.connectors,
            )
            if type_id is None:
                raise RuntimeError(f"no seeded station type has {fleet.connectors} plugs")
            ids = [fleet.charge_point_id(i) for i in range(1, fleet.count + 1)]
            rows = await conn.fetch(
                "INSERT INTO station (partner_id, type_id, name, charge_point_id)"
                " SELECT $1, $2, cp, cp FROM unnest($3::text[]) AS cp RETURNING id",
                partner_id,
                type_id,
                ids,
            )
            station_ids = [row["id"] for row in rows]
            await conn.execute(
                "INSERT INTO connector (station_id, connector_number, status)"
                " SELECT s, n, 'Available' FROM unnest($1::uuid[]) AS s,"
                " generate_series(1, $2) AS n",
                station_ids,
                fleet.connectors,
            )
            await conn.execute(
                "INSERT INTO id_tag (partner_id, value) SELECT $1, v FROM unnest($2::text[]) AS v",
                partner_id,
                [fleet.id_tag(n) for n in range(1, fleet.tags + 1)],
            )
        # Fresh statistics, as autovacuum would have them on a live system within a minute:
        # with none, the planner answers the admission lookup (charge_point_id = ANY) of 10,000
        # new rows through the trigram index, ~2 s per batch, and a storm stalls on that.
        await conn.execute("ANALYZE station, connector, id_tag")
        return [str(s) for s in station_ids]
    finally:
        await conn.close()


@dataclass(frozen=True, slots=True)
class Stored:
    """What the database holds for a fleet after a run."""

    transactions: int
    transactions_stopped: int
    meter_values: int
    stations_online: int


async def count(url: str, fleet: Fleet) -> Stored:
    """Count the fleet's rows (the check that nothing acknowledged was lost)."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        pattern = fleet.prefix.replace("_", r"\_").replace("%", r"\%") + "%"
        row = await conn.fetchrow(
            """
            WITH s AS (SELECT id, online FROM station WHERE charge_point_id LIKE $1)
            SELECT (SELECT count(*) FROM transaction t JOIN s ON s.id = t.station_id) AS tx,
                   (SELECT count(*) FROM transaction t JOIN s ON s.id = t.station_id
                     WHERE t.stopped_at IS NOT NULL) AS stopped,
                   (SELECT count(*) FROM meter_value m JOIN s ON s.id = m.station_id) AS mv,
                   (SELECT count(*) FROM s WHERE s.online) AS online
            """,
            pattern,
        )
        assert row is not None
        return Stored(row["tx"], row["stopped"], row["mv"], row["online"])
    finally:
        await conn.close()
