"""Remote commands (docs/CONTRACTS.md) as OCPP 2.0.1 CALLs, and their answers normalised.

Configuration keys are ``Component.Variable`` (split at the first dot) and map to GetVariables /
SetVariables on the Actual attribute. GetVariables says nothing about mutability, so
``readonly`` is null in a 2.0.1 get-configuration answer.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from core.domain.enums import CommandAction
from csms.dialect import CommandPayloadError

#: What get-configuration reads when no keys are given (2.0.1 has no "everything" request).
DEFAULT_VARIABLES = (
    "OCPPCommCtrlr.HeartbeatInterval",
    "OCPPCommCtrlr.WebSocketPingInterval",
    "OCPPCommCtrlr.MessageTimeout",
    "SecurityCtrlr.SecurityProfile",
    "AuthCtrlr.AuthorizeRemoteStart",
    "AuthCtrlr.LocalAuthorizeOffline",
    "TxCtrlr.EVConnectionTimeOut",
    "TxCtrlr.StopTxOnInvalidId",
    "SampledDataCtrlr.TxUpdatedInterval",
    "SampledDataCtrlr.TxUpdatedMeasurands",
    "AlignedDataCtrlr.Interval",
    "ClockCtrlr.DateTime",
)

_TRIGGERS = {
    "BootNotification": "BootNotification",
    "Heartbeat": "Heartbeat",
    "StatusNotification": "StatusNotification",
    "MeterValues": "MeterValues",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "LogStatusNotification": "LogStatusNotification",
    # 1.6's name for the same report.
    "DiagnosticsStatusNotification": "LogStatusNotification",
}

_MAX_REMOTE_START_ID = 2**31 - 1


def split_key(key: str) -> tuple[str, str]:
    """``Component.Variable`` -> (component, variable)."""
    component, dot, variable = key.partition(".")
    if not dot or not component or not variable:
        raise CommandPayloadError(f"configuration key {key!r} is not Component.Variable")
    return component, variable


def _connector(payload: Mapping[str, Any]) -> int | None:
    value = payload.get("connector_number")
    return None if value is None else int(value)


class Commands201:
    """CommandMapping for 2.0.1."""

    def request(
        self, action: CommandAction, payload: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The 2.0.1 action and payload for a command."""
        try:
            return self._request(action, payload)
        except CommandPayloadError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandPayloadError(f"invalid {action.value} payload: {exc!r}") from None

    def _request(
        self, action: CommandAction, payload: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        connector = _connector(payload)
        match action:
            case CommandAction.REMOTE_START:
                body: dict[str, Any] = {
                    "idToken": {"idToken": payload["id_tag"], "type": "Central"},
                    "remoteStartId": secrets.randbelow(_MAX_REMOTE_START_ID) + 1,
                }
                if connector is not None:
                    body["evseId"] = connector
                return "RequestStartTransaction", body
            case CommandAction.REMOTE_STOP:
                return "RequestStopTransaction", {"transactionId": str(payload["transaction_id"])}
            case CommandAction.RESET:
                kind = "Immediate" if payload["type"] == "Hard" else "OnIdle"
                return "Reset", {"type": kind}
            case CommandAction.CHANGE_AVAILABILITY:
                body = {"operationalStatus": "Operative" if payload["operative"] else "Inoperative"}
                if connector is not None:
                    body["evse"] = {"id": connector}
                return "ChangeAvailability", body
            case CommandAction.UNLOCK_CONNECTOR:
                if connector is None:
                    raise CommandPayloadError("unlock-connector needs a connector_number")
                return "UnlockConnector", {"evseId": connector, "connectorId": 1}
            case CommandAction.TRIGGER_MESSAGE:
                message = _TRIGGERS.get(payload["message"])
                if message is None:
                    raise CommandPayloadError(f"OCPP 2.0.1 cannot trigger {payload['message']!r}")
                body = {"requestedMessage": message}
                if connector is not None:
                    evse: dict[str, Any] = {"id": connector}
                    if message == "StatusNotification":
                        evse["connectorId"] = 1
                    body["evse"] = evse
                return "TriggerMessage", body
            case CommandAction.GET_CONFIGURATION:
                keys = payload.get("keys") or DEFAULT_VARIABLES
                return "GetVariables", {
                    "getVariableData": [_variable(key) for key in keys],
                }
            case CommandAction.CHANGE_CONFIGURATION:
                return "SetVariables", {
                    "setVariableData": [
                        {"attributeValue": payload["value"], **_variable(payload["key"])}
                    ]
                }
            case CommandAction.CLEAR_CACHE:
                return "ClearCache", {}
        raise CommandPayloadError(f"unsupported action {action.value}")

    def response(self, action: CommandAction, payload: dict[str, Any]) -> dict[str, Any]:
        """``status`` (attribute status for SetVariables) plus configuration, and ``raw``."""
        if action is CommandAction.GET_CONFIGURATION:
            configuration: list[dict[str, Any]] = []
            unknown: list[str] = []
            for result in payload["getVariableResult"]:
                key = f"{result['component']['name']}.{result['variable']['name']}"
                if result["attributeStatus"] == "Accepted":
                    configuration.append(
                        {"key": key, "value": result.get("attributeValue"), "readonly": None}
                    )
                else:
                    unknown.append(key)
            return {
                "status": "Accepted",
                "configuration": configuration,
                "unknown_keys": unknown,
                "raw": payload,
            }
        if action is CommandAction.CHANGE_CONFIGURATION:
            results = payload["setVariableResult"]
            status = results[0]["attributeStatus"] if results else "Rejected"
            return {"status": status, "raw": payload}
        return {"status": payload["status"], "raw": payload}


def _variable(key: str) -> dict[str, Any]:
    component, variable = split_key(key)
    return {"component": {"name": component}, "variable": {"name": variable}}


COMMANDS = Commands201()
