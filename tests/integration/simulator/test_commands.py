"""The central system's commands, both versions, over real websockets against the fake csms.

Each test sends the CALL a central system would send and checks both the answer and what the
charger does afterwards (the messages it sends, its state), the way a real charger behaves.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.simulator.conftest import RunningFleet, StartFleet
from tests.integration.simulator.fake_csms import FakeCsms, Frame

V16, V201 = "ocpp1.6", "ocpp2.0.1"
PROTOCOLS = [V16, V201]


def remote_start(protocol: str, connector: int | None, tag: str = "DRIVER-1") -> tuple[str, Any]:
    if protocol == V16:
        payload: dict[str, Any] = {"idTag": tag}
        if connector is not None:
            payload["connectorId"] = connector
        return "RemoteStartTransaction", payload
    payload = {"idToken": {"idToken": tag, "type": "Central"}, "remoteStartId": 42}
    if connector is not None:
        payload["evseId"] = connector
    return "RequestStartTransaction", payload


def remote_stop(protocol: str, transaction_id: str) -> tuple[str, Any]:
    if protocol == V16:
        return "RemoteStopTransaction", {"transactionId": int(transaction_id)}
    return "RequestStopTransaction", {"transactionId": transaction_id}


def availability(protocol: str, connector: int | None, operative: bool) -> tuple[str, Any]:
    word = "Operative" if operative else "Inoperative"
    if protocol == V16:
        return "ChangeAvailability", {"connectorId": connector or 0, "type": word}
    payload: dict[str, Any] = {"operationalStatus": word}
    if connector is not None:
        payload["evse"] = {"id": connector}
    return "ChangeAvailability", payload


def statuses(csms: FakeCsms, cp: str, connector: int) -> list[str]:
    """The statuses the charger reported for ``connector``, in order."""
    result = []
    for frame in csms.sent(cp, "StatusNotification"):
        payload = frame.payload
        number = payload["connectorId"] if frame.protocol == V16 else payload["evseId"]
        if number == connector:
            result.append(payload.get("status") or payload["connectorStatus"])
    return result


def started(csms: FakeCsms, cp: str) -> list[Frame]:
    """StartTransaction / TransactionEvent Started frames."""
    return [
        f
        for f in csms.sent(cp)
        if f.action == "StartTransaction"
        or (f.action == "TransactionEvent" and f.payload["eventType"] == "Started")
    ]


def ended(csms: FakeCsms, cp: str) -> list[Frame]:
    """StopTransaction / TransactionEvent Ended frames."""
    return [
        f
        for f in csms.sent(cp)
        if f.action == "StopTransaction"
        or (f.action == "TransactionEvent" and f.payload["eventType"] == "Ended")
    ]


def periodic_energy(csms: FakeCsms, cp: str) -> list[float]:
    """Energy register readings of periodic meter values during transactions."""
    values = []
    for frame in csms.sent(cp):
        is_update = frame.action == "TransactionEvent" and frame.payload["eventType"] == "Updated"
        if frame.action != "MeterValues" and not is_update:
            continue
        for meter_value in frame.payload["meterValue"]:
            for sample in meter_value["sampledValue"]:
                if sample.get("measurand") == "Energy.Active.Import.Register":
                    values.append(float(sample["value"]))
    return values


def stop_reason(frame: Frame) -> str:
    if frame.action == "StopTransaction":
        return str(frame.payload["reason"])
    return str(frame.payload["transactionInfo"]["stoppedReason"])


async def booted_fleet(csms: FakeCsms, start_fleet: StartFleet, **overrides: Any) -> RunningFleet:
    fleet = await start_fleet(**overrides)
    count = overrides.get("count", 1)
    await csms.wait_for(lambda: fleet.stats.data.booted == count, what="booted")
    # every connector announced: commands now meet a settled charger
    await csms.wait_for(lambda: statuses(csms, fleet.id(), 2), what="statuses")
    return fleet


async def running_transaction(
    csms: FakeCsms, fleet: RunningFleet, protocol: str, connector: int = 1
) -> str:
    """Remote-start on ``connector``; returns the transaction id the central system knows."""
    cp = fleet.id()
    answer = await csms.call(cp, *remote_start(protocol, connector))
    assert answer[2] == {"status": "Accepted"}
    await csms.wait_for(
        lambda: (
            "Charging" in statuses(csms, cp, connector) or (protocol == V201 and started(csms, cp))
        ),
        what="charging",
    )
    tx = fleet.chargers[0].station.connectors[connector - 1].transaction
    assert tx is not None
    assert tx.transaction_id is not None
    return tx.transaction_id


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_remote_start_runs_a_transaction_that_sends_growing_meter_values(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=protocol)
    cp = fleet.id()

    answer = await csms.call(cp, *remote_start(protocol, 2, "DRIVER-7"))

    assert answer[0] == 3
    assert answer[2] == {"status": "Accepted"}
    await csms.wait_for(lambda: len(periodic_energy(csms, cp)) >= 3, what="meter values")
    (start,) = started(csms, cp)
    if protocol == V16:
        assert start.payload["connectorId"] == 2
        assert start.payload["idTag"] == "DRIVER-7"
        assert statuses(csms, cp, 2)[-2:] == ["Preparing", "Charging"]
        meter = csms.sent(cp, "MeterValues")[0].payload
        assert meter["connectorId"] == 2
        assert meter["transactionId"] == 1  # the id the central system assigned
    else:
        assert start.payload["triggerReason"] == "RemoteStart"
        assert start.payload["transactionInfo"]["remoteStartId"] == 42
        assert start.payload["idToken"] == {"idToken": "DRIVER-7", "type": "Central"}
        assert start.payload["evse"] == {"id": 2, "connectorId": 1}
        assert statuses(csms, cp, 2)[-1] == "Occupied"
    energy = periodic_energy(csms, cp)
    assert energy == sorted(energy)
    assert energy[-1] > energy[0]  # the meter grows while power flows
    assert fleet.stats.data.commands_by_action == {answer_action(protocol): 1}


def answer_action(protocol: str) -> str:
    return "RemoteStartTransaction" if protocol == V16 else "RequestStartTransaction"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_remote_start_is_rejected_on_a_busy_or_unknown_connector(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=protocol)
    await running_transaction(csms, fleet, protocol, connector=1)

    busy = await csms.call(fleet.id(), *remote_start(protocol, 1))
    unknown = await csms.call(fleet.id(), *remote_start(protocol, 9))
    any_free = await csms.call(fleet.id(), *remote_start(protocol, None))

    assert busy[2] == {"status": "Rejected"}
    assert unknown[2] == {"status": "Rejected"}
    assert any_free[2] == {"status": "Accepted"}  # connector 2 is free
    await csms.wait_for(lambda: len(started(csms, fleet.id())) == 2, what="second start")
    assert fleet.chargers[0].station.connectors[1].transaction is not None


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_remote_stop_ends_the_transaction_with_the_final_register(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=protocol)
    cp = fleet.id()
    transaction_id = await running_transaction(csms, fleet, protocol)
    await csms.wait_for(lambda: periodic_energy(csms, cp), what="a meter value")

    unknown = await csms.call(cp, *remote_stop(protocol, "999"))
    answer = await csms.call(cp, *remote_stop(protocol, transaction_id))

    assert unknown[2] == {"status": "Rejected"}
    assert answer[2] == {"status": "Accepted"}
    await csms.wait_for(lambda: statuses(csms, cp, 1)[-1] == "Available", what="available")
    (stop,) = ended(csms, cp)
    assert stop_reason(stop) == "Remote"
    if protocol == V16:
        assert stop.payload["transactionId"] == int(transaction_id)
        assert stop.payload["meterStop"] >= started(csms, cp)[0].payload["meterStart"]
        assert statuses(csms, cp, 1)[-3:] == ["Charging", "Finishing", "Available"]
    else:
        assert stop.payload["transactionInfo"]["transactionId"] == transaction_id
        assert stop.payload["triggerReason"] == "RemoteStop"
        seq = [f.payload["seqNo"] for f in csms.sent(cp, "TransactionEvent")]
        assert seq == list(range(len(seq)))  # no gaps, no repeats
    assert fleet.chargers[0].station.connectors[0].transaction is None
    again = await csms.call(cp, *remote_stop(protocol, transaction_id))
    assert again[2] == {"status": "Rejected"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_change_availability_switches_connectors_and_the_station(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=protocol)
    cp = fleet.id()

    off = await csms.call(cp, *availability(protocol, 2, operative=False))

    assert off[2] == {"status": "Accepted"}
    await csms.wait_for(lambda: statuses(csms, cp, 2)[-1] == "Unavailable", what="unavailable")
    refused = await csms.call(cp, *remote_start(protocol, 2))
    assert refused[2] == {"status": "Rejected"}  # an inoperative connector takes no session

    whole = await csms.call(cp, *availability(protocol, None, operative=False))
    assert whole[2] == {"status": "Accepted"}
    await csms.wait_for(lambda: statuses(csms, cp, 1)[-1] == "Unavailable", what="station off")
    if protocol == V16:
        assert statuses(csms, cp, 0)[-1] == "Unavailable"

    on = await csms.call(cp, *availability(protocol, None, operative=True))
    assert on[2] == {"status": "Accepted"}
    await csms.wait_for(lambda: statuses(csms, cp, 1)[-1] == "Available", what="station on")
    assert statuses(csms, cp, 2)[-1] == "Unavailable"  # still switched off on its own
    unknown = await csms.call(cp, *availability(protocol, 7, operative=True))
    assert unknown[2] == {"status": "Rejected"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_availability_change_behind_a_session_is_scheduled(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=protocol)
    cp = fleet.id()
    transaction_id = await running_transaction(csms, fleet, protocol)

    answer = await csms.call(cp, *availability(protocol, 1, operative=False))

    assert answer[2] == {"status": "Scheduled"}
    assert fleet.chargers[0].station.connectors[0].transaction is not None  # keeps charging
    await csms.call(cp, *remote_stop(protocol, transaction_id))
    await csms.wait_for(lambda: statuses(csms, cp, 1)[-1] == "Unavailable", what="applied")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_reset_stops_sessions_reboots_and_boots_again(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=protocol)
    cp = fleet.id()
    await running_transaction(csms, fleet, protocol)
    reset = {"type": "Hard"} if protocol == V16 else {"type": "Immediate"}

    answer = await csms.call(cp, "Reset", reset)

    assert answer[2] == {"status": "Accepted"}
    await csms.wait_for(lambda: csms.connections.get(cp) == 2, what="reconnected")
    await csms.wait_for(lambda: len(csms.sent(cp, "BootNotification")) == 2, what="boot")
    await csms.wait_for(lambda: fleet.stats.data.booted == 1, what="booted again")
    (stop,) = ended(csms, cp)
    assert stop_reason(stop) == ("HardReset" if protocol == V16 else "ImmediateReset")
    boots = csms.sent(cp, "BootNotification")
    assert csms.frames.index(stop) < csms.frames.index(boots[1])  # stopped before rebooting
    if protocol == V201:
        assert boots[1].payload["reason"] == "RemoteReset"
    await csms.wait_for(lambda: statuses(csms, cp, 1)[-1] == "Available", what="announced")
    assert fleet.stats.data.errors_by_kind == {}  # a reboot is not a dropped connection


async def test_on_idle_reset_waits_for_the_running_transaction(
    csms: FakeCsms, start_fleet: StartFleet
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=V201)
    cp = fleet.id()
    transaction_id = await running_transaction(csms, fleet, V201)

    answer = await csms.call(cp, "Reset", {"type": "OnIdle"})

    assert answer[2] == {"status": "Scheduled"}
    assert csms.connections[cp] == 1
    await csms.call(cp, *remote_stop(V201, transaction_id))
    await csms.wait_for(lambda: len(csms.sent(cp, "BootNotification")) == 2, what="reboot")
    assert stop_reason(ended(csms, cp)[0]) == "Remote"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_unlock_connector(csms: FakeCsms, start_fleet: StartFleet, protocol: str) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=protocol)
    cp = fleet.id()

    def unlock(number: int) -> tuple[str, Any]:
        if protocol == V16:
            return "UnlockConnector", {"connectorId": number}
        return "UnlockConnector", {"evseId": number, "connectorId": 1}

    idle = await csms.call(cp, *unlock(2))
    unknown = await csms.call(cp, *unlock(5))
    await running_transaction(csms, fleet, protocol)
    busy = await csms.call(cp, *unlock(1))

    assert idle[2] == {"status": "Unlocked"}
    if protocol == V16:
        assert unknown[2] == {"status": "NotSupported"}
        assert busy[2] == {"status": "Unlocked"}  # 1.6: the session is stopped first
        await csms.wait_for(lambda: ended(csms, cp), what="stopped by the unlock")
        assert stop_reason(ended(csms, cp)[0]) == "UnlockCommand"
    else:
        assert unknown[2] == {"status": "UnknownConnector"}
        assert busy[2] == {"status": "OngoingAuthorizedTransaction"}
        assert fleet.chargers[0].station.connectors[0].transaction is not None


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_trigger_message_sends_what_was_asked(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=protocol)
    cp = fleet.id()

    def trigger(message: str, connector: int | None = None) -> tuple[str, Any]:
        payload: dict[str, Any] = {"requestedMessage": message}
        if connector is not None:
            if protocol == V16:
                payload["connectorId"] = connector
            else:
                payload["evse"] = {"id": connector}
        return "TriggerMessage", payload

    before = len(statuses(csms, cp, 2))
    status = await csms.call(cp, *trigger("StatusNotification", 2))
    heartbeat = await csms.call(cp, *trigger("Heartbeat"))
    meter = await csms.call(cp, *trigger("MeterValues", 1))
    unknown = await csms.call(cp, *trigger("StatusNotification", 9))

    assert [a[2] for a in (status, heartbeat, meter)] == [{"status": "Accepted"}] * 3
    assert unknown[2] == {"status": "Rejected"}
    await csms.wait_for(lambda: len(statuses(csms, cp, 2)) == before + 1, what="status again")
    await csms.wait_for(lambda: csms.sent(cp, "Heartbeat"), what="heartbeat")
    await csms.wait_for(lambda: csms.sent(cp, "MeterValues"), what="meter values")
    sample = csms.sent(cp, "MeterValues")[0].payload["meterValue"][0]["sampledValue"][0]
    assert sample["context"] == "Trigger"
    if protocol == V16:
        diagnostics = await csms.call(cp, *trigger("DiagnosticsStatusNotification"))
        assert diagnostics[2] == {"status": "Accepted"}
        await csms.wait_for(lambda: csms.sent(cp, "DiagnosticsStatusNotification"))
    else:
        nothing_running = await csms.call(cp, *trigger("TransactionEvent", 1))
        assert nothing_running[2] == {"status": "Rejected"}
        certificate = await csms.call(cp, *trigger("SignChargingStationCertificate"))
        assert certificate[2] == {"status": "NotImplemented"}
        logs = await csms.call(cp, *trigger("LogStatusNotification"))
        assert logs[2] == {"status": "Accepted"}
        await csms.wait_for(lambda: csms.sent(cp, "LogStatusNotification"))


async def test_get_and_change_configuration_behave_like_a_configuration_store(
    csms: FakeCsms, start_fleet: StartFleet
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=V16)
    cp = fleet.id()

    everything = await csms.call(cp, "GetConfiguration", {})
    some = await csms.call(cp, "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})
    changed = await csms.call(cp, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "1"})
    readonly = await csms.call(
        cp, "ChangeConfiguration", {"key": "NumberOfConnectors", "value": "8"}
    )
    invalid = await csms.call(cp, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "x"})
    unknown = await csms.call(cp, "ChangeConfiguration", {"key": "Nope", "value": "1"})
    after = await csms.call(cp, "GetConfiguration", {"key": ["heartbeatinterval"]})

    keys = {item["key"]: item for item in everything[2]["configurationKey"]}
    assert keys["NumberOfConnectors"] == {
        "key": "NumberOfConnectors",
        "readonly": True,
        "value": "2",
    }
    assert keys["HeartbeatInterval"]["value"] == "60"  # what the boot answer gave
    assert keys["MeterValueSampleInterval"]["value"] == "0.2"  # --meter-interval
    assert some[2] == {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}],
        "unknownKey": ["Nope"],
    }
    assert [a[2]["status"] for a in (changed, readonly, invalid, unknown)] == [
        "Accepted",
        "Rejected",
        "Rejected",
        "NotSupported",
    ]
    assert after[2]["configurationKey"][0]["value"] == "1"
    # the new interval takes effect at once (it was 60 s)
    await csms.wait_for(lambda: csms.sent(cp, "Heartbeat"), what="a heartbeat")


async def test_get_and_set_variables_behave_like_a_device_model(
    csms: FakeCsms, start_fleet: StartFleet
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=V201)
    cp = fleet.id()

    def variable(component: str, name: str, **extra: Any) -> dict[str, Any]:
        return {"component": {"name": component}, "variable": {"name": name}, **extra}

    got = await csms.call(
        cp,
        "GetVariables",
        {
            "getVariableData": [
                variable("OCPPCommCtrlr", "HeartbeatInterval"),
                variable("EVSE", "Count"),
                variable("OCPPCommCtrlr", "Nope"),
                variable("NopeCtrlr", "Nope"),
                variable("OCPPCommCtrlr", "HeartbeatInterval", attributeType="MaxSet"),
            ]
        },
    )
    set_ = await csms.call(
        cp,
        "SetVariables",
        {
            "setVariableData": [
                variable("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="1"),
                variable("SecurityCtrlr", "SecurityProfile", attributeValue="3"),
                variable("SampledDataCtrlr", "TxUpdatedInterval", attributeValue="often"),
                variable("OCPPCommCtrlr", "Nope", attributeValue="1"),
                variable("NopeCtrlr", "Nope", attributeValue="1"),
            ]
        },
    )

    results = got[2]["getVariableResult"]
    assert [(r["attributeStatus"], r.get("attributeValue")) for r in results] == [
        ("Accepted", "60"),
        ("Accepted", "2"),
        ("UnknownVariable", None),
        ("UnknownComponent", None),
        ("NotSupportedAttributeType", None),
    ]
    assert results[0]["component"] == {"name": "OCPPCommCtrlr"}
    assert [r["attributeStatus"] for r in set_[2]["setVariableResult"]] == [
        "Accepted",
        "Rejected",
        "Rejected",
        "UnknownVariable",
        "UnknownComponent",
    ]
    assert fleet.chargers[0].station.config.get("OCPPCommCtrlr.HeartbeatInterval") == "1"
    await csms.wait_for(lambda: csms.sent(cp, "Heartbeat"), what="a heartbeat")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_meter_interval_changes_apply_to_a_running_transaction(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=protocol, meter_interval=3600.0)
    cp = fleet.id()
    await running_transaction(csms, fleet, protocol)
    if protocol == V16:
        answer = await csms.call(
            cp, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "1"}
        )
        assert answer[2] == {"status": "Accepted"}
    else:
        data = {
            "component": {"name": "SampledDataCtrlr"},
            "variable": {"name": "TxUpdatedInterval"},
            "attributeValue": "1",
        }
        answer = await csms.call(cp, "SetVariables", {"setVariableData": [data]})
        assert answer[2]["setVariableResult"][0]["attributeStatus"] == "Accepted"

    # an hour-long interval would send nothing during the test: the new one applies at once
    await csms.wait_for(lambda: periodic_energy(csms, cp), what="meter values")


@pytest.mark.parametrize(
    ("protocol", "action", "payload", "code"),
    [
        (V16, "RemoteStartTransaction", {}, "OccurenceConstraintViolation"),
        (V16, "Reset", {"type": "Warm"}, "PropertyConstraintViolation"),
        (V16, "UnlockConnector", {"connectorId": "one"}, "TypeConstraintViolation"),
        (V16, "ReserveNow", {}, "NotSupported"),
        (V16, "FlyToTheMoon", {}, "NotImplemented"),
        (V201, "RequestStartTransaction", {"remoteStartId": 1}, "OccurrenceConstraintViolation"),
        (V201, "GetVariables", {"getVariableData": "all"}, "TypeConstraintViolation"),
        (V201, "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}, "NotSupported"),
        (V201, "RemoteStartTransaction", {"idTag": "x"}, "NotImplemented"),
    ],
)
async def test_bad_or_unknown_calls_get_the_right_call_error(
    csms: FakeCsms,
    start_fleet: StartFleet,
    protocol: str,
    action: str,
    payload: dict[str, Any],
    code: str,
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=protocol)

    answer = await csms.call(fleet.id(), action, payload)

    assert answer[0] == 4
    assert answer[2] == code
    still_fine = await csms.call(fleet.id(), "ClearCache", {})  # the connection survives
    assert still_fine[2] == {"status": "Accepted"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_data_transfer_knows_no_vendor(
    csms: FakeCsms, start_fleet: StartFleet, protocol: str
) -> None:
    fleet = await booted_fleet(csms, start_fleet, protocol=protocol)

    answer = await csms.call(fleet.id(), "DataTransfer", {"vendorId": "com.example"})

    assert answer[2] == {"status": "UnknownVendorId"}
