"""OCPP 1.6J: the charger's CALLs as 1.6 payloads, and answers to the central system's CALLs.

Mapping only: what to answer is decided by the charger (:class:`simulator.model.CommandTarget`);
this module spells it the 1.6 way (connector 0 is the station, transaction ids are integers the
central system assigns, sampled values are strings).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.adapter import VersionAdapter, status_answer
from simulator.model import (
    BootReason,
    CommandTarget,
    Context,
    Fields,
    Outcome,
    PayloadError,
    Request,
    Trigger,
)
from simulator.station import (
    DEFAULT_MEASURANDS,
    ConfigKey,
    ConfigTable,
    Connector,
    Sample,
    SetResult,
    Station,
    StopReason,
    Transaction,
    ValueKind,
    iso_time,
)
from simulator.transport import Answer

PROTOCOL = "ocpp1.6"
_MISSING = "OccurenceConstraintViolation"  # sic: the 1.6 spelling

CONFIG_TABLE = ConfigTable(
    [
        ConfigKey("HeartbeatInterval", "300", ValueKind.INT),
        ConfigKey("MeterValueSampleInterval", "30", ValueKind.INT),
        ConfigKey("MeterValuesSampledData", DEFAULT_MEASURANDS, ValueKind.MEASURANDS),
        ConfigKey("StopTxnSampledData", "Energy.Active.Import.Register", ValueKind.MEASURANDS),
        ConfigKey("ClockAlignedDataInterval", "0", ValueKind.INT),
        ConfigKey("ConnectionTimeOut", "60", ValueKind.INT),
        ConfigKey("AuthorizeRemoteTxRequests", "false", ValueKind.BOOL),
        ConfigKey("LocalAuthorizeOffline", "false", ValueKind.BOOL),
        ConfigKey("LocalPreAuthorize", "false", ValueKind.BOOL),
        ConfigKey("StopTransactionOnEVSideDisconnect", "true", ValueKind.BOOL),
        ConfigKey("StopTransactionOnInvalidId", "true", ValueKind.BOOL),
        ConfigKey("UnlockConnectorOnEVSideDisconnect", "true", ValueKind.BOOL),
        ConfigKey("ResetRetries", "3", ValueKind.INT),
        ConfigKey("TransactionMessageAttempts", "3", ValueKind.INT),
        ConfigKey("TransactionMessageRetryInterval", "10", ValueKind.INT),
        ConfigKey("WebSocketPingInterval", "0", ValueKind.INT),
        ConfigKey("NumberOfConnectors", "1", ValueKind.INT, readonly=True),
        ConfigKey("GetConfigurationMaxKeys", "50", ValueKind.INT, readonly=True),
        ConfigKey("SupportedFeatureProfiles", "Core,RemoteTrigger", readonly=True),
        ConfigKey("MeterValuesSampledDataMaxLength", "4", ValueKind.INT, readonly=True, minimum=1),
    ]
)

_STOP_REASONS: dict[StopReason, str] = {
    StopReason.LOCAL: "Local",
    StopReason.REMOTE: "Remote",
    StopReason.HARD_RESET: "HardReset",
    StopReason.SOFT_RESET: "SoftReset",
    StopReason.UNLOCK: "UnlockCommand",
    StopReason.DEAUTHORIZED: "DeAuthorized",
    StopReason.OTHER: "Other",
}

_TRIGGERS: dict[str, Trigger] = {
    "BootNotification": Trigger.BOOT,
    "Heartbeat": Trigger.HEARTBEAT,
    "StatusNotification": Trigger.STATUS,
    "MeterValues": Trigger.METER_VALUES,
    "FirmwareStatusNotification": Trigger.FIRMWARE_STATUS,
    "DiagnosticsStatusNotification": Trigger.DIAGNOSTICS_STATUS,
}

#: 1.6 actions a real charger may lack: recognised, answered NotSupported (not NotImplemented).
_KNOWN_UNSUPPORTED = frozenset(
    {
        "CancelReservation",
        "ClearChargingProfile",
        "GetCompositeSchedule",
        "GetDiagnostics",
        "GetLocalListVersion",
        "ReserveNow",
        "SendLocalList",
        "SetChargingProfile",
        "UpdateFirmware",
    }
)


def _sampled(samples: Sequence[Sample], context: Context) -> list[dict[str, Any]]:
    result = []
    for sample in samples:
        item = {
            "value": str(sample.value),
            "context": context.value,
            "format": "Raw",
            "measurand": sample.measurand,
            "location": sample.location,
            "unit": sample.unit,
        }
        if sample.phase is not None:
            item["phase"] = sample.phase
        result.append(item)
    return result


class V16Adapter(VersionAdapter):
    """OCPP 1.6J mapping; stateless, one instance serves every 1.6 charger of the process."""

    protocol = PROTOCOL
    heartbeat_key = "HeartbeatInterval"
    meter_interval_key = "MeterValueSampleInterval"
    measurands_key = "MeterValuesSampledData"
    stop_measurands_key = "StopTxnSampledData"
    config_table = CONFIG_TABLE
    connector_count_key = "NumberOfConnectors"
    missing_code = _MISSING
    known_unsupported = _KNOWN_UNSUPPORTED
    id_tag_max_length = 20

    def __init__(self) -> None:
        super().__init__(
            {
                "RemoteStartTransaction": self.on_remote_start_transaction,
                "RemoteStopTransaction": self.on_remote_stop_transaction,
                "Reset": self.on_reset,
                "ChangeAvailability": self.on_change_availability,
                "UnlockConnector": self.on_unlock_connector,
                "TriggerMessage": self.on_trigger_message,
                "GetConfiguration": self.on_get_configuration,
                "ChangeConfiguration": self.on_change_configuration,
            }
        )

    # the charger's CALLs ---------------------------------------------------------------------

    def boot(self, station: Station, reason: BootReason) -> Request:
        """BootNotification (1.6 has no reason field)."""
        return Request(
            "BootNotification",
            {
                "chargePointVendor": station.vendor[:20],
                "chargePointModel": station.model[:20],
                "chargePointSerialNumber": station.serial_number,
                "firmwareVersion": station.firmware_version,
            },
        )

    def status(self, station: Station, number: int, *, force: bool = False) -> Request | None:
        """StatusNotification for a connector, or for the station itself as connector 0."""
        if number == 0:
            status, error_code = station.station_status().value, "NoError"
            if status == station.reported and not force:
                return None
            station.reported = status
        else:
            connector = station.connector(number)
            if connector is None:
                return None
            status = connector.status.value
            if status == connector.reported and not force:
                return None
            connector.reported = status
            error_code = connector.error_code or "NoError"
        return Request(
            "StatusNotification",
            {
                "connectorId": number,
                "errorCode": error_code,
                "status": status,
                "timestamp": iso_time(station.clock()),
            },
        )

    def authorize(self, id_tag: str) -> Request:
        """Authorize."""
        return Request("Authorize", {"idTag": id_tag})

    def parse_authorize(self, payload: dict[str, Any]) -> str:
        """idTagInfo.status."""
        info = payload.get("idTagInfo")
        return str(info.get("status")) if isinstance(info, dict) else "Invalid"

    def start_transaction(
        self, station: Station, connector: Connector, tx: Transaction, samples: Sequence[Sample]
    ) -> Request:
        """StartTransaction; 1.6 carries only meterStart, not sampled values."""
        return Request(
            "StartTransaction",
            {
                "connectorId": connector.number,
                "idTag": tx.id_tag,
                "meterStart": round(tx.meter_start_wh),
                "timestamp": iso_time(tx.started_at),
            },
        )

    def parse_start(self, payload: dict[str, Any], tx: Transaction) -> tuple[str, str]:
        """The id tag's status and the transaction id the central system assigned."""
        info = payload.get("idTagInfo")
        status = str(info.get("status")) if isinstance(info, dict) else "Invalid"
        transaction_id = payload.get("transactionId")
        if isinstance(transaction_id, bool) or not isinstance(transaction_id, int):
            raise PayloadError("FormationViolation", "transactionId must be an integer")
        return status, str(transaction_id)

    def meter_values(
        self,
        station: Station,
        connector: Connector,
        samples: Sequence[Sample],
        context: Context,
        *,
        in_transaction: bool,
    ) -> Request:
        """MeterValues, with the transaction id while a started transaction runs."""
        payload: dict[str, Any] = {
            "connectorId": connector.number,
            "meterValue": [
                {"timestamp": iso_time(station.clock()), "sampledValue": _sampled(samples, context)}
            ],
        }
        tx = connector.transaction
        if tx is not None and tx.transaction_id is not None:
            payload["transactionId"] = int(tx.transaction_id)
        return Request("MeterValues", payload, len(samples))

    def stop_transaction(
        self, station: Station, connector: Connector, tx: Transaction, samples: Sequence[Sample]
    ) -> Request:
        """StopTransaction with the final register and, in transactionData, the end sample."""
        now = iso_time(station.clock())
        payload: dict[str, Any] = {
            "transactionId": int(tx.transaction_id or 0),
            "meterStop": round(connector.meter_wh),
            "timestamp": now,
            "reason": _STOP_REASONS[tx.stop_reason or StopReason.LOCAL],
            "idTag": tx.id_tag,
        }
        if samples:
            payload["transactionData"] = [
                {"timestamp": now, "sampledValue": _sampled(samples, Context.END)}
            ]
        return Request("StopTransaction", payload, len(samples))

    def firmware_status(self) -> Request:
        """FirmwareStatusNotification Idle: no update in progress."""
        return Request("FirmwareStatusNotification", {"status": "Idle"})

    def diagnostics_status(self) -> Request:
        """DiagnosticsStatusNotification Idle: no upload in progress."""
        return Request("DiagnosticsStatusNotification", {"status": "Idle"})

    # the central system's CALLs ----------------------------------------------------------------

    def on_remote_start_transaction(self, target: CommandTarget, fields: Fields) -> Answer:
        """Accepted and then really started, or Rejected when no connector can take it."""
        id_tag = fields.text("idTag", max_length=self.id_tag_max_length)
        connector_id = fields.integer("connectorId", required=False)
        if connector_id is not None and connector_id <= 0:
            return status_answer(Outcome.REJECTED)
        decision = target.remote_start(connector_id, id_tag)
        return status_answer(decision.outcome, decision.followup)

    def on_remote_stop_transaction(self, target: CommandTarget, fields: Fields) -> Answer:
        """Accepted for a running transaction, Rejected for an unknown id."""
        decision = target.remote_stop(str(fields.integer("transactionId")))
        return status_answer(decision.outcome, decision.followup)

    def on_reset(self, target: CommandTarget, fields: Fields) -> Answer:
        """Hard or Soft: stop sessions, reboot, boot again."""
        kind = fields.choice("type", ("Hard", "Soft"))
        reason = StopReason.HARD_RESET if kind == "Hard" else StopReason.SOFT_RESET
        decision = target.reset(reason, when_idle=False)
        return status_answer(decision.outcome, decision.followup)

    def on_change_availability(self, target: CommandTarget, fields: Fields) -> Answer:
        """Connector 0 is the whole station; Scheduled while a session runs."""
        number = fields.integer("connectorId")
        operative = fields.choice("type", ("Inoperative", "Operative")) == "Operative"
        decision = target.change_availability(number or None, operative)
        if decision.outcome is Outcome.UNKNOWN_CONNECTOR:
            return status_answer(Outcome.REJECTED)
        return status_answer(decision.outcome, decision.followup)

    def on_unlock_connector(self, target: CommandTarget, fields: Fields) -> Answer:
        """Unlocked (stopping a running session first), NotSupported for no such connector."""
        decision = target.unlock(fields.integer("connectorId"), stop_transaction=True)
        if decision.outcome is Outcome.UNLOCKED:
            return Answer(payload={"status": "Unlocked"}, followup=decision.followup)
        return Answer(payload={"status": "NotSupported"})

    def on_trigger_message(self, target: CommandTarget, fields: Fields) -> Answer:
        """Accepted, then the requested message is sent."""
        requested = fields.choice("requestedMessage", tuple(_TRIGGERS))
        connector_id = fields.integer("connectorId", required=False)
        decision = target.trigger(_TRIGGERS[requested], connector_id)
        return status_answer(decision.outcome, decision.followup)

    def on_get_configuration(self, target: CommandTarget, fields: Fields) -> Answer:
        """Known keys with values and read-only flags; unknown ones listed apart."""
        keys = fields.array("key", required=False)
        if keys is not None and not all(isinstance(key, str) for key in keys):
            raise PayloadError("TypeConstraintViolation", "key must be a list of strings")
        known, unknown = target.station.config.entries(keys or None)
        payload: dict[str, Any] = {
            "configurationKey": [
                {"key": key.name, "readonly": key.readonly, "value": value} for key, value in known
            ]
        }
        if unknown:
            payload["unknownKey"] = unknown
        return Answer(payload=payload)

    def on_change_configuration(self, target: CommandTarget, fields: Fields) -> Answer:
        """Accepted, Rejected (read-only or invalid) or NotSupported (unknown key)."""
        key = fields.text("key", max_length=50)
        value = fields.text("value", max_length=500)
        result = target.change_configuration(key, value)
        status = {
            SetResult.ACCEPTED: "Accepted",
            SetResult.REJECTED: "Rejected",
        }.get(result, "NotSupported")
        return Answer(payload={"status": status})
