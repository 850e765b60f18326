"""Remote commands reach a connected test charger of each version and its answer comes back.

Commands go through the command bus exactly as the management API submits them.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from core.bus.commands import CommandReply, CommandRequest, StationNotConnectedError
from core.bus.events import EventType
from core.domain.enums import CommandAction, CommandStatus
from tests.integration.csms.support import (
    Csms,
    RawClient,
    Seeded,
    connect_charger,
    raw_client,
    seed_station,
)


async def _run(
    csms: Csms, seeded: Seeded, action: CommandAction, payload: dict[str, Any], timeout: float = 10
) -> CommandReply:
    request = CommandRequest(
        command_id=uuid.uuid4(),
        station_id=seeded.station_id,
        charge_point_id=seeded.charge_point_id,
        action=action,
        payload=payload,
        timeout=timeout,
    )
    future = await csms.resources.command_bus.submit(request)
    async with asyncio.timeout(30):
        reply = await future
    assert reply.command_id == request.command_id
    return reply


# action, payload, OCPP 1.6 action and payload sent, charger status, expected command status
CASES_16: list[tuple[CommandAction, dict[str, Any], str, dict[str, Any], str, CommandStatus]] = [
    (
        CommandAction.REMOTE_START,
        {"id_tag": "TAG-1", "connector_number": 2},
        "RemoteStartTransaction",
        {"id_tag": "TAG-1", "connector_id": 2},
        "Accepted",
        CommandStatus.ACCEPTED,
    ),
    (
        CommandAction.REMOTE_STOP,
        {"transaction_id": "1234"},
        "RemoteStopTransaction",
        {"transaction_id": 1234},
        "Rejected",
        CommandStatus.REJECTED,
    ),
    (
        CommandAction.RESET,
        {"type": "Hard"},
        "Reset",
        {"type": "Hard"},
        "Accepted",
        CommandStatus.ACCEPTED,
    ),
    (
        CommandAction.CHANGE_AVAILABILITY,
        {"connector_number": None, "operative": False},
        "ChangeAvailability",
        {"connector_id": 0, "type": "Inoperative"},
        "Scheduled",
        CommandStatus.ACCEPTED,
    ),
    (
        CommandAction.UNLOCK_CONNECTOR,
        {"connector_number": 1},
        "UnlockConnector",
        {"connector_id": 1},
        "Unlocked",
        CommandStatus.ACCEPTED,
    ),
    (
        CommandAction.TRIGGER_MESSAGE,
        {"message": "LogStatusNotification", "connector_number": None},
        "TriggerMessage",
        {"requested_message": "DiagnosticsStatusNotification"},
        "Accepted",
        CommandStatus.ACCEPTED,
    ),
    (
        CommandAction.CHANGE_CONFIGURATION,
        {"key": "HeartbeatInterval", "value": "120"},
        "ChangeConfiguration",
        {"key": "HeartbeatInterval", "value": "120"},
        "RebootRequired",
        CommandStatus.ACCEPTED,
    ),
    (
        CommandAction.CLEAR_CACHE,
        {},
        "ClearCache",
        {},
        "Accepted",
        CommandStatus.ACCEPTED,
    ),
]


@pytest.mark.parametrize(
    ("action", "payload", "ocpp_action", "sent", "status", "outcome"),
    CASES_16,
    ids=[case[0].value for case in CASES_16],
)
async def test_v16_command_round_trip(
    csms: Csms,
    action: CommandAction,
    payload: dict[str, Any],
    ocpp_action: str,
    sent: dict[str, Any],
    status: str,
    outcome: CommandStatus,
) -> None:
    seeded = await seed_station(csms.resources)
    cpid = seeded.charge_point_id
    async with connect_charger(csms.url(cpid), cpid, "ocpp1.6") as charger:
        await csms.event(EventType.STATION_CONNECTED)
        reply = await _run(csms, seeded, action, payload)
    assert charger.received == [(ocpp_action, sent)]
    assert reply.status is outcome
    assert reply.error is None
    assert reply.response is not None
    assert reply.response["status"] == status
    assert reply.response["raw"] == {"status": status}


async def test_v16_get_configuration(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    cpid = seeded.charge_point_id
    async with connect_charger(csms.url(cpid), cpid, "ocpp1.6") as charger:
        await csms.event(EventType.STATION_CONNECTED)
        reply = await _run(
            csms, seeded, CommandAction.GET_CONFIGURATION, {"keys": ["HeartbeatInterval", "Nope"]}
        )
        everything = await _run(csms, seeded, CommandAction.GET_CONFIGURATION, {"keys": None})
    assert charger.received == [
        ("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}),
        ("GetConfiguration", {}),
    ]
    assert reply.status is CommandStatus.ACCEPTED
    assert everything.status is CommandStatus.ACCEPTED
    assert reply.response == {
        "status": "Accepted",
        "configuration": [{"key": "HeartbeatInterval", "value": "300", "readonly": False}],
        "unknown_keys": ["Nope"],
        "raw": {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
            "unknownKey": ["Nope"],
        },
    }


CASES_201: list[tuple[CommandAction, dict[str, Any], str, dict[str, Any], str, CommandStatus]] = [
    (
        CommandAction.REMOTE_STOP,
        {"transaction_id": "TX-9"},
        "RequestStopTransaction",
        {"transaction_id": "TX-9"},
        "Accepted",
        CommandStatus.ACCEPTED,
    ),
    (
        CommandAction.RESET,
        {"type": "Soft"},
        "Reset",
        {"type": "OnIdle"},
        "Scheduled",
        CommandStatus.ACCEPTED,
    ),
    (
        CommandAction.CHANGE_AVAILABILITY,
        {"connector_number": 2, "operative": True},
        "ChangeAvailability",
        {"operational_status": "Operative", "evse": {"id": 2}},
        "Accepted",
        CommandStatus.ACCEPTED,
    ),
    (
        CommandAction.UNLOCK_CONNECTOR,
        {"connector_number": 1},
        "UnlockConnector",
        {"evse_id": 1, "connector_id": 1},
        "UnlockFailed",
        CommandStatus.REJECTED,
    ),
    (
        CommandAction.TRIGGER_MESSAGE,
        {"message": "StatusNotification", "connector_number": 1},
        "TriggerMessage",
        {"requested_message": "StatusNotification", "evse": {"id": 1, "connector_id": 1}},
        "Rejected",
        CommandStatus.REJECTED,
    ),
    (
        CommandAction.CLEAR_CACHE,
        {},
        "ClearCache",
        {},
        "Accepted",
        CommandStatus.ACCEPTED,
    ),
]


@pytest.mark.parametrize(
    ("action", "payload", "ocpp_action", "sent", "status", "outcome"),
    CASES_201,
    ids=[case[0].value for case in CASES_201],
)
async def test_v201_command_round_trip(
    csms: Csms,
    action: CommandAction,
    payload: dict[str, Any],
    ocpp_action: str,
    sent: dict[str, Any],
    status: str,
    outcome: CommandStatus,
) -> None:
    seeded = await seed_station(csms.resources)
    cpid = seeded.charge_point_id
    async with connect_charger(csms.url(cpid), cpid, "ocpp2.0.1") as charger:
        await csms.event(EventType.STATION_CONNECTED)
        reply = await _run(csms, seeded, action, payload)
    assert charger.received == [(ocpp_action, sent)]
    assert reply.status is outcome
    assert reply.response is not None
    assert reply.response["status"] == status
    assert reply.response["raw"]["status"] == status


async def test_v201_remote_start(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    cpid = seeded.charge_point_id
    async with connect_charger(csms.url(cpid), cpid, "ocpp2.0.1") as charger:
        await csms.event(EventType.STATION_CONNECTED)
        reply = await _run(
            csms,
            seeded,
            CommandAction.REMOTE_START,
            {"id_tag": "TAG-201", "connector_number": 1},
        )
    [(action, sent)] = charger.received
    assert action == "RequestStartTransaction"
    assert sent["id_token"] == {"id_token": "TAG-201", "type": "Central"}
    assert sent["evse_id"] == 1
    assert isinstance(sent["remote_start_id"], int)
    assert reply.status is CommandStatus.ACCEPTED
    assert reply.response == {
        "status": "Accepted",
        "raw": {"status": "Accepted", "transactionId": "tx-remote"},
    }


async def test_v201_get_and_change_configuration(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    cpid = seeded.charge_point_id
    async with connect_charger(csms.url(cpid), cpid, "ocpp2.0.1") as charger:
        await csms.event(EventType.STATION_CONNECTED)
        got = await _run(
            csms,
            seeded,
            CommandAction.GET_CONFIGURATION,
            {"keys": ["OCPPCommCtrlr.HeartbeatInterval", "Foo.Bar"]},
        )
        defaults = await _run(csms, seeded, CommandAction.GET_CONFIGURATION, {"keys": None})
        changed = await _run(
            csms,
            seeded,
            CommandAction.CHANGE_CONFIGURATION,
            {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "120"},
        )
    assert got.status is CommandStatus.ACCEPTED
    assert got.response is not None
    assert got.response["configuration"] == [
        {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "300", "readonly": None}
    ]
    assert got.response["unknown_keys"] == ["Foo.Bar"]
    assert defaults.response is not None
    assert len(defaults.response["unknown_keys"]) + len(defaults.response["configuration"]) > 2
    assert changed.status is CommandStatus.ACCEPTED
    assert charger.received[-1] == (
        "SetVariables",
        {
            "set_variable_data": [
                {
                    "attribute_value": "120",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        },
    )


async def _next_call(client: RawClient) -> list[Any]:
    frame = await client.receive()
    assert frame[0] == 2, frame
    return frame


async def test_charger_call_error_fails_the_command(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        await csms.event(EventType.STATION_CONNECTED)
        pending = asyncio.create_task(_run(csms, seeded, CommandAction.CLEAR_CACHE, {}))
        call = await _next_call(client)
        assert call[2:] == ["ClearCache", {}]
        await client.send([4, call[1], "NotSupported", "no cache here", {}])
        reply = await pending
    assert reply.status is CommandStatus.FAILED
    assert reply.error == "NotSupported: no cache here"


async def test_silent_charger_times_out(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp2.0.1") as client:
        await csms.event(EventType.STATION_CONNECTED)
        pending = asyncio.create_task(
            _run(csms, seeded, CommandAction.RESET, {"type": "Hard"}, timeout=0.5)
        )
        call = await _next_call(client)
        assert call[2:] == ["Reset", {"type": "Immediate"}]
        reply = await pending
        assert reply.status is CommandStatus.TIMED_OUT
        # A late answer is dropped; the connection keeps working.
        await client.send([3, call[1], {"status": "Accepted"}])
        assert (await client.call("Heartbeat", {}))[0] == 3


async def test_invalid_answer_fails_the_command(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        await csms.event(EventType.STATION_CONNECTED)
        pending = asyncio.create_task(
            _run(csms, seeded, CommandAction.UNLOCK_CONNECTOR, {"connector_number": 1})
        )
        call = await _next_call(client)
        await client.send([3, call[1], {"status": "Open sesame"}])
        reply = await pending
    assert reply.status is CommandStatus.FAILED
    assert reply.error is not None
    assert reply.error.startswith("PropertyConstraintViolation")


async def test_payload_the_version_cannot_express_fails_without_sending(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        await csms.event(EventType.STATION_CONNECTED)
        reply = await _run(csms, seeded, CommandAction.REMOTE_STOP, {"transaction_id": "TX-abc"})
        assert reply.status is CommandStatus.FAILED
        assert reply.error is not None
        assert reply.error.startswith("InvalidPayload")
        # Nothing was sent: the next frame is the answer to our own CALL.
        assert (await client.call("Heartbeat", {}, "hb"))[:2] == [3, "hb"]


async def test_both_directions_in_flight_and_commands_queue(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        await csms.event(EventType.STATION_CONNECTED)
        first = asyncio.create_task(_run(csms, seeded, CommandAction.CLEAR_CACHE, {}))
        second = asyncio.create_task(_run(csms, seeded, CommandAction.RESET, {"type": "Soft"}))
        call_one = await _next_call(client)
        # The charger's own CALL is answered while the server's CALL waits for its answer ...
        heartbeat = await client.call("Heartbeat", {}, "own-call")
        # ... and the second command was not sent before the first was answered.
        assert heartbeat[:2] == [3, "own-call"]
        await client.send([3, call_one[1], {"status": "Accepted"}])
        call_two = await _next_call(client)
        assert {call_one[2], call_two[2]} == {"ClearCache", "Reset"}
        await client.send([3, call_two[1], {"status": "Rejected"}])
        replies = await asyncio.gather(first, second)
    assert [r.status for r in replies] in (
        [CommandStatus.ACCEPTED, CommandStatus.REJECTED],
        [CommandStatus.REJECTED, CommandStatus.ACCEPTED],
    )


async def test_offline_station_is_refused_by_the_bus(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    assert not await csms.resources.command_bus.is_connected(seeded.charge_point_id)
    with pytest.raises(StationNotConnectedError):
        await _run(csms, seeded, CommandAction.CLEAR_CACHE, {})


async def test_disconnect_fails_a_pending_command(csms: Csms) -> None:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        await csms.event(EventType.STATION_CONNECTED)
        pending = asyncio.create_task(_run(csms, seeded, CommandAction.CLEAR_CACHE, {}))
        await _next_call(client)
    reply = await pending
    assert reply.status is CommandStatus.FAILED
    assert reply.error == "the connection closed before the charger answered"
