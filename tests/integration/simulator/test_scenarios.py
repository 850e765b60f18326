"""Scenarios and fleets: local sessions, refusals, faults, storms, drops, back-off, the CLI."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.simulator.conftest import StartFleet
from tests.integration.simulator.fake_csms import FakeCsms
from tests.integration.simulator.test_commands import (
    PROTOCOLS,
    V16,
    ended,
    periodic_energy,
    running_transaction,
    started,
    statuses,
    stop_reason,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_drivers_authorize_charge_and_leave(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    fleet = await start_fleet(protocol=protocol, connectors=1, scenario="charging")
    cp = fleet.id()

    await csms.wait_for(
        lambda: fleet.stats.data.transactions_stopped >= 2, what="two whole sessions"
    )

    actions = [f.action for f in csms.sent(cp) if f.action not in ("Heartbeat",)]
    first = actions.index("Authorize")
    assert actions[first + 1 : first + 2] == [
        "StartTransaction" if protocol == V16 else "TransactionEvent"
    ]
    stop = ended(csms, cp)[0]
    assert stop_reason(stop) == "Local"
    if protocol == V16:
        assert statuses(csms, cp, 1)[:5] == [
            "Available",
            "Preparing",
            "Charging",
            "Finishing",
            "Available",
        ]
        begin = started(csms, cp)[0].payload["meterStart"]
        assert stop.payload["meterStop"] > begin
        assert stop.payload["transactionData"][0]["sampledValue"][0]["context"] == (
            "Transaction.End"
        )
    else:
        assert statuses(csms, cp, 1)[:3] == ["Available", "Occupied", "Available"]
        begin_sample = started(csms, cp)[0].payload["meterValue"][0]["sampledValue"][0]
        end_sample = stop.payload["meterValue"][0]["sampledValue"][0]
        assert end_sample["value"] > begin_sample["value"]
    assert fleet.stats.data.errors_by_kind == {}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_refused_id_tag_starts_no_transaction(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    csms.tag_status["SIM-TAG-0001"] = "Invalid"
    fleet = await start_fleet(protocol=protocol, connectors=1, scenario="charging")
    cp = fleet.id()

    await csms.wait_for(lambda: len(csms.sent(cp, "Authorize")) >= 2, what="two attempts")
    await csms.wait_for(lambda: statuses(csms, cp, 1)[-1] == "Available", what="idle again")

    assert started(csms, cp) == []
    assert fleet.stats.data.refusals_by_kind["authorize:Invalid"] >= 1
    assert fleet.stats.data.errors_by_kind == {}  # a refusal is an answer, not an error


async def test_mixed_fleets_fault_recover_and_sample_per_phase_currents(
    csms: FakeCsms, start_fleet: StartFleet
) -> None:
    fleet = await start_fleet(count=4, protocol="mixed", scenario="mixed", pause=0.1)

    await csms.wait_for(
        lambda: any("Faulted" in statuses(csms, fleet.id(i), n) for i in range(3) for n in (1, 2)),
        what="a fault",
    )
    await csms.wait_for(
        lambda: any(len(periodic_energy(csms, fleet.id(i))) >= 1 for i in range(3)),
        what="meter values",
    )

    faulted = next(
        f
        for f in csms.sent(action="StatusNotification")
        if f.payload.get("status", f.payload.get("connectorStatus")) == "Faulted"
    )
    if faulted.protocol == V16:
        assert faulted.payload["errorCode"] != "NoError"
    phases = {
        sample.get("phase")
        for frame in csms.frames
        if frame.action in ("MeterValues", "TransactionEvent")
        for value in frame.payload.get("meterValue", [])
        for sample in value["sampledValue"]
        if sample.get("measurand") == "Current.Import"
    }
    assert phases == {"L1", "L2", "L3"}
    assert started(csms, fleet.id(3)) == []  # every fourth charger idles
    assert {frame.protocol for frame in csms.frames} == {"ocpp1.6", "ocpp2.0.1"}


async def test_a_storm_connects_everything_at_once_ignoring_the_ramp(
    csms: FakeCsms, start_fleet: StartFleet
) -> None:
    # ramp=600 would spread connects over ten minutes outside a storm
    fleet = await start_fleet(count=150, protocol="mixed", scenario="storm", ramp=600.0)

    await csms.wait_for(lambda: fleet.stats.data.booted == 150, what="every charger booted")

    assert len(csms.links) == 150
    assert fleet.stats.data.first_boots == 150
    assert fleet.stats.data.errors_by_kind == {}
    assert started(csms, fleet.id(0)) == []  # idle: no drivers


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_transaction_survives_a_drop_and_carries_on_after_the_reconnect(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    fleet = await start_fleet(protocol=protocol)
    await csms.wait_for(lambda: fleet.stats.data.booted == 1, what="booted")
    await csms.wait_for(lambda: statuses(csms, fleet.id(), 2), what="statuses")
    cp = fleet.id()
    transaction_id = await running_transaction(csms, fleet, protocol)
    await csms.wait_for(lambda: periodic_energy(csms, cp), what="a meter value")

    await csms.drop(cp)
    await csms.wait_for(lambda: len(csms.sent(cp, "BootNotification")) == 2, what="boot again")
    before = len(periodic_energy(csms, cp))
    await csms.wait_for(lambda: len(periodic_energy(csms, cp)) >= before + 2, what="resumed")

    assert len(started(csms, cp)) == 1  # the same transaction, not a new one
    last = [f for f in csms.sent(cp) if f.action in ("MeterValues", "TransactionEvent")][-1]
    if protocol == V16:
        assert last.payload["transactionId"] == int(transaction_id)
    else:
        assert last.payload["transactionInfo"]["transactionId"] == transaction_id
    assert fleet.stats.data.errors_by_kind == {"connection_closed": 1}


async def test_reconnects_back_off_exponentially(csms: FakeCsms, start_fleet: StartFleet) -> None:
    csms.known = set()  # every handshake refused
    fleet = await start_fleet(backoff_min=0.02, backoff_max=0.32)

    await csms.wait_for(lambda: len(csms.handshake_times) >= 7, what="seven attempts")

    times = csms.handshake_times[:7]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    for attempt, gap in enumerate(gaps):
        window = min(0.32, 0.02 * 2**attempt)
        assert gap >= window / 2 * 0.95, (attempt, gaps)  # never faster than the back-off
    assert fleet.stats.data.errors_by_kind["handshake:404"] >= 7
    assert fleet.stats.data.connected == 0


async def test_the_command_line_runs_a_fleet_over_worker_processes(
    csms: FakeCsms, tmp_path: Path
) -> None:
    summary_path = tmp_path / "summary.json"
    argv = [
        sys.executable,
        "-m",
        "simulator",
        "--url",
        csms.url,
        "--count",
        "6",
        "--protocol",
        "mixed",
        "--scenario",
        "storm",
        "--processes",
        "2",
        "--duration",
        "4",
        "--heartbeat",
        "1",
        "--json",
        str(summary_path),
    ]

    process = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)

    text = output.decode()
    assert process.returncode == 0, text
    assert "Traceback" not in text
    assert "Simulator summary: 6 chargers (mixed, storm)" in text
    assert "progress" not in text.split("starting", 1)[0]  # no live line when piped
    summary = json.loads(summary_path.read_text())
    assert summary["chargers"] == 6
    assert summary["processes"] == 2
    assert summary["booted"] == 6  # merged from both workers
    assert summary["calls_by_action"]["BootNotification"] == 6
    assert summary["calls_by_action"]["Heartbeat"] >= 6
    assert summary["errors_total"] == 0
    assert summary["calls_total"] == sum(summary["calls_by_action"].values())
    assert {frame.charge_point_id for frame in csms.frames} == {f"SIM-0000{n}" for n in range(1, 7)}
