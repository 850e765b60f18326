"""A charging station's own state, free of I/O: connectors, meters, transactions, configuration.

The charger mutates it through these methods and both OCPP adapters read it, so the rules (who
may start a transaction, what availability means while charging, which keys are read-only) are
written once rather than once per OCPP version. Nothing here awaits or touches a socket, which
is what makes the rules unit-testable with a fake clock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

Clock = Callable[[], float]

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
CURRENT = "Current.Import"
VOLTAGE = "Voltage"
#: Measurands the simulated meter can produce; MeterValuesSampledData may pick any of them.
SUPPORTED_MEASURANDS: tuple[str, ...] = (ENERGY, POWER, CURRENT, VOLTAGE)
DEFAULT_MEASURANDS = f"{ENERGY},{POWER}"
_PHASES = ("L1", "L2", "L3")
_LINE_VOLTAGE = 230.0


def iso_time(epoch: float) -> str:
    """An epoch time as ISO 8601 UTC with milliseconds and ``Z``, as OCPP payloads carry it."""
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def format_seconds(seconds: float) -> str:
    """A configuration value for an interval: ``30``, or ``0.5`` for sub-second test runs."""
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


class ConnectorStatus(StrEnum):
    """The detailed connector states of OCPP 1.6; OCPP 2.0.1 folds several into Occupied."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class StopReason(StrEnum):
    """Why a transaction ended; each adapter maps it onto its version's reason codes."""

    LOCAL = "Local"
    REMOTE = "Remote"
    HARD_RESET = "HardReset"
    SOFT_RESET = "SoftReset"
    UNLOCK = "UnlockCommand"
    DEAUTHORIZED = "DeAuthorized"
    OTHER = "Other"


class AvailabilityChange(StrEnum):
    """What a change of availability did: applied now, after the running transactions, or not."""

    APPLIED = "Applied"
    SCHEDULED = "Scheduled"
    UNKNOWN_CONNECTOR = "UnknownConnector"


class SetResult(StrEnum):
    """The outcome of the central system writing a configuration key."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_KEY = "UnknownKey"
    UNKNOWN_COMPONENT = "UnknownComponent"


class ValueKind(StrEnum):
    """How a configuration value is validated."""

    INT = "int"
    BOOL = "bool"
    TEXT = "text"
    MEASURANDS = "measurands"


@dataclass(frozen=True, slots=True)
class Sample:
    """One sampled value of the meter; adapters render it in their version's shape."""

    measurand: str
    value: float
    unit: str
    phase: str | None = None
    location: str = "Outlet"


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """A configuration key (1.6) or ``Component.Variable`` (2.0.1) with its default and rules."""

    name: str
    default: str
    kind: ValueKind = ValueKind.TEXT
    readonly: bool = False
    minimum: int = 0


class ConfigTable:
    """The keys a charger model knows: shared by every charger of a version, never mutated."""

    __slots__ = ("_components", "_keys", "keys")

    def __init__(self, keys: Sequence[ConfigKey]) -> None:
        self.keys = tuple(keys)
        self._keys = {key.name.lower(): key for key in self.keys}
        self._components = {
            key.name.split(".", 1)[0].lower() for key in self.keys if "." in key.name
        }

    def lookup(self, name: str) -> ConfigKey | None:
        """The key called ``name``, case-insensitively as OCPP asks."""
        return self._keys.get(name.lower())

    def has_component(self, name: str) -> bool:
        """Whether ``Component`` of ``Component.Variable`` is known (2.0.1 answers differ)."""
        return name.split(".", 1)[0].lower() in self._components


def _valid(key: ConfigKey, value: str) -> str | None:
    """The normalised value, or None when it does not fit the key."""
    if key.kind is ValueKind.INT:
        try:
            number = int(value.strip())
        except ValueError:
            return None
        return str(number) if number >= key.minimum else None
    if key.kind is ValueKind.BOOL:
        lowered = value.strip().lower()
        return lowered if lowered in {"true", "false"} else None
    if key.kind is ValueKind.MEASURANDS:
        items = [item.strip() for item in value.split(",") if item.strip()]
        if not items or any(item not in SUPPORTED_MEASURANDS for item in items):
            return None
        return ",".join(items)
    return value if len(value) <= 500 else None


class ConfigStore:
    """A charger's configuration: the shared table's defaults plus this charger's own values."""

    __slots__ = ("_values", "table")

    def __init__(self, table: ConfigTable) -> None:
        self.table = table
        self._values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        """The current value of a known key, else None."""
        key = self.table.lookup(name)
        if key is None:
            return None
        return self._values.get(key.name, key.default)

    def get_float(self, name: str, fallback: float) -> float:
        """A numeric key (an interval) as a float."""
        value = self.get(name)
        try:
            return float(value) if value is not None else fallback
        except ValueError:
            return fallback

    def put(self, name: str, value: str) -> None:
        """Set a value from inside the charger (the interval a boot gave), read-only or not."""
        key = self.table.lookup(name)
        if key is not None:
            self._values[key.name] = value

    def set(self, name: str, value: str) -> SetResult:
        """The central system writes a key: unknown, read-only or invalid values are refused."""
        key = self.table.lookup(name)
        if key is None:
            known_component = "." in name and self.table.has_component(name)
            if "." in name and not known_component:
                return SetResult.UNKNOWN_COMPONENT
            return SetResult.UNKNOWN_KEY
        if key.readonly:
            return SetResult.REJECTED
        normalised = _valid(key, value)
        if normalised is None:
            return SetResult.REJECTED
        self._values[key.name] = normalised
        return SetResult.ACCEPTED

    def entries(
        self, names: Iterable[str] | None = None
    ) -> tuple[list[tuple[ConfigKey, str]], list[str]]:
        """``(known keys with values, unknown names)``; every key when ``names`` is None."""
        if names is None:
            return [(key, self._values.get(key.name, key.default)) for key in self.table.keys], []
        known: list[tuple[ConfigKey, str]] = []
        unknown: list[str] = []
        for name in names:
            key = self.table.lookup(name)
            if key is None:
                unknown.append(name)
            else:
                known.append((key, self._values.get(key.name, key.default)))
        return known, unknown


@dataclass(slots=True)
class Transaction:
    """A charging session as the charger remembers it, across reconnects until it is stopped."""

    connector_number: int
    id_tag: str
    local_id: str
    meter_start_wh: float
    started_at: float
    remote: bool = False
    remote_start_id: int | None = None
    id_type: str = "ISO14443"
    #: The id the central system knows it by (1.6: assigned in the StartTransaction answer).
    transaction_id: str | None = None
    start_acknowledged: bool = False
    stop_reason: StopReason | None = None
    #: When the session ends by itself (the EV is full); None = until told to stop.
    stop_at: float | None = None
    seq_no: int = 0

    def next_seq(self) -> int:
        """The 2.0.1 TransactionEvent sequence number for the next message."""
        seq = self.seq_no
        self.seq_no += 1
        return seq


@dataclass(slots=True)
class Connector:
    """One connector (1.6 connectorId, 2.0.1 EVSE with a single connector) and its meter."""

    number: int
    nominal_power_w: float
    status: ConnectorStatus = ConnectorStatus.AVAILABLE
    error_code: str | None = None
    operative: bool = True
    meter_wh: float = 0.0
    power_w: float = 0.0
    meter_at: float = 0.0
    transaction: Transaction | None = None
    #: The status string last sent for this connector (adapters skip repeats).
    reported: str | None = None


class Station:
    """The whole charging station: identity, connectors and configuration."""

    __slots__ = (
        "charge_point_id",
        "clock",
        "config",
        "connectors",
        "firmware_version",
        "model",
        "operative",
        "reported",
        "serial_number",
        "vendor",
    )

    def __init__(
        self,
        charge_point_id: str,
        *,
        connectors: int,
        power_w: float,
        config: ConfigStore,
        clock: Clock = time.time,
        vendor: str = "EVCSMS",
        model: str = "SimCharger",
        firmware_version: str = "1.0.0",
    ) -> None:
        self.charge_point_id = charge_point_id
        self.clock = clock
        self.config = config
        now = clock()
        self.connectors = [
            Connector(number=n, nominal_power_w=power_w, meter_at=now)
            for n in range(1, connectors + 1)
        ]
        self.operative = True
        #: The status string last sent for the station itself (1.6 connector 0).
        self.reported: str | None = None
        self.vendor = vendor
        self.model = model
        self.serial_number = charge_point_id[-25:]
        self.firmware_version = firmware_version

    # lookups -----------------------------------------------------------------------------

    def connector(self, number: int) -> Connector | None:
        """Connector ``number`` (1-based), or None when the station has no such connector."""
        if 1 <= number <= len(self.connectors):
            return self.connectors[number - 1]
        return None

    def find_transaction(self, transaction_id: str) -> Connector | None:
        """The connector running the transaction the central system calls ``transaction_id``."""
        for connector in self.connectors:
            tx = connector.transaction
            if tx is not None and tx.transaction_id == transaction_id:
                return connector
        return None

    def active(self) -> list[Connector]:
        """Connectors with a transaction (started or not yet acknowledged)."""
        return [c for c in self.connectors if c.transaction is not None]

    def station_status(self) -> ConnectorStatus:
        """The status of the station as a whole (1.6 connector 0)."""
        return ConnectorStatus.AVAILABLE if self.operative else ConnectorStatus.UNAVAILABLE

    # meter -----------------------------------------------------------------------------------

    def read_meter(self, connector: Connector) -> float:
        """The energy register in Wh, grown at the connector's power since the last reading."""
        now = self.clock()
        if connector.power_w:
            connector.meter_wh += connector.power_w * (now - connector.meter_at) / 3600.0
        connector.meter_at = now
        return connector.meter_wh

    def set_power(self, connector: Connector, power_w: float) -> None:
        """Change the power flowing, integrating the energy delivered so far first."""
        self.read_meter(connector)
        connector.power_w = power_w

    def samples(self, connector: Connector, measurands: Iterable[str]) -> list[Sample]:
        """The connector's meter readings for ``measurands``, rounded as a real meter would."""
        result: list[Sample] = []
        for measurand in measurands:
            if measurand == ENERGY:
                result.append(Sample(ENERGY, round(self.read_meter(connector), 1), "Wh"))
            elif measurand == POWER:
                result.append(Sample(POWER, round(connector.power_w, 1), "W"))
            elif measurand == CURRENT:
                amps = round(connector.power_w / (len(_PHASES) * _LINE_VOLTAGE), 2)
                result.extend(Sample(CURRENT, amps, "A", phase) for phase in _PHASES)
            elif measurand == VOLTAGE:
                result.extend(Sample(VOLTAGE, _LINE_VOLTAGE, "V", f"{p}-N") for p in _PHASES)
        return result

    # status rules ----------------------------------------------------------------------------

    def idle_status(self, connector: Connector) -> ConnectorStatus:
        """What a connector without a session shows: a fault wins, then availability."""
        if connector.error_code is not None:
            return ConnectorStatus.FAULTED
        if not (connector.operative and self.operative):
            return ConnectorStatus.UNAVAILABLE
        return ConnectorStatus.AVAILABLE

    def can_start(self, connector: Connector) -> bool:
        """A new session needs a free, operative, healthy connector."""
        return connector.transaction is None and connector.status is ConnectorStatus.AVAILABLE

    def start_candidate(self, number: int | None) -> Connector | None:
        """The connector a remote start should use (the first free one when not given)."""
        if number is None:
            return next((c for c in self.connectors if self.can_start(c)), None)
        connector = self.connector(number)
        return connector if connector is not None and self.can_start(connector) else None

    def plug_in(self, connector: Connector) -> bool:
        """An EV is plugged in: Preparing, if the connector was free."""
        if not self.can_start(connector):
            return False
        connector.status = ConnectorStatus.PREPARING
        return True

    def unplug(self, connector: Connector) -> bool:
        """The cable is gone (or the session never started): back to the idle status."""
        if connector.transaction is not None:
            return False
        previous = connector.status
        connector.status = self.idle_status(connector)
        return connector.status is not previous

    def begin_transaction(
        self,
        connector: Connector,
        id_tag: str,
        *,
        remote: bool = False,
        remote_start_id: int | None = None,
        id_type: str = "ISO14443",
        stop_at: float | None = None,
    ) -> Transaction:
        """Open a session on a Preparing connector; power flows once it is acknowledged."""
        if connector.transaction is not None or connector.status is not ConnectorStatus.PREPARING:
            raise ValueError(f"connector {connector.number} cannot start a transaction")
        tx = Transaction(
            connector_number=connector.number,
            id_tag=id_tag,
            local_id=str(uuid.uuid4()),
            meter_start_wh=self.read_meter(connector),
            started_at=self.clock(),
            remote=remote,
            remote_start_id=remote_start_id,
            id_type=id_type,
            stop_at=stop_at,
        )
        connector.transaction = tx
        return tx

    def charging_started(self, connector: Connector, power_w: float) -> None:
        """The central system acknowledged the start: energy flows."""
        connector.status = ConnectorStatus.CHARGING
        self.set_power(connector, power_w)

    def end_transaction(self, connector: Connector) -> Transaction | None:
        """Close the session: no more power, Finishing until the cable is unplugged."""
        tx = connector.transaction
        self.set_power(connector, 0.0)
        connector.transaction = None
        if tx is not None and tx.start_acknowledged:
            connector.status = ConnectorStatus.FINISHING
        else:
            connector.status = self.idle_status(connector)
        return tx

    def change_availability(
        self, number: int | None, operative: bool
    ) -> tuple[AvailabilityChange, list[int]]:
        """Switch a connector (or, with None, the station) on or off.

        A connector busy with a session keeps charging and takes the new availability when the
        session ends (Scheduled). Returns the numbers whose status changed now (0 = station).
        """
        if number is None:
            targets = self.connectors
            station_changed = self.operative != operative
            self.operative = operative
        else:
            connector = self.connector(number)
            if connector is None:
                return AvailabilityChange.UNKNOWN_CONNECTOR, []
            targets = [connector]
            station_changed = False
            connector.operative = operative
        changed = [0] if station_changed else []
        busy = False
        for connector in targets:
            if connector.transaction is not None or connector.status in (
                ConnectorStatus.PREPARING,
                ConnectorStatus.FINISHING,
            ):
                busy = True
                continue
            if self.unplug(connector):
                changed.append(connector.number)
        return (AvailabilityChange.SCHEDULED if busy else AvailabilityChange.APPLIED), changed

    def fault(self, connector: Connector, error_code: str) -> bool:
        """A hardware fault on an idle connector; False when it is busy."""
        if connector.transaction is not None or connector.status in (
            ConnectorStatus.PREPARING,
            ConnectorStatus.FINISHING,
        ):
            return False
        connector.error_code = error_code
        connector.status = ConnectorStatus.FAULTED
        return True

    def recover(self, connector: Connector) -> bool:
        """The fault cleared; True when the status changed."""
        if connector.error_code is None:
            return False
        connector.error_code = None
        return self.unplug(connector)

    def reboot(self) -> None:
        """A reset: faults clear, sessions are gone, availability persists, everything is resent."""
        for connector in self.connectors:
            self.set_power(connector, 0.0)
            connector.transaction = None
            connector.error_code = None
            connector.status = self.idle_status(connector)
        self.forget_reported()

    def forget_reported(self) -> None:
        """A new connection: the central system must hear every status again."""
        self.reported = None
        for connector in self.connectors:
            connector.reported = None
