"""`python -m launcher` (what `make run` starts): both ports up, clean Ctrl-C, both DB modes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg
import pytest
import websockets
from websockets.typing import Subprotocol

from tests.tools.processes import SystemProcess, free_port

LINE = re.compile(r"^\[\S+Z \[[A-Z]+\] \[[^\]]*\]\]: \S+")


async def _register_station(database_url: str, charge_point_id: str) -> None:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        partner = await conn.fetchval(
            "INSERT INTO partner (name) VALUES ($1) "
            "ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
            f"launcher-{charge_point_id}",
        )
        await conn.execute(
            "INSERT INTO station (partner_id, type_id, name, charge_point_id) "
            "SELECT $1, id, $2, $2 FROM station_type ORDER BY name LIMIT 1 "
            "ON CONFLICT DO NOTHING",
            partner,
            charge_point_id,
        )
    finally:
        await conn.close()


async def _ws_upgrade(port: int, charge_point_id: str) -> str | None:
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ocpp/{charge_point_id}",
        subprotocols=[Subprotocol("ocpp1.6")],
    ) as ws:
        return ws.subprotocol


@pytest.fixture
def ports() -> tuple[int, int]:
    return free_port(), free_port()


def _check_clean_exit(system: SystemProcess) -> str:
    code = system.interrupt()
    out = system.output()
    assert code == 0, out
    assert "Traceback" not in out, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines
    assert all(LINE.match(line) for line in lines), out
    return out


def test_launcher_serves_both_ports_and_stops_cleanly(
    database_url: str, ports: tuple[int, int], tmp_path: Path
) -> None:
    csms_port, api_port = ports
    system = SystemProcess(
        "launcher",
        {
            "DATABASE_URL": database_url,
            "CSMS_PORT": str(csms_port),
            "API_PORT": str(api_port),
            "CSMS_HOST": "127.0.0.1",
            "API_HOST": "127.0.0.1",
        },
        tmp_path / "launcher.log",
    )
    try:
        assert system.wait_http(f"http://127.0.0.1:{api_port}/health") == 200
        assert system.wait_http(f"http://127.0.0.1:{csms_port}/health") == 200
        asyncio.run(_register_station(database_url, "LAUNCH-1"))
        assert asyncio.run(_ws_upgrade(csms_port, "LAUNCH-1")) == "ocpp1.6"
        out = _check_clean_exit(system)
        assert "csms_listening" in out
        assert "api_listening" in out
    finally:
        system.kill()


def test_embedded_postgres_mode_starts_migrates_and_stops(
    ports: tuple[int, int], tmp_path: Path
) -> None:
    csms_port, api_port = ports
    data_dir = tmp_path / "data"
    system = SystemProcess(
        "launcher",
        {
            "DATA_DIR": str(data_dir),
            "CSMS_PORT": str(csms_port),
            "API_PORT": str(api_port),
            "CSMS_HOST": "127.0.0.1",
            "API_HOST": "127.0.0.1",
        },
        tmp_path / "embedded.log",
    )
    try:
        assert system.wait_http(f"http://127.0.0.1:{api_port}/health", timeout=90) == 200
        out = _check_clean_exit(system)
        assert "embedded_postgres_started" in out
        assert "migrations_applied" in out
        assert "embedded_postgres_stopped" in out
        assert (data_dir / "pg" / "PG_VERSION").exists()
        assert not (data_dir / "pg" / "postmaster.pid").exists()
    finally:
        system.kill()
