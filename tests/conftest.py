"""Shared fixtures: one migrated scratch database per test session, clean tables per test.

PostgreSQL comes from DATABASE_URL (CI, this machine) or the embedded server; Redis from
REDIS_URL. With CI=true a missing service fails the run instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from alembic import command
from pydantic import SecretStr
from sqlalchemy import text

from config.settings import Settings
from core.db.migrate import alembic_config
from core.runtime import Resources, open_resources
from tests.tools.db import in_ci, scratch_database, server_url

# Tables emptied between tests; station_type is reset to the five seeded rows instead.
_TABLES = (
    "meter_value",
    "command",
    "transaction",
    "connector",
    "station",
    "id_tag",
    "site",
    "api_client",
    "partner",
)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A freshly migrated database private to this test session."""
    with server_url() as admin_url, scratch_database(admin_url) as url:
        command.upgrade(alembic_config(url), "head")
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """REDIS_URL, or skip (fail under CI) the tests that need Redis."""
    url = os.environ.get("REDIS_URL")
    if not url:
        if in_ci():
            pytest.fail("CI=true but REDIS_URL is not set")
        pytest.skip("REDIS_URL not set")
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for an in-test system: random ports, the session database, no Redis."""
    return Settings(
        database_url=database_url,
        redis_url=None,
        csms_host="127.0.0.1",
        csms_port=0,
        api_host="127.0.0.1",
        api_port=0,
        log_level="WARNING",
        heartbeat_interval=60,
        admin_client_id="admin",
        admin_client_secret=SecretStr("admin-secret-for-tests"),
        jwt_secret=SecretStr("jwt-secret-for-tests-only-0123456789"),
        group_commit_max_delay_ms=0.5,
    )


async def reset_tables(resources: Resources) -> None:
    """Empty every table and restore the seeded station types."""
    from migrations.versions import seed_station_types

    async with resources.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(_TABLES)}, station_type CASCADE"))
        for row in seed_station_types():
            await conn.execute(
                text(
                    "INSERT INTO station_type (name, plug_count, efficiency, current_type, "
                    "max_power_kw) VALUES (:name, :plug_count, :efficiency, :current_type, "
                    ":max_power_kw)"
                ),
                row,
            )


@pytest.fixture
async def resources(settings: Settings) -> AsyncIterator[Resources]:
    """Open resources on the session database with every table emptied first."""
    async with open_resources(settings, migrate=False) as res:
        await reset_tables(res)
        yield res
