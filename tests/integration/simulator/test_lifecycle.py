"""Connection lifecycle over real websockets: boot, status, heartbeat, refusals, drops, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.integration.simulator.conftest import StartFleet
from tests.integration.simulator.fake_csms import FakeCsms

PROTOCOLS = ["ocpp1.6", "ocpp2.0.1"]


def _statuses(csms: FakeCsms, cp: str) -> list[tuple[int, str]]:
    result: list[tuple[int, str]] = []
    for frame in csms.sent(cp, "StatusNotification"):
        payload = frame.payload
        number: int = payload["connectorId"] if frame.protocol == "ocpp1.6" else payload["evseId"]
        result.append((number, payload.get("status") or payload["connectorStatus"]))
    return result


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_boots_then_reports_every_connector(
    csms: FakeCsms, start_fleet: StartFleet, protocol
):
    fleet = await start_fleet(count=2, connectors=2, protocol=protocol)

    await csms.wait_for(lambda: fleet.stats.data.booted == 2, what="both chargers booted")
    expected = [(0, "Available"), (1, "Available"), (2, "Available")]
    if protocol == "ocpp2.0.1":
        expected = expected[1:]  # 2.0.1 has no connector 0
    for index in range(2):
        cp = fleet.id(index)
        await csms.wait_for(lambda cp=cp: len(_statuses(csms, cp)) == len(expected))  # type: ignore[misc]
        assert csms.sent(cp)[0].action == "BootNotification"
        assert _statuses(csms, cp) == expected
        assert csms.handshakes[index][2] == protocol
    assert fleet.stats.data.connected == 2
    assert fleet.stats.data.errors_by_kind == {}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_heartbeats_at_the_interval_the_boot_answer_gives(
    csms: FakeCsms, start_fleet: StartFleet, protocol
):
    csms.interval = 1
    fleet = await start_fleet(protocol=protocol)

    await csms.wait_for(lambda: len(csms.sent(fleet.id(), "Heartbeat")) >= 2, what="heartbeats")
    key = "HeartbeatInterval" if protocol == "ocpp1.6" else "OCPPCommCtrlr.HeartbeatInterval"
    assert fleet.chargers[0].station.config.get(key) == "1"


async def test_heartbeat_option_overrides_the_boot_interval(
    csms: FakeCsms, start_fleet: StartFleet
):
    csms.interval = 3600
    fleet = await start_fleet(heartbeat=0.2)

    await csms.wait_for(lambda: len(csms.sent(fleet.id(), "Heartbeat")) >= 2, what="heartbeats")


@pytest.mark.parametrize("refusal", ["Pending", "Rejected"])
async def test_boot_is_retried_after_the_interval_and_nothing_else_is_sent_before(
    csms: FakeCsms, start_fleet: StartFleet, refusal
):
    csms.interval = 1
    csms.boot_script["SIM-00001"] = [refusal, refusal]
    fleet = await start_fleet()

    await csms.wait_for(lambda: fleet.stats.data.booted == 1, what="accepted on the third boot")
    actions = [frame.action for frame in csms.sent(fleet.id())]
    assert actions[:3] == ["BootNotification"] * 3
    assert fleet.stats.data.refusals_by_kind == {f"boot:{refusal}": 2}
    first, second, _third = csms.sent(fleet.id(), "BootNotification")[:3]
    assert second.at - first.at >= 0.9  # waited the interval handed out (1 s)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_boot_triggered_while_pending_is_accepted_early(
    csms: FakeCsms, start_fleet: StartFleet, protocol
):
    csms.interval = 3600  # without the trigger the charger would wait an hour
    csms.boot_script["SIM-00001"] = ["Pending"]
    fleet = await start_fleet(protocol=protocol)
    await csms.wait_for(lambda: fleet.stats.data.refusals_by_kind, what="pending boot")

    answer = await csms.call(fleet.id(), "TriggerMessage", {"requestedMessage": "BootNotification"})

    assert answer[2] == {"status": "Accepted"}
    await csms.wait_for(lambda: fleet.stats.data.booted == 1, what="boot accepted")
    await csms.wait_for(lambda: csms.sent(fleet.id(), "StatusNotification"), what="statuses")
    if protocol == "ocpp2.0.1":
        reasons = [f.payload["reason"] for f in csms.sent(fleet.id(), "BootNotification")]
        assert reasons == ["PowerUp", "Triggered"]


async def test_commands_are_answered_while_the_charger_waits_for_its_own_answer(
    csms: FakeCsms, start_fleet: StartFleet
):
    csms.delays["BootNotification"] = 1.0
    fleet = await start_fleet()
    await csms.wait_for(lambda: csms.sent(fleet.id(), "BootNotification"), what="boot sent")

    answer = await csms.call(fleet.id(), "GetConfiguration", {"key": ["NumberOfConnectors"]})

    assert answer[0] == 3
    assert fleet.stats.data.booted == 0  # the charger's BootNotification is still unanswered
    assert answer[2]["configurationKey"] == [
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"}
    ]
    await csms.wait_for(lambda: fleet.stats.data.booted == 1, what="boot accepted afterwards")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_reconnects_and_boots_again_after_a_drop(
    csms: FakeCsms, start_fleet: StartFleet, protocol
):
    fleet = await start_fleet(protocol=protocol)
    await csms.wait_for(lambda: fleet.stats.data.booted == 1, what="first boot")

    await csms.drop(fleet.id())

    await csms.wait_for(lambda: csms.connections.get(fleet.id()) == 2, what="reconnect")
    await csms.wait_for(lambda: len(csms.sent(fleet.id(), "BootNotification")) == 2)
    await csms.wait_for(lambda: fleet.stats.data.booted == 1, what="booted again")
    assert fleet.stats.data.errors_by_kind == {"connection_closed": 1}
    assert fleet.stats.data.boots_total == 2
    assert fleet.stats.data.first_boots == 1


async def test_refused_handshakes_are_counted_by_status_and_retried(
    csms: FakeCsms, start_fleet: StartFleet
):
    csms.known = set()
    fleet = await start_fleet()

    await csms.wait_for(lambda: len(csms.handshakes) >= 3, what="retries with back-off")
    assert fleet.stats.data.errors_by_kind["handshake:404"] >= 3
    assert fleet.stats.data.connected == 0

    csms.known = {fleet.id()}  # registered meanwhile: the next attempt gets in
    await csms.wait_for(lambda: fleet.stats.data.booted == 1, what="accepted once known")


async def test_sends_http_basic_credentials_when_given_a_password(
    csms: FakeCsms, start_fleet: StartFleet
):
    csms.passwords = {"SIM-00001": "s3cret-pass", "SIM-00002": "other"}
    fleet = await start_fleet(count=2, password="s3cret-pass")

    await csms.wait_for(lambda: fleet.stats.data.booted == 1, what="the right password boots")
    await csms.wait_for(lambda: fleet.stats.data.errors_by_kind.get("handshake:401"))
    authorizations = {cp: auth for cp, auth, _ in csms.handshakes}
    assert authorizations["SIM-00001"] == "Basic U0lNLTAwMDAxOnMzY3JldC1wYXNz"


async def test_unanswered_calls_time_out_and_call_errors_are_counted_by_code(
    csms: FakeCsms, start_fleet: StartFleet
):
    csms.silent.add("Heartbeat")
    csms.call_errors["StatusNotification"] = "InternalError"
    fleet = await start_fleet(heartbeat=0.1, call_timeout=0.3)

    await csms.wait_for(lambda: fleet.stats.data.errors_by_kind.get("timeout", 0) >= 2)
    errors = fleet.stats.data.errors_by_kind
    assert errors["callerror:InternalError"] == 3  # connectors 0, 1 and 2
    assert fleet.stats.data.calls_by_action["StatusNotification"] == 3
    assert "Heartbeat" not in fleet.stats.data.calls_by_action  # never answered


async def test_latency_is_measured_per_action(csms: FakeCsms, start_fleet: StartFleet):
    csms.delays["BootNotification"] = 0.2
    fleet = await start_fleet()

    await csms.wait_for(lambda: fleet.stats.data.booted == 1)
    boot = fleet.stats.data.latency_by_action["BootNotification"]
    assert boot.count == 1
    assert boot.percentile(50) >= 200.0 * 0.97  # ms, within the histogram's precision


async def test_a_server_dropping_the_handshake_is_counted_with_its_cause(
    start_fleet: StartFleet, caplog: pytest.LogCaptureFixture
) -> None:
    # What a central system aborting handshakes it could not finish in time looks like.
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        fleet = await start_fleet(url=f"ws://127.0.0.1:{port}/ocpp")
        await wait_until(lambda: fleet.stats.data.errors_by_kind.get("handshake:InvalidMessage"))
    finally:
        server.close()

    assert fleet.stats.data.connected == 0
    warning = next(r for r in caplog.records if r.getMessage() == "handshake_refused")
    assert "EOFError" in warning.fields["detail"]  # type: ignore[attr-defined]
    assert warning.fields["detail"].endswith(" s")  # type: ignore[attr-defined]


async def wait_until(predicate: Callable[[], object], timeout: float = 15) -> None:
    """Poll ``predicate`` until it is truthy (for tests without the fake central system)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)
