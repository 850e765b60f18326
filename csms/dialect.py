"""What differs between OCPP versions on the wire, gathered in one object per version.

A ``Dialect`` holds the schemas, the CALLERROR spelling of each ``Fault``, the ``on_<action>``
handlers of the messages a charger sends and the mapping of remote commands. Everything else
(framing, the connection, the services) is shared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from core.domain.charging import StationRef
from core.domain.enums import CommandAction, OcppProtocol
from core.services.charging import ChargingService
from csms.framing import Fault
from csms.schemas import SchemaSet

#: Charger statuses that mean the command was taken (CONTRACTS.md).
ACCEPTING_STATUSES = frozenset({"Accepted", "Unlocked", "Scheduled", "RebootRequired"})


class ChargerSession:
    """Per-connection state the handlers read and update."""

    __slots__ = ("protocol", "service", "station")

    def __init__(
        self, station: StationRef, service: ChargingService, protocol: OcppProtocol
    ) -> None:
        self.station = station
        self.service = service
        self.protocol = protocol


Handler = Callable[[ChargerSession, dict[str, Any]], Awaitable[dict[str, Any]]]


class CommandPayloadError(ValueError):
    """A command payload this version cannot express (e.g. a non-integer 1.6 transaction id)."""


class CommandMapping(Protocol):
    """Remote commands of CONTRACTS.md in one OCPP version."""

    def request(
        self, action: CommandAction, payload: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The OCPP action and payload to send; raises ``CommandPayloadError``."""
        ...

    def response(self, action: CommandAction, payload: dict[str, Any]) -> dict[str, Any]:
        """The charger's answer normalised: ``status`` (+ configuration fields) and ``raw``."""
        ...


@dataclass(frozen=True)
class Dialect:
    """Everything version-specific about one OCPP version."""

    protocol: OcppProtocol
    schemas: SchemaSet
    handlers: Mapping[str, Handler]
    commands: CommandMapping
    error_codes: Mapping[Fault, str]

    def error_code(self, fault: Fault) -> str:
        """The CALLERROR code this version uses for ``fault``."""
        return self.error_codes[fault]

    def warm(self, outbound_actions: tuple[str, ...]) -> None:
        """Compile every schema the server can need, so the first message pays nothing."""
        self.schemas.warm(self.handlers.keys())
        self.schemas.warm(outbound_actions)


# OCPP 1.6J section 4.2.3 (with the errata's spellings kept on the wire: FormationViolation,
# OccurenceConstraintViolation). 1.6 has no code for a wrong message type: ProtocolError.
ERROR_CODES_16: Mapping[Fault, str] = {
    Fault.MALFORMED: "FormationViolation",
    Fault.ID_UNREADABLE: "FormationViolation",
    Fault.BAD_MESSAGE_TYPE: "ProtocolError",
    Fault.INCOMPLETE: "ProtocolError",
    Fault.UNKNOWN_ACTION: "NotImplemented",
    Fault.UNSUPPORTED_ACTION: "NotSupported",
    Fault.TYPE: "TypeConstraintViolation",
    Fault.OCCURRENCE: "OccurenceConstraintViolation",
    Fault.PROPERTY: "PropertyConstraintViolation",
    Fault.SECURITY: "SecurityError",
    Fault.INTERNAL: "InternalError",
}

# OCPP 2.0.1 part 4 section 4.3 (RPC framework errors; the typo of 1.6 is fixed here).
ERROR_CODES_201: Mapping[Fault, str] = {
    Fault.MALFORMED: "FormatViolation",
    Fault.ID_UNREADABLE: "RpcFrameworkError",
    Fault.BAD_MESSAGE_TYPE: "MessageTypeNotSupported",
    Fault.INCOMPLETE: "ProtocolError",
    Fault.UNKNOWN_ACTION: "NotImplemented",
    Fault.UNSUPPORTED_ACTION: "NotSupported",
    Fault.TYPE: "TypeConstraintViolation",
    Fault.OCCURRENCE: "OccurrenceConstraintViolation",
    Fault.PROPERTY: "PropertyConstraintViolation",
    Fault.SECURITY: "SecurityError",
    Fault.INTERNAL: "InternalError",
}
