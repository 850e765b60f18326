"""The seam between the version-independent charger and the per-version OCPP adapters.

The charger decides (may this remote start run? is this availability change scheduled?) in one
vocabulary; ``v16`` and ``v201`` only translate payloads to and from it. This module holds that
vocabulary and the two interfaces: what an adapter offers the charger, and what the charger
offers an adapter handling the central system's CALLs.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from simulator.station import Connector, Sample, SetResult, Station, StopReason, Transaction
from simulator.transport import Answer

FollowUp = Callable[[], Coroutine[Any, Any, None]]


class Outcome(StrEnum):
    """The charger's answer to a command before a version spells it."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    SCHEDULED = "Scheduled"
    UNLOCKED = "Unlocked"
    UNKNOWN_CONNECTOR = "UnknownConnector"
    ONGOING_TRANSACTION = "OngoingTransaction"


class Trigger(StrEnum):
    """Messages the central system may ask for with TriggerMessage."""

    BOOT = "BootNotification"
    HEARTBEAT = "Heartbeat"
    STATUS = "StatusNotification"
    METER_VALUES = "MeterValues"
    FIRMWARE_STATUS = "FirmwareStatusNotification"
    DIAGNOSTICS_STATUS = "DiagnosticsStatusNotification"
    TRANSACTION_EVENT = "TransactionEvent"


class BootReason(StrEnum):
    """Why a BootNotification is sent (2.0.1 carries it; 1.6 does not)."""

    POWER_UP = "PowerUp"
    REMOTE_RESET = "RemoteReset"
    TRIGGERED = "Triggered"


class Context(StrEnum):
    """Reading contexts of sampled values."""

    PERIODIC = "Sample.Periodic"
    BEGIN = "Transaction.Begin"
    END = "Transaction.End"
    TRIGGER = "Trigger"


@dataclass(frozen=True, slots=True)
class Decision:
    """An outcome plus what to do once the answer is on the wire (e.g. send the message)."""

    outcome: Outcome
    followup: FollowUp | None = None


@dataclass(frozen=True, slots=True)
class BootResult:
    """The central system's BootNotification answer: status and the interval to use."""

    status: str
    interval: float


class Request(NamedTuple):
    """A CALL to send: its action, payload and how many sampled values it carries."""

    action: str
    payload: dict[str, Any]
    samples: int = 0


class CommandTarget(Protocol):
    """What the charger offers an adapter that handles the central system's CALLs."""

    station: Station

    def remote_start(
        self,
        connector_number: int | None,
        id_tag: str,
        *,
        remote_start_id: int | None = None,
        id_type: str = "Central",
    ) -> Decision:
        """Start a session on request; Rejected when the connector is busy or unavailable."""
        ...

    def remote_stop(self, transaction_id: str) -> Decision:
        """Stop the session the central system names; Rejected for an unknown id."""
        ...

    def reset(self, reason: StopReason, *, when_idle: bool) -> Decision:
        """Reboot now (stopping sessions with ``reason``) or once idle (Scheduled)."""
        ...

    def change_availability(self, connector_number: int | None, operative: bool) -> Decision:
        """Switch a connector or, with None, the station on or off."""
        ...

    def unlock(self, connector_number: int, *, stop_transaction: bool) -> Decision:
        """Unlock a connector; a running session is stopped or refused per version."""
        ...

    def trigger(self, message: Trigger, connector_number: int | None) -> Decision:
        """Send ``message`` after answering Accepted."""
        ...

    def change_configuration(self, key: str, value: str) -> SetResult:
        """Write a configuration key; effects (a new heartbeat interval) apply at once."""
        ...


class Adapter(Protocol):
    """One OCPP version: builds the charger's CALLs and answers the central system's CALLs."""

    protocol: str
    heartbeat_key: str
    meter_interval_key: str
    measurands_key: str
    stop_measurands_key: str
    #: Length limit of an id tag / id token in this version.
    id_tag_max_length: int

    def new_config(self, connectors: int, measurands: str | None) -> Any:
        """A configuration store with this version's keys for a charger."""
        ...

    def boot(self, station: Station, reason: BootReason) -> Request:
        """BootNotification."""
        ...

    def parse_boot(self, payload: dict[str, Any]) -> BootResult:
        """Status and interval from the BootNotification answer."""
        ...

    def heartbeat(self) -> Request:
        """Heartbeat."""
        ...

    def status(self, station: Station, number: int, *, force: bool = False) -> Request | None:
        """StatusNotification for connector ``number`` (0 = station) if it changed or forced."""
        ...

    def authorize(self, id_tag: str) -> Request:
        """Authorize."""
        ...

    def parse_authorize(self, payload: dict[str, Any]) -> str:
        """The id tag's status from the Authorize answer."""
        ...

    def start_transaction(
        self, station: Station, connector: Connector, tx: Transaction, samples: Sequence[Sample]
    ) -> Request:
        """StartTransaction / TransactionEvent Started."""
        ...

    def parse_start(self, payload: dict[str, Any], tx: Transaction) -> tuple[str, str]:
        """``(id tag status, transaction id)`` from the start answer."""
        ...

    def meter_values(
        self,
        station: Station,
        connector: Connector,
        samples: Sequence[Sample],
        context: Context,
        *,
        in_transaction: bool,
    ) -> Request:
        """MeterValues (or, during a 2.0.1 transaction, TransactionEvent Updated)."""
        ...

    def stop_transaction(
        self, station: Station, connector: Connector, tx: Transaction, samples: Sequence[Sample]
    ) -> Request:
        """StopTransaction / TransactionEvent Ended with the final meter."""
        ...

    def firmware_status(self) -> Request:
        """FirmwareStatusNotification (Idle)."""
        ...

    def diagnostics_status(self) -> Request:
        """DiagnosticsStatusNotification (1.6) or LogStatusNotification (2.0.1), Idle."""
        ...

    def handle(self, target: CommandTarget, action: str, payload: Any) -> Answer:
        """Answer one CALL of the central system."""
        ...


class PayloadError(Exception):
    """A CALL's payload does not fit its action: answered with this CALLERROR code."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class Fields:
    """Typed access to a CALL payload that turns a bad field into the matching CALLERROR."""

    __slots__ = ("_missing", "_payload")

    def __init__(self, payload: Any, *, missing_code: str) -> None:
        if not isinstance(payload, dict):
            raise PayloadError("FormationViolation", "payload must be a JSON object")
        self._payload: dict[str, Any] = payload
        self._missing = missing_code

    def _get(self, name: str, required: bool) -> Any:
        value = self._payload.get(name)
        if value is None and required:
            raise PayloadError(self._missing, f"{name} is required")
        return value

    def text(self, name: str, *, required: bool = True, max_length: int | None = None) -> Any:
        """A string field (None when optional and absent)."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise PayloadError("TypeConstraintViolation", f"{name} must be a string")
        if max_length is not None and len(value) > max_length:
            raise PayloadError("PropertyConstraintViolation", f"{name} is too long")
        return value

    def integer(self, name: str, *, required: bool = True) -> Any:
        """An integer field (None when optional and absent)."""
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise PayloadError("TypeConstraintViolation", f"{name} must be an integer")
        return value

    def choice(self, name: str, allowed: Sequence[str], *, required: bool = True) -> Any:
        """An enumerated string field."""
        value = self.text(name, required=required)
        if value is not None and value not in allowed:
            raise PayloadError("PropertyConstraintViolation", f"{name} must be one of {allowed}")
        return value

    def object(self, name: str, *, required: bool = True) -> Fields | None:
        """A nested object."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise PayloadError("TypeConstraintViolation", f"{name} must be an object")
        return Fields(value, missing_code=self._missing)

    def array(self, name: str, *, required: bool = True) -> list[Any] | None:
        """A list field."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, list):
            raise PayloadError("TypeConstraintViolation", f"{name} must be an array")
        return value

    def objects(self, name: str, *, required: bool = True) -> list[Fields]:
        """A list of objects."""
        items = self.array(name, required=required) or []
        result: list[Fields] = []
        for item in items:
            if not isinstance(item, dict):
                raise PayloadError("TypeConstraintViolation", f"{name} items must be objects")
            result.append(Fields(item, missing_code=self._missing))
        return result
