"""Test databases: a PostgreSQL server from DATABASE_URL (or embedded) and scratch databases.

Each test session migrates its own freshly created database, so several test runs (and `make run`)
can share one server without seeing each other's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from core.db.embedded import EmbeddedPostgres, ensure_database
from core.db.engine import to_async_url

ROOT = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    """CI=true turns every missing service into a failure instead of a skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@contextlib.contextmanager
def server_url() -> Iterator[str]:
    """URL of a database on the test server: DATABASE_URL, or a private embedded server."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield to_async_url(configured).render_as_string(hide_password=False)
        return
    if in_ci():
        raise RuntimeError("CI=true but DATABASE_URL is not set")
    server = EmbeddedPostgres(ROOT / ".data" / "test")
    server.start()
    try:
        yield server.uri("postgres")
    finally:
        server.stop()


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _drop(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(_plain_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.contextmanager
def scratch_database(admin_url: str, prefix: str = "t") -> Iterator[str]:
    """Create an empty database next to ``admin_url``'s, yield its URL, drop it afterwards."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(ensure_database(admin_url, name))
    try:
        yield _with_database(admin_url, name)
    finally:
        asyncio.run(_drop(admin_url, name))
