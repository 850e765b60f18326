"""Remote commands (docs/CONTRACTS.md) as OCPP 1.6J CALLs, and their answers normalised."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.domain.enums import CommandAction
from csms.dialect import CommandPayloadError

_TRIGGERS = {
    "BootNotification": "BootNotification",
    "Heartbeat": "Heartbeat",
    "StatusNotification": "StatusNotification",
    "MeterValues": "MeterValues",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "DiagnosticsStatusNotification": "DiagnosticsStatusNotification",
    # 2.0.1's name for the same report.
    "LogStatusNotification": "DiagnosticsStatusNotification",
}


def _connector(payload: Mapping[str, Any]) -> int | None:
    value = payload.get("connector_number")
    return None if value is None else int(value)


class Commands16:
    """CommandMapping for 1.6J."""

    def request(
        self, action: CommandAction, payload: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The 1.6 action and payload for a command."""
        connector = _connector(payload)
        try:
            match action:
                case CommandAction.REMOTE_START:
                    body: dict[str, Any] = {"idTag": payload["id_tag"]}
                    if connector is not None:
                        body["connectorId"] = connector
                    return "RemoteStartTransaction", body
                case CommandAction.REMOTE_STOP:
                    return "RemoteStopTransaction", {
                        "transactionId": int(payload["transaction_id"])
                    }
                case CommandAction.RESET:
                    return "Reset", {"type": payload["type"]}
                case CommandAction.CHANGE_AVAILABILITY:
                    kind = "Operative" if payload["operative"] else "Inoperative"
                    return "ChangeAvailability", {"connectorId": connector or 0, "type": kind}
                case CommandAction.UNLOCK_CONNECTOR:
                    if connector is None:
                        raise CommandPayloadError("unlock-connector needs a connector_number")
                    return "UnlockConnector", {"connectorId": connector}
                case CommandAction.TRIGGER_MESSAGE:
                    message = _TRIGGERS.get(payload["message"])
                    if message is None:
                        raise CommandPayloadError(f"OCPP 1.6 cannot trigger {payload['message']!r}")
                    body = {"requestedMessage": message}
                    if connector is not None:
                        body["connectorId"] = connector
                    return "TriggerMessage", body
                case CommandAction.GET_CONFIGURATION:
                    keys = payload.get("keys")
                    return "GetConfiguration", {"key": list(keys)} if keys else {}
                case CommandAction.CHANGE_CONFIGURATION:
                    return "ChangeConfiguration", {
                        "key": payload["key"],
                        "value": payload["value"],
                    }
                case CommandAction.CLEAR_CACHE:
                    return "ClearCache", {}
        except CommandPayloadError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandPayloadError(f"invalid {action.value} payload: {exc!r}") from None
        raise CommandPayloadError(f"unsupported action {action.value}")

    def response(self, action: CommandAction, payload: dict[str, Any]) -> dict[str, Any]:
        """``status`` (GetConfiguration has none: Accepted) plus configuration, and ``raw``."""
        if action is CommandAction.GET_CONFIGURATION:
            return {
                "status": "Accepted",
                "configuration": [
                    {
                        "key": item["key"],
                        "value": item.get("value"),
                        "readonly": item["readonly"],
                    }
                    for item in payload.get("configurationKey", [])
                ],
                "unknown_keys": list(payload.get("unknownKey", [])),
                "raw": payload,
            }
        return {"status": payload["status"], "raw": payload}


COMMANDS = Commands16()
