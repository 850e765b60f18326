"""The closed vocabularies of the domain; the database holds the same lists as CHECKs."""

from __future__ import annotations

from enum import StrEnum


class CurrentType(StrEnum):
    """Electrical current a station type delivers."""

    AC = "AC"
    DC = "DC"


class ApiRole(StrEnum):
    """What an API client may do: admin everything, operator its partner, viewer read-only."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class OcppProtocol(StrEnum):
    """Websocket subprotocols the central system negotiates."""

    OCPP16 = "ocpp1.6"
    OCPP201 = "ocpp2.0.1"


class RegistrationStatus(StrEnum):
    """Answer a station got to its last BootNotification."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class ConnectorStatus(StrEnum):
    """Union of OCPP 1.6 ChargePointStatus and OCPP 2.0.1 ConnectorStatusEnumType."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"


class IdTagStatus(StrEnum):
    """Authorization state of an id tag as stored (OCPP 1.6 AuthorizationStatus subset)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


class CommandStatus(StrEnum):
    """Lifecycle of a remote command record."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


class CommandAction(StrEnum):
    """Remote commands partners can send, independent of the OCPP version."""

    REMOTE_START = "remote-start"
    REMOTE_STOP = "remote-stop"
    RESET = "reset"
    CHANGE_AVAILABILITY = "change-availability"
    UNLOCK_CONNECTOR = "unlock-connector"
    TRIGGER_MESSAGE = "trigger-message"
    GET_CONFIGURATION = "get-configuration"
    CHANGE_CONFIGURATION = "change-configuration"
    CLEAR_CACHE = "clear-cache"
