"""OCPP 1.6J: thin handlers and the mapping of remote commands."""

from __future__ import annotations

from core.domain.enums import OcppProtocol
from csms.dialect import ERROR_CODES_16, Dialect
from csms.schemas import SchemaSet
from csms.v16.commands import COMMANDS
from csms.v16.handlers import HANDLERS


def dialect() -> Dialect:
    """The 1.6J dialect (schemas compile lazily; call ``Dialect.warm`` at start-up)."""
    return Dialect(
        protocol=OcppProtocol.OCPP16,
        schemas=SchemaSet("v16", request_suffix=""),
        handlers=HANDLERS,
        commands=COMMANDS,
        error_codes=ERROR_CODES_16,
    )
