"""OCPP 2.0.1: the charger's CALLs as 2.0.1 payloads, and answers to the central system's CALLs.

Mapping only, like ``v16``. The differences it absorbs: each connector is an EVSE with one
connector; Preparing/Charging/Finishing are all "Occupied"; transactions are TransactionEvents
with charger-generated ids and sequence numbers; configuration is ``Component.Variable``.
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
    Request,
    Trigger,
)
from simulator.station import (
    DEFAULT_MEASURANDS,
    ConfigKey,
    ConfigTable,
    Connector,
    ConnectorStatus,
    Sample,
    SetResult,
    Station,
    StopReason,
    Transaction,
    ValueKind,
    iso_time,
)
from simulator.transport import Answer

PROTOCOL = "ocpp2.0.1"
_MISSING = "OccurrenceConstraintViolation"

CONFIG_TABLE = ConfigTable(
    [
        ConfigKey("OCPPCommCtrlr.HeartbeatInterval", "300", ValueKind.INT),
        ConfigKey("OCPPCommCtrlr.WebSocketPingInterval", "0", ValueKind.INT),
        ConfigKey("OCPPCommCtrlr.MessageTimeout", "30", ValueKind.INT, minimum=1),
        ConfigKey("SampledDataCtrlr.TxUpdatedInterval", "30", ValueKind.INT),
        ConfigKey("SampledDataCtrlr.TxUpdatedMeasurands", DEFAULT_MEASURANDS, ValueKind.MEASURANDS),
        ConfigKey(
            "SampledDataCtrlr.TxEndedMeasurands",
            "Energy.Active.Import.Register",
            ValueKind.MEASURANDS,
        ),
        ConfigKey("AlignedDataCtrlr.Interval", "0", ValueKind.INT),
        ConfigKey("AuthCtrlr.AuthorizeRemoteStart", "false", ValueKind.BOOL),
        ConfigKey("AuthCtrlr.LocalPreAuthorize", "false", ValueKind.BOOL),
        ConfigKey("TxCtrlr.EVConnectionTimeOut", "60", ValueKind.INT),
        ConfigKey("TxCtrlr.StopTxOnEVSideDisconnect", "true", ValueKind.BOOL, readonly=True),
        ConfigKey("TxCtrlr.StopTxOnInvalidId", "true", ValueKind.BOOL),
        ConfigKey("SecurityCtrlr.SecurityProfile", "1", ValueKind.INT, readonly=True),
        ConfigKey("ChargingStation.Model", "SimCharger", readonly=True),
        ConfigKey("ChargingStation.VendorName", "EVCSMS", readonly=True),
        ConfigKey("EVSE.Count", "1", ValueKind.INT, readonly=True),
    ]
)

_OCCUPIED = {
    ConnectorStatus.PREPARING,
    ConnectorStatus.CHARGING,
    ConnectorStatus.SUSPENDED_EV,
    ConnectorStatus.SUSPENDED_EVSE,
    ConnectorStatus.FINISHING,
}

#: Internal stop reason -> (triggerReason, stoppedReason) of TransactionEvent Ended.
_ENDED: dict[StopReason, tuple[str, str]] = {
    StopReason.LOCAL: ("StopAuthorized", "Local"),
    StopReason.REMOTE: ("RemoteStop", "Remote"),
    StopReason.HARD_RESET: ("ResetCommand", "ImmediateReset"),
    StopReason.SOFT_RESET: ("ResetCommand", "ImmediateReset"),
    StopReason.UNLOCK: ("UnlockCommand", "Other"),
    StopReason.DEAUTHORIZED: ("Deauthorized", "DeAuthorized"),
    StopReason.OTHER: ("AbnormalCondition", "Other"),
}

_TRIGGERS: dict[str, Trigger] = {
    "BootNotification": Trigger.BOOT,
    "Heartbeat": Trigger.HEARTBEAT,
    "StatusNotification": Trigger.STATUS,
    "MeterValues": Trigger.METER_VALUES,
    "FirmwareStatusNotification": Trigger.FIRMWARE_STATUS,
    "LogStatusNotification": Trigger.DIAGNOSTICS_STATUS,
    "TransactionEvent": Trigger.TRANSACTION_EVENT,
}
_TRIGGERS_NOT_IMPLEMENTED = (
    "SignChargingStationCertificate",
    "SignV2GCertificate",
    "SignCombinedCertificate",
    "PublishFirmwareStatusNotification",
)
_ID_TOKEN_TYPES = (
    "Central",
    "eMAID",
    "ISO14443",
    "ISO15693",
    "KeyCode",
    "Local",
    "MacAddress",
    "NoAuthorization",
)

#: 2.0.1 actions a real charger may lack: recognised, answered NotSupported.
_KNOWN_UNSUPPORTED = frozenset(
    {
        "CancelReservation",
        "CertificateSigned",
        "ClearChargingProfile",
        "ClearDisplayMessage",
        "ClearVariableMonitoring",
        "CostUpdated",
        "CustomerInformation",
        "DeleteCertificate",
        "GetBaseReport",
        "GetChargingProfiles",
        "GetCompositeSchedule",
        "GetDisplayMessages",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetLog",
        "GetMonitoringReport",
        "GetReport",
        "GetTransactionStatus",
        "InstallCertificate",
        "PublishFirmware",
        "ReserveNow",
        "SendLocalList",
        "SetChargingProfile",
        "SetDisplayMessage",
        "SetMonitoringBase",
        "SetMonitoringLevel",
        "SetNetworkProfile",
        "SetVariableMonitoring",
        "UnpublishFirmware",
        "UpdateFirmware",
    }
)


def connector_status(status: ConnectorStatus) -> str:
    """The 2.0.1 ConnectorStatusEnumType for a detailed 1.6-style status."""
    if status in _OCCUPIED:
        return "Occupied"
    return status.value


def _charging_state(connector: Connector) -> str:
    return "Charging" if connector.status is ConnectorStatus.CHARGING else "EVConnected"


def _sampled(samples: Sequence[Sample], context: Context) -> list[dict[str, Any]]:
    result = []
    for sample in samples:
        item: dict[str, Any] = {
            "value": sample.value,
            "context": context.value,
            "measurand": sample.measurand,
            "location": sample.location,
            "unitOfMeasure": {"unit": sample.unit},
        }
        if sample.phase is not None:
            item["phase"] = sample.phase
        result.append(item)
    return result


class V201Adapter(VersionAdapter):
    """OCPP 2.0.1 mapping; stateless, one instance serves every 2.0.1 charger of the process."""

    protocol = PROTOCOL
    heartbeat_key = "OCPPCommCtrlr.HeartbeatInterval"
    meter_interval_key = "SampledDataCtrlr.TxUpdatedInterval"
    measurands_key = "SampledDataCtrlr.TxUpdatedMeasurands"
    stop_measurands_key = "SampledDataCtrlr.TxEndedMeasurands"
    config_table = CONFIG_TABLE
    connector_count_key = "EVSE.Count"
    missing_code = _MISSING
    known_unsupported = _KNOWN_UNSUPPORTED
    id_tag_max_length = 36

    def __init__(self) -> None:
        super().__init__(
            {
                "RequestStartTransaction": self.on_request_start_transaction,
                "RequestStopTransaction": self.on_request_stop_transaction,
                "Reset": self.on_reset,
                "ChangeAvailability": self.on_change_availability,
                "UnlockConnector": self.on_unlock_connector,
                "TriggerMessage": self.on_trigger_message,
                "GetVariables": self.on_get_variables,
                "SetVariables": self.on_set_variables,
            }
        )

    # the charger's CALLs ---------------------------------------------------------------------

    def boot(self, station: Station, reason: BootReason) -> Request:
        """BootNotification with its reason."""
        return Request(
            "BootNotification",
            {
                "reason": reason.value,
                "chargingStation": {
                    "model": station.model[:20],
                    "vendorName": station.vendor[:50],
                    "serialNumber": station.serial_number,
                    "firmwareVersion": station.firmware_version,
                },
            },
        )

    def status(self, station: Station, number: int, *, force: bool = False) -> Request | None:
        """StatusNotification for EVSE ``number`` (connector 1); the station has none."""
        connector = station.connector(number)
        if connector is None:
            return None
        status = connector_status(connector.status)
        if status == connector.reported and not force:
            return None
        connector.reported = status
        return Request(
            "StatusNotification",
            {
                "timestamp": iso_time(station.clock()),
                "connectorStatus": status,
                "evseId": number,
                "connectorId": 1,
            },
        )

    def authorize(self, id_tag: str) -> Request:
        """Authorize with an RFID-style token."""
        return Request("Authorize", {"idToken": {"idToken": id_tag, "type": "ISO14443"}})

    def parse_authorize(self, payload: dict[str, Any]) -> str:
        """idTokenInfo.status."""
        info = payload.get("idTokenInfo")
        return str(info.get("status")) if isinstance(info, dict) else "Invalid"

    def _event(
        self,
        station: Station,
        connector: Connector,
        tx: Transaction,
        event_type: str,
        trigger_reason: str,
        info: dict[str, Any],
    ) -> dict[str, Any]:
        return {
            "eventType": event_type,
            "timestamp": iso_time(station.clock()),
            "triggerReason": trigger_reason,
            "seqNo": tx.next_seq(),
            "transactionInfo": {"transactionId": tx.local_id, **info},
            "evse": {"id": connector.number, "connectorId": 1},
        }

    def start_transaction(
        self, station: Station, connector: Connector, tx: Transaction, samples: Sequence[Sample]
    ) -> Request:
        """TransactionEvent Started with the id token and the begin register."""
        info: dict[str, Any] = {"chargingState": "EVConnected"}
        if tx.remote_start_id is not None:
            info["remoteStartId"] = tx.remote_start_id
        trigger = "RemoteStart" if tx.remote else "Authorized"
        payload = self._event(station, connector, tx, "Started", trigger, info)
        payload["timestamp"] = iso_time(tx.started_at)
        payload["idToken"] = {"idToken": tx.id_tag, "type": tx.id_type}
        if samples:
            payload["meterValue"] = [
                {
                    "timestamp": iso_time(tx.started_at),
                    "sampledValue": _sampled(samples, Context.BEGIN),
                }
            ]
        return Request("TransactionEvent", payload, len(samples))

    def parse_start(self, payload: dict[str, Any], tx: Transaction) -> tuple[str, str]:
        """The token's status (Accepted when not given) and our own transaction id."""
        info = payload.get("idTokenInfo")
        status = str(info.get("status")) if isinstance(info, dict) else "Accepted"
        return status, tx.local_id

    def meter_values(
        self,
        station: Station,
        connector: Connector,
        samples: Sequence[Sample],
        context: Context,
        *,
        in_transaction: bool,
    ) -> Request:
        """TransactionEvent Updated during a transaction, MeterValues otherwise."""
        now = iso_time(station.clock())
        meter_value = [{"timestamp": now, "sampledValue": _sampled(samples, context)}]
        tx = connector.transaction
        if in_transaction and tx is not None:
            trigger = "Trigger" if context is Context.TRIGGER else "MeterValuePeriodic"
            payload = self._event(
                station,
                connector,
                tx,
                "Updated",
                trigger,
                {"chargingState": _charging_state(connector)},
            )
            payload["meterValue"] = meter_value
            return Request("TransactionEvent", payload, len(samples))
        return Request(
            "MeterValues", {"evseId": connector.number, "meterValue": meter_value}, len(samples)
        )

    def stop_transaction(
        self, station: Station, connector: Connector, tx: Transaction, samples: Sequence[Sample]
    ) -> Request:
        """TransactionEvent Ended with the stop reason and the end register."""
        trigger, stopped = _ENDED[tx.stop_reason or StopReason.LOCAL]
        payload = self._event(
            station,
            connector,
            tx,
            "Ended",
            trigger,
            {"chargingState": "EVConnected", "stoppedReason": stopped},
        )
        if samples:
            payload["meterValue"] = [
                {"timestamp": payload["timestamp"], "sampledValue": _sampled(samples, Context.END)}
            ]
        return Request("TransactionEvent", payload, len(samples))

    def firmware_status(self) -> Request:
        """FirmwareStatusNotification Idle."""
        return Request("FirmwareStatusNotification", {"status": "Idle"})

    def diagnostics_status(self) -> Request:
        """LogStatusNotification Idle (the 2.0.1 successor of diagnostics)."""
        return Request("LogStatusNotification", {"status": "Idle"})

    # the central system's CALLs ----------------------------------------------------------------

    def on_request_start_transaction(self, target: CommandTarget, fields: Fields) -> Answer:
        """Accepted and then really started, or Rejected when no EVSE can take it."""
        token = fields.object("idToken")
        assert token is not None  # required=True
        id_token = token.text("idToken", max_length=self.id_tag_max_length)
        token_type = token.choice("type", _ID_TOKEN_TYPES)
        remote_start_id = fields.integer("remoteStartId")
        evse_id = fields.integer("evseId", required=False)
        if evse_id is not None and evse_id <= 0:
            return status_answer(Outcome.REJECTED)
        decision = target.remote_start(
            evse_id, id_token, remote_start_id=remote_start_id, id_type=token_type
        )
        return status_answer(decision.outcome, decision.followup)

    def on_request_stop_transaction(self, target: CommandTarget, fields: Fields) -> Answer:
        """Accepted for a running transaction, Rejected for an unknown id."""
        decision = target.remote_stop(fields.text("transactionId", max_length=36))
        return status_answer(decision.outcome, decision.followup)

    def on_reset(self, target: CommandTarget, fields: Fields) -> Answer:
        """Immediate reboots now; OnIdle waits for running transactions (Scheduled)."""
        kind = fields.choice("type", ("Immediate", "OnIdle"))
        if fields.integer("evseId", required=False) is not None:
            return status_answer(Outcome.REJECTED)  # resetting a single EVSE is not supported
        decision = target.reset(StopReason.HARD_RESET, when_idle=kind == "OnIdle")
        return status_answer(decision.outcome, decision.followup)

    def on_change_availability(self, target: CommandTarget, fields: Fields) -> Answer:
        """No EVSE (or EVSE 0) is the whole station; Scheduled while a transaction runs."""
        operative = fields.choice("operationalStatus", ("Inoperative", "Operative")) == "Operative"
        evse = fields.object("evse", required=False)
        number = evse.integer("id") if evse is not None else None
        decision = target.change_availability(number or None, operative)
        if decision.outcome is Outcome.UNKNOWN_CONNECTOR:
            return status_answer(Outcome.REJECTED)
        return status_answer(decision.outcome, decision.followup)

    def on_unlock_connector(self, target: CommandTarget, fields: Fields) -> Answer:
        """Unlocked; refused during a transaction; UnknownConnector otherwise."""
        evse_id = fields.integer("evseId")
        connector_id = fields.integer("connectorId")
        if connector_id != 1:
            return Answer(payload={"status": "UnknownConnector"})
        decision = target.unlock(evse_id, stop_transaction=False)
        status = {
            Outcome.UNLOCKED: "Unlocked",
            Outcome.ONGOING_TRANSACTION: "OngoingAuthorizedTransaction",
        }.get(decision.outcome, "UnknownConnector")
        return Answer(payload={"status": status}, followup=decision.followup)

    def on_trigger_message(self, target: CommandTarget, fields: Fields) -> Answer:
        """Accepted then sent; certificate-related triggers are NotImplemented."""
        requested = fields.choice("requestedMessage", (*_TRIGGERS, *_TRIGGERS_NOT_IMPLEMENTED))
        if requested in _TRIGGERS_NOT_IMPLEMENTED:
            return Answer(payload={"status": "NotImplemented"})
        evse = fields.object("evse", required=False)
        number = evse.integer("id") if evse is not None else None
        decision = target.trigger(_TRIGGERS[requested], number or None)
        return status_answer(decision.outcome, decision.followup)

    def _variable_key(self, item: Fields) -> tuple[dict[str, Any], dict[str, Any], str]:
        component = item.object("component")
        variable = item.object("variable")
        assert component is not None  # required=True
        assert variable is not None
        component_name = component.text("name", max_length=50)
        variable_name = variable.text("name", max_length=50)
        component_out: dict[str, Any] = {"name": component_name}
        evse = component.object("evse", required=False)
        if evse is not None:
            component_out["evse"] = {"id": evse.integer("id")}
        return component_out, {"name": variable_name}, f"{component_name}.{variable_name}"

    def on_get_variables(self, target: CommandTarget, fields: Fields) -> Answer:
        """One result per requested variable; only the Actual attribute exists."""
        config = target.station.config
        results = []
        for item in fields.objects("getVariableData"):
            component, variable, key = self._variable_key(item)
            attribute = item.choice(
                "attributeType", ("Actual", "Target", "MinSet", "MaxSet"), required=False
            )
            result: dict[str, Any] = {"component": component, "variable": variable}
            value = config.get(key)
            if attribute not in (None, "Actual"):
                result["attributeStatus"] = "NotSupportedAttributeType"
            elif value is not None:
                result["attributeStatus"] = "Accepted"
                result["attributeValue"] = value
            elif config.table.has_component(key):
                result["attributeStatus"] = "UnknownVariable"
            else:
                result["attributeStatus"] = "UnknownComponent"
            results.append(result)
        return Answer(payload={"getVariableResult": results})

    def on_set_variables(self, target: CommandTarget, fields: Fields) -> Answer:
        """One result per variable: Accepted, Rejected (read-only/invalid) or Unknown*."""
        results = []
        for item in fields.objects("setVariableData"):
            component, variable, key = self._variable_key(item)
            value = item.text("attributeValue", max_length=1000)
            attribute = item.choice(
                "attributeType", ("Actual", "Target", "MinSet", "MaxSet"), required=False
            )
            if attribute not in (None, "Actual"):
                status = "NotSupportedAttributeType"
            else:
                outcome = target.change_configuration(key, value)
                status = {
                    SetResult.ACCEPTED: "Accepted",
                    SetResult.REJECTED: "Rejected",
                    SetResult.UNKNOWN_COMPONENT: "UnknownComponent",
                }.get(outcome, "UnknownVariable")
            results.append(
                {"attributeStatus": status, "component": component, "variable": variable}
            )
        return Answer(payload={"setVariableResult": results})
