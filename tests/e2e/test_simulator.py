"""The simulator against the whole system: `python -m launcher` (embedded PostgreSQL) and
`python -m simulator --register` as real processes, checked only through the REST API.

The system starts once for the module (embedded PostgreSQL takes a few seconds). Two simulator
processes run against it, both with chargers of both OCPP versions: a "charging" fleet whose
drivers come and go (statuses, transactions, meter values), and an "idle" fleet that only obeys
the REST commands the tests send. A newcomer's path is the one exercised: nothing is set up by
hand, --register creates the stations and id tags.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.tools.processes import ROOT, SystemProcess, free_port

pytestmark = pytest.mark.e2e

ADMIN_ID = "admin"
ADMIN_SECRET = "e2e-simulator-admin-secret"
#: Timings short enough for whole sessions to happen within a test, long enough for 2 cores.
CHARGING_ARGS = [
    "--scenario", "charging",
    "--id-prefix", "E2E-",
    "--count", "4",
    "--connectors", "2",
    "--session", "1.5",
    "--pause", "0.5",
    "--meter-interval", "0.5",
]  # fmt: skip
IDLE_ARGS = [
    "--scenario", "idle",
    "--id-prefix", "CMD-",
    "--count", "2",
    "--connectors", "2",
    "--meter-interval", "0.5",
    "--reboot-delay", "0.2",
]  # fmt: skip
STATUSES = {
    "Available",
    "Preparing",
    "Charging",
    "SuspendedEV",
    "SuspendedEVSE",
    "Finishing",
    "Reserved",
    "Unavailable",
    "Faulted",
    "Occupied",
}


@dataclass
class Simulator:
    """One ``python -m simulator`` process writing its summary to ``json_path``."""

    proc: subprocess.Popen[bytes]
    log_path: Path
    json_path: Path
    summary: dict[str, Any] | None = None

    def stop(self) -> dict[str, Any]:
        """Ctrl-C, as a user would; returns the summary it wrote."""
        if self.summary is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
            code = self.proc.wait(60)
            output = self.log_path.read_text(errors="replace")
            assert code == 0, output
            assert "Traceback" not in output, output
            self.summary = json.loads(self.json_path.read_text())
        return self.summary

    def wait_registered(self, timeout: float = 60.0) -> None:
        """Until registration is over (the "starting" line): tests then get their own token.

        Issuing a token for a client invalidates its previous one, so the tests must not
        take the admin token while the simulators still register with it.
        """
        deadline = time.monotonic() + timeout
        while "]]: starting " not in (output := self.log_path.read_text(errors="replace")):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the simulator did not start:\n{output}")
            time.sleep(0.1)

    def kill(self) -> None:
        """Make sure nothing is left running."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@dataclass
class System:
    """The running system and the simulators pointed at it."""

    api_url: str
    csms_url: str
    simulators: dict[str, Simulator] = field(default_factory=dict)
    #: Every command the tests had answered, to compare with what the chargers say they did.
    commands: list[str] = field(default_factory=list)


def start_simulator(system: System, name: str, args: list[str], tmp: Path) -> Simulator:
    log_path, json_path = tmp / f"{name}.log", tmp / f"{name}.json"
    argv = [
        sys.executable,
        "-m",
        "simulator",
        "--url",
        system.csms_url,
        "--protocol",
        "mixed",
        "--register",
        "--api",
        system.api_url,
        "--client-id",
        ADMIN_ID,
        "--client-secret",
        ADMIN_SECRET,
        "--json",
        str(json_path),
        "--report-interval",
        "2",
        *args,
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return Simulator(proc, log_path, json_path)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The embedded system on free ports, and both simulator fleets registered against it."""
    tmp = tmp_path_factory.mktemp("e2e-simulator")
    csms_port, api_port = free_port(), free_port()
    launcher = SystemProcess(
        "launcher",
        {
            "DATA_DIR": str(tmp / "data"),  # no DATABASE_URL: embedded PostgreSQL
            "CSMS_HOST": "127.0.0.1",
            "CSMS_PORT": str(csms_port),
            "API_HOST": "127.0.0.1",
            "API_PORT": str(api_port),
            "ADMIN_CLIENT_ID": ADMIN_ID,
            "ADMIN_CLIENT_SECRET": ADMIN_SECRET,
            "RATE_LIMIT_PER_SECOND": "1000",
            "RATE_LIMIT_BURST": "1000",
            "LOG_LEVEL": "WARNING",
        },
        tmp / "launcher.log",
    )
    running = System(
        api_url=f"http://127.0.0.1:{api_port}", csms_url=f"ws://127.0.0.1:{csms_port}/ocpp"
    )
    try:
        assert launcher.wait_http(f"{running.api_url}/health", timeout=120) == 200
        running.simulators["charging"] = start_simulator(running, "charging", CHARGING_ARGS, tmp)
        running.simulators["idle"] = start_simulator(running, "idle", IDLE_ARGS, tmp)
        for simulator in running.simulators.values():
            simulator.wait_registered()
        yield running
    finally:
        for simulator in running.simulators.values():
            simulator.kill()
        if launcher.proc.poll() is None:
            launcher.interrupt()
        launcher.kill()


class Api:
    """A small REST client with an admin token."""

    def __init__(
        self, session: aiohttp.ClientSession, base: str, token: str, sent: list[str]
    ) -> None:
        self._session = session
        self._sent = sent
        self._base = f"{base}/api/v1"
        self._headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, **params: Any) -> Any:
        async with self._session.get(
            f"{self._base}{path}", params=params, headers=self._headers
        ) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def command(self, station_id: str, action: str, body: dict[str, Any]) -> Any:
        """Send a command and wait for the charger's answer (200 with the record)."""
        async with self._session.post(
            f"{self._base}/stations/{station_id}/commands/{action}",
            json=body,
            params={"wait": "10"},
            headers=self._headers,
        ) as response:
            assert response.status == 200, (action, response.status, await response.text())
            self._sent.append(action)
            return await response.json()


@pytest.fixture
async def api(system: System) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.post(
            f"{system.api_url}/api/v1/auth/token",
            json={"client_id": ADMIN_ID, "client_secret": ADMIN_SECRET},
        ) as response:
            assert response.status == 200, await response.text()
            token = (await response.json())["access_token"]
        yield Api(session, system.api_url, token, system.commands)


async def eventually(
    probe: Callable[[], Awaitable[Any]], *, what: str, timeout: float = 60.0
) -> Any:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


async def stations(api: Api, prefix: str) -> list[dict[str, Any]]:
    body = await api.get("/stations", q=prefix, limit="100", sort="charge_point_id")
    return [s for s in body["items"] if s["charge_point_id"].startswith(prefix)]


async def online(api: Api, prefix: str, count: int) -> list[dict[str, Any]]:
    """The fleet's stations once all ``count`` are online and booted."""

    async def probe() -> list[dict[str, Any]] | None:
        found = await stations(api, prefix)
        # vendor is recorded from the BootNotification: online alone only means connected
        ready = [s for s in found if s["online"] and s["vendor"] is not None]
        return found if len(ready) == count else None

    result: list[dict[str, Any]] = await eventually(probe, what=f"{count} {prefix} online")
    return result


def by_protocol(found: list[dict[str, Any]], protocol: str) -> dict[str, Any]:
    return next(s for s in found if s["ocpp_protocol"] == protocol)


# the charging fleet ----------------------------------------------------------------------------


async def test_registered_stations_come_online_with_every_connector_status(api: Api) -> None:
    found = await online(api, "E2E-", 4)

    assert [s["charge_point_id"] for s in found] == [f"E2E-0000{n}" for n in range(1, 5)]
    assert sorted(s["ocpp_protocol"] for s in found) == ["ocpp1.6"] * 2 + ["ocpp2.0.1"] * 2
    for station in found:
        assert (station["vendor"], station["model"]) == ("EVCSMS", "SimCharger")
        assert station["serial_number"] == station["charge_point_id"]
        numbers = [c["connector_number"] for c in station["connectors"]]
        assert numbers == [1, 2]
    await eventually(
        lambda: _all_connectors_reported(api),
        what="a status for every connector of the fleet",
    )


async def _all_connectors_reported(api: Api) -> bool:
    connectors = [c for s in await stations(api, "E2E-") for c in s["connectors"]]
    return len(connectors) == 8 and all(c["status"] in STATUSES for c in connectors)


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
async def test_transactions_and_meter_values_arrive(api: Api, protocol: str) -> None:
    station = by_protocol(await online(api, "E2E-", 4), protocol)

    async def finished() -> list[dict[str, Any]]:
        body = await api.get("/transactions", station_id=station["id"], active="false")
        return [t for t in body["items"] if t["energy_wh"]]

    transactions = await eventually(finished, what=f"a finished {protocol} transaction")

    tx = transactions[0]
    assert tx["id_tag"].startswith("E2E-TAG-")
    assert tx["stop_reason"] == "Local"
    assert tx["meter_stop_wh"] > tx["meter_start_wh"]
    assert tx["energy_wh"] == pytest.approx(tx["meter_stop_wh"] - tx["meter_start_wh"])

    async def energy_samples() -> list[dict[str, Any]]:
        body = await api.get(
            f"/stations/{station['id']}/meter-values",
            measurand="Energy.Active.Import.Register",
            limit="500",
        )
        return list(body["items"])

    samples = await eventually(energy_samples, what=f"{protocol} meter values")
    assert {s["unit"] for s in samples} == {"Wh"}
    assert any(s["transaction_id"] for s in samples)
    assert {s["connector_number"] for s in samples} <= {1, 2}
    latest = await api.get(f"/stations/{station['id']}/metrics/latest")
    measurands = {item["measurand"] for item in latest["items"]}
    assert {"Energy.Active.Import.Register", "Power.Active.Import"} <= measurands


# REST commands answered by the idle fleet ------------------------------------------------------


async def _connector_status(api: Api, station_id: str, number: int) -> str:
    station = await api.get(f"/stations/{station_id}")
    return next(str(c["status"]) for c in station["connectors"] if c["connector_number"] == number)


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
async def test_rest_commands_are_answered_by_simulated_chargers(api: Api, protocol: str) -> None:
    station = by_protocol(await online(api, "CMD-", 2), protocol)
    sid = station["id"]

    # remote start -> a real transaction with meter values; remote stop ends it
    started = await api.command(
        sid, "remote-start", {"id_tag": "CMD-TAG-0001", "connector_number": 1}
    )
    assert started["status"] == "accepted"
    assert started["response"]["status"] == "Accepted"

    async def running() -> list[dict[str, Any]]:
        body = await api.get("/transactions", station_id=sid, active="true")
        return list(body["items"])

    (tx,) = await eventually(running, what="the remote-started transaction")
    assert tx["id_tag"] == "CMD-TAG-0001"
    assert tx["connector_number"] == 1

    async def tx_samples() -> bool:
        body = await api.get(f"/stations/{sid}/meter-values", connector_number="1", limit="500")
        return any(s["transaction_id"] == tx["id"] for s in body["items"])

    await eventually(tx_samples, what="meter values of the remote-started transaction")
    stopped = await api.command(sid, "remote-stop", {"transaction_id": tx["transaction_id"]})
    assert stopped["status"] == "accepted"

    async def done() -> dict[str, Any] | None:
        body = await api.get(f"/transactions/{tx['id']}")
        return body if body["stopped_at"] else None

    finished = await eventually(done, what="the transaction stopped")
    assert finished["stop_reason"] == "Remote"
    assert finished["energy_wh"] > 0

    # change availability -> the connector's status follows
    off = await api.command(sid, "change-availability", {"connector_number": 2, "operative": False})
    assert off["status"] == "accepted"
    await eventually(lambda: _status_is(api, sid, 2, "Unavailable"), what="connector 2 unavailable")
    on = await api.command(sid, "change-availability", {"connector_number": 2, "operative": True})
    assert on["status"] == "accepted"
    await eventually(lambda: _status_is(api, sid, 2, "Available"), what="connector 2 available")

    # configuration store
    key = "HeartbeatInterval" if protocol == "ocpp1.6" else "OCPPCommCtrlr.HeartbeatInterval"
    changed = await api.command(sid, "change-configuration", {"key": key, "value": "45"})
    assert changed["status"] == "accepted"
    config = await api.command(sid, "get-configuration", {"keys": [key]})
    assert config["status"] == "accepted"
    assert [(c["key"], c["value"]) for c in config["response"]["configuration"]] == [(key, "45")]

    # unlock, trigger, clear cache
    unlocked = await api.command(sid, "unlock-connector", {"connector_number": 2})
    assert unlocked["response"]["status"] == "Unlocked"
    triggered = await api.command(
        sid, "trigger-message", {"message": "StatusNotification", "connector_number": 1}
    )
    assert triggered["status"] == "accepted"
    cleared = await api.command(sid, "clear-cache", {})
    assert cleared["status"] == "accepted"

    # reset: the charger reboots, reconnects, boots and announces its connectors again
    reset = await api.command(sid, "reset", {"type": "Hard"})
    assert reset["status"] == "accepted"

    async def announced_again() -> bool:
        current = await api.get(f"/stations/{sid}")
        return bool(current["online"]) and all(
            c["status_updated_at"] > reset["answered_at"] for c in current["connectors"]
        )

    await eventually(announced_again, what="back online after the reset")
    history = await api.get(f"/stations/{sid}/commands", limit="50")
    assert {c["status"] for c in history["items"]} == {"accepted"}
    assert len(history["items"]) == 10


async def _status_is(api: Api, station_id: str, number: int, expected: str) -> bool:
    return await _connector_status(api, station_id, number) == expected


# the simulators' own account -------------------------------------------------------------------


async def test_the_simulators_summaries_show_the_work_and_no_errors(
    system: System, api: Api
) -> None:
    async def finished_transactions() -> bool:
        body = await api.get("/transactions", active="false", limit="100")
        return len([t for t in body["items"] if t["id_tag"].startswith("E2E-")]) >= 2

    await eventually(finished_transactions, what="two finished sessions of the charging fleet")

    charging = system.simulators["charging"].stop()
    idle = system.simulators["idle"].stop()

    for summary in (charging, idle):
        assert summary["errors_total"] == 0, summary["errors_by_kind"]
        assert summary["calls_total"] == sum(summary["calls_by_action"].values())
        assert summary["protocol"] == "mixed"
    assert (charging["chargers"], charging["booted"]) == (4, 4)
    assert charging["transactions_stopped"] >= 2
    assert charging["meter_values_sent"] > 0
    assert charging["calls_by_action"]["Authorize"] >= 2
    # every REST command the tests had answered was answered by a simulated charger
    assert sum(idle["commands_by_action"].values()) >= len(system.commands)
    assert idle["boots_total"] == 2 + system.commands.count("reset")
