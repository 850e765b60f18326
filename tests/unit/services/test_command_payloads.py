"""Per-action payload contracts (docs/CONTRACTS.md): what passes, how it is normalised, what not."""

from __future__ import annotations

from typing import Any

import pytest

from core.domain.enums import CommandAction
from core.errors import ValidationFailedError
from core.services.commands import COMMAND_PAYLOADS, validate_command_payload

A = CommandAction


def test_every_action_has_a_payload_contract() -> None:
    assert set(COMMAND_PAYLOADS) == set(CommandAction)


@pytest.mark.parametrize(
    ("action", "payload", "normalised"),
    [
        (A.REMOTE_START, {"id_tag": "TAG"}, {"id_tag": "TAG", "connector_number": None}),
        (
            A.REMOTE_START,
            {"id_tag": "x" * 36, "connector_number": 2},
            {"id_tag": "x" * 36, "connector_number": 2},
        ),
        (A.REMOTE_STOP, {"transaction_id": "tx-1"}, {"transaction_id": "tx-1"}),
        (A.REMOTE_STOP, {"transaction_id": 42}, {"transaction_id": "42"}),
        (A.RESET, {"type": "Soft"}, {"type": "Soft"}),
        (A.RESET, {"type": "Hard"}, {"type": "Hard"}),
        (
            A.CHANGE_AVAILABILITY,
            {"operative": False},
            {"connector_number": None, "operative": False},
        ),
        (
            A.CHANGE_AVAILABILITY,
            {"connector_number": 1, "operative": True},
            {"connector_number": 1, "operative": True},
        ),
        (A.UNLOCK_CONNECTOR, {"connector_number": 3}, {"connector_number": 3}),
        (
            A.TRIGGER_MESSAGE,
            {"message": "StatusNotification", "connector_number": 1},
            {"message": "StatusNotification", "connector_number": 1},
        ),
        (
            A.TRIGGER_MESSAGE,
            {"message": "Heartbeat"},
            {"message": "Heartbeat", "connector_number": None},
        ),
        (A.GET_CONFIGURATION, {}, {"keys": None}),
        (
            A.GET_CONFIGURATION,
            {"keys": ["HeartbeatInterval", "OCPPCommCtrlr.HeartbeatInterval"]},
            {"keys": ["HeartbeatInterval", "OCPPCommCtrlr.HeartbeatInterval"]},
        ),
        (
            A.CHANGE_CONFIGURATION,
            {"key": "HeartbeatInterval", "value": "60"},
            {"key": "HeartbeatInterval", "value": "60"},
        ),
        (A.CLEAR_CACHE, {}, {}),
        (A.CLEAR_CACHE, None, {}),
    ],
)
def test_valid_payloads_are_normalised(
    action: CommandAction, payload: dict[str, Any] | None, normalised: dict[str, Any]
) -> None:
    assert validate_command_payload(action, payload) == normalised


@pytest.mark.parametrize(
    ("action", "payload", "fields"),
    [
        (A.REMOTE_START, {}, {"id_tag"}),
        (A.REMOTE_START, {"id_tag": ""}, {"id_tag"}),
        (A.REMOTE_START, {"id_tag": "x" * 37}, {"id_tag"}),
        (A.REMOTE_START, {"id_tag": "T", "connector_number": 0}, {"connector_number"}),
        (A.REMOTE_START, {"id_tag": "T", "connector_number": "1"}, {"connector_number"}),
        (A.REMOTE_START, {"id_tag": 5}, {"id_tag"}),
        (A.REMOTE_STOP, {}, {"transaction_id"}),
        (A.REMOTE_STOP, {"transaction_id": True}, {"transaction_id"}),
        (A.REMOTE_STOP, {"transaction_id": ""}, {"transaction_id"}),
        (A.RESET, {"type": "soft"}, {"type"}),
        (A.RESET, {}, {"type"}),
        (A.CHANGE_AVAILABILITY, {"connector_number": 1}, {"operative"}),
        (A.CHANGE_AVAILABILITY, {"operative": "true"}, {"operative"}),
        (A.CHANGE_AVAILABILITY, {"operative": 1}, {"operative"}),
        (A.UNLOCK_CONNECTOR, {}, {"connector_number"}),
        (A.UNLOCK_CONNECTOR, {"connector_number": 17}, {"connector_number"}),
        (A.TRIGGER_MESSAGE, {"message": "Reboot"}, {"message"}),
        (A.GET_CONFIGURATION, {"keys": "HeartbeatInterval"}, {"keys"}),
        (A.GET_CONFIGURATION, {"keys": [""]}, {"keys.0"}),
        (A.GET_CONFIGURATION, {"keys": ["k"] * 101}, {"keys"}),
        (A.CHANGE_CONFIGURATION, {"key": "HeartbeatInterval"}, {"value"}),
        (A.CHANGE_CONFIGURATION, {"key": "K", "value": 60}, {"value"}),
        (A.CHANGE_CONFIGURATION, {"key": "K", "value": "v" * 1001}, {"value"}),
        (A.CLEAR_CACHE, {"force": True}, {"force"}),
        (A.RESET, ["Soft"], {"payload"}),
    ],
)
def test_invalid_payloads_name_the_fields(
    action: CommandAction, payload: Any, fields: set[str]
) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        validate_command_payload(action, payload)
    assert {error["field"] for error in caught.value.errors} == fields
    assert all(error["message"] for error in caught.value.errors)
