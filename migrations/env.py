"""Async alembic environment.

The URL comes from ``config.attributes["database_url"]`` when called from code, else from
``DATABASE_URL``; with neither, the embedded PostgreSQL is started (so ``alembic upgrade head``
works on a fresh checkout). A session-level advisory lock serialises concurrent upgrades, so
several processes can migrate on start-up without racing.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from config.settings import Settings
from core.db import models  # noqa: F401  (registers every table on the metadata)
from core.db.base import Base
from core.db.embedded import start_embedded
from core.db.engine import to_async_url

MIGRATION_LOCK_KEY = 7_346_001

target_metadata = Base.metadata


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # Triggers' helper functions are not reflected by alembic; nothing to exclude otherwise.
    return True


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=False,
        include_object=_include_object,
        transaction_per_migration=True,
    )


def _run_sync(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    connection.commit()
    try:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()


async def _resolve_url() -> str:
    url = context.config.attributes.get("database_url")
    if url:
        return str(url)
    settings = Settings()
    if settings.database_url:
        return settings.database_url
    _server, embedded_url = await start_embedded(settings.data_dir)
    return embedded_url


async def _run_online() -> None:
    url = await _resolve_url()
    engine = create_async_engine(to_async_url(url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")

asyncio.run(_run_online())
