"""REST commands end to end: HTTP -> command bus -> csms -> a real OCPP test charger -> HTTP.

Chargers are the ``ocpp`` library's ChargePoints of each version; the API is called with real
tokens of a partner's operator. Nothing is faked between the HTTP request and the websocket.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.bus.events import EventType
from tests.integration.api.conftest import Caller, PartnerCallers, assert_problem, make_station
from tests.integration.csms.support import Csms, connect_charger, iso, raw_client
from tests.integration.live.support import ENERGY, session_charger, subscribe

PROTOCOLS = ["ocpp1.6", "ocpp2.0.1"]
TAG = "RFID-LIVE-1"


async def _station(caller: Caller, type_ids: dict[str, str]) -> dict[str, Any]:
    return await make_station(caller, type_ids["AC 22 kW dual"])


async def _command(
    caller: Caller, station_id: str, action: str, body: Any = None, status: int = 200, **query: Any
) -> Any:
    params = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in query.items()
    }
    kwargs: dict[str, Any] = {"params": params}
    if body is not None:
        kwargs["json"] = body
    return await caller.ok("POST", f"/stations/{station_id}/commands/{action}", status, **kwargs)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_remote_start_runs_a_session_seen_in_transactions_and_meter_values(
    api: TestClient[Any, Any],
    csms: Csms,
    acme: PartnerCallers,
    type_ids: dict[str, str],
    protocol: str,
) -> None:
    operator = acme.operator
    station = await _station(operator, type_ids)
    await operator.ok("POST", "/id-tags", 201, json={"value": TAG})
    cpid = station["charge_point_id"]
    async with (
        subscribe(api, operator.token or "", query={"station_id": station["id"]}) as events,
        session_charger(csms.url(cpid), cpid, protocol) as charger,
    ):
        await events.next(lambda m: m["type"] == "station.connected")

        started = await _command(
            operator, station["id"], "remote-start", {"id_tag": TAG, "connector_number": 1}, wait=10
        )
        assert started["status"] == "accepted"
        assert started["action"] == "remote-start"
        assert started["response"]["status"] == "Accepted"
        assert started["requested_by"] == operator.client_id
        assert started["answered_at"] is not None
        first_call = charger.received[0]
        assert first_call[0] in {"RemoteStartTransaction", "RequestStartTransaction"}

        session = await asyncio.wait_for(charger.started, 10)
        running = await operator.ok(
            "GET", "/transactions", params={"station_id": station["id"], "active": "true"}
        )
        [tx] = running["items"]
        assert tx["transaction_id"] == session.transaction_id
        assert tx["id_tag"] == TAG
        assert tx["connector_number"] == 1
        assert tx["stopped_at"] is None

        stopped = await _command(
            operator,
            station["id"],
            "remote-stop",
            {"transaction_id": session.transaction_id},
            wait=10,
        )
        assert stopped["status"] == "accepted"
        await asyncio.wait_for(charger.stopped, 10)

        # The remote stop's command.completed and the charger's transaction.stopped race each
        # other (the recorder and the charger's StopTransaction commit independently).
        kinds: list[str] = []

        def both_seen(message: dict[str, Any]) -> bool:
            kinds.append(message["type"])
            return "transaction.stopped" in kinds and kinds.count("command.completed") == 2

        await events.until(both_seen)
        assert "transaction.started" in kinds
        assert "meter_values" in kinds
        assert kinds.count("command.completed") == 2

    done = await operator.ok("GET", f"/transactions/{tx['id']}")
    assert done["stopped_at"] is not None
    assert done["energy_wh"] == session.energy_wh
    assert done["stop_reason"] == "Remote"

    window = {
        "from": iso(session.started_at - timedelta(seconds=1)),
        "to": iso(session.started_at + timedelta(minutes=1)),
    }
    samples = await operator.ok(
        "GET", f"/stations/{station['id']}/meter-values", params={**window, "limit": "500"}
    )
    got = sorted(
        (item["time"], item["measurand"], item["value"], item["unit"])
        for item in samples["items"]
        if item["transaction_id"] == tx["id"]
    )
    sent = sorted(
        (iso(at), measurand, value, unit) for at, measurand, value, unit in session.samples
    )
    # The stop of 1.6 carries meter_stop only, 2.0.1's Ended carries a sample: both as sent.
    assert [(t.replace("+00:00", "Z"), *rest) for t, *rest in got] == sent
    latest = await operator.ok(
        "GET", f"/stations/{station['id']}/metrics/latest", params={"measurand": ENERGY}
    )
    [energy] = latest["items"]
    assert energy["value"] == max(v for _t, m, v, _u in session.samples if m == ENERGY)


# action, body, OCPP action the charger received, record status, the charger's status
ACTIONS_16: list[tuple[str, Any, str, str, str]] = [
    ("remote-stop", {"transaction_id": 1234}, "RemoteStopTransaction", "rejected", "Rejected"),
    ("reset", {"type": "Hard"}, "Reset", "accepted", "Accepted"),
    (
        "change-availability",
        {"connector_number": None, "operative": False},
        "ChangeAvailability",
        "accepted",
        "Scheduled",
    ),
    ("unlock-connector", {"connector_number": 1}, "UnlockConnector", "accepted", "Unlocked"),
    (
        "trigger-message",
        {"message": "StatusNotification", "connector_number": 1},
        "TriggerMessage",
        "accepted",
        "Accepted",
    ),
    ("get-configuration", {"keys": ["HeartbeatInterval"]}, "GetConfiguration", "accepted", ""),
    (
        "change-configuration",
        {"key": "HeartbeatInterval", "value": "120"},
        "ChangeConfiguration",
        "accepted",
        "RebootRequired",
    ),
    ("clear-cache", None, "ClearCache", "accepted", "Accepted"),
]
ACTIONS_201: list[tuple[str, Any, str, str, str]] = [
    ("remote-stop", {"transaction_id": "TX-9"}, "RequestStopTransaction", "accepted", "Accepted"),
    ("reset", {"type": "Soft"}, "Reset", "accepted", "Scheduled"),
    (
        "change-availability",
        {"connector_number": 2, "operative": True},
        "ChangeAvailability",
        "accepted",
        "Accepted",
    ),
    ("unlock-connector", {"connector_number": 1}, "UnlockConnector", "rejected", "UnlockFailed"),
    (
        "trigger-message",
        {"message": "Heartbeat"},
        "TriggerMessage",
        "rejected",
        "Rejected",
    ),
    (
        "get-configuration",
        {"keys": ["OCPPCommCtrlr.HeartbeatInterval"]},
        "GetVariables",
        "accepted",
        "",
    ),
    (
        "change-configuration",
        {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "120"},
        "SetVariables",
        "accepted",
        "",
    ),
    ("clear-cache", {}, "ClearCache", "accepted", "Accepted"),
]


@pytest.mark.parametrize(
    ("protocol", "cases"), [("ocpp1.6", ACTIONS_16), ("ocpp2.0.1", ACTIONS_201)], ids=PROTOCOLS
)
async def test_every_action_reaches_the_charger_and_is_recorded(
    api: TestClient[Any, Any],
    csms: Csms,
    acme: PartnerCallers,
    type_ids: dict[str, str],
    protocol: str,
    cases: list[tuple[str, Any, str, str, str]],
) -> None:
    operator = acme.operator
    station = await _station(operator, type_ids)
    cpid = station["charge_point_id"]
    answers: list[dict[str, Any]] = []
    async with connect_charger(csms.url(cpid), cpid, protocol) as charger:
        await csms.event(EventType.STATION_CONNECTED)
        for action, body, ocpp_action, status, charger_status in cases:
            answer = await _command(operator, station["id"], action, body, wait=10)
            assert answer["action"] == action
            assert answer["status"] == status, answer
            assert charger.received[-1][0] == ocpp_action
            if charger_status:
                assert answer["response"]["status"] == charger_status
            answers.append(answer)
    assert len(charger.received) == len(cases)

    configuration = next(a for a in answers if a["action"] == "get-configuration")
    [entry] = configuration["response"]["configuration"]
    assert entry["value"] == "300"

    # The history: every command, newest first, pageable, filterable; each one readable.
    listed: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = await acme.viewer.ok("GET", f"/stations/{station['id']}/commands", params=params)
        listed += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [item["id"] for item in listed] == [answer["id"] for answer in reversed(answers)]
    rejected = await operator.ok(
        "GET", f"/stations/{station['id']}/commands", params={"status": "rejected"}
    )
    assert {item["id"] for item in rejected["items"]} == {
        answer["id"] for answer in answers if answer["status"] == "rejected"
    }
    one = await acme.viewer.ok("GET", f"/commands/{answers[0]['id']}")
    assert one == answers[0]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_offline_station_is_409_and_queued_commands_go_out_on_reconnect(
    api: TestClient[Any, Any],
    csms: Csms,
    acme: PartnerCallers,
    type_ids: dict[str, str],
    protocol: str,
) -> None:
    operator = acme.operator
    station = await _station(operator, type_ids)
    cpid = station["charge_point_id"]
    path = f"/stations/{station['id']}/commands"

    response = await operator.post(f"{path}/reset", json={"type": "Soft"})
    problem = await response.json()
    assert response.status == 409, problem
    assert_problem(problem, 409)
    failed = await operator.ok("GET", response.headers["Location"].removeprefix("/api/v1"))
    assert (failed["status"], failed["error"], failed["sent_at"]) == (
        "failed",
        "station offline",
        None,
    )

    queued: list[dict[str, Any]] = []
    for action, body in (
        ("change-availability", {"connector_number": 1, "operative": True}),
        ("clear-cache", None),
    ):
        response = await operator.post(f"{path}/{action}", params={"queue": "true"}, json=body)
        record = await response.json()
        assert response.status == 202, record
        assert response.headers["Location"] == f"/api/v1/commands/{record['id']}"
        assert (record["status"], record["queued"], record["sent_at"]) == ("pending", True, None)
        queued.append(record)

    async with connect_charger(csms.url(cpid), cpid, protocol) as charger:
        await csms.event(
            EventType.COMMAND_COMPLETED, lambda e: e.data["command_id"] == queued[-1]["id"]
        )
    first, second = [await operator.ok("GET", f"/commands/{r['id']}") for r in queued]
    assert [name for name, _payload in charger.received] == ["ChangeAvailability", "ClearCache"]
    assert first["status"] == second["status"] == "accepted"
    # One at a time, in order: the second went out only after the first was answered.
    assert second["sent_at"] >= first["answered_at"]


async def test_202_then_the_answer_is_recorded_and_504_when_the_charger_stays_silent(
    api: TestClient[Any, Any], csms: Csms, acme: PartnerCallers, type_ids: dict[str, str]
) -> None:
    operator = acme.operator
    station = await _station(operator, type_ids)
    path = f"/stations/{station['id']}/commands"
    async with raw_client(csms.url(station["charge_point_id"]), "ocpp1.6") as client:
        await csms.event(EventType.STATION_CONNECTED)
        pending = await _command(operator, station["id"], "clear-cache", None, 202, wait=0)
        assert pending["status"] == "pending"
        frame = await client.receive()
        assert frame[2:] == ["ClearCache", {}]
        await client.send([3, frame[1], {"status": "Accepted"}])
        await csms.event(
            EventType.COMMAND_COMPLETED, lambda e: e.data["command_id"] == pending["id"]
        )
        answered = await operator.ok("GET", f"/commands/{pending['id']}")
        assert answered["status"] == "accepted"
        assert answered["response"]["status"] == "Accepted"

        response = await operator.post(
            f"{path}/reset", params={"wait": "5", "timeout": "0.2"}, json={"type": "Hard"}
        )
        problem = await response.json()
        assert response.status == 504, problem
        assert_problem(problem, 504)
        late = await operator.ok("GET", response.headers["Location"].removeprefix("/api/v1"))
        assert late["status"] == "timed_out"
        assert late["id"] in problem["detail"]


async def test_roles_scoping_and_validation(
    api: TestClient[Any, Any],
    csms: Csms,
    acme: PartnerCallers,
    globex: PartnerCallers,
    type_ids: dict[str, str],
) -> None:
    station = await _station(acme.operator, type_ids)
    path = f"/stations/{station['id']}/commands"

    response = await acme.viewer.post(f"{path}/reset", json={"type": "Soft"})
    assert response.status == 403
    response = await globex.operator.post(f"{path}/reset", json={"type": "Soft"})
    assert response.status == 404
    assert (await globex.operator.get(path)).status == 404
    response = await acme.operator.post(f"{path}/explode", json={})
    assert response.status in {404, 405}

    invalid: list[tuple[str, Any, dict[str, str], str]] = [
        ("remote-start", {}, {}, "id_tag"),
        ("remote-start", {"id_tag": "T", "connector_number": "1"}, {}, "connector_number"),
        ("remote-start", {"id_tag": "T", "connector_number": 17}, {}, "connector_number"),
        ("remote-stop", {"transaction_id": ""}, {}, "transaction_id"),
        ("reset", {"type": "Medium"}, {}, "type"),
        ("change-availability", {"operative": "true"}, {}, "operative"),
        ("change-availability", {"operative": True, "colour": "red"}, {}, "colour"),
        ("trigger-message", {"message": "Reboot"}, {}, "message"),
        ("get-configuration", {"keys": ["x" * 102]}, {}, "keys.0"),
        ("change-configuration", {"key": "K"}, {}, "value"),
        ("clear-cache", {"everything": True}, {}, "everything"),
        ("reset", {"type": "Soft"}, {"wait": "61"}, "wait"),
        ("reset", {"type": "Soft"}, {"queue": "perhaps"}, "queue"),
        ("reset", {"type": "Soft"}, {"timeout": "100000"}, "timeout"),
    ]
    for action, body, params, field in invalid:
        response = await acme.operator.post(f"{path}/{action}", json=body, params=params)
        problem = await response.json()
        assert response.status == 422, (action, body, params, problem)
        assert_problem(problem, 422)
        assert field in [error["field"] for error in problem["errors"]], problem

    response = await acme.operator.post(
        f"{path}/clear-cache", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    # Nothing invalid was recorded; a viewer may read the (empty) history.
    assert (await acme.viewer.ok("GET", path))["items"] == []
