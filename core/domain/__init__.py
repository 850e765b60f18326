"""Plain domain types: enums and value objects without I/O."""

from core.domain.enums import (
    ApiRole,
    CommandAction,
    CommandStatus,
    ConnectorStatus,
    CurrentType,
    IdTagStatus,
    OcppProtocol,
    RegistrationStatus,
)

__all__ = [
    "ApiRole",
    "CommandAction",
    "CommandStatus",
    "ConnectorStatus",
    "CurrentType",
    "IdTagStatus",
    "OcppProtocol",
    "RegistrationStatus",
]
