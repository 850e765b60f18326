"""Malformed frames get the CALLERROR their OCPP version requires, and the connection lives on.

One test per error code and version, with raw frames over a real websocket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.csms.support import (
    Csms,
    RawClient,
    boot_16,
    boot_201,
    raw_client,
    seed_station,
)


@pytest.fixture
async def v16(csms: Csms) -> AsyncIterator[RawClient]:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp1.6") as client:
        yield client
        # Whatever was thrown at it, the connection still answers.
        assert (await client.call("Heartbeat", {}))[0] == 3


@pytest.fixture
async def v201(csms: Csms) -> AsyncIterator[RawClient]:
    seeded = await seed_station(csms.resources)
    async with raw_client(csms.url(seeded.charge_point_id), "ocpp2.0.1") as client:
        yield client
        assert (await client.call("Heartbeat", {}))[0] == 3


def _code(answer: list[Any]) -> tuple[int, str, str]:
    assert len(answer) == 5, answer
    assert isinstance(answer[3], str)
    assert answer[4] == {}
    return answer[0], answer[1], answer[2]


# --- OCPP 1.6 ----------------------------------------------------------------------------------


async def test_v16_invalid_json_is_formation_violation(v16: RawClient) -> None:
    assert _code(await v16.exchange('[2, "a", "Heartbeat", {')) == (4, "-1", "FormationViolation")


async def test_v16_not_an_array_is_formation_violation(v16: RawClient) -> None:
    assert _code(await v16.exchange({"action": "Heartbeat"})) == (4, "-1", "FormationViolation")


async def test_v16_bad_structure_is_formation_violation(v16: RawClient) -> None:
    answer = await v16.exchange([2, "m1", "Heartbeat", ["not", "an", "object"]])
    assert _code(answer) == (4, "m1", "FormationViolation")


async def test_v16_wrong_message_type_is_protocol_error(v16: RawClient) -> None:
    assert _code(await v16.exchange([7, "m2", "Heartbeat", {}])) == (4, "m2", "ProtocolError")


async def test_v16_call_without_payload_is_protocol_error(v16: RawClient) -> None:
    assert _code(await v16.exchange([2, "m3", "Heartbeat"])) == (4, "m3", "ProtocolError")


async def test_v16_unknown_action_is_not_implemented(v16: RawClient) -> None:
    assert _code(await v16.call("PlayMusic", {}, "m4")) == (4, "m4", "NotImplemented")


async def test_v16_central_system_action_is_not_supported(v16: RawClient) -> None:
    answer = await v16.call("RemoteStartTransaction", {"idTag": "X"}, "m5")
    assert _code(answer) == (4, "m5", "NotSupported")


async def test_v16_wrong_type_is_type_constraint_violation(v16: RawClient) -> None:
    answer = await v16.call(
        "StatusNotification",
        {"connectorId": "1", "errorCode": "NoError", "status": "Available"},
        "m6",
    )
    assert _code(answer) == (4, "m6", "TypeConstraintViolation")


async def test_v16_missing_field_is_occurence_constraint_violation(v16: RawClient) -> None:
    answer = await v16.call("BootNotification", {"chargePointVendor": "ACME"}, "m7")
    # OCPP 1.6 spells it with one "r" (errata: kept as is on the wire).
    assert _code(answer) == (4, "m7", "OccurenceConstraintViolation")


async def test_v16_extra_field_is_occurence_constraint_violation(v16: RawClient) -> None:
    answer = await v16.call("BootNotification", {**boot_16(), "colour": "red"}, "m8")
    assert _code(answer) == (4, "m8", "OccurenceConstraintViolation")


async def test_v16_bad_enum_is_property_constraint_violation(v16: RawClient) -> None:
    answer = await v16.call(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"},
        "m9",
    )
    assert _code(answer) == (4, "m9", "PropertyConstraintViolation")


async def test_v16_too_long_is_property_constraint_violation(v16: RawClient) -> None:
    answer = await v16.call("Authorize", {"idTag": "X" * 21}, "m10")
    assert _code(answer) == (4, "m10", "PropertyConstraintViolation")


async def test_v16_bad_timestamp_is_property_constraint_violation(v16: RawClient) -> None:
    answer = await v16.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "yesterday"},
        "m11",
    )
    assert _code(answer) == (4, "m11", "PropertyConstraintViolation")


async def test_v16_negative_connector_is_property_constraint_violation(v16: RawClient) -> None:
    answer = await v16.call(
        "StatusNotification",
        {"connectorId": -1, "errorCode": "NoError", "status": "Available"},
        "m12",
    )
    assert _code(answer) == (4, "m12", "PropertyConstraintViolation")


async def test_v16_stray_replies_are_ignored(v16: RawClient) -> None:
    await v16.send([3, "nobody-asked", {}])
    await v16.send([4, "nobody-asked", "GenericError", "", {}])
    await v16.send([3])
    assert (await v16.call("Heartbeat", {}, "after"))[:2] == [3, "after"]


# --- OCPP 2.0.1 --------------------------------------------------------------------------------


async def test_v201_invalid_json_is_format_violation(v201: RawClient) -> None:
    assert _code(await v201.exchange("not json at all")) == (4, "-1", "FormatViolation")


async def test_v201_not_an_array_is_format_violation(v201: RawClient) -> None:
    assert _code(await v201.exchange("[]")) == (4, "-1", "FormatViolation")


async def test_v201_unreadable_message_id_is_rpc_framework_error(v201: RawClient) -> None:
    assert _code(await v201.exchange([2, 17, "Heartbeat", {}])) == (4, "-1", "RpcFrameworkError")


async def test_v201_wrong_message_type_is_message_type_not_supported(v201: RawClient) -> None:
    answer = await v201.exchange([5, "n1", "Heartbeat", {}])
    assert _code(answer) == (4, "n1", "MessageTypeNotSupported")


async def test_v201_call_without_payload_is_protocol_error(v201: RawClient) -> None:
    assert _code(await v201.exchange([2, "n2", "Heartbeat"])) == (4, "n2", "ProtocolError")


async def test_v201_unknown_action_is_not_implemented(v201: RawClient) -> None:
    assert _code(await v201.call("StartTransaction", {}, "n3")) == (4, "n3", "NotImplemented")


async def test_v201_central_system_action_is_not_supported(v201: RawClient) -> None:
    answer = await v201.call("GetVariables", {"getVariableData": []}, "n4")
    assert _code(answer) == (4, "n4", "NotSupported")


async def test_v201_wrong_type_is_type_constraint_violation(v201: RawClient) -> None:
    answer = await v201.call(
        "MeterValues",
        {
            "evseId": 1,
            "meterValue": [
                {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "12"}]}
            ],
        },
        "n5",
    )
    assert _code(answer) == (4, "n5", "TypeConstraintViolation")


async def test_v201_missing_field_is_occurrence_constraint_violation(v201: RawClient) -> None:
    answer = await v201.call("BootNotification", {"reason": "PowerUp"}, "n6")
    assert _code(answer) == (4, "n6", "OccurrenceConstraintViolation")


async def test_v201_empty_array_is_occurrence_constraint_violation(v201: RawClient) -> None:
    answer = await v201.call("MeterValues", {"evseId": 1, "meterValue": []}, "n7")
    assert _code(answer) == (4, "n7", "OccurrenceConstraintViolation")


async def test_v201_bad_enum_is_property_constraint_violation(v201: RawClient) -> None:
    answer = await v201.call("BootNotification", {**boot_201(), "reason": "Bored"}, "n8")
    assert _code(answer) == (4, "n8", "PropertyConstraintViolation")
