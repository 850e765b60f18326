"""The internal, version-independent model of what chargers report and what they are told.

The OCPP 1.6J and 2.0.1 adapters map their payloads into these types and back; services and
repositories speak only these, so a rule (id tag verdicts, sample defaults, energy from the
meter register) is written once here instead of once per protocol version. No I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.domain.enums import ConnectorStatus, IdTagStatus, RegistrationStatus

#: Connector number that stands for the station itself (1.6 connectorId 0, 2.0.1 evseId 0).
STATION_CONNECTOR = 0

#: Defaults both OCPP versions define for a sampledValue that omits the field.
DEFAULT_MEASURAND = "Energy.Active.Import.Register"
DEFAULT_UNIT = "Wh"
DEFAULT_CONTEXT = "Sample.Periodic"
DEFAULT_LOCATION = "Outlet"

#: Both versions say a stop reason may only be omitted when it is "Local".
DEFAULT_STOP_REASON = "Local"

# Column widths of meter_value; values are cut to fit instead of failing a whole batch.
_UNIT_WIDTH = 16
_MEASURAND_WIDTH = 64


class AuthorizationStatus(StrEnum):
    """Verdict on an id tag, the common subset of both versions' AuthorizationStatus."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


@dataclass(frozen=True, slots=True)
class StationRef:
    """Who a connection belongs to; ``partner_id`` scopes events and id tags."""

    id: uuid.UUID
    charge_point_id: str
    partner_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class StationAdmission:
    """What the handshake needs to admit a charger: identity, secret hash, registration."""

    station: StationRef
    registration_status: RegistrationStatus
    password_hash: str | None
    created: bool = False


@dataclass(frozen=True, slots=True)
class IdTagRecord:
    """The stored facts about an id tag that decide its verdict."""

    status: IdTagStatus
    expires_at: datetime | None
    parent_id_tag: str | None


@dataclass(frozen=True, slots=True)
class IdTokenInfo:
    """The answer about an id tag, as both versions return it (idTagInfo / idTokenInfo)."""

    status: AuthorizationStatus
    expires_at: datetime | None = None
    parent_id_tag: str | None = None


def evaluate_id_tag(record: IdTagRecord | None, now: datetime) -> IdTokenInfo:
    """The one authorization rule: unknown -> Invalid, stored status, then expiry."""
    if record is None:
        return IdTokenInfo(AuthorizationStatus.INVALID)
    if record.status is not IdTagStatus.ACCEPTED:
        status = AuthorizationStatus(record.status.value)
    elif record.expires_at is not None and record.expires_at <= now:
        status = AuthorizationStatus.EXPIRED
    else:
        status = AuthorizationStatus.ACCEPTED
    return IdTokenInfo(status, record.expires_at, record.parent_id_tag)


@dataclass(frozen=True, slots=True)
class BootReport:
    """Identity a station reports in BootNotification."""

    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None


@dataclass(frozen=True, slots=True)
class BootOutcome:
    """The answer to a boot: registration state, heartbeat interval, server time.

    ``station`` is the station as registered now (an operator may have adopted a Pending one
    and given it a partner since it connected).
    """

    status: RegistrationStatus
    interval: int
    current_time: datetime
    station: StationRef


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A connector (or, with connector_number 0, the station) changed state."""

    connector_number: int
    status: ConnectorStatus
    error_code: str | None
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampled value, defaults already applied."""

    time: datetime
    value: float
    measurand: str
    unit: str
    phase: str | None
    context: str
    location: str

    @classmethod
    def reported(
        cls,
        *,
        time: datetime,
        value: float,
        measurand: str | None = None,
        unit: str | None = None,
        phase: str | None = None,
        context: str | None = None,
        location: str | None = None,
    ) -> MeterSample:
        """Build a sample from what a charger sent, applying the OCPP defaults."""
        return cls(
            time=time,
            value=value,
            measurand=(measurand or DEFAULT_MEASURAND)[:_MEASURAND_WIDTH],
            unit=(unit or DEFAULT_UNIT)[:_UNIT_WIDTH],
            phase=phase,
            context=context or DEFAULT_CONTEXT,
            location=location or DEFAULT_LOCATION,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form used in meter_values events."""
        return {
            "time": self.time.isoformat(),
            "measurand": self.measurand,
            "value": self.value,
            "unit": self.unit,
            "phase": self.phase,
            "context": self.context,
            "location": self.location,
        }


def energy_register_wh(samples: Sequence[MeterSample]) -> float | None:
    """Last whole-meter reading of Energy.Active.Import.Register in Wh, if any was sampled."""
    for sample in reversed(samples):
        if sample.measurand == DEFAULT_MEASURAND and sample.phase is None:
            return sample.value * 1000 if sample.unit == "kWh" else sample.value
    return None


@dataclass(frozen=True, slots=True)
class MeterReport:
    """Samples of one connector, optionally within a transaction (OCPP transaction id).

    ``connector_number`` None = the connector of the transaction (a 2.0.1 TransactionEvent
    names its EVSE only in the first message of a transaction).
    """

    connector_number: int | None
    transaction_id: str | None
    samples: tuple[MeterSample, ...]


@dataclass(frozen=True, slots=True)
class TransactionStart:
    """A charger started a transaction.

    ``transaction_id`` is None when the central system assigns the id (1.6) and the charger's
    id when it chose one (2.0.1); that choice also picks the idempotency key of a retry.
    """

    connector_number: int
    id_tag: str | None
    started_at: datetime
    meter_start_wh: float | None
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionStop:
    """A charger ended a transaction; ``meter_stop_wh`` None = take it from the samples."""

    transaction_id: str
    stopped_at: datetime
    meter_stop_wh: float | None
    reason: str
    id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionReport:
    """Everything one transaction message carries, in the order it applies.

    1.6 StartTransaction is a start, StopTransaction a stop with its transactionData; a 2.0.1
    TransactionEvent can carry a start (Started), an id tag learned later (Updated), samples and
    a stop (Ended). ``id_tag`` is the token to authorize and answer about, if any.
    """

    start: TransactionStart | None = None
    stop: TransactionStop | None = None
    meter: MeterReport | None = None
    transaction_id: str | None = None
    id_tag: str | None = None


class StopOutcome(StrEnum):
    """What a stop did: stopped now, was stopped before (a retry), or names no transaction."""

    STOPPED = "stopped"
    ALREADY_STOPPED = "already_stopped"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """A transaction row as events report it."""

    id: uuid.UUID
    transaction_id: str
    connector_number: int
    id_tag: str | None
    started_at: datetime
    meter_start_wh: float | None
    stopped_at: datetime | None = None
    meter_stop_wh: float | None = None
    energy_wh: float | None = None
    stop_reason: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionOutcome:
    """The answer to a transaction message.

    ``transaction`` is the started (or found again) transaction; ``created`` says whether this
    message created it; ``stopped`` is the transaction a stop ended now, ``stop_outcome`` what
    the stop did; ``id_token_info`` answers ``TransactionReport.id_tag``.
    """

    transaction: TransactionRecord | None = None
    created: bool = False
    stop_outcome: StopOutcome | None = None
    stopped: TransactionRecord | None = None
    id_token_info: IdTokenInfo | None = None
    fresh_samples: bool = False


class NoticeKind(StrEnum):
    """Informational messages a station sends that only need recording in the logs."""

    FIRMWARE_STATUS = "firmware_status"
    DIAGNOSTICS_STATUS = "diagnostics_status"
    LOG_STATUS = "log_status"
    SECURITY_EVENT = "security_event"
    DEVICE_EVENT = "device_event"
    DEVICE_REPORT = "device_report"
    DATA_TRANSFER = "data_transfer"


@dataclass(frozen=True, slots=True)
class StationNotice:
    """An informational message: its kind, a status word and a few safe-to-log fields."""

    kind: NoticeKind
    status: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


class DataTransferStatus(StrEnum):
    """Answer to a vendor-specific DataTransfer (same values in both versions)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_MESSAGE_ID = "UnknownMessageId"
    UNKNOWN_VENDOR_ID = "UnknownVendorId"
